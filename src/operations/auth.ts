import { GatehouseError } from '../errors/index.js';
import { SIGNUP_MODES, type IssuerInput, type SignupMode } from '../identity/index.js';
import { requireEveryScope, requireSecretKey } from './principal.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

const ISSUER_KINDS: readonly string[] = ['supabase', 'firebase', 'oidc'];

/** Sign-up mode, signing keys, the development outbox and external issuers of a project environment. */
export function authOperations(deps: Pick<OperationsDeps, 'identity' | 'events'>, audit: Audit) {
  const { identity } = deps;

  return {
    signupMode(ctx: ActionContext): Promise<SignupMode> {
      return identity.signup.mode(ctx.projectId, ctx.environment);
    },

    async setSignupMode(ctx: ActionContext, mode: string): Promise<SignupMode> {
      if (!(SIGNUP_MODES as readonly string[]).includes(mode)) throw invalid('signup_mode', 'must be open, invite or closed');
      await identity.signup.setMode(ctx.projectId, ctx.environment, mode as SignupMode);
      await audit(ctx, { action: 'auth.settings', details: { signup_mode: mode } });
      return mode as SignupMode;
    },

    signingKeys(ctx: ActionContext) {
      return identity.signingKeys.list(ctx.projectId, ctx.environment);
    },

    /** A new key signs from now on; the old one verifies until its last token expires. */
    async rotateSigningKey(ctx: ActionContext) {
      const rotated = await identity.signingKeys.rotate(ctx.projectId, ctx.environment);
      deps.events.record('signing_key_rotated', { projectId: ctx.projectId, environment: ctx.environment, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null, details: rotated });
      await audit(ctx, { action: 'signing_key.rotate', target: rotated.kid, details: { previous: rotated.previous } });
      return rotated;
    },

    /**
     * The outbox holds live recovery codes: an admin *user* reading it could take over other
     * accounts, and a key scoped to admin:auth could take over an admin's, gaining every admin scope.
     */
    async outbox(ctx: ActionContext, query: { to?: string | undefined; limit?: number | undefined }) {
      requireEveryScope(ctx.principal, 'The outbox is readable with a secret key holding every scope only.');
      if (!identity.outbox) throw new GatehouseError('outbox_disabled');
      return identity.outbox.list(ctx.projectId, ctx.environment, query);
    },

    issuers(ctx: ActionContext) {
      return identity.issuers.list(ctx.projectId, ctx.environment);
    },

    /**
     * An issuer is a token factory: whoever holds its signing key signs in as any of its users,
     * with any claims, long after an admin *user* who added it has lost the role.
     */
    async addIssuer(ctx: ActionContext, input: IssuerInput) {
      if (!ISSUER_KINDS.includes(input.kind)) throw invalid('kind', 'must be supabase, firebase or oidc');
      requireSecretKey(ctx.principal, 'Only a secret key can trust a new issuer.');
      const issuer = await identity.issuers.create(ctx.projectId, ctx.environment, input);
      await audit(ctx, { action: 'issuer.create', target: issuer.id, details: { kind: issuer.kind, issuer: issuer.issuer } });
      return issuer;
    },

    async removeIssuer(ctx: ActionContext, id: string) {
      const removed = await identity.issuers.remove(ctx.projectId, ctx.environment, id);
      if (!removed) throw notFound('No such issuer in this project environment.');
      await audit(ctx, { action: 'issuer.delete', target: removed.id });
      return removed;
    },
  };
}
