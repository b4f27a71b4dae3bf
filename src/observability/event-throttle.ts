// One mechanism for "a flood must not become a flood of rows": per key, at most `burst` events
// per interval are let through; the rest are counted, and the count rides on the next event let
// through, so the record stays honest about how many there were.

export interface EventThrottle {
  /** null: drop this one. Otherwise record it, noting `suppressed` events dropped since the last one recorded. */
  admit(key: string, nowMs: number, burst: number): { suppressed: number } | null;
}

interface Window {
  startMs: number;
  admitted: number;
  suppressed: number;
}

export function createEventThrottle({ intervalMs, maxKeys }: { intervalMs: number; maxKeys: number }): EventThrottle {
  if (!(intervalMs > 0) || !(maxKeys > 0)) throw new TypeError('createEventThrottle: intervalMs and maxKeys must be positive');
  const windows = new Map<string, Window>();
  return {
    admit(key, nowMs, burst) {
      const current = windows.get(key);
      if (current && nowMs - current.startMs < intervalMs) {
        if (current.admitted < burst) {
          current.admitted++;
          return { suppressed: 0 };
        }
        current.suppressed++;
        return null;
      }
      // A new window: bounded memory, the key least recently opened goes first. An evicted key
      // only costs one extra event, never a lost count of more than one window.
      windows.delete(key);
      if (windows.size >= maxKeys) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(key, { startMs: nowMs, admitted: 1, suppressed: 0 });
      return { suppressed: current?.suppressed ?? 0 };
    },
  };
}
