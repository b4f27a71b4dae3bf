import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { RowChangeSink } from '../../data/index.js';
import type { Clock } from '../../shared/clock.js';
import type { RealtimeBus } from './types.js';
import { changesTopic, type ChangeMessage } from './message.js';

// The write path's listener: inside the write's transaction it takes the table's next sequence
// number (the row lock orders concurrent writers of one table by commit), and once committed it
// publishes the change on the bus without making the Data API response wait for the bus.

export interface ChangePublisher extends RowChangeSink {
  /** Waits for the publishes in flight (shutdown). */
  flush(): Promise<void>;
}

export interface ChangePublisherOptions {
  bus: RealtimeBus;
  clock: Clock;
  logger: Logger;
  /**
   * Number changes in this process instead of in the database: only for one instance on an engine
   * that runs one write transaction at a time (SQLite), where the order of capture is the order of
   * commit. Saves the upsert per write.
   */
  localSequence?: boolean;
}

export function createChangePublisher({ bus, clock, logger, localSequence = false }: ChangePublisherOptions): ChangePublisher {
  const inFlight = new Set<Promise<void>>();
  const local = new Map<string, number>();
  return {
    async capture(trx, { projectId, environment, table, changes }) {
      let seq: number;
      if (localSequence) {
        seq = (local.get(table.physical) ?? 0) + 1;
        local.set(table.physical, seq);
      } else {
        const row = await trx.insertInto('realtime_sequences')
          .values({ physical: table.physical, seq: 1 })
          .onConflict((oc) => oc.column('physical').doUpdateSet({ seq: sql`realtime_sequences.seq + 1` }))
          .returning('seq')
          .executeTakeFirstOrThrow();
        seq = Number(row.seq);
      }
      return () => {
        const message: ChangeMessage = { table: table.name, seq, commitTimestamp: clock.now().toISOString(), changes };
        const sent = bus.publish(changesTopic(projectId, environment), message)
          .catch((error: unknown) => logger.warn({ err: error, table: table.name }, 'realtime: a committed change could not be published'))
          .finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      };
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
  };
}
