// Remote mode: the same acts through a running server's admin API, as its secret key (audited as
// key:<id>). Where the admin API only replaces a whole document (the limits policy, an override,
// the quotas), the change is merged into what the server holds, the same way the operations
// layer merges it locally.
import { GatehouseError } from '../../errors/index.js';
import { normalizeEmail } from '../../identity/index.js';
import { withClassChange } from '../../operations/index.js';
import { RemoteError, type AdminClient } from './admin-client.js';
import type { AdminTarget, CreatedKeyJson, IssuerJson, KeyJson, LimitsView, OverrideJson, QuotasJson, RotatedKeyJson, UserJson } from './target.js';

const segment = encodeURIComponent;

export function remoteTarget(client: AdminClient): AdminTarget {
  const { call } = client;
  const limitsView = () => call<LimitsView>('GET', '/limits');

  return {
    keys: {
      list: async () => (await call<{ keys: KeyJson[] }>('GET', '/keys')).keys,
      create: (input) => call<CreatedKeyJson>('POST', '/keys', { body: input }),
      revoke: (id) => call<KeyJson>('POST', `/keys/${segment(id)}/revoke`),
      rotate: (id, graceSeconds) => call<RotatedKeyJson>('POST', `/keys/${segment(id)}/rotate`, { query: { grace_seconds: graceSeconds } }),
    },
    users: {
      list: async (limit) => (await call<{ users: UserJson[] }>('GET', '/users', { query: { limit } })).users,
      create: (input) => call<UserJson>('POST', '/users', { body: input }),
      async find(ref) {
        // The same lookup, and the same answer when nobody matches, as the operations layer's.
        const missing = () => new GatehouseError('not_found', { message: `No user "${ref}" in this project environment.` });
        if (!ref.startsWith('usr_')) {
          const [found] = (await call<{ users: UserJson[] }>('GET', '/users', { query: { email: normalizeEmail(ref), limit: 1 } })).users;
          if (!found) throw missing();
          return found;
        }
        try {
          return await call<UserJson>('GET', `/users/${segment(ref)}`);
        } catch (error) {
          // 400: not even the shape of a user id, so no such user either.
          if (error instanceof RemoteError && (error.status === 404 || error.status === 400)) throw missing();
          throw error;
        }
      },
      setRole: (id, role) => call<UserJson>('PATCH', `/users/${segment(id)}`, { body: { role } }),
      revokeSessions: async (id) => (await call<{ revoked: number }>('POST', `/users/${segment(id)}/sessions/revoke`)).revoked,
    },
    auth: {
      setSignupMode: async (mode) => (await call<{ signup_mode: string }>('PUT', '/auth/settings', { body: { signup_mode: mode } })).signup_mode,
      rotateSigningKey: () => call('POST', '/auth/signing-keys/rotate'),
      issuers: async () => (await call<{ issuers: IssuerJson[] }>('GET', '/auth/issuers')).issuers,
      addIssuer: (input) => call<IssuerJson>('POST', '/auth/issuers', { body: input }),
      removeIssuer: (id) => call('DELETE', `/auth/issuers/${segment(id)}`),
    },
    providers: {
      list: async () => (await call<{ providers: Awaited<ReturnType<AdminTarget['providers']['list']>> }>('GET', '/providers')).providers,
      put: (name, change) => call('PUT', `/providers/${segment(name)}`, { body: change }),
      remove: (name) => call('DELETE', `/providers/${segment(name)}`),
      quotas: () => call<QuotasJson>('GET', '/llm/quotas'),
      async setQuotas(change) {
        const current = change.tokens_per_day === undefined || change.tokens_per_month === undefined ? await call<QuotasJson>('GET', '/llm/quotas') : null;
        return call<QuotasJson>('PUT', '/llm/quotas', {
          body: {
            tokens_per_day: change.tokens_per_day === undefined ? current!.tokens_per_day : change.tokens_per_day,
            tokens_per_month: change.tokens_per_month === undefined ? current!.tokens_per_month : change.tokens_per_month,
          },
        });
      },
    },
    limits: {
      view: limitsView,
      async changeClass(routeClass, change) {
        const policy = withClassChange((await limitsView()).policy ?? {}, routeClass, change);
        const after = await call<LimitsView>('PUT', '/limits/policy', { body: policy });
        return { effective: after.effective, policy };
      },
      async clearPolicy(routeClass) {
        if (!routeClass) return (await call<LimitsView>('DELETE', '/limits/policy')).effective;
        const view = await limitsView();
        if (!view.policy || view.policy[routeClass] === undefined) return view.effective;
        const rest = { ...view.policy };
        delete rest[routeClass];
        return (await call<LimitsView>('PUT', '/limits/policy', { body: rest })).effective;
      },
      overrides: async () => (await call<{ overrides: OverrideJson[] }>('GET', '/limits/overrides')).overrides,
      async changeOverrideClass(subject, routeClass, windows) {
        const { overrides } = await call<{ overrides: OverrideJson[] }>('GET', '/limits/overrides');
        const current = overrides.find((o) => o.subject === subject);
        return call<OverrideJson>('PUT', `/limits/overrides/${segment(subject)}`, { body: { ...(current?.limits ?? {}), [routeClass]: windows } });
      },
      removeOverride: (subject) => call('DELETE', `/limits/overrides/${segment(subject)}`),
    },
    schema: {
      apply: (document, { dryRun, allowDataLoss }) =>
        dryRun
          ? call('POST', '/schema/plan', { body: { schema: document, allow_data_loss: allowDataLoss } })
          : call('PUT', '/schema', { body: { schema: document, allow_data_loss: allowDataLoss } }),
      document: async () => (await call<{ schema: Awaited<ReturnType<AdminTarget['schema']['document']>> }>('GET', '/schema')).schema,
      testPolicy: (table, input) => call('POST', '/policies/test', { body: { table, ...input } }),
    },
    audit: {
      verify: () => call('GET', '/audit/verify'),
      head: () => call('GET', '/audit/head'),
      async *export() {
        for await (const line of client.lines('/audit/export')) yield JSON.parse(line);
      },
    },
    requestLog: {
      settings: () => call('GET', '/llm/request-log'),
      putSettings: (change) => call('PUT', '/llm/request-log', { body: change }),
    },
  };
}
