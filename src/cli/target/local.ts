// Local mode: the operations layer on the server's own storage, acting as the operator (actor
// `cli`), converted to the admin API's JSON by the admin API's own converters.
import { planJson, toAdminUser, toIssuerJson, toKeyJson, toOverrideJson, toRequestLogJson } from '../../admin/index.js';
import type { ActionContext, Operations } from '../../operations/index.js';
import type { AdminTarget } from './target.js';

export function localTarget(operations: Operations, acting: ActionContext): AdminTarget {
  const { keys, users, auth, providers, limits, schema, requestLog, audit } = operations;
  const quotasJson = (q: { tokensPerDay: number | null; tokensPerMonth: number | null }) => ({ tokens_per_day: q.tokensPerDay, tokens_per_month: q.tokensPerMonth });

  return {
    keys: {
      list: async () => (await keys.list(acting)).map(toKeyJson),
      async create(input) {
        const created = await keys.create(acting, { kind: input.kind, name: input.name, scopes: input.scopes, expiresAt: input.expires_at });
        return { key: created.key, ...toKeyJson(created.summary) };
      },
      revoke: async (id) => toKeyJson(await keys.revoke(acting, id)),
      async rotate(id, graceSeconds) {
        const rotated = await keys.rotate(acting, id, graceSeconds);
        return { key: rotated.key, ...toKeyJson(rotated.summary), previous: toKeyJson(rotated.previous) };
      },
    },
    users: {
      list: async (limit) => (await users.list(acting, { limit })).map(toAdminUser),
      create: async (input) => toAdminUser(await users.create(acting, input)),
      find: async (ref) => toAdminUser(await users.find(acting, ref)),
      setRole: async (id, role) => toAdminUser(await users.setRole(acting, id, role)),
      revokeSessions: (id) => users.revokeSessions(acting, id),
    },
    auth: {
      setSignupMode: (mode) => auth.setSignupMode(acting, mode),
      rotateSigningKey: () => auth.rotateSigningKey(acting),
      issuers: async () => (await auth.issuers(acting)).map(toIssuerJson),
      addIssuer: async (input) => toIssuerJson(await auth.addIssuer(acting, input)),
      async removeIssuer(id) {
        await auth.removeIssuer(acting, id);
      },
    },
    providers: {
      list: () => providers.list(acting),
      put: (name, c) => providers.put(acting, name, {
        kind: c.kind, baseUrl: c.base_url, apiKey: c.api_key, endpointsAdd: c.endpoints_add, endpointsRemove: c.endpoints_remove, enabled: c.enabled,
      }),
      remove: (name) => providers.remove(acting, name),
      quotas: async () => quotasJson(await providers.quotas(acting)),
      setQuotas: async (c) => quotasJson(await providers.setQuotas(acting, { tokensPerDay: c.tokens_per_day, tokensPerMonth: c.tokens_per_month })),
    },
    limits: {
      async view() {
        const v = await limits.view(acting);
        return { effective: v.effective, policy: v.policy, policy_updated_at: v.policyUpdatedAt, overrides: v.overrides.map(toOverrideJson) };
      },
      changeClass: (routeClass, change) => limits.changeClass(acting, routeClass, change),
      clearPolicy: (routeClass) => limits.clearPolicy(acting, routeClass),
      overrides: async () => (await limits.overrides(acting)).map(toOverrideJson),
      changeOverrideClass: async (subject, routeClass, windows) => toOverrideJson(await limits.changeOverrideClass(acting, subject, routeClass, windows)),
      removeOverride: (subject) => limits.removeOverride(acting, subject),
    },
    schema: {
      apply: async (document, options) => planJson(await schema.apply(acting, document, options)),
      document: () => schema.document(acting),
      testPolicy: (table, input) => schema.testPolicy(acting, table, input),
    },
    audit: {
      verify: () => audit.verify(acting),
      head: () => audit.head(acting),
      export: () => audit.export(acting),
    },
    requestLog: {
      settings: async () => toRequestLogJson(await requestLog.settings(acting)),
      putSettings: async (c) => toRequestLogJson(await requestLog.putSettings(acting, { enabled: c.enabled, retentionDays: c.retention_days, maxBodyBytes: c.max_body_bytes })),
    },
  };
}
