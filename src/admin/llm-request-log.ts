// /admin/v1/llm/request-log: opt-in logging of LLM proxy requests (issue 5 §7). Off by default;
// the entries hold users' prompts and completions, so their own scope (admin:llm_logs) guards
// them, and reading or purging them is audited like a change.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MAX_BODY_BYTES_LIMIT, MAX_RETENTION_DAYS, type RequestLogSettings } from '../llm/request-log/index.js';
import { actingOf, type AdminContext } from './context.js';

const Settings = Type.Object({
  enabled: Type.Boolean(),
  retention_days: Type.Integer({ description: 'Entries older than this are deleted.' }),
  max_body_bytes: Type.Integer({ description: 'Cap per stored body (request and response each); longer bodies are cut and flagged truncated.' }),
  updated_at: Type.Union([Type.String(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
});

const SettingsInput = Type.Object({
  enabled: Type.Boolean(),
  retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS, description: 'Required when enabling.' })),
  max_body_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_BODY_BYTES_LIMIT, description: 'Default 65536; 0 stores metadata only.' })),
}, { additionalProperties: false });

const Entry = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  method: Type.String(),
  path: Type.String({ description: 'The provider path, without its query string.' }),
  user_id: Type.String({ description: 'The user id, or key:<id> for a secret key.' }),
  status: Type.Integer({ description: 'Status sent to the caller; 499 when the response did not complete.' }),
  model: Type.Union([Type.String(), Type.Null()]),
  input_tokens: Type.Union([Type.Integer(), Type.Null()]),
  output_tokens: Type.Union([Type.Integer(), Type.Null()]),
  total_tokens: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Integer(),
  created_at: Type.String(),
  truncated: Type.Boolean(),
  request_body: Type.Union([Type.String(), Type.Null()], { description: 'The JSON body sent (never headers); null for uploads.' }),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'The body received, raw SSE text for streams; null when not text.' }),
  bodies_unreadable: Type.Boolean({ description: 'A stored body did not decrypt (tampered with or its key gone) and reads as null.' }),
});

const UserFilter = Type.String({ minLength: 1, maxLength: 200, description: 'A user id, or key:<id>' });

export const toRequestLogJson = (s: RequestLogSettings) => ({
  enabled: s.enabled, retention_days: s.retentionDays, max_body_bytes: s.maxBodyBytes, updated_at: s.updatedAt, updated_by: s.updatedBy,
});

export async function llmRequestLogRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:llm_logs', routeClass: 'admin' } as const;
  const tags = ['admin: llm'];
  const log = operations.requestLog;

  r.get('/llm/request-log', {
    config,
    schema: { tags, summary: 'Whether LLM requests of this project environment are logged (off by default)', response: { 200: Settings } },
  }, async (request) => toRequestLogJson(await log.settings(actingOf(request))));

  r.put('/llm/request-log', {
    config,
    schema: {
      tags,
      summary: 'Turn LLM request logging on or off for this project environment',
      description: 'When on, each proxied request is stored with its JSON request body and the response (streams included), ' +
        'encrypted at rest, each body cut at max_body_bytes, and deleted after retention_days. Applies on every instance within a second.',
      body: SettingsInput,
      response: { 200: Settings },
    },
  }, async (request) => {
    const b = request.body;
    return toRequestLogJson(await log.putSettings(actingOf(request), { enabled: b.enabled, retentionDays: b.retention_days, maxBodyBytes: b.max_body_bytes }));
  });

  r.get('/llm/request-log/entries', {
    config,
    schema: {
      tags,
      summary: 'Logged LLM requests of this project environment, newest first, bodies decrypted',
      querystring: Type.Object({
        user_id: Type.Optional(UserFilter),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
        before: Type.Optional(Type.String({ maxLength: 40, description: 'next_before of the previous page, or an ISO time' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ entries: Type.Array(Entry), next_before: Type.Union([Type.String(), Type.Null()]) }) },
    },
  }, async (request) => {
    const { user_id: userId, limit, before } = request.query;
    const page = await log.entries(actingOf(request), { userId, limit, before });
    return { entries: page.entries, next_before: page.nextBefore };
  });

  r.delete('/llm/request-log/entries', {
    config,
    schema: {
      tags,
      summary: 'Delete logged LLM requests of this project environment (all, or one user\'s)',
      querystring: Type.Object({ user_id: Type.Optional(UserFilter) }, { additionalProperties: false }),
      response: { 200: Type.Object({ deleted: Type.Integer() }) },
    },
  }, async (request) => ({ deleted: await log.purge(actingOf(request), request.query.user_id) }));
}
