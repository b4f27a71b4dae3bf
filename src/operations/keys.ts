import { assertMayManageKey, mayManageKey, type ApiKeySummary, type KeyKind } from '../identity/api-keys/index.js';
import { creatorOf, keyPowerOf, requireSecretKey } from './principal.js';
import { invalid, notFound, type ActionContext, type Audit, type OperationsDeps } from './context.js';

/** The longest a rotated key keeps working beside its successor: a stolen key must not get a long tail. */
export const MAX_ROTATION_GRACE_SECONDS = 30 * 86400;
const MAX_SCOPES = 50;
const MAX_SCOPE_LENGTH = 200;
const MAX_NAME_LENGTH = 100;

export interface CreateKeyRequest {
  kind: KeyKind;
  name?: string | undefined;
  scopes?: readonly string[] | null | undefined;
  expiresAt?: string | null | undefined;
}

function checkCreate(input: CreateKeyRequest): void {
  if (input.kind !== 'publishable' && input.kind !== 'secret') throw invalid('kind', 'must be publishable or secret');
  if (input.name !== undefined && (input.name.length < 1 || input.name.length > MAX_NAME_LENGTH)) throw invalid('name', `must be 1 to ${MAX_NAME_LENGTH} characters`);
  const scopes = input.scopes ?? [];
  if (scopes.length > MAX_SCOPES) throw invalid('scopes', `must have at most ${MAX_SCOPES} items`);
  for (const [i, s] of scopes.entries()) {
    if (s.length < 1 || s.length > MAX_SCOPE_LENGTH) throw invalid(`scopes/${i}`, `must be 1 to ${MAX_SCOPE_LENGTH} characters`);
  }
  if (input.expiresAt != null && Number.isNaN(Date.parse(input.expiresAt))) throw invalid('expires_at', 'must be an ISO date-time');
}

/**
 * API keys of a project environment. What a principal may do with a key is bounded by its own
 * power (kind and scopes): no credential mints, rotates or revokes one that outranks it.
 */
export function keyOperations(deps: Pick<OperationsDeps, 'apiKeys'>, audit: Audit) {
  const { apiKeys } = deps;

  /** Unknown ids are 404 (as in another environment); known keys beyond the principal's power are refused. */
  async function manageable(ctx: ActionContext, id: string, verb: string): Promise<void> {
    const key = await apiKeys.get(ctx.projectId, ctx.environment, id);
    if (!key) throw notFound('No such key in this project environment.');
    assertMayManageKey(keyPowerOf(ctx.principal), key, verb);
  }

  return {
    /** The keys the principal could revoke: a narrow key learns nothing of the keys worth stealing. */
    async list(ctx: ActionContext): Promise<ApiKeySummary[]> {
      const power = keyPowerOf(ctx.principal);
      return (await apiKeys.list(ctx.projectId, ctx.environment)).filter((k) => mayManageKey(power, k));
    },

    async create(ctx: ActionContext, input: CreateKeyRequest) {
      checkCreate(input);
      const scopes = input.scopes ? [...input.scopes] : null;
      assertMayManageKey(keyPowerOf(ctx.principal), { kind: input.kind, scopes }, 'create');
      const created = await apiKeys.create({
        projectId: ctx.projectId, environment: ctx.environment, kind: input.kind, name: input.name, scopes,
        expiresAt: input.expiresAt ?? null, createdBy: creatorOf(ctx.principal),
      });
      await audit(ctx, { action: 'api_key.create', target: created.summary.id, details: { kind: input.kind, scopes } });
      return created;
    },

    /** Checked like creating: `admin:keys` alone must not switch off the main secret key. */
    async revoke(ctx: ActionContext, id: string): Promise<ApiKeySummary> {
      await manageable(ctx, id, 'revoke');
      const revoked = await apiKeys.revoke(ctx.projectId, ctx.environment, id);
      await audit(ctx, { action: 'api_key.revoke', target: revoked.id });
      return revoked;
    },

    /**
     * A successor takes over a deployed key (often the app's own publishable key). Made by an admin
     * user, it would either die with that user's role (an outage at the next demotion) or outlive it
     * in the user's hands; so rotating stays a secret-key act.
     */
    async rotate(ctx: ActionContext, id: string, graceSeconds?: number) {
      if (graceSeconds !== undefined && (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS)) {
        throw invalid('grace_seconds', `must be a whole number of seconds from 0 to ${MAX_ROTATION_GRACE_SECONDS} (30 days)`);
      }
      requireSecretKey(ctx.principal, 'Only a secret key can rotate keys.');
      await manageable(ctx, id, 'rotate');
      const rotated = await apiKeys.rotate(ctx.projectId, ctx.environment, id, graceSeconds, creatorOf(ctx.principal));
      await audit(ctx, { action: 'api_key.rotate', target: id, details: { successor: rotated.summary.id } });
      return rotated;
    },
  };
}
