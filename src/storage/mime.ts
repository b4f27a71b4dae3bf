import { GatehouseError } from '../errors/index.js';

// Content types: what a bucket accepts (checked against the client's header AND the bytes, since a
// header is only a claim), and which types a browser would run as active content in our origin.

import { loadOnFirstUse } from '../shared/load-on-first-use.js';
import { isActiveType, mediaType } from '../shared/media-type.js';

export { isActiveType, mediaType };

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** A bucket's allowlist entry: `image/png`, or `image/*`. */
export function checkAllowlist(list: unknown): string[] | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list) || list.length > 100) throw badList();
  return list.map((entry) => {
    if (typeof entry !== 'string') throw badList();
    const lower = entry.trim().toLowerCase();
    if (!MIME.test(lower) && !/^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/\*$/.test(lower)) throw badList();
    return lower;
  });
}

function badList(): GatehouseError {
  return new GatehouseError('validation_failed', { message: 'allowed_mime_types must be a list of at most 100 media types such as image/png or image/*.' });
}

export function mimeAllowed(allowlist: readonly string[] | null, type: string): boolean {
  if (allowlist === null || allowlist.length === 0) return true;
  return allowlist.some((entry) => entry === type || (entry.endsWith('/*') && type.startsWith(entry.slice(0, -1))));
}

// file-type and its tokenizers load on the first sniff, not at start (issue 18, start-up).
const fileType = loadOnFirstUse(() => import('file-type'));

/** The type the bytes say they are, when file-type recognises them (binary formats; not text). */
export async function sniffedType(head: Buffer): Promise<string | null> {
  if (head.length === 0) return null;
  const { fileTypeFromBuffer } = await fileType();
  return (await fileTypeFromBuffer(head))?.mime ?? null;
}

