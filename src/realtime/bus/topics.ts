import type { Logger } from 'pino';

// The handlers of each topic in this process, shared by every bus: a network bus receives one
// stream and hands each message to the handlers of its topic here.

export type Handler = (message: unknown) => void;

export interface Topics {
  /**
   * Adds a handler. `first`: the topic had none (subscribe upstream); `remove()` returns true when
   * it took the topic's last handler (unsubscribe upstream).
   */
  add(topic: string, handler: Handler): { first: boolean; remove: () => boolean };
  has(topic: string): boolean;
  /** Topics with at least one handler. */
  size(): number;
  dispatch(topic: string, message: unknown): void;
  clear(): void;
}

export function createTopics(logger: Logger): Topics {
  const byTopic = new Map<string, Set<Handler>>();
  return {
    add(topic, handler) {
      let set = byTopic.get(topic);
      const first = !set;
      if (!set) byTopic.set(topic, (set = new Set()));
      // A wrapper per call: the same function subscribed twice is removed once per unsubscribe.
      const own: Handler = (message) => handler(message);
      set.add(own);
      let removed = false;
      const remove = () => {
        if (removed) return false;
        removed = true;
        const current = byTopic.get(topic);
        if (!current) return false;
        current.delete(own);
        if (current.size > 0) return false;
        byTopic.delete(topic);
        return true;
      };
      return { first, remove };
    },
    has: (topic) => byTopic.has(topic),
    size: () => byTopic.size,
    dispatch(topic, message) {
      const set = byTopic.get(topic);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          handler(message);
        } catch (error) {
          // A subscriber's bug must not stop the others, nor the bus's connection.
          logger.error({ err: error, topic }, 'realtime bus subscriber failed');
        }
      }
    },
    clear: () => byTopic.clear(),
  };
}
