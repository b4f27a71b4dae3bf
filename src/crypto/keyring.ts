import { encodeAssociatedData, open, seal } from './aead.js';
import { newDataKey, newDataKeyId, unwrapDataKey, wrapDataKey } from './data-key.js';
import type { DataKeyStore, WrappedDataKey } from './data-key-store.js';
import { KeyringError } from './errors.js';
import { assertMasterKey, masterKeyId } from './master-key.js';
import { CIPHERTEXT_VERSION, formatCiphertext, parseCiphertext } from './sealed-format.js';
import { systemClock } from '../shared/clock.js';

export interface KeyringOptions {
  /** Wraps new data keys; from parseMasterKey() or loadOrCreateDevMasterKey(). */
  masterKey: Buffer;
  /** Still accepted for unwrapping during a rolling master-key rotation. */
  previousMasterKeys?: readonly Buffer[];
  store: DataKeyStore;
  /** Clock for createdAt; frozen in tests. */
  now?: () => Date;
}

export interface Keyring {
  /** Id of the master key that wraps new data keys (changes after rotation). */
  readonly masterKeyId: string;
  /**
   * Encrypts under the scope's data key, creating it on first use. `context`
   * names what the value is for ('provider_key:openai', 'signing_key:<kid>'):
   * decrypting requires the same scope and context, so a ciphertext copied
   * to another record, scope or purpose fails.
   */
  encrypt(scope: string, plaintext: string | Uint8Array, context: string): Promise<string>;
  decrypt(scope: string, ciphertext: string, context: string): Promise<Buffer>;
  decryptString(scope: string, ciphertext: string, context: string): Promise<string>;
  /**
   * Re-wraps every data key not yet under `newKey`, then makes `newKey` the
   * current key. Data keys (and so all ciphertexts) are unchanged. The old
   * key stays accepted by this keyring for unwrapping.
   *
   * Idempotent, so the rolling procedure for several instances is:
   * 1. restart every instance with masterKey=NEW, previousMasterKeys=[OLD]
   *    (all read both; new data keys get NEW);
   * 2. call rotateMasterKey(NEW) once (rerun it if it failed part-way);
   * 3. drop OLD from previousMasterKeys.
   * Rotating before step 1 works for a single instance, but instances that
   * only know OLD then hit master_key_mismatch on keys they have not cached.
   */
  rotateMasterKey(newKey: Buffer): Promise<{ rewrapped: number }>;
}

interface DataKey {
  id: string;
  scope: string;
  key: Buffer;
}

interface MasterKey {
  id: string;
  key: Buffer;
}

export function createKeyring(options: KeyringOptions): Keyring {
  const { store, now = systemClock.now } = options;
  assertMasterKey(options.masterKey);
  const previous = options.previousMasterKeys ?? [];
  if (!Array.isArray(previous)) throw new TypeError('previousMasterKeys must be an array of 32-byte Buffers');
  previous.forEach((key, index) => assertMasterKey(key, `previousMasterKeys[${index}]`));

  let current = toMasterKey(options.masterKey);
  // Every key this keyring can unwrap with, by id. Copies: a caller that
  // zeroes or reuses its Buffer must not change the keyring's keys.
  const masterKeys = new Map<string, Buffer>([current, ...previous.map(toMasterKey)].map((m) => [m.id, m.key]));

  // Unwrapped data keys, cached as promises so concurrent first uses share
  // one store read. A failed load is evicted so the next call retries.
  const keysById = new Map<string, Promise<DataKey>>();
  const activeByScope = new Map<string, Promise<DataKey>>();

  function unwrap(record: WrappedDataKey, id: string, scope: string): DataKey {
    const master = masterKeys.get(record.masterKeyId);
    if (master === undefined) {
      throw new KeyringError(
        'master_key_mismatch',
        `data key ${id} is wrapped by master key ${record.masterKeyId}, which is not configured ` +
          `(configured: ${[...masterKeys.keys()].join(', ')})`,
      );
    }
    const key = unwrapDataKey(master, id, scope, record.wrapped);
    if (key === undefined) {
      throw new KeyringError(
        'decrypt_failed',
        `data key ${id} of scope ${scope} failed to unwrap: its stored row was altered or moved`,
      );
    }
    return { id, scope, key };
  }

  async function loadById(id: string): Promise<DataKey> {
    const record = await store.findById(id);
    if (record === undefined || record.id !== id) {
      throw new KeyringError('unknown_key', `data key ${id} is not in the store`);
    }
    return unwrap(record, id, record.scope);
  }

  async function loadActive(scope: string): Promise<DataKey> {
    let record = await store.findActive(scope);
    if (record === undefined) {
      const id = newDataKeyId();
      await store.insert({
        id,
        scope,
        masterKeyId: current.id,
        wrapped: wrapDataKey(current.key, id, scope, newDataKey()),
        createdAt: now().toISOString(),
      });
      // Re-read rather than use our key: if another instance created one at
      // the same time, all instances settle on the store's newest (see
      // DataKeyStore). The key bytes we just generated are not needed.
      record = await store.findActive(scope);
      if (record === undefined) throw new Error(`DataKeyStore.findActive(${scope}) found nothing right after insert`);
    }
    // Unwrapped against the scope we asked for, so a row of another scope
    // (a moved row or a store bug) fails authentication.
    const dataKey = unwrap(record, record.id, scope);
    cacheOnce(keysById, dataKey.id, async () => dataKey);
    return dataKey;
  }

  function activeKey(scope: string): Promise<DataKey> {
    return cacheOnce(activeByScope, scope, () => loadActive(scope));
  }

  function keyById(id: string): Promise<DataKey> {
    return cacheOnce(keysById, id, () => loadById(id));
  }

  async function decrypt(scope: string, ciphertext: string, context: string): Promise<Buffer> {
    assertLabel(scope, 'scope');
    assertLabel(context, 'context');
    const parsed = parseCiphertext(ciphertext);
    if (typeof parsed === 'string') throw new KeyringError('malformed_ciphertext', parsed);
    const dataKey = await keyById(parsed.dekId);
    if (dataKey.scope !== scope) {
      throw new KeyringError('decrypt_failed', `ciphertext under data key ${dataKey.id} was not made for scope ${scope}`);
    }
    const plaintext = open(dataKey.key, parsed, ciphertextAssociatedData(dataKey.id, scope, context));
    if (plaintext === undefined) {
      // The context value is left out: callers may build it from record ids.
      throw new KeyringError(
        'decrypt_failed',
        `ciphertext under data key ${dataKey.id} failed authentication in scope ${scope}: altered, or sealed for another context`,
      );
    }
    return plaintext;
  }

  return {
    get masterKeyId() {
      return current.id;
    },

    async encrypt(scope, plaintext, context) {
      assertLabel(scope, 'scope');
      assertLabel(context, 'context');
      const bytes = toBytes(plaintext);
      const dataKey = await activeKey(scope);
      const sealed = seal(dataKey.key, bytes, ciphertextAssociatedData(dataKey.id, scope, context));
      return formatCiphertext(dataKey.id, sealed);
    },

    decrypt,

    async decryptString(scope, ciphertext, context) {
      const plaintext = await decrypt(scope, ciphertext, context);
      try {
        // fatal: a binary value read as text must fail, not turn into U+FFFD.
        return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
      } catch {
        throw new TypeError('decrypted value is not UTF-8 text; use decrypt() for binary values');
      }
    },

    async rotateMasterKey(newKey) {
      assertMasterKey(newKey, 'new master key');
      const next = toMasterKey(newKey);
      const records = await store.listAll();
      // Unwrap everything before writing anything: a key we cannot unwrap
      // aborts the rotation with no row changed.
      const pending = records
        .filter((record) => record.masterKeyId !== next.id)
        .map((record) => unwrap(record, record.id, record.scope));
      for (const dataKey of pending) {
        await store.updateWrapping(dataKey.id, next.id, wrapDataKey(next.key, dataKey.id, dataKey.scope, dataKey.key));
      }
      masterKeys.set(next.id, next.key);
      current = next;
      return { rewrapped: pending.length };
    },
  };
}

/**
 * Binds a ciphertext to its format version, data key, scope and the caller's
 * context, length-prefixed (see encodeAssociatedData) so fields cannot shift.
 */
function ciphertextAssociatedData(dekId: string, scope: string, context: string): Buffer {
  return encodeAssociatedData(['gatehouse-secret', CIPHERTEXT_VERSION, dekId, scope, context]);
}

function cacheOnce<K>(cache: Map<K, Promise<DataKey>>, key: K, load: () => Promise<DataKey>): Promise<DataKey> {
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const loading = load();
  cache.set(key, loading);
  loading.catch(() => {
    if (cache.get(key) === loading) cache.delete(key);
  });
  return loading;
}

function toMasterKey(key: Buffer): MasterKey {
  const copy = Buffer.from(key);
  return { id: masterKeyId(copy), key: copy };
}

function toBytes(plaintext: string | Uint8Array): Uint8Array {
  if (typeof plaintext === 'string') return Buffer.from(plaintext, 'utf8');
  if (plaintext instanceof Uint8Array) return plaintext;
  throw new TypeError('plaintext must be a string or a Buffer');
}

function assertLabel(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
}
