import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { auditEntryHash, chainKey, GENESIS_HASH } from './audit-hash.js';

export interface AuditEntry {
  projectId: string;
  environment?: string | null;
  /** `key:<id>`, `user:<id>` or `cli`. */
  actor: string;
  action: string;
  target?: string | null;
  /** Never a secret. */
  details?: Record<string, unknown>;
}

/** An entry as stored, with its place in the chain: what export writes and verify checks. */
export interface ChainedEntry {
  id: number;
  project_id: string;
  environment: string | null;
  seq: number | null;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  created_at: string;
  prev_hash: string | null;
  hash: string | null;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface AuditLog {
  write(entry: AuditEntry): Promise<void>;
  list(projectId: string, environment: string, options?: { limit?: number; beforeId?: number }): Promise<
    Array<{ id: number; seq: number | null; actor: string; action: string; target: string | null; details: unknown; created_at: string }>
  >;
  /** The chain's head as recorded at the last write; null before the first entry. */
  head(projectId: string, environment: string | null): Promise<ChainHead | null>;
  /** One chain's entries after `after` in (seq, id) order (rows with no seq are not in it: see unchained). */
  page(projectId: string, environment: string | null, after: { seq: number; id: number } | null, limit: number): Promise<ChainedEntry[]>;
  /** Entries of the chain with no seq: only a writer bypassing Gatehouse makes them. */
  unchained(projectId: string, environment: string | null, limit: number): Promise<ChainedEntry[]>;
  /** The seq of the chain's entry with this hash, if any: says where a broken link points. */
  seqOfHash(projectId: string, environment: string | null, hash: string): Promise<number | null>;
}

/**
 * Who changed what: written in the same request as the change, unlike security events. Each
 * project environment's entries form a hash chain (and entries of the project as a whole, with no
 * environment, one more), so an entry changed, removed or reordered in the database shows (see
 * audit-verify.ts). Entries are written one by one, never buffered: the chain is extended inside
 * the transaction that stores the entry.
 */
export function createAuditLog({ db, clock }: { db: Kysely<Database>; clock: Clock }): AuditLog {
  const inChain = (projectId: string, environment: string | null) => db
    .selectFrom('audit_log')
    .where('project_id', '=', projectId)
    .where('environment', environment === null ? 'is' : '=', environment);
  return {
    async write(entry) {
      const environment = entry.environment ?? null;
      const details = JSON.stringify(entry.details ?? {});
      const createdAt = isoNow(clock);
      await db.transaction().execute(async (trx) => {
        // One statement takes the next seq and the previous hash, and locks the chain's head row
        // until commit: instances appending to the same chain on one PostgreSQL queue here, so
        // seqs have no gaps or twins. On SQLite it is the transaction's first statement and a
        // write, so it takes the write lock before anything is read (no stale read to upgrade).
        const head = await trx
          .insertInto('audit_chain_heads')
          .values({ project_id: entry.projectId, environment: chainKey(environment), seq: 1, hash: GENESIS_HASH })
          .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet((eb) => ({ seq: eb(eb.ref('audit_chain_heads.seq'), '+', 1) })))
          .returning(['seq', 'hash'])
          .executeTakeFirstOrThrow();
        const fields = {
          project_id: entry.projectId,
          environment,
          seq: Number(head.seq),
          actor: entry.actor,
          action: entry.action,
          target: entry.target ?? null,
          details,
          created_at: createdAt,
          prev_hash: head.hash,
        };
        const hash = auditEntryHash(fields);
        await trx.insertInto('audit_log').values({ ...fields, hash }).execute();
        await trx
          .updateTable('audit_chain_heads')
          .set({ hash })
          .where('project_id', '=', entry.projectId)
          .where('environment', '=', chainKey(environment))
          .execute();
      });
    },
    async list(projectId, environment, options = {}) {
      let query = db
        .selectFrom('audit_log')
        .select(['id', 'seq', 'actor', 'action', 'target', 'details', 'created_at'])
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('environment', '=', environment), eb('environment', 'is', null)]))
        .orderBy('id', 'desc')
        .limit(Math.min(options.limit ?? 100, 1000));
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      const rows = await query.execute();
      return rows.map((r) => ({ ...r, id: Number(r.id), seq: r.seq === null ? null : Number(r.seq), details: JSON.parse(r.details) as unknown }));
    },
    async head(projectId, environment) {
      const row = await db
        .selectFrom('audit_chain_heads')
        .select(['seq', 'hash'])
        .where('project_id', '=', projectId)
        .where('environment', '=', chainKey(environment))
        .executeTakeFirst();
      return row ? { seq: Number(row.seq), hash: row.hash } : null;
    },
    async page(projectId, environment, after, limit) {
      let query = inChain(projectId, environment).selectAll().where('seq', 'is not', null);
      // Keyset on (seq, id), not seq alone: two rows given the same seq must both be seen.
      if (after) query = query.where((eb) => eb.or([eb('seq', '>', after.seq), eb.and([eb('seq', '=', after.seq), eb('id', '>', after.id)])]));
      const rows = await query.orderBy('seq').orderBy('id').limit(limit).execute();
      return rows.map(normalise);
    },
    async unchained(projectId, environment, limit) {
      const rows = await inChain(projectId, environment).selectAll().where('seq', 'is', null).orderBy('id').limit(limit).execute();
      return rows.map(normalise);
    },
    async seqOfHash(projectId, environment, hash) {
      const row = await inChain(projectId, environment).select('seq').where('hash', '=', hash).orderBy('seq').executeTakeFirst();
      return row?.seq == null ? null : Number(row.seq);
    },
  };
}

/** PostgreSQL returns integers from some drivers as strings; entries leave here as numbers. */
function normalise(row: ChainedEntry): ChainedEntry {
  return { ...row, id: Number(row.id), seq: row.seq === null ? null : Number(row.seq) };
}
