// Realtime (issue 16). changes/: the row-change feed and its contract with the socket; bus/: how
// instances hear each other (Redis, PostgreSQL LISTEN/NOTIFY, or this process). The socket lives in socket/.
import type { Logger } from 'pino';
import type { TableModel } from '../data/index.js';
import type { ObjectReadAccess } from '../storage/index.js';
import type { Clock } from '../shared/clock.js';
import { openRealtimeBus, type RedisPublisher } from './bus/index.js';
import { createChangeFeed } from './changes/feed.js';
import { createChangePublisher, type ChangePublisher } from './changes/publisher.js';
import type { ChangeFeed, RealtimeBus } from './changes/types.js';

export * from './changes/index.js';
export { createMemoryBus, createPostgresBus, createRedisBus, openRealtimeBus } from './bus/index.js';
export { createChangeFeed, type ChangeFeedOptions } from './changes/feed.js';
export { createChangePublisher, type ChangePublisher } from './changes/publisher.js';

export interface Realtime {
  bus: RealtimeBus;
  /** The Data API's write hook (DataServiceOptions.changes); `.objects`: storage's (StorageServiceDeps.changes). */
  publisher: ChangePublisher;
  /**
   * Built once the Data API and storage exist: it reads the environment's tables through the one,
   * who may select which object through the other.
   */
  startFeed(sources: {
    tables: (projectId: string, environment: string) => Promise<ReadonlyMap<string, TableModel>>;
    objects?: ObjectReadAccess;
  }): ChangeFeed;
  close(): Promise<void>;
}

export interface OpenRealtimeOptions {
  /** With REDIS_URL: the instance's shared fail-fast client (the counter store's), which publishes; the subscriber is its duplicate. */
  redisPublisher: RedisPublisher | undefined;
  /** The database URL when it is PostgreSQL. */
  postgresUrl: string | undefined;
  /** false on SQLite: one write transaction at a time. */
  concurrentWriters: boolean;
  clock: Clock;
  logger: Logger;
}

export function openRealtime({ redisPublisher, postgresUrl, concurrentWriters, clock, logger }: OpenRealtimeOptions): Realtime {
  const { bus, kind } = openRealtimeBus({ redisPublisher, postgresUrl, logger });
  // In process with one writer at a time, capture order is commit order: no database counter needed.
  // With a shared bus (Redis, even on SQLite), other instances' numbers must agree: the database's.
  const publisher = createChangePublisher({ bus, clock, logger, localSequence: kind === 'memory' && !concurrentWriters });
  let feed: ChangeFeed | null = null;
  return {
    bus,
    publisher,
    startFeed({ tables, objects }) {
      feed ??= createChangeFeed({ tables, objects, bus, logger });
      return feed;
    },
    async close() {
      await feed?.close();
      // Changes committed before shutdown still reach the other instances.
      await publisher.flush();
      await bus.close();
    },
  };
}

// The socket (socket/), its channels' rules and settings (channels/), presence (presence/).
export { realtimeRoutes, type RealtimeRoutesOptions } from './socket/routes.js';
export { createHub, type Hub } from './socket/hub.js';
export type { SocketLimits } from './socket/limits.js';
export { createChannelSettings, type ChannelSettings, type ChannelSettingsService } from './channels/settings.js';
export type { ChannelRuleSource } from './channels/rules.js';
