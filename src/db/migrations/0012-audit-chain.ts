import type { Kysely, Migration } from 'kysely';
import { auditEntryHash, chainKey, GENESIS_HASH } from '../../observability/audit-hash.js';
import type { EngineName } from '../database.js';

// The audit log becomes a hash chain per project environment (and one for the project-wide
// entries, environment NULL): seq numbers each chain's entries 1, 2, 3…, and hash covers an
// entry's fields and the previous entry's hash. audit_chain_heads keeps each chain's last seq and
// hash: its row is the lock writers queue on, and it shows a tail cut off the chain.
//
// Entries already present are chained here, in id order (the order they were written in), rather
// than starting the chain after them: from now on an edit of an old entry shows as well. What this
// cannot prove is that nobody edited them before this migration ran.
export const auditChainMigration = (_engine: EngineName): Migration => ({ up, down });

const BATCH = 500;

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('seq', 'integer').execute();
  await db.schema.alterTable('audit_log').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_log').addColumn('hash', 'text').execute();
  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_chain_heads_pk', ['project_id', 'environment'])
    .execute();

  const chains = await db.selectFrom('audit_log').select(['project_id', 'environment']).distinct().execute() as Array<{ project_id: string; environment: string | null }>;
  for (const chain of chains) await chainExisting(db, chain.project_id, chain.environment);

  // Unique: a second entry with the same seq is a bug or a forgery, never a write to accept.
  // (NULL environments are distinct to a unique index; that chain is guarded by its head row.)
  await db.schema.createIndex('audit_log_chain').unique().on('audit_log').columns(['project_id', 'environment', 'seq']).execute();
}

async function chainExisting(db: Kysely<any>, projectId: string, environment: string | null): Promise<void> {
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let lastId = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .select(['id', 'actor', 'action', 'target', 'details', 'created_at'])
      .where('project_id', '=', projectId)
      .where('environment', environment === null ? 'is' : '=', environment)
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(BATCH)
      .execute() as Array<{ id: number; actor: string; action: string; target: string | null; details: string; created_at: string }>;
    for (const row of rows) {
      seq += 1;
      const hash = auditEntryHash({ project_id: projectId, environment, seq, actor: row.actor, action: row.action, target: row.target, details: row.details, created_at: row.created_at, prev_hash: prevHash });
      await db.updateTable('audit_log').set({ seq, prev_hash: prevHash, hash }).where('id', '=', row.id).execute();
      prevHash = hash;
      lastId = Number(row.id);
    }
    if (rows.length < BATCH) break;
  }
  await db.insertInto('audit_chain_heads').values({ project_id: projectId, environment: chainKey(environment), seq, hash: prevHash }).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_chain').execute();
  await db.schema.dropTable('audit_chain_heads').execute();
  await db.schema.alterTable('audit_log').dropColumn('hash').execute();
  await db.schema.alterTable('audit_log').dropColumn('prev_hash').execute();
  await db.schema.alterTable('audit_log').dropColumn('seq').execute();
}
