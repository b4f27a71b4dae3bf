import { GatehouseError } from '../errors/index.js';
import { parseRoleChanges, type OperatorService, type OperatorSummary, type RoleChange, type SignInMeta } from '../operators/index.js';
import type { AuditLog } from '../observability/index.js';
import { actorOf, OPERATOR } from './principal.js';

/**
 * Who manages operators, from where. Operators are server-wide, so there is no project environment
 * and no role yet: the CLI, or a signed-in operator whose power is its owner roles, read per act.
 */
export interface OperatorActionContext {
  by: 'cli' | { operatorId: string };
  ip?: string | null;
  requestId?: string | null;
}

export type { RoleChange };

/**
 * Managing operators. The CLI may do anything; a dashboard operator only in the projects it owns:
 * it sees other operators' roles there, grants and takes them there, and removes an operator only
 * when every project that operator holds a role in is one it owns (else it would reach beyond its
 * projects). Each act is audited in every project it touches, with the acting operator as actor.
 */
export function operatorOperations(deps: { operators: OperatorService; audit: AuditLog }) {
  const { operators, audit } = deps;

  /** The projects the principal owns; null: all of them (the CLI). */
  async function owned(by: OperatorActionContext['by']): Promise<Set<string> | null> {
    if (by === 'cli') return null;
    const grants = await operators.grants(by.operatorId);
    return new Set(grants.filter((g) => g.role === 'owner').map((g) => g.projectId));
  }

  function requireOwns(own: Set<string> | null, projectIds: Iterable<string>): void {
    if (own === null) return;
    for (const id of projectIds) {
      if (!own.has(id)) throw new GatehouseError('forbidden', { message: `Only an owner of project ${id} can manage its operators.`, details: { project_id: id } });
    }
  }

  function visible(summary: OperatorSummary, own: Set<string> | null): OperatorSummary {
    return own === null ? summary : { ...summary, roles: summary.roles.filter((r) => own.has(r.projectId)) };
  }

  async function auditIn(ctx: OperatorActionContext, projectIds: Iterable<string>, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    for (const projectId of new Set(projectIds)) await audit.write({ projectId, environment: null, actor: ctx.by === 'cli' ? actorOf(OPERATOR) : `operator:${ctx.by.operatorId}`, action, target, details });
  }

  async function auditOwn(ctx: OperatorActionContext & { by: { operatorId: string } }, action: string): Promise<void> {
    const grants = await operators.grants(ctx.by.operatorId);
    await auditIn(ctx, grants.map((g) => g.projectId), action, ctx.by.operatorId, {});
  }

  /**
   * From the dashboard, a project is never left without an owner: someone must still be able to
   * manage it there. The CLI may (whoever holds the database can always add one back).
   */
  async function requireOwnerLeft(own: Set<string> | null, projectIds: Iterable<string>, without: string): Promise<void> {
    if (own === null) return;
    const all = await operators.list();
    for (const projectId of projectIds) {
      const hadOwner = all.some((o) => o.roles.some((r) => r.projectId === projectId && r.role === 'owner'));
      const keepsOwner = all.some((o) => o.id !== without && o.roles.some((r) => r.projectId === projectId && r.role === 'owner'));
      if (hadOwner && !keepsOwner) throw new GatehouseError('conflict', { message: `Project ${projectId} would have no owner left; make another operator owner first.`, details: { project_id: projectId } });
    }
  }

  return {
    async list(ctx: OperatorActionContext): Promise<OperatorSummary[]> {
      const own = await owned(ctx.by);
      const all = await operators.list();
      if (own === null) return all;
      // Operators of the caller's projects (and the caller itself), with their roles there only.
      return all.filter((o) => o.id === selfOf(ctx) || o.roles.some((r) => own.has(r.projectId))).map((o) => visible(o, own));
    },

    async add(ctx: OperatorActionContext, input: { email: unknown; password: unknown; roles: unknown }): Promise<OperatorSummary> {
      const own = await owned(ctx.by);
      if (own !== null) {
        if (!Array.isArray(input.roles) || input.roles.length === 0) {
          throw new GatehouseError('validation_failed', { message: 'roles: name at least one project you own', details: [{ field: 'roles', problem: 'required' }] });
        }
        requireOwns(own, input.roles.map((r: { projectId?: unknown }) => String(r?.projectId)));
      }
      const created = await operators.add(input);
      await auditIn(ctx, created.roles.map((r) => r.projectId), 'operator.add', created.id, { email: created.email, roles: created.roles });
      return visible(created, own);
    },

    async setRoles(ctx: OperatorActionContext, id: string, changes: unknown): Promise<OperatorSummary> {
      const own = await owned(ctx.by);
      const list = parseRoleChanges(changes, { removals: true });
      requireOwns(own, list.map((c) => c.projectId));
      if (!(await operators.get(id))) throw new GatehouseError('not_found', { message: 'No such operator.' });
      const losing = list.filter((c) => c.role !== 'owner').map((c) => c.projectId);
      await requireOwnerLeft(own, losing, id);
      const updated = await operators.setRoles(id, list);
      await auditIn(ctx, list.map((c) => c.projectId), 'operator.roles', id, { changes: list });
      return visible(updated, own);
    },

    async remove(ctx: OperatorActionContext, id: string): Promise<void> {
      const own = await owned(ctx.by);
      const target = await operators.get(id);
      // Someone the caller cannot see is not found, not forbidden: no probing for other projects' operators.
      if (!target || (own !== null && target.id !== selfOf(ctx) && !target.roles.some((r) => own.has(r.projectId)))) {
        throw new GatehouseError('not_found', { message: 'No such operator.' });
      }
      requireOwns(own, target.roles.map((r) => r.projectId));
      await requireOwnerLeft(own, target.roles.map((r) => r.projectId), id);
      await operators.remove(id);
      await auditIn(ctx, target.roles.map((r) => r.projectId), 'operator.remove', id, { email: target.email });
    },

    /**
     * An operator's own account: its second factor and its password. Audited in every project it
     * holds a role in, as its own act (the secret and the passwords never in the entry).
     */
    async enrollTotp(ctx: OperatorActionContext & { by: { operatorId: string } }, currentPassword: unknown, meta: SignInMeta) {
      return operators.totpEnroll(ctx.by.operatorId, currentPassword, meta);
    },
    /** `keepSessionId`: this browser's session, the one that stays when the others end. */
    async confirmTotp(ctx: OperatorActionContext & { by: { operatorId: string } }, code: unknown, keepSessionId: string): Promise<void> {
      await operators.totpConfirm(ctx.by.operatorId, code, keepSessionId);
      await auditOwn(ctx, 'operator.totp_on');
    },
    async disableTotp(ctx: OperatorActionContext & { by: { operatorId: string } }, code: unknown, currentPassword: unknown, meta: SignInMeta): Promise<void> {
      await operators.totpDisable(ctx.by.operatorId, code, currentPassword, meta);
      await auditOwn(ctx, 'operator.totp_off');
    },
    async changePassword(ctx: OperatorActionContext & { by: { operatorId: string } }, current: unknown, next: unknown, meta: SignInMeta) {
      const signedIn = await operators.changePassword(ctx.by.operatorId, current, next, meta);
      await auditOwn(ctx, 'operator.password');
      return signedIn;
    },

    /** CLI only: for an operator who lost their authenticator. */
    async resetTotp(ctx: OperatorActionContext, id: string): Promise<void> {
      if (ctx.by !== 'cli') throw new GatehouseError('forbidden', { message: 'A second factor is reset from the CLI only.' });
      const target = await operators.get(id);
      if (!target) throw new GatehouseError('not_found', { message: 'No such operator.' });
      await operators.resetTotp(id);
      await auditIn(ctx, target.roles.map((r) => r.projectId), 'operator.reset_totp', id, {});
    },
  };
}

function selfOf(ctx: OperatorActionContext): string | null {
  return ctx.by === 'cli' ? null : ctx.by.operatorId;
}


