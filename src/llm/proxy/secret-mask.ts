// The provider key is the one secret Gatehouse sends upstream, so it is the
// one an upstream can send back: an error page that echoes the request's
// Authorization header, a debug field, a misbehaving OpenAI-compatible server.
// Whatever the provider answers, the key never reaches the client: every body
// (buffered or streamed) and every relayed header is searched for it, and each
// occurrence is overwritten in place with as many `*`. In place and of equal
// length, so a buffer needs no copy and a Content-Length stays right. The
// search is Buffer#indexOf for one known string: about a microsecond for a
// completion, nothing like a scan for key-shaped patterns.

const MASK_BYTE = 0x2a; // '*'
/**
 * A body that ends in the middle of the secret still shows its beginning. Up to
 * this many bytes that is at most a well-known prefix (`sk-proj-`, `AIza`) and is
 * left alone, so an answer that merely ends with the secret's first letter is not
 * changed; past it, the partial secret is masked too.
 */
const PUBLIC_PREFIX_BYTES = 8;

/** The provider key as bytes, or null when the provider has none (nothing to mask, nothing to pay). */
export type SecretNeedle = Buffer | null;

const needles = new WeakMap<object, SecretNeedle>();

/** The needle of a resolved provider, built once per cached provider object rather than per request. */
export function secretNeedle(provider: { apiKey: string | null }): SecretNeedle {
  let needle = needles.get(provider);
  if (needle === undefined) {
    needle = provider.apiKey ? Buffer.from(provider.apiKey, 'utf8') : null;
    needles.set(provider, needle);
  }
  return needle;
}

/** Overwrites every occurrence of the secret in a whole body (and a partial one it ends with); returns the same buffer. */
export function maskSecret(bytes: Buffer, needle: SecretNeedle): Buffer {
  if (needle === null) return bytes;
  maskWhole(bytes, needle);
  maskPartialEnd(bytes, splitTail(bytes, needle));
  return bytes;
}

function maskWhole(bytes: Buffer, needle: Buffer): void {
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) bytes.fill(MASK_BYTE, at, at + needle.length);
}

function maskPartialEnd(bytes: Buffer, tail: number): void {
  if (tail > PUBLIC_PREFIX_BYTES) bytes.fill(MASK_BYTE, bytes.length - tail);
}

/** The same for a header value or other text. */
export function maskSecretText(text: string, secret: string | null): string {
  return secret && text.includes(secret) ? text.replaceAll(secret, '*'.repeat(secret.length)) : text;
}

/**
 * How many bytes at the end of `bytes` could be the start of the secret
 * (a secret split across two chunks). Almost always 0: only a tail that
 * begins with the secret's first byte is compared.
 */
function splitTail(bytes: Buffer, needle: Buffer): number {
  const first = needle[0]!;
  const from = Math.max(0, bytes.length - needle.length + 1);
  for (let at = bytes.indexOf(first, from); at !== -1; at = bytes.indexOf(first, at + 1)) {
    if (bytes.compare(needle, 0, bytes.length - at, at) === 0) return bytes.length - at;
  }
  return 0;
}

/**
 * A stream split the secret across two chunks at this many bytes or more: the first
 * chunk's tail is masked as it leaves, before the next chunk shows whether it was the
 * secret. Below it (a tail such as `s`, `sk`, `sk-`) the bytes leave as they are, since
 * plain text ends that way often and those bytes are the key's public prefix; the rest
 * of the secret is masked in the next chunk.
 */
const EARLY_MASK_BYTES = 4;

/**
 * Masks a stream's chunks in place, one after another, as a `data` listener attached
 * before the stream is piped to the client (so it runs before the pipe writes the chunk).
 * In place and beside the pipe, not a Transform: a stream hop per response cost about a
 * third of the proxy's streaming capacity. Returns null when there is nothing to mask.
 */
export function chunkMasker(needle: SecretNeedle): ((chunk: Buffer) => void) | null {
  if (needle === null) return null;
  /** How many bytes of the secret the previous chunk ended with. */
  let carry = 0;
  return (chunk) => {
    if (carry > 0) {
      const n = Math.min(needle.length - carry, chunk.length);
      if (chunk.compare(needle, carry, carry + n, 0, n) === 0) {
        chunk.fill(MASK_BYTE, 0, n);
        carry += n;
        if (carry < needle.length) return; // still inside the secret: the chunk was all of it
      }
      carry = 0;
    }
    maskWhole(chunk, needle);
    carry = splitTail(chunk, needle);
    if (carry >= EARLY_MASK_BYTES) chunk.fill(MASK_BYTE, chunk.length - carry);
  };
}
