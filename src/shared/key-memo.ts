// A bounded memo of strings built per request (counter keys, subjects): the same caller sends
// the same ids on every request, so what is derived from them is built once and the Map lookups
// downstream hash a string whose hash V8 has already cached. Hand-written: a Map with a size cap
// is all it needs (shared/ttl-cache.ts adds expiry and a clock, which derived keys never need).

/** Past `maxEntries` the oldest entry goes, so a flood of fresh ids (addresses) cannot grow it. */
export interface KeyMemo<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): V;
  readonly size: number;
}

export function createKeyMemo<V>(maxEntries: number): KeyMemo<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('createKeyMemo: maxEntries must be a positive integer');
  const entries = new Map<string, V>();
  return {
    get: (key) => entries.get(key),
    set(key, value) {
      if (entries.size >= maxEntries && !entries.has(key)) entries.delete(entries.keys().next().value as string);
      entries.set(key, value);
      return value;
    },
    get size() {
      return entries.size;
    },
  };
}
