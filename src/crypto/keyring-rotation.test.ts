import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DataKeyStore } from './data-key-store.js';
import { KeyringError } from './errors.js';
import { createKeyring } from './keyring.js';
import { masterKeyId } from './master-key.js';
import { createMemoryDataKeyStore } from './memory-data-key-store.js';

const now = () => new Date('2025-01-01T00:00:00.000Z');
const CONTEXT = 'signing_key:kid1';

async function rejection(promise: Promise<unknown>): Promise<KeyringError> {
  const error = await promise.then(
    () => expect.fail('expected a KeyringError'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KeyringError);
  return error as KeyringError;
}

async function seeded() {
  const store = createMemoryDataKeyStore();
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const keyring = createKeyring({ masterKey: oldKey, store, now });
  const dev = await keyring.encrypt('p1/dev', 'dev secret', CONTEXT);
  const prod = await keyring.encrypt('p1/prod', 'prod secret', CONTEXT);
  return { store, oldKey, newKey, keyring, dev, prod };
}

describe('master key rotation', () => {
  it('re-wraps every data key, keeps existing ciphertexts readable and switches the current key', async () => {
    const { store, newKey, keyring, dev, prod } = await seeded();
    const before = await store.listAll();

    expect(await keyring.rotateMasterKey(newKey)).toEqual({ rewrapped: 2 });
    expect(keyring.masterKeyId).toBe(masterKeyId(newKey));

    const after = await store.listAll();
    expect(after.every((row) => row.masterKeyId === masterKeyId(newKey))).toBe(true);
    // Same data keys (ids, scopes), new wrappings.
    expect(after.map((row) => row.id).sort()).toEqual(before.map((row) => row.id).sort());
    for (const row of after) expect(row.wrapped).not.toBe(before.find((b) => b.id === row.id)!.wrapped);

    expect(await keyring.decryptString('p1/dev', dev, CONTEXT)).toBe('dev secret');
    const fresh = createKeyring({ masterKey: newKey, store, now });
    expect(await fresh.decryptString('p1/dev', dev, CONTEXT)).toBe('dev secret');
    expect(await fresh.decryptString('p1/prod', prod, CONTEXT)).toBe('prod secret');
  });

  it('after rotation the old master key alone no longer unwraps (master_key_mismatch)', async () => {
    const { store, oldKey, newKey, keyring, dev } = await seeded();
    await keyring.rotateMasterKey(newKey);
    const stale = createKeyring({ masterKey: oldKey, store, now });
    const error = await rejection(stale.decrypt('p1/dev', dev, CONTEXT));
    expect(error.code).toBe('master_key_mismatch');
    expect(error.message).toContain(masterKeyId(newKey));
    expect(error.message).not.toContain(newKey.toString('base64url'));
  });

  it('new key + previousMasterKeys=[old] reads data keys in both states', async () => {
    const { store, oldKey, newKey, dev } = await seeded();
    // Rolling step 1: an instance already on the new key, nothing rotated yet.
    const rolling = createKeyring({ masterKey: newKey, previousMasterKeys: [oldKey], store, now });
    expect(await rolling.decryptString('p1/dev', dev, CONTEXT)).toBe('dev secret');
    // A scope created now is wrapped by the new key...
    const staging = await rolling.encrypt('p1/staging', 'staging secret', CONTEXT);
    const rows = await store.listAll();
    expect(rows.find((row) => row.scope === 'p1/staging')!.masterKeyId).toBe(masterKeyId(newKey));
    expect(rows.filter((row) => row.masterKeyId === masterKeyId(oldKey))).toHaveLength(2);

    // ...and rotating to the key it already uses re-wraps only the stragglers.
    expect(await rolling.rotateMasterKey(newKey)).toEqual({ rewrapped: 2 });
    expect(await rolling.rotateMasterKey(newKey)).toEqual({ rewrapped: 0 });

    const mixedReader = createKeyring({ masterKey: newKey, previousMasterKeys: [oldKey], store, now });
    expect(await mixedReader.decryptString('p1/dev', dev, CONTEXT)).toBe('dev secret');
    expect(await mixedReader.decryptString('p1/staging', staging, CONTEXT)).toBe('staging secret');
  });

  it('the rotating keyring keeps accepting the old key for keys written by instances not yet rotated', async () => {
    const { store, oldKey, newKey, keyring } = await seeded();
    await keyring.rotateMasterKey(newKey);
    const lagging = createKeyring({ masterKey: oldKey, store, now });
    const late = await lagging.encrypt('p2/dev', 'late secret', CONTEXT);
    expect(await keyring.decryptString('p2/dev', late, CONTEXT)).toBe('late secret');
  });

  it('aborts before writing anything when one data key cannot be unwrapped', async () => {
    const { store, newKey, keyring } = await seeded();
    const foreignKey = randomBytes(32);
    await createKeyring({ masterKey: foreignKey, store, now }).encrypt('p9/dev', 'foreign', CONTEXT);
    const before = await store.listAll();

    const error = await rejection(keyring.rotateMasterKey(newKey));
    expect(error.code).toBe('master_key_mismatch');
    expect(error.message).toContain(masterKeyId(foreignKey));
    expect(await store.listAll()).toEqual(before);
    expect(keyring.masterKeyId).not.toBe(masterKeyId(newKey));
  });

  it('a rotation that fails part-way can be rerun and finishes the rest', async () => {
    const { store, oldKey, newKey, dev, prod } = await seeded();
    let writes = 0;
    const failing: DataKeyStore = {
      ...store,
      async updateWrapping(id, keyId, wrapped) {
        if (++writes === 2) throw new Error('connection reset');
        return store.updateWrapping(id, keyId, wrapped);
      },
    };
    const keyring = createKeyring({ masterKey: oldKey, store: failing, now });
    await expect(keyring.rotateMasterKey(newKey)).rejects.toThrow('connection reset');
    expect(keyring.masterKeyId).toBe(masterKeyId(oldKey));

    expect(await keyring.rotateMasterKey(newKey)).toEqual({ rewrapped: 1 });
    const fresh = createKeyring({ masterKey: newKey, store, now });
    expect(await fresh.decryptString('p1/dev', dev, CONTEXT)).toBe('dev secret');
    expect(await fresh.decryptString('p1/prod', prod, CONTEXT)).toBe('prod secret');
  });

  it('rejects a new key that is not 32 bytes', async () => {
    const { keyring } = await seeded();
    await expect(keyring.rotateMasterKey(randomBytes(16))).rejects.toThrow(TypeError);
  });
});
