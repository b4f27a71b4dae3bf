import type { Logger } from 'pino';
import type { RealtimeBus } from '../changes/types.js';
import { createTopics } from './topics.js';

/** One instance only (no REDIS_URL, SQLite): messages go to this process's subscribers, in publish order. */
export function createMemoryBus({ logger }: { logger: Logger }): RealtimeBus {
  const topics = createTopics(logger);
  return {
    async publish(topic, message) {
      // Later, not now: a publisher never runs subscribers' code inside its own call (as over the network).
      queueMicrotask(() => topics.dispatch(topic, message));
    },
    async subscribe(topic, onMessage) {
      const { remove } = topics.add(topic, onMessage);
      return async () => {
        remove();
      };
    },
    async close() {
      topics.clear();
    },
  };
}
