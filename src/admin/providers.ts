import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { QuotaLimits } from '../llm/index.js';
import { actingOf, type AdminContext } from './context.js';

const ProviderName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' });
const Pattern = Type.String({ minLength: 5, maxLength: 300 });

const ProviderSummary = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('gemini')]),
  base_url: Type.String(),
  has_key: Type.Boolean(),
  key_last_four: Type.Union([Type.String(), Type.Null()], { description: 'Only the last four characters; the key itself is never returned.' }),
  enabled: Type.Boolean(),
  endpoints_add: Type.Array(Type.String()),
  endpoints_remove: Type.Array(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

// type: ['integer', 'null'] rather than a Union: with the app's coerceTypes, an anyOf whose first
// branch is integer turns null into 0 — "no limit" would silently become "no tokens".
const TokenLimit = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 0, description: 'Tokens per user; null: no limit.' });
const Quotas = Type.Object({ tokens_per_day: TokenLimit, tokens_per_month: TokenLimit }, { additionalProperties: false });

const quotasJson = (limits: QuotaLimits) => ({ tokens_per_day: limits.tokensPerDay, tokens_per_month: limits.tokensPerMonth });

/**
 * `/admin/v1/providers` (LLM providers of this project environment) and
 * `/admin/v1/llm/{quotas,usage}`. Provider keys go in, never out.
 */
export async function providerRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'secret', scope: 'admin:providers', routeClass: 'admin' } as const;
  const tags = ['admin: llm'];
  const { providers } = operations;

  r.get('/providers', {
    config,
    schema: { tags, summary: 'List the LLM providers of this project environment', response: { 200: Type.Object({ providers: Type.Array(ProviderSummary) }) } },
  }, async (request) => ({ providers: await providers.list(actingOf(request)) }));

  r.get('/providers/:name', {
    config,
    schema: {
      tags, summary: 'One provider, with the endpoints it allows', params: Type.Object({ name: ProviderName }),
      response: { 200: Type.Object({ ...ProviderSummary.properties, endpoints: Type.Array(Type.String()) }) },
    },
  }, async (request) => providers.get(actingOf(request), request.params.name));

  r.put('/providers/:name', {
    config,
    schema: {
      tags,
      summary: 'Create or change a provider (key stored encrypted, never returned)',
      description: 'openai, anthropic and gemini have fixed formats and default base URLs; any other name is an OpenAI-compatible provider and needs base_url. ' +
        'endpoints_add / endpoints_remove narrow or extend the default allowlist with patterns like "POST /v1/threads/{thread}/runs usage". ' +
        'A new base_url drops the stored key unless api_key comes in the same request: a key is only ever sent to the host it was given for.',
      params: Type.Object({ name: ProviderName }),
      body: Type.Object({
        kind: Type.Optional(Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('gemini')])),
        base_url: Type.Optional(Type.String({ minLength: 8, maxLength: 500 })),
        api_key: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 8, maxLength: 4096, description: 'The provider key (write-only); null removes it.' })),
        endpoints_add: Type.Optional(Type.Array(Pattern, { maxItems: 200 })),
        endpoints_remove: Type.Optional(Type.Array(Pattern, { maxItems: 200 })),
        enabled: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: { 200: ProviderSummary },
    },
  }, async (request) => {
    const b = request.body;
    return providers.put(actingOf(request), request.params.name, {
      kind: b.kind, baseUrl: b.base_url, apiKey: b.api_key, endpointsAdd: b.endpoints_add, endpointsRemove: b.endpoints_remove, enabled: b.enabled,
    });
  });

  r.delete('/providers/:name', {
    config,
    schema: { tags, summary: 'Remove a provider and its key', params: Type.Object({ name: ProviderName }), response: { 204: Type.Null() } },
  }, async (request, reply) => {
    await providers.remove(actingOf(request), request.params.name);
    return reply.code(204).send(null);
  });

  r.get('/llm/quotas', {
    config,
    schema: { tags, summary: 'Per-user token quotas of this project environment (null: no limit)', response: { 200: Quotas } },
  }, async (request) => quotasJson(await providers.quotas(actingOf(request))));

  r.put('/llm/quotas', {
    config,
    schema: { tags, summary: 'Set per-user token quotas (UTC day and month)', body: Quotas, response: { 200: Quotas } },
  }, async (request) => quotasJson(await providers.setQuotas(actingOf(request), { tokensPerDay: request.body.tokens_per_day, tokensPerMonth: request.body.tokens_per_month })));

  r.get('/llm/usage', {
    config,
    schema: {
      tags,
      summary: 'Token usage per user, provider, model and hour (counts only; prompts and completions are kept only with request logging on)',
      querystring: Type.Object({
        from: Type.String({ format: 'date-time' }),
        to: Type.String({ format: 'date-time' }),
        user_id: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { from, to, user_id: userId } = request.query;
    return { usage: await providers.usage(actingOf(request), { from, to, userId }) };
  });
}
