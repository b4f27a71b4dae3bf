import { decodeBase64url, IV_BYTES, TAG_BYTES, type Sealed } from './aead.js';

/**
 * Text forms of sealed values, '.' separated because base64url never uses it:
 *   secret:       gh1.<dekId>.<iv>.<ciphertext>.<tag>
 *   wrapped DEK:  wk1.<iv>.<ciphertext>.<tag>
 * The version prefix lets a later format coexist with stored gh1 values.
 */
export const CIPHERTEXT_VERSION = 'gh1';
export const WRAPPED_KEY_VERSION = 'wk1';

// Ids are ours (see newDataKeyId) but stored rows may outlive today's format;
// accept any id that cannot contain the separator.
const DATA_KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface ParsedCiphertext extends Sealed {
  dekId: string;
}

export function formatCiphertext(dekId: string, sealed: Sealed): string {
  return [CIPHERTEXT_VERSION, dekId, ...encodeSealed(sealed)].join('.');
}

/**
 * Returns a reason string instead of throwing so the caller picks the error
 * type. Reasons never quote the input: a column that should hold a ciphertext
 * may instead hold a legacy plaintext secret.
 */
export function parseCiphertext(text: string): ParsedCiphertext | string {
  if (typeof text !== 'string') return 'ciphertext is not a string';
  const parts = text.split('.');
  if (parts[0] !== CIPHERTEXT_VERSION) return `ciphertext does not start with "${CIPHERTEXT_VERSION}."`;
  if (parts.length !== 5) return `ciphertext has ${parts.length} parts, expected 5`;
  const [, dekId = '', ...rest] = parts;
  if (!DATA_KEY_ID.test(dekId)) return 'ciphertext has an invalid data key id';
  const sealed = decodeSealed(rest);
  return typeof sealed === 'string' ? `ciphertext ${sealed}` : { dekId, ...sealed };
}

export function formatWrappedKey(sealed: Sealed): string {
  return [WRAPPED_KEY_VERSION, ...encodeSealed(sealed)].join('.');
}

export function parseWrappedKey(text: string): Sealed | string {
  if (typeof text !== 'string') return 'wrapped key is not a string';
  const parts = text.split('.');
  if (parts[0] !== WRAPPED_KEY_VERSION) return `wrapped key does not start with "${WRAPPED_KEY_VERSION}."`;
  if (parts.length !== 4) return `wrapped key has ${parts.length} parts, expected 4`;
  const sealed = decodeSealed(parts.slice(1));
  return typeof sealed === 'string' ? `wrapped key ${sealed}` : sealed;
}

function encodeSealed(sealed: Sealed): string[] {
  return [sealed.iv, sealed.ciphertext, sealed.tag].map((part) => part.toString('base64url'));
}

function decodeSealed([ivText = '', ciphertextText = '', tagText = '']: string[]): Sealed | string {
  const iv = decodeBase64url(ivText);
  if (iv?.length !== IV_BYTES) return `iv is not ${IV_BYTES} bytes of base64url`;
  const ciphertext = decodeBase64url(ciphertextText);
  if (ciphertext === undefined) return 'body is not base64url';
  const tag = decodeBase64url(tagText);
  if (tag?.length !== TAG_BYTES) return `tag is not ${TAG_BYTES} bytes of base64url`;
  return { iv, ciphertext, tag };
}
