import { Type } from '@sinclair/typebox';

export const KeySummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('publishable'), Type.Literal('secret')]),
  environment: Type.String(),
  display: Type.String({ description: 'Prefix and last four characters, e.g. pk_dev_…Ab3x' }),
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  replaced_by: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()], { description: 'key:<id>, user:<id> (an admin user), cli, or null (made at init)' }),
  status: Type.String({ description: 'active, expiring, expired, revoked, or suspended (made by a user who is no longer admin)' }),
});

export const CreatedKey = Type.Object({
  key: Type.String({ description: 'The API key. Shown once: store it now.' }),
  ...KeySummary.properties,
});

export const KeyIdParams = Type.Object({ id: Type.String({ pattern: '^key_[a-z2-7]{20}$' }) }, { additionalProperties: false });

export const ScopeList = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50 });

export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  request_id: Type.String(),
  details: Type.Optional(Type.Unknown()),
});
