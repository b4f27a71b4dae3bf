import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestStats } from '../observability/index.js';
import type { Stage } from './hook.js';
import { routeInfo } from './route-info.js';

/**
 * onResponse: counts the response for the dashboard's charts. Only identified callers count (a
 * request refused before identify names no project environment), and not the admin API: the
 * dashboard polling its own charts is not the app's traffic.
 */
export function requestStatsStage(stats: RequestStats): Stage {
  return function countResponse(request: FastifyRequest, reply: FastifyReply): void {
    const caller = request.caller;
    if (!caller || routeInfo(request).config.surface?.name === 'admin') return;
    stats.record(caller.projectId, caller.environment, reply.statusCode, caller.user?.id ?? null);
  };
}
