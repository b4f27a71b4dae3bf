import type { Surface as ErrorDialect } from '../errors/index.js';
import type { RouteClass } from './route-class.js';
import type { RouteAuth, UserRequirement } from './requirements.js';

/**
 * One API surface, declared once: everything the pipeline must know about a request before its
 * route's own code runs. A route inherits these and may say more (its own class, auth or scope).
 */
export interface SurfaceDescriptor {
  name: string;
  /** Path prefix, a whole segment (`/auth/v1` is not `/auth/v1x`); '' for the catch-all. */
  prefix: string;
  /** The error shape its clients parse; a function of the path where the path names it (the provider of /llm). */
  dialect: ErrorDialect | ((path: string) => ErrorDialect);
  routeClass: RouteClass | ((method: string) => RouteClass);
  /** How the caller authenticates, unless the route says otherwise. */
  auth: RouteAuth;
  user: UserRequirement;
  /** The code a revoked session answers with, where the surface's clients expect their own (GoTrue's session_not_found). */
  revokedSession?: 'session_not_found';
  /** Its routes take the dashboard operator's session cookie (/_/api, and /admin/v1 when no key is sent). */
  operatorSession?: boolean;
}

export interface SurfaceTable {
  /** The surface a path belongs to: for routes once at start, and for requests no route matched. */
  forPath(path: string): SurfaceDescriptor;
}

export function createSurfaceTable(surfaces: readonly SurfaceDescriptor[]): SurfaceTable {
  const byLength = [...surfaces].sort((a, b) => b.prefix.length - a.prefix.length);
  const fallback = byLength.find((s) => s.prefix === '');
  if (!fallback) throw new TypeError('surfaces: one surface must have the prefix \'\' (the catch-all)');
  return {
    forPath(path) {
      for (const surface of byLength) if (under(path, surface.prefix)) return surface;
      return fallback;
    },
  };
}

function under(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

export function dialectOf(surface: SurfaceDescriptor, path: string): ErrorDialect {
  return typeof surface.dialect === 'function' ? surface.dialect(path) : surface.dialect;
}

export function routeClassOf(surface: SurfaceDescriptor, method: string): RouteClass {
  return typeof surface.routeClass === 'function' ? surface.routeClass(method) : surface.routeClass;
}
