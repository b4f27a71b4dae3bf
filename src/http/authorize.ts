import type { FastifyRequest } from 'fastify';
import { accessDenial, holdsScope } from '../access/index.js';
import { GatehouseError } from '../errors/index.js';
import type { SecurityEvents } from '../observability/index.js';
import { routeInfo } from './route-info.js';

/**
 * onRequest stage, right after identify: what the route demands of its caller, in one place —
 * the admin group (`auth: 'secret'`), a user behind the request, the key's scope. Before the
 * body is read, so a refused caller costs no upload. Only checks that need the body or the
 * stored rows (the data layer's row rules, an admin act's own bar) run later.
 */
const READS = new Set(['GET', 'HEAD']);

export function createAuthorizationStage({ events }: { events: SecurityEvents }) {
  return function authorize(request: FastifyRequest): void {
    const caller = request.caller;
    if (!caller) return; // public route, no route, or the metrics token (identify let it through)
    const route = routeInfo(request);
    const config = route.config;
    const denial = accessDenial(caller, config.auth ?? 'key', config.user ?? 'none');
    if (denial === 'secret_key_required') {
      events.record('secret_key_required', { projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { route: route.url, key_id: caller.key.id } });
      throw new GatehouseError('secret_key_required');
    }
    if (denial !== null) throw new GatehouseError(denial);
    // A dashboard viewer reads and changes nothing: refused here for every route that is not a read,
    // so a new admin route is covered without a list to keep. The operations layer refuses it too.
    if (caller.operator?.role === 'viewer' && !READS.has(request.method) && config.readOnly !== true) {
      events.record('api_key_scope_denied', {
        projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { operator_id: caller.operator.id, role: 'viewer', route: route.url },
      });
      throw new GatehouseError('forbidden', { message: 'A viewer can read this project but change nothing.', details: { role: 'viewer' } });
    }
    const scope = config.scope;
    if (scope === undefined) return;
    const needed = typeof scope === 'string' ? scope : scope(request);
    const grant = config.scopeGrant ?? 'granted';
    if (holdsScope(caller, needed, grant)) return;
    events.record('api_key_scope_denied', {
      projectId: caller.projectId, environment: caller.environment, ip: request.ip, requestId: request.id, details: { needed, key_id: caller.key.id, route: route.url },
    });
    throw new GatehouseError('insufficient_scope', {
      message: grant === 'secret'
        ? `This route needs a secret key with the scope ${needed}${config.metricsToken ? ', or the metrics token' : ''}.`
        : `The API key lacks the scope ${needed}.`,
      details: { required_scope: needed },
    });
  };
}
