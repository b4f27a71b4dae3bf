import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GatehouseError } from '../../errors/index.js';
import { isReferenceKey } from '../ownership/index.js';

// Upload endpoints stream multipart/form-data through unbuffered (files run to
// the body limit). Their form fields are not checked for ownership: a form may
// not name a resource at all. Every part's headers are read as they pass, and
// a part whose field name holds a reference key (`file_id`,
// `images[0][file_id]`, `assistant_id`…) stops the upload with 400: send that
// request as JSON, which is checked. Each chunk is scanned before it is
// passed on, so the provider never receives the whole body of a refused
// request (the upstream request is aborted mid-body and never completes).
//
// Hand-written rather than busboy & co.: we need neither the fields' values nor
// the files, only the part headers, without holding the stream back, and
// none of the parsers in our dependencies does that.

/** Part headers longer than this are refused: real ones are a few hundred bytes. */
const MAX_HEADER_BYTES = 16 * 1024;
const DISPOSITION = /^content-disposition[ \t]*:(.*)$/gim;
/** `name="…"` (quoted-string, with backslash escapes) or `name=token`; `name*` is refused below. */
const NAME_PARAM = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/gi;
const EXTENDED_NAME = /;\s*name\*\s*=/i;

function refused(message: string): GatehouseError {
  return new GatehouseError('multipart_field_not_allowed', { message });
}

/** The field name of a part, from its header block; throws on a block a provider could read another way. */
function fieldName(headers: string): string {
  const dispositions = [...headers.matchAll(DISPOSITION)];
  if (dispositions.length !== 1) throw refused('Every part of a multipart/form-data body needs one Content-Disposition header.');
  const disposition = dispositions[0]![1]!;
  if (EXTENDED_NAME.test(disposition)) throw refused('Multipart field names must be sent as name="…", not name*=.');
  const names = [...disposition.matchAll(NAME_PARAM)];
  if (names.length !== 1) throw refused('Every part of a multipart/form-data body needs exactly one name.');
  const [, quoted, token] = names[0]!;
  return quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : token!;
}

/**
 * Whether a field name references a resource: any of its segments is a
 * reference key, whatever the bracket or dot notation (`a[b][file_id]`,
 * `a.file_ids`, `file_ids[]`) and case.
 */
export function namesResource(name: string): boolean {
  for (const segment of name.split(/[^A-Za-z0-9_]+/)) {
    if (segment && (isReferenceKey(segment) || isReferenceKey(segment.toLowerCase()))) return true;
  }
  return false;
}

/** Where the part's header block ends (its empty line), or -1: a line end followed by CRLF or LF. */
function headerEnd(data: Buffer, from: number): { at: number; length: number } | -1 {
  let lf = data.indexOf(0x0a, from);
  while (lf !== -1) {
    if (data[lf + 1] === 0x0a) return { at: lf, length: 2 };
    if (data[lf + 1] === 0x0d && data[lf + 2] === 0x0a) return { at: lf, length: 3 };
    if (lf + 2 >= data.length) return -1; // the next bytes decide
    lf = data.indexOf(0x0a, lf + 1);
  }
  return -1;
}

/**
 * Passes a multipart/form-data body through, refusing it (stream error) at
 * the first part that names a resource. The scan is more lenient than RFC 2046
 * (a bare LF ends lines too, and parts after the closing delimiter are still
 * read) so that no provider's lenient parser can find a field we did not see.
 */
export function guardMultipart(body: Readable, boundary: string): Readable {
  // The first delimiter may open the body, later ones follow a line end:
  // scanning "\n" + body finds both the same way.
  const delimiter = Buffer.from(`\n--${boundary}`);
  let pending: Buffer = Buffer.from('\n');
  let inHeaders = false;

  function scan(chunk: Buffer): void {
    const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (inHeaders) {
        const end = headerEnd(data, pos);
        if (end === -1) {
          if (data.length - pos > MAX_HEADER_BYTES) throw refused('A multipart part has headers longer than 16 KiB.');
          break;
        }
        const name = fieldName(data.toString('latin1', pos, end.at));
        if (namesResource(name)) {
          throw refused(`The multipart field ${JSON.stringify(name.slice(0, 100))} references a resource; send this request as JSON, whose references are checked.`);
        }
        inHeaders = false;
        pos = end.at + end.length;
        continue;
      }
      const at = data.indexOf(delimiter, pos);
      if (at === -1) {
        // Keep enough of the tail to find a delimiter split across chunks.
        pos = Math.max(pos, data.length - delimiter.length);
        break;
      }
      const after = at + delimiter.length;
      if (data.length < after + 2) {
        pos = at; // not yet known whether this is the closing delimiter
        break;
      }
      if (data[after] === 0x2d && data[after + 1] === 0x2d) {
        pos = after + 2; // the closing delimiter; anything after it is scanned all the same
        continue;
      }
      inHeaders = true;
      pos = after;
    }
    // A copy, so a large chunk is not kept alive by the few bytes we still need.
    pending = Buffer.from(data.subarray(pos));
  }

  const guard = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        scan(chunk);
      } catch (error) {
        return callback(error as Error);
      }
      callback(null, chunk);
    },
  });
  body.on('error', (error) => guard.destroy(error));
  return body.pipe(guard);
}
