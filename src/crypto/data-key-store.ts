/**
 * A data key (DEK) as stored: only ever wrapped by a master key.
 * Suggested SQL shape: data_keys(id text primary key, scope text not null,
 * master_key_id text not null, wrapped text not null, created_at text not
 * null) with an index on (scope, created_at desc, id desc).
 */
export interface WrappedDataKey {
  /** 'dk_' + 22 base64url characters; appears in every ciphertext. */
  id: string;
  /** The project environment the key serves, e.g. 'proj123/dev'. */
  scope: string;
  /** masterKeyId() of the master key that wrapped it (an id, not a secret). */
  masterKeyId: string;
  /** 'wk1.' AES-256-GCM wrapping, bound to id and scope. */
  wrapped: string;
  /** ISO 8601 timestamp. */
  createdAt: string;
}

/**
 * Persistence for wrapped data keys. The keyring never sees SQL; the store
 * never sees key bytes.
 *
 * Races: when two instances encrypt the first secret of a scope at the same
 * moment, both create a data key. Stores do NOT enforce one key per scope;
 * instead the keyring inserts, then re-reads findActive() and uses whatever
 * the store calls newest, so instances converge on one key. The losing key
 * stays in the store and every ciphertext names its key id, so anything
 * written under it in the meantime still decrypts.
 */
export interface DataKeyStore {
  /**
   * The scope's newest key: greatest createdAt, ties broken by greatest id.
   * The tie-break must be deterministic so all instances pick the same key.
   */
  findActive(scope: string): Promise<WrappedDataKey | undefined>;
  findById(id: string): Promise<WrappedDataKey | undefined>;
  /** Must reject a duplicate id (primary key); must allow several keys per scope. */
  insert(key: WrappedDataKey): Promise<void>;
  /** Every key of every scope, for master-key rotation. */
  listAll(): Promise<WrappedDataKey[]>;
  /**
   * Replaces masterKeyId and wrapped together (one UPDATE). Must throw if no
   * row has this id: a silent no-op would leave a key under the old master
   * key while rotation reports it done.
   */
  updateWrapping(id: string, masterKeyId: string, wrapped: string): Promise<void>;
}
