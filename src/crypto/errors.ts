/**
 * Why a keyring operation failed. Stable snake_case codes: never rename one.
 * - malformed_ciphertext: not a `gh1.` string we could have produced.
 * - unknown_key: the data key named in the ciphertext is not in the store
 *   (e.g. a database restored without its data_keys table).
 * - decrypt_failed: authentication failed: tampered bytes, another scope or
 *   context, or a wrapped data key that was altered or moved to another row.
 * - master_key_mismatch: the data key is wrapped by a master key that is not
 *   configured (neither the current key nor one of previousMasterKeys).
 */
export type KeyringErrorCode =
  | 'malformed_ciphertext'
  | 'unknown_key'
  | 'decrypt_failed'
  | 'master_key_mismatch';

/**
 * Messages carry only identifiers (data key ids, master key ids, scopes),
 * never key bytes, plaintext or ciphertext: they end up in logs.
 */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
  readonly code: KeyringErrorCode;

  constructor(code: KeyringErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
