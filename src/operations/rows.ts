import { createCaller, hasScope, type Caller, type CallerKey } from '../access/index.js';
import { GatehouseError } from '../errors/index.js';
import { accessClaimsFor, appMetadataOf, userMetadataOf } from '../identity/index.js';
import { invalid, notFound, type ActionContext, type OperationsDeps } from './context.js';
import { requireChangePower } from './principal.js';

/** Whose view: a user of the environment, a guest (publishable key, nobody signed in), or an admin (secret key). */
export type ViewAs = { kind: 'user'; userId: string } | { kind: 'guest' } | { kind: 'admin' };

export interface ViewAsQuery {
  as: ViewAs;
  /** PostgREST's select, e.g. `id,title` (default `*`). */
  select?: string | undefined;
  /** PostgREST filters by column, e.g. `{ "done": "eq.false" }`, and `or`/`and` groups; or the same as a query string (`done=eq.false`). */
  filter?: Record<string, string> | string | undefined;
  /** PostgREST's order, e.g. `created_at.desc`. */
  order?: string | undefined;
  limit?: number | undefined;
}

/** Query parameters of the Data API that are not filters: a filter cannot smuggle them in. */
const NOT_FILTERS = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict']);
/** The synthetic caller's key: never a stored key, never presented anywhere. */
const VIEW_KEY_ID = 'view-as';

/** Rows of the Data API as another caller sees them, for the dashboard's rows browser. */
export function rowOperations(deps: Pick<OperationsDeps, 'data' | 'identity'>) {
  /**
   * The caller the Data API would build for that user's token, that guest or that secret key:
   * the same group, role and claims (identity's accessClaimsFor, as sign-in issues them), so the
   * rules decide as they would on /rest/v1. A preview as of a fresh sign-in: no session exists,
   * so session-dependent claims (session_id, amr) are absent and rules reading them see null.
   */
  async function callerFor(ctx: ActionContext, as: ViewAs): Promise<Caller> {
    const key = (kind: CallerKey['kind']): CallerKey => ({ id: VIEW_KEY_ID, kind, projectId: ctx.projectId, environment: ctx.environment, scopes: null });
    if (as.kind === 'admin') return createCaller(key('secret'), null);
    if (as.kind === 'guest') return createCaller(key('publishable'), null);
    const row = await deps.identity.users.byId(ctx.projectId, ctx.environment, as.userId);
    if (!row) throw notFound('No such user in this project environment.');
    const claims = accessClaimsFor(ctx.projectId, ctx.environment, {
      sub: row.id, email: row.email, role: row.role, appMetadata: appMetadataOf(row), userMetadata: userMetadataOf(row),
    });
    return createCaller(key('publishable'), { id: row.id, role: row.role, sessionId: null, claims });
  }

  return {
    /**
     * Reads the table through the Data API's own read path with that caller: no second copy of
     * the rules. The acting principal must itself be able to read the table (a key scoped to
     * admin:tables only does not gain data reads through it). A dashboard viewer may view as a
     * user or a guest, never as an admin: that view reads past every rule, which a viewer may not.
     */
    async viewAs(ctx: ActionContext, table: string, query: ViewAsQuery) {
      if (query.as.kind === 'admin') requireChangePower(ctx.principal);
      const principal = ctx.principal as { scopes?: readonly string[] | null };
      if (principal.scopes !== undefined && !hasScope(principal.scopes, `data:${table}:read`)) {
        throw new GatehouseError('insufficient_scope', { message: `Viewing rows needs data:${table}:read.`, details: { required_scope: `data:${table}:read` } });
      }
      const urlQuery: Record<string, unknown> = {};
      const filters = typeof query.filter === 'string' ? [...new URLSearchParams(query.filter)] : Object.entries(query.filter ?? {});
      if (filters.length > 50) throw invalid('filter', 'has more than 50 conditions');
      for (const [name, value] of filters) {
        if (NOT_FILTERS.has(name)) throw invalid(`filter.${name}`, 'is not a filter: use select, order or limit');
        urlQuery[name] = value;
      }
      if (query.select !== undefined) urlQuery.select = query.select;
      if (query.order !== undefined) urlQuery.order = query.order;
      if (query.limit !== undefined) urlQuery.limit = String(query.limit);
      const result = await deps.data.read(await callerFor(ctx, query.as), table, urlQuery);
      return { columns: result.columns, rows: result.objects() };
    },
  };
}
