import { setImmediate } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { bearerOf, createCaller, LOOKS_LIKE_KEY, presentedKey, type Caller, type CallerKey, type CallerUser } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { SecurityEvents } from '../../observability/index.js';
import type { Clock } from '../../shared/clock.js';
import type { ChangeFeed } from '../changes/index.js';
import { channelRefusal, channelScope, MAX_CHANNEL_NAME } from '../channels/access.js';
import type { ChannelSettingsService } from '../channels/settings.js';
import { Connection, ConnectionRegistry } from './connection.js';
import type { Hub } from './hub.js';
import type { SocketLimits } from './limits.js';
import type { BroadcastBody, Vsn } from './protocol.js';

export interface RealtimeRoutesOptions {
  feed: ChangeFeed | null;
  hub: Hub;
  settings: ChannelSettingsService;
  /** identity's API-key verifier (the one the identify stage uses, with its cache). */
  apiKeys: { verify(key: string): Promise<CallerKey> };
  /** identity's user-token verifier (the one the identify stage uses). */
  userTokens: { verify(projectId: string, environment: string, token: string): Promise<CallerUser> };
  events: SecurityEvents;
  limits: SocketLimits;
  clock: Clock;
  logger: Logger;
}

const WEBSOCKET_PATH = '/websocket';
const VERSIONS = new Set<Vsn>(['1.0.0', '2.0.0']);
const MAX_REST_MESSAGES = 100;
/** Sockets rechecked between two turns of the event loop at most. */
const RECHECK_SLICE = 500;

/**
 * `/realtime/v1`: the WebSocket realtime-js connects to, and the REST broadcast it falls back to.
 * The upgrade runs the whole request pipeline first (drain, address limit, key, origin, the
 * `realtime` route class), so a refused client hears an HTTP error and never gets a socket.
 */
export async function realtimeRoutes(app: FastifyInstance, options: RealtimeRoutesOptions): Promise<void> {
  const { hub, settings, limits, logger } = options;
  const registry = new ConnectionRegistry();

  await app.register(websocket, {
    options: { maxPayload: limits.maxPayloadBytes },
    // Shutdown: every socket gets a close frame (1001, going away) instead of being cut.
    preClose(done) {
      for (const connection of [...registry.open]) connection.close(1001, 'server shutting down');
      app.websocketServer.close(() => done());
    },
    errorHandler(error, socket) {
      logger.warn({ err: error.message }, 'realtime: socket error');
      socket.terminate();
    },
  });

  await hub.start();
  const recheck = setInterval(() => void recheckAll(), limits.tokenRecheckMs);
  recheck.unref();
  app.addHook('onClose', async () => {
    clearInterval(recheck);
    await hub.close();
  });

  const connectionDeps = {
    feed: options.feed, hub, settings, limits, registry, clock: options.clock, logger,
    verifyKey: (key: string) => options.apiKeys.verify(key),
    async verifyUser(base: Caller, token: string) {
      return createCaller(base.key, await options.userTokens.verify(base.projectId, base.environment, token));
    },
    onTokenRejected(base: Caller, reason: string) {
      options.events.record('token_rejected', { projectId: base.projectId, environment: base.environment, details: { reason, route: `/realtime/v1${WEBSOCKET_PATH}` } });
    },
  };

  // One round of the recheck. Each distinct API key is verified once for all its sockets: ten
  // thousand sockets on one publishable key would otherwise each ask, and when the key cache has
  // just expired each query the database at once. Sockets are taken a slice at a time, so
  // deliveries go on between slices; a round still running when the next is due is not doubled.
  let rechecking = false;
  async function recheckAll(): Promise<void> {
    if (rechecking) return;
    rechecking = true;
    try {
      const verified = new Map<string, Promise<CallerKey>>();
      const verifyOnce = (key: string): Promise<CallerKey> => {
        let pending = verified.get(key);
        if (pending === undefined) verified.set(key, (pending = connectionDeps.verifyKey(key)));
        return pending;
      };
      const open = [...registry.open];
      for (let i = 0; i < open.length; i += RECHECK_SLICE) {
        await Promise.allSettled(open.slice(i, i + RECHECK_SLICE).map((connection) => connection.recheck(verifyOnce)));
        await setImmediate();
      }
    } finally {
      rechecking = false;
    }
  }

  // An upgrade refused with an HTTP answer (bad key, origin, limit): its socket is ended, so the
  // client cannot keep it open (a refused upgrade is not a keep-alive HTTP connection, and the
  // drain does not track upgrade sockets).
  app.addHook('onResponse', async (request) => {
    if (request.headers.upgrade !== undefined) request.raw.socket?.end();
  });

  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(WEBSOCKET_PATH, {
    websocket: true,
    config: { keyInQuery: true },
    schema: {
      querystring: Type.Object({
        apikey: Type.Optional(Type.String()),
        vsn: Type.Optional(Type.Union([Type.Literal('1.0.0'), Type.Literal('2.0.0')])),
        log_level: Type.Optional(Type.String({ maxLength: 20 })),
      }),
    },
    // After the pipeline's own stages: the address's open sockets, refused with a 429 before the upgrade.
    preHandler: async (request) => {
      if ((registry.byAddress.get(request.ip) ?? 0) >= limits.connectionsPerAddress) {
        throw new GatehouseError('rate_limit_exceeded', { message: `Too many realtime connections from this address (at most ${limits.connectionsPerAddress}).`, retryAfterS: 5 });
      }
    },
  }, (socket, request) => {
    const caller = request.caller;
    if (!caller) return socket.close(1008, 'no caller');
    const open = registry.byAddress.get(request.ip) ?? 0;
    // Counted again here: two upgrades can pass the check above at once.
    if (open >= limits.connectionsPerAddress) return socket.close(1008, 'too many connections from this address');
    registry.byAddress.set(request.ip, open + 1);
    const query = request.query as { vsn?: Vsn; apikey?: string };
    // The credentials the identify stage read, kept for the periodic recheck (a revoked key closes the socket).
    const bearer = bearerOf(request.headers.authorization);
    const key = presentedKey(request.headers.apikey, request.headers['x-api-key'], bearer) ?? query.apikey;
    if (!key) return socket.close(1008, 'no api key');
    const userToken = bearer !== undefined && !LOOKS_LIKE_KEY.test(bearer) ? bearer : undefined;
    const vsn = query.vsn;
    const connection = new Connection(socket, vsn && VERSIONS.has(vsn) ? vsn : '1.0.0', caller, { key, bearer: userToken }, request.ip, connectionDeps);
    registry.open.add(connection);
  });

  // The REST fallback (realtime-js `send()` before the socket is up, and `httpSend()`).
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: limits.maxPayloadBytes }, (_request, body, done) => done(null, body));

  /** The hub scope of a channel the caller may send to; 403 otherwise (also for a channel that needs `private`: no oracle). */
  async function sendableScope(request: FastifyRequest, name: string, isPrivate: boolean): Promise<string> {
    const caller = request.caller!;
    if (channelRefusal(await settings.get(caller.projectId, caller.environment), caller, name, isPrivate, 'send') !== null) {
      throw new GatehouseError('forbidden', { message: 'You may not send to this channel.' });
    }
    return channelScope(caller, name, isPrivate);
  }

  r.post('/api/broadcast', {
    bodyLimit: limits.maxPayloadBytes,
    schema: {
      body: Type.Object({
        messages: Type.Array(Type.Object({
          topic: Type.String({ minLength: 1, maxLength: MAX_CHANNEL_NAME }),
          event: Type.String({ minLength: 1, maxLength: 255 }),
          payload: Type.Optional(Type.Unknown()),
          private: Type.Optional(Type.Boolean()),
        }), { minItems: 1, maxItems: MAX_REST_MESSAGES }),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    // Every message is checked first: either all are sent or none.
    const scopes: string[] = [];
    for (const m of request.body.messages) scopes.push(await sendableScope(request, m.topic, m.private === true));
    request.body.messages.forEach((m, i) => hub.broadcast(scopes[i]!, m.event, { json: m.payload ?? null }, null));
    return reply.code(202).send();
  });

  r.post('/api/broadcast/:topic/events/:event', {
    bodyLimit: limits.maxPayloadBytes,
    schema: {
      params: Type.Object({ topic: Type.String({ minLength: 1, maxLength: MAX_CHANNEL_NAME }), event: Type.String({ minLength: 1, maxLength: 255 }) }),
      querystring: Type.Object({ private: Type.Optional(Type.Boolean()) }),
    },
  }, async (request, reply) => {
    const body: BroadcastBody = Buffer.isBuffer(request.body) ? { bytes: request.body } : { json: request.body ?? null };
    hub.broadcast(await sendableScope(request, request.params.topic, request.query.private === true), request.params.event, body, null);
    return reply.code(202).send();
  });
}
