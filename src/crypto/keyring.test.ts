import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeAssociatedData } from './aead.js';
import type { DataKeyStore } from './data-key-store.js';
import { KeyringError, type KeyringErrorCode } from './errors.js';
import { createKeyring, type Keyring } from './keyring.js';
import { masterKeyId } from './master-key.js';
import { createMemoryDataKeyStore } from './memory-data-key-store.js';

const frozenNow = () => new Date('2025-01-01T00:00:00.000Z');
const SECRET = 'sk-live-THIS-IS-THE-PLAINTEXT-0123456789';
const CONTEXT = 'provider_key:openai';

function setup(store: DataKeyStore = createMemoryDataKeyStore()) {
  const masterKey = randomBytes(32);
  const keyring = createKeyring({ masterKey, store, now: frozenNow });
  return { masterKey, store, keyring };
}

/** Every spelling of secret bytes that could leak into a message. */
function spellings(secret: string | Buffer): string[] {
  if (typeof secret === 'string') return [secret];
  return [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')];
}

async function expectKeyringError(
  promise: Promise<unknown>,
  code: KeyringErrorCode,
  secrets: (string | Buffer)[] = [],
): Promise<KeyringError> {
  const error = await promise.then(
    () => expect.fail(`expected KeyringError ${code}`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KeyringError);
  const keyringError = error as KeyringError;
  expect(keyringError.code).toBe(code);
  for (const secret of secrets) {
    for (const spelling of spellings(secret)) expect(keyringError.message).not.toContain(spelling);
  }
  return keyringError;
}

/** Flips one bit of byte `index` inside the base64url segment `segment`. */
function flipByte(ciphertext: string, segment: number, index = 0): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[segment]!, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  parts[segment] = bytes.toString('base64url');
  return parts.join('.');
}

async function dataKeyIdOf(keyring: Keyring, scope: string): Promise<string> {
  return (await keyring.encrypt(scope, 'probe', 'probe')).split('.')[1]!;
}

describe('keyring round trip', () => {
  it('decrypts what it encrypted: text, binary, empty and 1 MB values', async () => {
    const { keyring } = setup();
    const binary = randomBytes(256);
    const large = randomBytes(1024 * 1024);

    expect(await keyring.decryptString('p1/dev', await keyring.encrypt('p1/dev', SECRET, CONTEXT), CONTEXT)).toBe(SECRET);
    expect(await keyring.decryptString('p1/dev', await keyring.encrypt('p1/dev', 'héllo 🔑', CONTEXT), CONTEXT)).toBe('héllo 🔑');
    expect(await keyring.decrypt('p1/dev', await keyring.encrypt('p1/dev', binary, CONTEXT), CONTEXT)).toEqual(binary);
    expect(await keyring.decryptString('p1/dev', await keyring.encrypt('p1/dev', '', CONTEXT), CONTEXT)).toBe('');
    // Buffer.equals: toEqual walks 1 MB element by element and takes seconds.
    const decryptedLarge = await keyring.decrypt('p1/dev', await keyring.encrypt('p1/dev', large, CONTEXT), CONTEXT);
    expect(decryptedLarge.equals(large)).toBe(true);
  });

  it('produces gh1.<dekId>.<iv>.<ciphertext>.<tag> with a 12-byte iv and 16-byte tag', async () => {
    const { keyring } = setup();
    const ciphertext = await keyring.encrypt('p1/dev', SECRET, CONTEXT);
    const [version, dekId, iv, body, tag, ...rest] = ciphertext.split('.');
    expect(rest).toEqual([]);
    expect(version).toBe('gh1');
    expect(dekId).toMatch(/^dk_[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(Buffer.byteLength(SECRET));
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(ciphertext).not.toContain(SECRET);
  });

  it('uses a fresh random iv, so the same value never encrypts the same way twice', async () => {
    const { keyring } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await keyring.encrypt('p1/dev', SECRET, CONTEXT));
    expect(seen.size).toBe(20);
  });

  it('creates one data key per scope lazily and reuses it', async () => {
    const { keyring, store } = setup();
    expect(await store.listAll()).toEqual([]);
    const a1 = await dataKeyIdOf(keyring, 'p1/dev');
    const a2 = await dataKeyIdOf(keyring, 'p1/dev');
    const b = await dataKeyIdOf(keyring, 'p1/prod');
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    const rows = await store.listAll();
    expect(rows.map((row) => row.scope).sort()).toEqual(['p1/dev', 'p1/prod']);
    expect(rows.every((row) => row.masterKeyId === keyring.masterKeyId)).toBe(true);
    expect(rows.every((row) => row.createdAt === '2025-01-01T00:00:00.000Z')).toBe(true);
  });

  it('stores data keys only wrapped: no row contains the raw key or the master key', async () => {
    const { keyring, store, masterKey } = setup();
    await keyring.encrypt('p1/dev', SECRET, CONTEXT);
    const serialized = JSON.stringify(await store.listAll());
    for (const spelling of spellings(masterKey)) expect(serialized).not.toContain(spelling);
    expect(serialized).toMatch(/"wrapped":"wk1\.[^"]+"/);
  });

  it('concurrent first encrypts of a scope share one data key', async () => {
    const { keyring, store } = setup();
    const ciphertexts = await Promise.all(Array.from({ length: 10 }, () => keyring.encrypt('p1/dev', SECRET, CONTEXT)));
    expect(new Set(ciphertexts.map((c) => c.split('.')[1])).size).toBe(1);
    expect(await store.listAll()).toHaveLength(1);
  });

  it("two instances racing to create a scope's key converge, and both keys stay readable", async () => {
    const store = createMemoryDataKeyStore();
    const masterKey = randomBytes(32);
    const a = createKeyring({ masterKey, store, now: frozenNow });
    const b = createKeyring({ masterKey, store, now: frozenNow });
    // Both see no key, both insert, then both re-read the store's newest.
    const [fromA, fromB] = await Promise.all([a.encrypt('p1/dev', 'from a', CONTEXT), b.encrypt('p1/dev', 'from b', CONTEXT)]);
    expect(await store.listAll()).toHaveLength(2);
    expect(fromA.split('.')[1]).toBe(fromB.split('.')[1]);
    expect(await b.decryptString('p1/dev', fromA, CONTEXT)).toBe('from a');
    expect(await a.decryptString('p1/dev', fromB, CONTEXT)).toBe('from b');
  });

  it('rejects empty scope or context and non-text plaintext as misuse (TypeError)', async () => {
    const { keyring } = setup();
    await expect(keyring.encrypt('', SECRET, CONTEXT)).rejects.toThrow(TypeError);
    await expect(keyring.encrypt('p1/dev', SECRET, '')).rejects.toThrow(TypeError);
    await expect(keyring.encrypt('p1/dev', 42 as unknown as string, CONTEXT)).rejects.toThrow(TypeError);
    await expect(keyring.decrypt('p1/dev', 'gh1.x.y.z.w', '')).rejects.toThrow(TypeError);
  });

  it('decryptString refuses binary values instead of mangling them', async () => {
    const { keyring } = setup();
    const ciphertext = await keyring.encrypt('p1/dev', Buffer.from([0xff, 0xfe, 0x00]), CONTEXT);
    await expect(keyring.decryptString('p1/dev', ciphertext, CONTEXT)).rejects.toThrow(/not UTF-8/);
  });

  it('rejects invalid master keys at construction', () => {
    const store = createMemoryDataKeyStore();
    expect(() => createKeyring({ masterKey: randomBytes(16), store })).toThrow(TypeError);
    expect(() => createKeyring({ masterKey: randomBytes(32), previousMasterKeys: [randomBytes(31)], store })).toThrow(
      /previousMasterKeys\[0\]/,
    );
  });
});

describe('keyring tamper rejection', () => {
  async function sealed() {
    const context = setup();
    const ciphertext = await context.keyring.encrypt('p1/dev', SECRET, CONTEXT);
    return { ...context, ciphertext };
  }

  it('a flipped byte in the iv, body or tag fails with decrypt_failed', async () => {
    const { keyring, ciphertext, masterKey } = await sealed();
    for (const segment of [2, 3, 4]) {
      await expectKeyringError(keyring.decrypt('p1/dev', flipByte(ciphertext, segment), CONTEXT), 'decrypt_failed', [SECRET, masterKey]);
    }
    const bodyLength = Buffer.byteLength(SECRET);
    await expectKeyringError(keyring.decrypt('p1/dev', flipByte(ciphertext, 3, bodyLength - 1), CONTEXT), 'decrypt_failed');
    await expectKeyringError(keyring.decrypt('p1/dev', flipByte(ciphertext, 4, 15), CONTEXT), 'decrypt_failed');
  });

  it('a ciphertext decrypted with another context fails', async () => {
    const { keyring, ciphertext } = await sealed();
    const error = await expectKeyringError(keyring.decrypt('p1/dev', ciphertext, 'provider_key:anthropic'), 'decrypt_failed', [SECRET]);
    expect(error.message).not.toContain('anthropic');
  });

  it('context and scope are length-prefixed, so shifting characters between them fails', async () => {
    expect(encodeAssociatedData(['a', 'bc'])).not.toEqual(encodeAssociatedData(['ab', 'c']));
    const { keyring } = setup();
    const ciphertext = await keyring.encrypt('p1/dev', SECRET, 'signing_key:abc');
    await expectKeyringError(keyring.decrypt('p1/dev', ciphertext, 'signing_key:ab'), 'decrypt_failed');
    await expectKeyringError(keyring.decrypt('p1/dev', ciphertext, 'signing_key:abc '), 'decrypt_failed');
  });

  it('a ciphertext of scope A decrypted under scope B fails', async () => {
    const { keyring, ciphertext } = await sealed();
    await keyring.encrypt('p1/prod', 'other', CONTEXT);
    await expectKeyringError(keyring.decrypt('p1/prod', ciphertext, CONTEXT), 'decrypt_failed', [SECRET]);
  });

  it('a header naming another existing data key fails; an unknown one is unknown_key', async () => {
    const { keyring, ciphertext } = await sealed();
    const otherId = await dataKeyIdOf(keyring, 'p1/prod');
    const parts = ciphertext.split('.');
    await expectKeyringError(keyring.decrypt('p1/dev', [parts[0], otherId, ...parts.slice(2)].join('.'), CONTEXT), 'decrypt_failed');
    await expectKeyringError(keyring.decrypt('p1/prod', [parts[0], otherId, ...parts.slice(2)].join('.'), CONTEXT), 'decrypt_failed');
    await expectKeyringError(keyring.decrypt('p1/dev', [parts[0], 'dk_doesnotexist', ...parts.slice(2)].join('.'), CONTEXT), 'unknown_key');
  });

  it('truncated, padded, re-versioned or non-canonical strings are malformed_ciphertext', async () => {
    const { keyring, ciphertext } = await sealed();
    const parts = ciphertext.split('.');
    const malformed = [
      ciphertext.slice(0, -1), // tag one character short
      ciphertext.slice(0, ciphertext.lastIndexOf('.')), // tag missing
      ciphertext.slice(0, 10),
      `${ciphertext}.`,
      `gh2${ciphertext.slice(3)}`,
      '',
      SECRET, // a legacy plaintext value: must not be echoed
      [parts[0], parts[1], Buffer.alloc(13).toString('base64url'), parts[3], parts[4]].join('.'), // 13-byte iv
      [parts[0], parts[1], `${parts[2]}A`, parts[3], parts[4]].join('.'), // non-canonical base64url
      [parts[0], parts[1], parts[2], `${parts[3]}*`, parts[4]].join('.'), // invalid character
      [parts[0], 'dk.bad', parts[2], parts[3], parts[4]].join('.'),
    ];
    for (const value of malformed) {
      await expectKeyringError(keyring.decrypt('p1/dev', value, CONTEXT), 'malformed_ciphertext', [SECRET]);
    }
  });

  it('a keyring with another master key gets master_key_mismatch naming the expected key id', async () => {
    const { ciphertext, store, masterKey } = await sealed();
    const otherKey = randomBytes(32);
    const other = createKeyring({ masterKey: otherKey, store, now: frozenNow });
    const error = await expectKeyringError(other.decrypt('p1/dev', ciphertext, CONTEXT), 'master_key_mismatch', [SECRET, masterKey, otherKey]);
    expect(error.message).toContain(masterKeyId(masterKey));
    // encrypt under a scope whose key it cannot unwrap fails the same way
    await expectKeyringError(other.encrypt('p1/dev', SECRET, CONTEXT), 'master_key_mismatch', [SECRET]);
  });

  it('a row relabelled with the current master key id but wrapped by another key fails to unwrap', async () => {
    const { ciphertext, store } = await sealed();
    const otherKey = randomBytes(32);
    const [row] = await store.listAll();
    await store.updateWrapping(row!.id, masterKeyId(otherKey), row!.wrapped);
    const other = createKeyring({ masterKey: otherKey, store, now: frozenNow });
    await expectKeyringError(other.decrypt('p1/dev', ciphertext, CONTEXT), 'decrypt_failed', [SECRET, otherKey]);
  });

  it("a wrapped data key moved onto another scope's row fails to unwrap", async () => {
    const { ciphertext, store, masterKey } = await sealed();
    const [row] = await store.listAll();
    // The same wrapped value, now claiming scope p1/prod (same id, and a new id).
    const movedSameId = createMemoryDataKeyStore([{ ...row!, scope: 'p1/prod' }]);
    const keyringSameId = createKeyring({ masterKey, store: movedSameId, now: frozenNow });
    await expectKeyringError(keyringSameId.decrypt('p1/prod', ciphertext, CONTEXT), 'decrypt_failed', [masterKey]);
    await expectKeyringError(keyringSameId.encrypt('p1/prod', SECRET, CONTEXT), 'decrypt_failed', [SECRET, masterKey]);

    const movedNewId = createMemoryDataKeyStore([{ ...row!, id: 'dk_AAAAAAAAAAAAAAAAAAAAAA', scope: 'p1/prod' }]);
    const keyringNewId = createKeyring({ masterKey, store: movedNewId, now: frozenNow });
    const forged = ['gh1', 'dk_AAAAAAAAAAAAAAAAAAAAAA', ...ciphertext.split('.').slice(2)].join('.');
    await expectKeyringError(keyringNewId.decrypt('p1/prod', forged, CONTEXT), 'decrypt_failed', [SECRET]);
  });

  it('a failed key load is not cached: the next call retries the store', async () => {
    const inner = createMemoryDataKeyStore();
    let failNext = true;
    const flaky: DataKeyStore = {
      ...inner,
      async findActive(scope) {
        if (failNext) {
          failNext = false;
          throw new Error('connection reset');
        }
        return inner.findActive(scope);
      },
    };
    const { keyring } = setup(flaky);
    await expect(keyring.encrypt('p1/dev', SECRET, CONTEXT)).rejects.toThrow('connection reset');
    expect(await keyring.decryptString('p1/dev', await keyring.encrypt('p1/dev', SECRET, CONTEXT), CONTEXT)).toBe(SECRET);
  });
});
