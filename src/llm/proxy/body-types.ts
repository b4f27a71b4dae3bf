import { GatehouseError } from '../../errors/index.js';

// Which request bodies an endpoint takes, by Content-Type. The rule: a body a
// provider could read as JSON is either parsed and checked here, or refused.
//   json       application/json, on every endpoint: parsed, ownership-checked.
//   multipart  multipart/form-data with a boundary, on `upload` endpoints only:
//              streamed, its part headers scanned (multipart-guard.ts).
//   media      Gemini's upload endpoint only: file bytes under Google's upload
//              protocol (raw chunks, multipart/related), which Google stores as the
//              file and never reads as a request; its protocol is checked in
//              gemini-upload.ts.
// Anything else is 415: text/plain, application/x-www-form-urlencoded, a
// vendor +json type or no type at all may all be sniffed as JSON by a
// provider, and would carry their ids past the checks.

export type BodyKind = 'json' | 'multipart' | 'media';

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const MULTIPART_FORM = /^multipart\/form-data\s*;/i;
/** RFC 2046 §5.1.1: 1–70 characters from a small set, quoted when it holds specials. */
const BOUNDARY = /;\s*boundary=(?:"([0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?])"|([0-9A-Za-z'()+_\-.:=?]{1,70}))\s*(;|$)/i;

/** Two boundaries are refused: we would split the body on one, the provider perhaps on the other. */
const BOUNDARY_PARAM = /;\s*boundary\s*=/gi;

export interface BodyRules {
  /** The endpoint's pattern has the `upload` flag. */
  upload: boolean;
  /** The endpoint is Gemini's upload protocol. */
  media: boolean;
}

export function unsupportedType(rules: BodyRules): GatehouseError {
  const accepted = rules.media ? 'JSON or Google\'s upload protocol' : rules.upload ? 'application/json or multipart/form-data' : 'application/json';
  return new GatehouseError('unsupported_media_type', { message: `This endpoint takes ${accepted} bodies only.` });
}

/** The kind of body a request's Content-Type makes it, or a 415 when the endpoint does not take it. */
export function bodyKind(contentType: string | undefined, rules: BodyRules): BodyKind {
  const type = contentType ?? '';
  if (JSON_TYPE.test(type)) return 'json';
  if (rules.media) return 'media';
  if (rules.upload && MULTIPART_FORM.test(type) && BOUNDARY.test(type) && type.match(BOUNDARY_PARAM)?.length === 1) return 'multipart';
  throw unsupportedType(rules);
}

/** The boundary of a multipart/form-data Content-Type that bodyKind accepted. */
export function multipartBoundary(contentType: string): string {
  const m = BOUNDARY.exec(contentType);
  if (!m) throw new GatehouseError('unsupported_media_type', { message: 'multipart/form-data needs a boundary parameter.' });
  return m[1] ?? m[2]!;
}
