import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dialectOf, routeClassOf, type SurfaceTable } from '../access/index.js';
import type { Surface as ErrorDialect } from '../errors/index.js';
import { routeInfo } from './route-info.js';

/**
 * Stamps every route, once at start, with its surface and the surface's defaults for what the
 * route leaves unsaid (auth, user, route class). The stages then read one object per route and
 * never look at the URL. Must be installed before any route is added.
 */
export function stampSurfaces(app: FastifyInstance, surfaces: SurfaceTable): void {
  app.addHook('onRoute', (route) => {
    const config = { ...(route.config ?? {}) };
    const surface = surfaces.forPath(route.url);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (config.routeClass === undefined) {
      const classes = new Set(methods.map((m) => routeClassOf(surface, m)));
      if (classes.size > 1) throw new TypeError(`route ${route.url}: its methods fall in different route classes; declare config.routeClass`);
      config.routeClass = [...classes][0]!;
    }
    config.surface = surface;
    config.auth ??= surface.auth;
    config.user ??= surface.user;
    route.config = config;
  });
}

/** PINNED: a dialect the route learned better than its surface could (a custom provider's kind). */
const PINNED = Symbol('gatehouse.dialect');
type Pinnable = FastifyRequest & { [PINNED]?: ErrorDialect };

/** From here on, errors of this request speak `dialect`. */
export function pinDialect(request: FastifyRequest, dialect: ErrorDialect): void {
  (request as Pinnable)[PINNED] = dialect;
}

/** The error dialect of a request: pinned, else its route's surface, else (no route matched) the surface of its path. */
export function errorDialectOf(request: FastifyRequest, surfaces: SurfaceTable): ErrorDialect {
  const pinned = (request as Pinnable)[PINNED];
  if (pinned) return pinned;
  const path = request.url;
  return dialectOf(routeInfo(request).config.surface ?? surfaces.forPath(path), path);
}
