import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../errors/index.js';
import type { Stage } from './hook.js';

// Graceful shutdown of the HTTP side. fastify.close() stops listening and closes keep-alive
// connections that are idle *between* requests, but Node counts a connection that never sent a
// request (a browser's or load balancer's preconnect) or sent half of one as busy: with one of
// them open, close() waited until the client left, and SIGTERM did not end the process. So every
// connection is tracked here, with its requests in flight:
//   - at close, connections with nothing in flight are destroyed at once;
//   - a connection whose last request finishes during the drain is ended right after it;
//   - a connection accepted or a request arriving during the drain is refused (503, Connection: close),
//     /ready included, so the load balancer moves traffic away at once.
// What is still running at the deadline is cut by cutInFlight(): an event stream (an LLM answer
// streamed as SSE) is *ended*, with a last `error` event, rather than reset. A reset reaches an
// SDK as a bare network error, some retry it as if nothing had been sent, and a client reading
// with a plain fetch may not notice at all; the OpenAI, Anthropic and Gemini SDKs all raise an
// `error` event as an API error, so the caller learns that the answer is incomplete and why.

/** The last event of a stream cut by shutdown: `event: error` with `data.error`, which each provider SDK raises. */
const SHUTDOWN_EVENT = `event: error\ndata: ${JSON.stringify({
  type: 'error',
  error: { type: 'server_shutdown', code: 'service_unavailable', message: 'The server shut down before the stream ended; the answer is incomplete. Retry on another instance.' },
})}\n\n`;

/** Milliseconds a cut stream's last event may take to reach a client that reads slowly before its socket is destroyed. */
const LAST_EVENT_GRACE_MS = 500;

interface Connection {
  socket: Socket;
  inFlight: number;
  /** Responses not yet closed, with the stream piped into each, if any. */
  responses: Map<ServerResponse, Readable | null>;
}

/** The connection a response is tracked under: one property, so its listeners need no closure of their own. */
const CONNECTION = Symbol('gatehouse.drainConnection');
type Tracked = ServerResponse & { [CONNECTION]?: Connection };

export interface CutReport {
  /** Event streams ended with the shutdown event. */
  streams: number;
  /** Connections destroyed with a response still unfinished. */
  connections: number;
}

const cutters = new WeakMap<HttpServer, () => CutReport>();

/**
 * Installs the drain on `app` (before it listens). Returns its onRequest stage, which refuses
 * every request once the drain has begun; the app runs it with the other stages.
 */
export function installDrain(app: FastifyInstance, { tls }: { tls: boolean }): Stage {
  const connections = new Map<Socket, Connection>();
  let draining = false;
  const server = app.server as HttpServer;

  // With TLS, requests run on the TLS socket, which 'secureConnection' hands out.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (draining) return socket.destroy();
    connections.set(socket, { socket, inFlight: 0, responses: new Map() });
    socket.once('close', () => connections.delete(socket));
  });
  // An upgraded socket (the realtime WebSocket) belongs to its WebSocket server, which closes it
  // with a close frame at preClose; destroying it here would cut it without one.
  server.on('upgrade', (_request: IncomingMessage, socket: Socket) => {
    connections.delete(socket);
  });
  // Per request: two listeners, shared by every response (no closures per request). Fastify pipes a
  // stream payload into the response: the cut needs that source, to detach it.
  function onPipe(this: Tracked, source: Readable): void {
    const connection = this[CONNECTION]!;
    if (connection.responses.has(this)) connection.responses.set(this, source);
  }
  function onClose(this: Tracked): void {
    const connection = this[CONNECTION]!;
    connection.inFlight -= 1;
    connection.responses.delete(this);
    if (draining && connection.inFlight === 0) connection.socket.end();
  }
  server.on('request', (request: IncomingMessage, response: Tracked) => {
    const connection = connections.get(request.socket);
    if (!connection) return;
    connection.inFlight += 1;
    connection.responses.set(response, null);
    response[CONNECTION] = connection;
    response.on('pipe', onPipe);
    response.on('close', onClose);
  });

  app.addHook('preClose', async () => {
    draining = true;
    for (const [socket, connection] of connections) if (connection.inFlight === 0) socket.destroy();
  });

  cutters.set(server, () => {
    const report: CutReport = { streams: 0, connections: 0 };
    for (const [socket, connection] of connections) {
      const pending = [...connection.responses];
      if (pending.length > 0 && pending.every(([response, source]) => source !== null && isEventStream(response))) {
        for (const [response, source] of pending) endEventStream(response, source!, socket);
        report.streams += pending.length;
      } else {
        if (pending.length > 0) report.connections += 1;
        socket.destroy();
      }
    }
    return report;
  });

  // Runs on every request and nearly always has nothing to do.
  return function refuseWhileDraining(_request, reply): void {
    if (!draining) return;
    reply.header('Connection', 'close');
    throw new GatehouseError('service_unavailable', { message: 'The server is shutting down; retry on another instance.', retryAfterS: 1 });
  };
}

/**
 * At the shutdown deadline: ends every event stream still open with a last `error` event and
 * destroys every other connection (a request still running, a body still arriving). Each
 * connection is gone within LAST_EVENT_GRACE_MS.
 */
export function cutInFlight(server: HttpServer): CutReport {
  const cut = cutters.get(server);
  if (!cut) throw new TypeError('cutInFlight: installDrain was not called on this server');
  return cut();
}

function isEventStream(response: ServerResponse): boolean {
  return String(response.getHeader('content-type') ?? '').startsWith('text/event-stream');
}

function endEventStream(response: ServerResponse, source: Readable, socket: Socket): void {
  // Detached first: nothing the provider still sends may follow the last event. Once the response
  // has finished, Fastify destroys the source, which aborts the upstream request, and the stream's
  // usage is counted from what passed (llm/proxy/respond.ts).
  source.unpipe(response);
  // The response's close ends the socket (above), after the event is written; a client that does
  // not read it within the grace loses it with the socket.
  const timer = setTimeout(() => socket.destroy(), LAST_EVENT_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  response.end(SHUTDOWN_EVENT);
}
