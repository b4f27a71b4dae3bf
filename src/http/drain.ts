import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../errors/index.js';

// Graceful shutdown of the HTTP side. fastify.close() stops listening and closes keep-alive
// connections that are idle *between* requests, but Node counts a connection that never sent a
// request (a browser's or load balancer's preconnect) or sent half of one as busy: with one of
// them open, close() waited until the client left, and SIGTERM did not end the process. So every
// connection is tracked here, with its requests in flight:
//   - at close, connections with nothing in flight are destroyed at once;
//   - a connection whose last request finishes during the drain is ended right after it;
//   - a connection accepted or a request arriving during the drain is refused (503, Connection: close),
//     /ready included, so the load balancer moves traffic away at once.
// What is still running at the deadline is the caller's to cut (server.closeAllConnections()).

/** Installs the drain on `app` (before it listens). */
export function installDrain(app: FastifyInstance, { tls }: { tls: boolean }): void {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  const server = app.server as HttpServer;

  // With TLS, requests run on the TLS socket, which 'secureConnection' hands out.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (draining) return socket.destroy();
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (request, response) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (draining && left === 0) socket.end();
    });
  });

  // A callback hook: it runs on every request and nearly always has nothing to do.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!draining) return done();
    reply.header('Connection', 'close');
    done(new GatehouseError('service_unavailable', { message: 'The server is shutting down; retry on another instance.', retryAfterS: 1 }));
  });

  app.addHook('preClose', async () => {
    draining = true;
    for (const [socket, count] of inFlight) if (count === 0) socket.destroy();
  });
}
