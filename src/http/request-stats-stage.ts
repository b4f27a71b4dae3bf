import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestStats } from '../observability/index.js';
import type { Stage } from './hook.js';
import { routeInfo } from './route-info.js';

/**
 * onResponse: counts the response for the dashboard's charts. Only identified callers count (a
 * request refused before identify names no project environment), and not the admin API or the
 * dashboard: the dashboard polling its own charts is not the app's traffic.
 */
/** Surfaces that are the operators' own, not the app's: the admin API and the dashboard. */
const NOT_COUNTED = new Set(['admin', 'dashboard', 'dashboard_ui']);

export function requestStatsStage(stats: RequestStats): Stage {
  return function countResponse(request: FastifyRequest, reply: FastifyReply): void {
    const caller = request.caller;
    if (!caller || NOT_COUNTED.has(routeInfo(request).config.surface?.name ?? '')) return;
    stats.record(caller.projectId, caller.environment, reply.statusCode, caller.user?.id ?? null);
  };
}
