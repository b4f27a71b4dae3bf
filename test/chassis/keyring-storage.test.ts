import { describe, expect, it } from 'vitest';
import { createKeyring, createSqlDataKeyStore, generateMasterKey, KeyringError, parseMasterKey } from '../../src/crypto/index.js';
import { engines } from '../harness/engines.js';
import { useMigratedStorage } from '../harness/storage.js';

describe.each(engines())('keyring on %s storage', (engine) => {
  const fresh = useMigratedStorage(engine);

  const A = 'aaaaaaaaaaaaaaaa/dev';
  const B = 'bbbbbbbbbbbbbbbb/dev';

  it('round-trips secrets and keeps only wrapped data keys at rest', async () => {
    const master = parseMasterKey(generateMasterKey());
    const keyring = createKeyring({ masterKey: master, store: createSqlDataKeyStore(fresh.storage.db) });
    const ct = await keyring.encrypt(A, 'sk-live-provider-key', 'provider_key:openai');
    expect(ct).toMatch(/^gh1\./);
    expect(ct).not.toContain('sk-live');
    expect(await keyring.decryptString(A, ct, 'provider_key:openai')).toBe('sk-live-provider-key');
    // A fresh keyring (another instance) reads it from the database.
    const other = createKeyring({ masterKey: master, store: createSqlDataKeyStore(fresh.storage.db) });
    expect(await other.decryptString(A, ct, 'provider_key:openai')).toBe('sk-live-provider-key');
    const rows = await fresh.storage.db.selectFrom('data_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.wrapped).toMatch(/^wk1\./);
  });

  it('rejects a ciphertext moved to another record, scope or tampered with', async () => {
    const keyring = createKeyring({ masterKey: parseMasterKey(generateMasterKey()), store: createSqlDataKeyStore(fresh.storage.db) });
    const ct = await keyring.encrypt(A, 'secret', 'provider_key:openai');
    await keyring.encrypt(B, 'other', 'provider_key:openai');
    await expect(keyring.decrypt(A, ct, 'provider_key:anthropic')).rejects.toBeInstanceOf(KeyringError);
    await expect(keyring.decrypt(B, ct, 'provider_key:openai')).rejects.toBeInstanceOf(KeyringError);
    const parts = ct.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    parts[3] = body.toString('base64url');
    await expect(keyring.decrypt(A, parts.join('.'), 'provider_key:openai')).rejects.toMatchObject({ code: 'decrypt_failed' });
  });

  it('a wrapped data key copied onto another scope\'s row does not unwrap', async () => {
    const master = parseMasterKey(generateMasterKey());
    const keyring = createKeyring({ masterKey: master, store: createSqlDataKeyStore(fresh.storage.db) });
    const ctB = await keyring.encrypt(B, 'b-secret', 'ctx');
    await keyring.encrypt(A, 'a-secret', 'ctx');
    const rowA = await fresh.storage.db.selectFrom('data_keys').selectAll().where('scope', '=', A).executeTakeFirstOrThrow();
    const rowB = await fresh.storage.db.selectFrom('data_keys').selectAll().where('scope', '=', B).executeTakeFirstOrThrow();
    await fresh.storage.db.updateTable('data_keys').set({ wrapped: rowA.wrapped }).where('id', '=', rowB.id).execute();
    const restarted = createKeyring({ masterKey: master, store: createSqlDataKeyStore(fresh.storage.db) });
    await expect(restarted.decrypt(B, ctB, 'ctx')).rejects.toMatchObject({ code: 'decrypt_failed' });
  });

  it('a wrong master key is refused by id, not by garbage output', async () => {
    const keyring = createKeyring({ masterKey: parseMasterKey(generateMasterKey()), store: createSqlDataKeyStore(fresh.storage.db) });
    const ct = await keyring.encrypt(A, 'secret', 'ctx');
    const wrong = createKeyring({ masterKey: parseMasterKey(generateMasterKey()), store: createSqlDataKeyStore(fresh.storage.db) });
    await expect(wrong.decrypt(A, ct, 'ctx')).rejects.toMatchObject({ code: 'master_key_mismatch' });
  });
});
