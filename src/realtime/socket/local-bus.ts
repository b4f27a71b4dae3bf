import type { RealtimeBus } from '../changes/index.js';

/**
 * One instance's bus: messages go to this process's subscribers only. What the socket uses when
 * no shared bus was given (tests, a single instance without Redis).
 */
export function createLocalBus(): RealtimeBus {
  const topics = new Map<string, Set<(message: unknown) => void>>();
  return {
    async publish(topic, message) {
      // Copied like a real bus would: a subscriber never shares the publisher's object.
      const copy = structuredClone(message);
      for (const fn of topics.get(topic) ?? []) queueMicrotask(() => fn(copy));
    },
    async subscribe(topic, onMessage) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
      };
    },
    async close() {
      topics.clear();
    },
  };
}
