// Rate limits of a project environment. The config file sets the policy of every project; an
// environment changes it (a patch per class and tier) and sets per-user and per-key overrides.
// Changes apply on this instance at once and on every other within a second.
import { GatehouseError } from '../errors/index.js';
import type { FailMode, LimitsPolicyPatch, OverrideEntry, RouteClass, SubjectOverride, Tier, Window } from '../limits/index.js';
import { holdsEveryPower, requireEveryScope, requireSecretKey, actorOf } from './principal.js';
import { notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

// Limits bound the caller too. The policy sets the tier every admin caller falls under, so only
// a secret key holding every scope changes it; an admin user changes no limit at all (its own
// override or tier would be among them); and no scoped key touches its own override.
const POLICY_NEEDS = 'Only a secret key with every scope can change the rate-limit policy (its tiers bound the caller too).';

function requireOverrideWriter(ctx: ActionContext, subject: string): void {
  requireSecretKey(ctx.principal, 'Only a secret key can change rate-limit overrides.');
  const p = ctx.principal;
  if (p.kind === 'secret_key' && subject === `key:${p.keyId}` && !holdsEveryPower(p)) {
    throw new GatehouseError('forbidden', { message: 'A scoped key cannot change its own rate-limit override.' });
  }
}

/** One class's change, as a person states it: these windows for these tiers, and/or a fail mode. */
export interface ClassChange {
  tiers: readonly Tier[];
  windows?: Window[] | undefined;
  failMode?: FailMode | undefined;
}

/**
 * `change` applied to a copy of a policy patch, the rest kept. Pure, so a front end that can only
 * replace the whole patch (the remote CLI over PUT /admin/v1/limits/policy) merges the same way.
 */
export function withClassChange(patch: LimitsPolicyPatch, routeClass: RouteClass, change: ClassChange): LimitsPolicyPatch {
  const next = structuredClone(patch);
  const target = (next[routeClass] ??= {});
  if (change.failMode) target.failMode = change.failMode;
  if (change.windows) {
    target.tiers ??= {};
    for (const tier of change.tiers) target.tiers[tier] = change.windows;
  }
  return next;
}

export function limitOperations(deps: Pick<OperationsDeps, 'rateLimits'>, audit: Audit) {
  const settings = deps.rateLimits.settings;

  async function currentPatch(ctx: ActionContext): Promise<LimitsPolicyPatch> {
    return structuredClone((await settings.getPolicy(ctx.projectId, ctx.environment))?.patch ?? {});
  }

  async function setPolicy(ctx: ActionContext, patch: LimitsPolicyPatch) {
    requireEveryScope(ctx.principal, POLICY_NEEDS);
    const effective = await settings.setPolicy(ctx.projectId, ctx.environment, patch, actorOf(ctx.principal));
    await audit(ctx, { action: 'rate_limits.policy.set', target: null, details: { policy: patch } });
    return effective;
  }

  async function writeOverride(ctx: ActionContext, subject: string, limits: SubjectOverride): Promise<OverrideEntry> {
    requireOverrideWriter(ctx, subject);
    const entry = await settings.setOverride(ctx.projectId, ctx.environment, subject, limits, actorOf(ctx.principal));
    await audit(ctx, { action: 'rate_limits.override.set', target: entry.subject, details: { limits } });
    return entry;
  }

  return {
    /** The limits in force, this environment's policy changes and its overrides. */
    async view(ctx: ActionContext) {
      const [effective, policy, overrides] = await Promise.all([
        settings.effective(ctx.projectId, ctx.environment),
        settings.getPolicy(ctx.projectId, ctx.environment),
        settings.listOverrides(ctx.projectId, ctx.environment),
      ]);
      return { effective, policy: policy?.patch ?? null, policyUpdatedAt: policy?.updatedAt ?? null, overrides };
    },

    effective(ctx: ActionContext) {
      return settings.effective(ctx.projectId, ctx.environment);
    },

    /** Replaces this environment's whole patch. */
    setPolicy,

    /** Changes one class of the patch, keeping the rest. */
    async changeClass(ctx: ActionContext, routeClass: RouteClass, change: ClassChange) {
      requireEveryScope(ctx.principal, POLICY_NEEDS);
      const patch = withClassChange(await currentPatch(ctx), routeClass, change);
      return { effective: await setPolicy(ctx, patch), policy: patch };
    },

    /** Drops this environment's changes (of one class, or all): the config file policy applies. Audited when something was dropped. */
    async clearPolicy(ctx: ActionContext, routeClass?: RouteClass) {
      requireEveryScope(ctx.principal, POLICY_NEEDS);
      let cleared: boolean;
      if (routeClass) {
        const patch = await currentPatch(ctx);
        cleared = patch[routeClass] !== undefined;
        if (cleared) {
          delete patch[routeClass];
          await settings.setPolicy(ctx.projectId, ctx.environment, patch, actorOf(ctx.principal));
        }
      } else {
        cleared = await settings.clearPolicy(ctx.projectId, ctx.environment);
      }
      if (cleared) await audit(ctx, { action: 'rate_limits.policy.clear', target: routeClass ?? null });
      return settings.effective(ctx.projectId, ctx.environment);
    },

    overrides(ctx: ActionContext) {
      return settings.listOverrides(ctx.projectId, ctx.environment);
    },

    /** Sets the whole override of one subject. */
    setOverride: writeOverride,

    /** Sets one class of a subject's override, keeping its other classes. */
    async changeOverrideClass(ctx: ActionContext, subject: string, routeClass: RouteClass, windows: Window[]) {
      requireOverrideWriter(ctx, subject);
      const current = (await settings.listOverrides(ctx.projectId, ctx.environment)).find((o) => o.subject === subject);
      return writeOverride(ctx, subject, { ...(current?.limits ?? {}), [routeClass]: windows });
    },

    async removeOverride(ctx: ActionContext, subject: string): Promise<void> {
      requireOverrideWriter(ctx, subject);
      if (!(await settings.removeOverride(ctx.projectId, ctx.environment, subject))) throw notFound('No override for this subject.');
      await audit(ctx, { action: 'rate_limits.override.remove', target: subject });
    },
  };
}
