import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { Mailer } from './mailer.js';

export interface OutboxEntry {
  id: string;
  to: string;
  subject: string;
  body: string;
  kind: string;
  created_at: string;
}

export interface Outbox extends Mailer {
  list(projectId: string, environment: string, options?: { to?: string; limit?: number }): Promise<OutboxEntry[]>;
}

/**
 * Development mailer: messages land in a table the admin API reads (never in the log).
 * They hold live one-time codes in clear, so each is kept only `retentionMs` (minutes):
 * older ones are deleted whenever the outbox of that environment is written or read,
 * and never listed. Production refuses this mailer (config/production.ts).
 */
export function createOutbox({ db, clock, retentionMs }: { db: Kysely<Database>; clock: Clock; retentionMs: number }): Outbox {
  if (!Number.isInteger(retentionMs) || retentionMs <= 0) throw new TypeError('createOutbox: retentionMs must be a positive integer');
  const cutoff = () => new Date(clock.nowMs() - retentionMs).toISOString();
  const purge = (projectId: string, environment: string, before: string) => db.deleteFrom('identity_outbox')
    .where('project_id', '=', projectId).where('environment', '=', environment).where('created_at', '<', before).execute();
  return {
    async send(m) {
      const now = clock.now();
      await db.insertInto('identity_outbox').values({
        id: newId('mail'), project_id: m.projectId, environment: m.environment, to_address: m.to, subject: m.subject, body: m.text, kind: m.kind, created_at: now.toISOString(),
      }).execute();
      await purge(m.projectId, m.environment, cutoff());
    },
    async list(projectId, environment, options = {}) {
      const since = cutoff();
      await purge(projectId, environment, since);
      let q = db.selectFrom('identity_outbox').select(['id', 'to_address', 'subject', 'body', 'kind', 'created_at'])
        .where('project_id', '=', projectId).where('environment', '=', environment).where('created_at', '>=', since)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(options.limit ?? 50, 500));
      if (options.to) q = q.where('to_address', '=', options.to.toLowerCase());
      return (await q.execute()).map((r) => ({ id: r.id, to: r.to_address, subject: r.subject, body: r.body, kind: r.kind, created_at: r.created_at }));
    },
  };
}
