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

export function createChangePublisher({ bus, clock, logger }: { bus: RealtimeBus; clock: Clock; logger: Logger }): ChangePublisher {
  const inFlight = new Set<Promise<void>>();
  return {
    async capture(trx, { projectId, environment, table, changes }) {
      const row = await trx.insertInto('realtime_sequences')
        .values({ physical: table.physical, seq: 1 })
        .onConflict((oc) => oc.column('physical').doUpdateSet({ seq: sql`realtime_sequences.seq + 1` }))
        .returning('seq')
        .executeTakeFirstOrThrow();
      const seq = Number(row.seq);
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
