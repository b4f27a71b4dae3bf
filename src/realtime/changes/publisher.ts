import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RowChange, RowChangeSink } from '../../data/index.js';
import type { ObjectChangeSink } from '../../storage/index.js';
import type { Clock } from '../../shared/clock.js';
import type { Environment } from '../../tenancy/environments.js';
import type { RealtimeBus } from './types.js';
import { changesTopic, STORAGE_OBJECTS, type ChangeMessage } from './message.js';

// The write paths' listener: inside the write's transaction it takes the table's next sequence
// number (the row lock orders concurrent writers of one table by commit), and once committed it
// publishes the change on the bus without making the response wait for the bus. Data API tables
// and storage objects alike; an environment's storage objects are one table (a move crosses buckets).

export interface ChangePublisher extends RowChangeSink {
  /** The storage write path's hook (StorageServiceDeps.changes). */
  objects: ObjectChangeSink;
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

/** realtime_sequences key of an environment's storage objects: user tables' physical names have no ':'. */
const objectsSequence = (projectId: string, environment: string) => `storage.objects:${projectId}:${environment}`;

export function createChangePublisher({ bus, clock, logger, localSequence = false }: ChangePublisherOptions): ChangePublisher {
  const inFlight = new Set<Promise<void>>();
  const local = new Map<string, number>();

  async function nextSeq(trx: Kysely<any>, key: string): Promise<number> {
    if (localSequence) {
      const seq = (local.get(key) ?? 0) + 1;
      local.set(key, seq);
      return seq;
    }
    const row = await trx.insertInto('realtime_sequences')
      .values({ physical: key, seq: 1 })
      .onConflict((oc) => oc.column('physical').doUpdateSet({ seq: sql`realtime_sequences.seq + 1` }))
      .returning('seq')
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  function publisher(projectId: string, environment: Environment, table: string, seq: number, changes: RowChange[]) {
    return () => {
      const message: ChangeMessage = { table, seq, commitTimestamp: clock.now().toISOString(), changes };
      const sent = bus.publish(changesTopic(projectId, environment), message)
        .catch((error: unknown) => logger.warn({ err: error, table }, 'realtime: a committed change could not be published'))
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    };
  }

  return {
    async capture(trx, { projectId, environment, table, changes }) {
      return publisher(projectId, environment, table.name, await nextSeq(trx, table.physical), changes);
    },
    objects: {
      async capture(trx, { projectId, environment, changes }) {
        const seq = await nextSeq(trx, objectsSequence(projectId, environment));
        // Object records are rows of storage.objects: the bus carries them as any row change.
        return publisher(projectId, environment as Environment, STORAGE_OBJECTS, seq, changes);
      },
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
  };
}
