import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';
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

/** Development mailer: messages land in a table the admin API reads (never in the log). */
export function createOutbox({ db, clock }: { db: Kysely<Database>; clock: Clock }): Outbox {
  return {
    async send(m) {
      await db.insertInto('identity_outbox').values({
        id: newId('mail'), project_id: m.projectId, environment: m.environment, to_address: m.to, subject: m.subject, body: m.text, kind: m.kind, created_at: isoNow(clock),
      }).execute();
    },
    async list(projectId, environment, options = {}) {
      let q = db.selectFrom('identity_outbox').select(['id', 'to_address', 'subject', 'body', 'kind', 'created_at'])
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(options.limit ?? 50, 500));
      if (options.to) q = q.where('to_address', '=', options.to.toLowerCase());
      return (await q.execute()).map((r) => ({ id: r.id, to: r.to_address, subject: r.subject, body: r.body, kind: r.kind, created_at: r.created_at }));
    },
  };
}
