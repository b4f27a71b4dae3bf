import type { DataKeyStore, WrappedDataKey } from './data-key-store.js';

/**
 * In-process DataKeyStore for tests and the single-node dev mode. Records are
 * copied in and out so callers cannot mutate stored rows by reference, which
 * would hide bugs a real database would expose.
 */
export function createMemoryDataKeyStore(initial: readonly WrappedDataKey[] = []): DataKeyStore {
  const rows = new Map<string, WrappedDataKey>();
  for (const row of initial) insertRow(row);

  function insertRow(key: WrappedDataKey): void {
    if (rows.has(key.id)) throw new Error(`data key ${key.id} already exists`);
    rows.set(key.id, { ...key });
  }

  return {
    async findActive(scope) {
      let newest: WrappedDataKey | undefined;
      for (const row of rows.values()) {
        if (row.scope !== scope) continue;
        if (newest === undefined || compareNewest(row, newest) > 0) newest = row;
      }
      return newest && { ...newest };
    },
    async findById(id) {
      const row = rows.get(id);
      return row && { ...row };
    },
    async insert(key) {
      insertRow(key);
    },
    async listAll() {
      return [...rows.values()].map((row) => ({ ...row }));
    },
    async updateWrapping(id, masterKeyId, wrapped) {
      const row = rows.get(id);
      if (row === undefined) throw new Error(`data key ${id} does not exist`);
      rows.set(id, { ...row, masterKeyId, wrapped });
    },
  };
}

/** Positive when `a` is newer: createdAt, then id, as the store contract says. */
function compareNewest(a: WrappedDataKey, b: WrappedDataKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt ? 1 : -1;
  return a.id === b.id ? 0 : a.id > b.id ? 1 : -1;
}
