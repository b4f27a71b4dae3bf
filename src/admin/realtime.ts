import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actingOf, type AdminContext } from './context.js';

const RuleList = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 16 });
const Rule = Type.Object({
  pattern: Type.String({ minLength: 1, maxLength: 255 }),
  join: Type.Optional(RuleList),
  send: Type.Optional(RuleList),
  track: Type.Optional(RuleList),
}, { additionalProperties: false });
const Settings = Type.Object({ public_channels: Type.Boolean(), rules: Type.Array(Rule, { maxItems: 64 }) }, { additionalProperties: false });

/** `/admin/v1/realtime`: public channels on or off, and the rules of private channels. */
export async function realtimeRoutes(app: FastifyInstance, { operations }: AdminContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: realtime'];

  r.get('/realtime', {
    config: { auth: 'secret', scope: 'admin:realtime', routeClass: 'admin' },
    schema: { tags, summary: 'Realtime channel settings of this environment', response: { 200: Settings } },
  }, async (request) => {
    const settings = await operations.realtime.get(actingOf(request));
    return { public_channels: settings.publicChannels, rules: settings.rules };
  });

  r.put('/realtime', {
    config: { auth: 'secret', scope: 'admin:realtime', routeClass: 'admin' },
    schema: { tags, summary: 'Replace the realtime channel settings of this environment (audited)', body: Settings, response: { 200: Settings } },
  }, async (request) => {
    const settings = await operations.realtime.set(actingOf(request), { publicChannels: request.body.public_channels, rules: request.body.rules });
    return { public_channels: settings.publicChannels, rules: settings.rules };
  });
}
