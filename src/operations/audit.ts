// The audit chain, read: verify it, print its head, export it. What the admin API and the CLI
// both call, so `gatehouse audit verify` and GET /admin/v1/audit/verify give the same verdict.
// Each project environment has its own chain, and the project-wide entries (project.create,
// environment null) one more: the acting environment sees both, as it does in the audit log list.
import { verifyAuditChain, type ChainReport, type ChainedEntry } from '../observability/index.js';
import type { ActionContext, OperationsDeps } from './context.js';

export interface AuditVerdict {
  ok: boolean;
  chains: ChainReport[];
}

export interface ChainHeadView {
  environment: string | null;
  seq: number;
  hash: string | null;
}

/** One exported line: the entry as stored, details as JSON, so a verifier can recompute every hash. */
export type ExportedEntry = Omit<ChainedEntry, 'details'> & { details: unknown };

const EXPORT_PAGE = 500;

export function auditOperations(deps: Pick<OperationsDeps, 'audit'>) {
  const chainsOf = (ctx: ActionContext): Array<string | null> => [ctx.environment, null];

  return {
    async verify(ctx: ActionContext): Promise<AuditVerdict> {
      const chains: ChainReport[] = [];
      for (const environment of chainsOf(ctx)) chains.push(await verifyAuditChain(deps.audit, ctx.projectId, environment));
      return { ok: chains.every((c) => c.ok), chains };
    },

    /** Each chain's last seq and hash: keep them outside the database to detect a rewritten tail. */
    async head(ctx: ActionContext): Promise<{ chains: ChainHeadView[] }> {
      const chains: ChainHeadView[] = [];
      for (const environment of chainsOf(ctx)) {
        const head = await deps.audit.head(ctx.projectId, environment);
        chains.push({ environment, seq: head?.seq ?? 0, hash: head?.hash ?? null });
      }
      return { chains };
    },

    /** Every entry of both chains in seq order, a page at a time (never the whole log in memory). */
    async *export(ctx: ActionContext): AsyncGenerator<ExportedEntry> {
      for (const environment of chainsOf(ctx)) {
        let after: { seq: number; id: number } | null = null;
        for (;;) {
          const rows = await deps.audit.page(ctx.projectId, environment, after, EXPORT_PAGE);
          for (const row of rows) yield exported(row);
          if (rows.length < EXPORT_PAGE) break;
          const last: ChainedEntry = rows[rows.length - 1]!;
          after = { seq: last.seq!, id: last.id };
        }
        // Entries with no seq were not written by Gatehouse; an export still shows them.
        for (const row of await deps.audit.unchained(ctx.projectId, environment, 10_000)) yield exported(row);
      }
    },
  };
}

function exported(row: ChainedEntry): ExportedEntry {
  let details: unknown = row.details;
  try {
    details = JSON.parse(row.details);
  } catch {
    // Not JSON (edited in the database): exported as the stored text, and verify names the entry.
  }
  return { ...row, details };
}
