import { describe, expect, it } from 'vitest';
import type { WrappedDataKey } from './data-key-store.js';
import { createMemoryDataKeyStore } from './memory-data-key-store.js';

function row(id: string, scope: string, createdAt: string): WrappedDataKey {
  return { id, scope, masterKeyId: 'mk_0000000000000000', wrapped: `wk1.${id}`, createdAt };
}

describe('memory data key store', () => {
  it('findActive returns the newest key of the scope, ties broken by id', async () => {
    const store = createMemoryDataKeyStore();
    await store.insert(row('dk_a', 'p1/dev', '2025-01-01T00:00:00.000Z'));
    await store.insert(row('dk_c', 'p1/dev', '2025-01-02T00:00:00.000Z'));
    await store.insert(row('dk_b', 'p1/dev', '2025-01-02T00:00:00.000Z'));
    await store.insert(row('dk_z', 'p1/prod', '2026-01-01T00:00:00.000Z'));
    expect((await store.findActive('p1/dev'))?.id).toBe('dk_c');
    expect(await store.findActive('p2/dev')).toBeUndefined();
  });

  it('rejects a duplicate id but allows several keys per scope', async () => {
    const store = createMemoryDataKeyStore([row('dk_a', 'p1/dev', '2025-01-01T00:00:00.000Z')]);
    await expect(store.insert(row('dk_a', 'p1/prod', '2025-01-01T00:00:00.000Z'))).rejects.toThrow();
    await store.insert(row('dk_b', 'p1/dev', '2025-01-01T00:00:00.000Z'));
    expect(await store.listAll()).toHaveLength(2);
  });

  it('updateWrapping changes master key id and wrapping, and throws for an unknown id', async () => {
    const store = createMemoryDataKeyStore([row('dk_a', 'p1/dev', '2025-01-01T00:00:00.000Z')]);
    await store.updateWrapping('dk_a', 'mk_1111111111111111', 'wk1.new');
    expect(await store.findById('dk_a')).toMatchObject({ masterKeyId: 'mk_1111111111111111', wrapped: 'wk1.new' });
    await expect(store.updateWrapping('dk_missing', 'mk_1111111111111111', 'wk1.new')).rejects.toThrow();
  });

  it('returns copies, so callers cannot edit stored rows by reference', async () => {
    const store = createMemoryDataKeyStore([row('dk_a', 'p1/dev', '2025-01-01T00:00:00.000Z')]);
    const found = await store.findById('dk_a');
    found!.scope = 'p1/prod';
    expect((await store.findById('dk_a'))?.scope).toBe('p1/dev');
  });
});
