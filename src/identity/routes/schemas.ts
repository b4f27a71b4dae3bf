import { Type } from '@sinclair/typebox';

// Fields supabase-js sends that Gatehouse accepts and ignores (captcha, PKCE,
// redirects): listed, so that anything else is still refused.
export const ClientExtras = {
  gotrue_meta_security: Type.Optional(Type.Object({ captcha_token: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])) })),
  code_challenge: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  code_challenge_method: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
};

/** Long enough to reach the password rule (which answers weak_password), short enough to bound the work. */
export const PasswordField = Type.String({ maxLength: 4096 });
export const EmailField = Type.String({ maxLength: 320 });
export const Metadata = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown());

export const UserJson = Type.Object({
  id: Type.String(),
  aud: Type.String(),
  role: Type.String(),
  email: Type.String(),
  email_confirmed_at: Type.Union([Type.String(), Type.Null()]),
  phone: Type.String(),
  confirmed_at: Type.Union([Type.String(), Type.Null()]),
  last_sign_in_at: Type.Union([Type.String(), Type.Null()]),
  app_metadata: Type.Record(Type.String(), Type.Unknown()),
  user_metadata: Type.Record(Type.String(), Type.Unknown()),
  identities: Type.Array(Type.Unknown()),
  created_at: Type.String(),
  updated_at: Type.String(),
  is_anonymous: Type.Boolean(),
  new_email: Type.Optional(Type.String()),
  email_change_sent_at: Type.Optional(Type.String()),
});

/** GoTrue's answer to the first of the two codes of a secure email change. */
export const SingleConfirmationJson = Type.Object({ msg: Type.String(), code: Type.String() });

export const SessionJson = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  expires_at: Type.Integer(),
  refresh_token: Type.String(),
  user: UserJson,
});

export const SessionSummaryJson = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  created_at: Type.String(),
  refreshed_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  revoked_reason: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});
