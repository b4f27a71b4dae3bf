import { effectiveEndpoints, type ProviderInput, type ProviderSummary } from '../llm/index.js';
import { requireSecretKey } from './principal.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

const KINDS: readonly string[] = ['openai', 'anthropic', 'gemini'];

export interface QuotaChange {
  /** undefined keeps the current value; null means no limit. */
  tokensPerDay?: number | null | undefined;
  tokensPerMonth?: number | null | undefined;
}

function checkLimit(field: string, value: number | null | undefined): void {
  if (value === undefined || value === null) return;
  if (!Number.isInteger(value) || value < 0) throw invalid(field, 'must be a whole number of tokens (0 or more) or null');
}

/** LLM providers, token quotas and usage of a project environment. Provider keys go in, never out. */
export function providerOperations(deps: Pick<OperationsDeps, 'llm'>, audit: Audit) {
  const { llm } = deps;

  return {
    list(ctx: ActionContext): Promise<ProviderSummary[]> {
      return llm.providers.list(ctx.projectId, ctx.environment);
    },

    /** One provider with the endpoints the proxy enforces, built by the same code (spacing and flags normalised alike). */
    async get(ctx: ActionContext, name: string) {
      const summary = await llm.providers.get(ctx.projectId, ctx.environment, name);
      if (!summary) throw notFound(`No provider named ${name}.`);
      const endpoints = effectiveEndpoints(summary.kind, { add: summary.endpoints_add, remove: summary.endpoints_remove }).map((p) => p.source);
      return { ...summary, endpoints };
    },

    async put(ctx: ActionContext, name: string, input: ProviderInput): Promise<ProviderSummary> {
      if (input.kind !== undefined && !KINDS.includes(input.kind)) throw invalid('kind', 'must be openai, anthropic or gemini');
      const summary = await llm.providers.put(ctx.projectId, ctx.environment, name, input);
      await audit(ctx, {
        action: 'llm_provider.put', target: name,
        // Whether the key changed, never the key.
        details: {
          kind: summary.kind, base_url: summary.base_url, key_changed: input.apiKey !== undefined, has_key: summary.has_key,
          endpoints_add: summary.endpoints_add, endpoints_remove: summary.endpoints_remove, enabled: summary.enabled,
        },
      });
      return summary;
    },

    async remove(ctx: ActionContext, name: string): Promise<void> {
      if (!(await llm.providers.remove(ctx.projectId, ctx.environment, name))) throw notFound(`No provider named ${name}.`);
      await audit(ctx, { action: 'llm_provider.delete', target: name });
    },

    quotas(ctx: ActionContext) {
      return llm.quotas.limitsOf(ctx.projectId, ctx.environment);
    },

    /** Quotas bound users, admin users included: an admin user must not lift its own. */
    async setQuotas(ctx: ActionContext, change: QuotaChange) {
      checkLimit('tokens_per_day', change.tokensPerDay);
      checkLimit('tokens_per_month', change.tokensPerMonth);
      requireSecretKey(ctx.principal, 'Only a secret key can change token quotas.');
      const current = await llm.quotas.limitsOf(ctx.projectId, ctx.environment);
      const limits = await llm.quotas.setLimits(ctx.projectId, ctx.environment, {
        tokensPerDay: change.tokensPerDay === undefined ? current.tokensPerDay : change.tokensPerDay,
        tokensPerMonth: change.tokensPerMonth === undefined ? current.tokensPerMonth : change.tokensPerMonth,
      });
      await audit(ctx, { action: 'llm_quotas.put', target: null, details: { tokens_per_day: limits.tokensPerDay, tokens_per_month: limits.tokensPerMonth } });
      return limits;
    },

    /** Counts only: flushed first, so the report includes requests that just finished. */
    async usage(ctx: ActionContext, range: { from: string; to: string; userId?: string | undefined }) {
      const from = Date.parse(range.from);
      const to = Date.parse(range.to);
      if (Number.isNaN(from)) throw invalid('from', 'must be an ISO date-time');
      if (Number.isNaN(to)) throw invalid('to', 'must be an ISO date-time');
      await llm.usage.flush();
      return llm.usage.report(ctx.projectId, ctx.environment, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), userId: range.userId });
    },
  };
}
