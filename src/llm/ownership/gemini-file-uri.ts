// Gemini names an uploaded file in a prompt with `fileData.fileUri`. Google
// parses request JSON with protobuf's JSON mapping, which takes the field's
// JSON name (`fileUri`) and its proto name (`file_uri`), and its front end is
// lenient about case in places (`FileUri`). Google is also lenient about the
// value: it resolves `files/<id>` and the full Files API URL, and may well
// decode or trim what it gets. The ownership check must see every spelling
// Google could take for a file, so both key and value are normalised here, and
// a value that names Google's API but does not normalise to one file is
// refused rather than guessed at (CWE-178, CWE-177).
// https://ai.google.dev/api/caching#FileData, https://protobuf.dev/programming-guides/json/

/**
 * True for every spelling of `fileUri` a protobuf JSON parser could map to the
 * field: any case, any underscores (`fileUri`, `file_uri`, `FileUri`, `FILE_URI`).
 * The first-letter test keeps this to one comparison for almost every key.
 */
export function isGeminiFileUriKey(key: string): boolean {
  const first = key.charCodeAt(0) | 0x20; // ASCII lower case
  if (first !== 0x66 /* f */ && first !== 0x5f /* _ */) return false;
  return key.replace(/_/g, '').toLowerCase() === 'fileuri';
}

/**
 * A Files API reference after normalisation: `files/<id>` or the full URL, any
 * case, http or https, with or without :443, v1, v1beta or v1alpha. Google's file
 * ids are lower-case letters, digits and dashes, up to 40.
 */
const FILES_API = /^(?:https?:\/\/generativelanguage\.googleapis\.com(?::443)?\/v1(?:alpha|beta)?\/)?files\/([a-z0-9][a-z0-9-]{0,39})$/;
const GATEWAY_FILE = /^[a-z][a-z0-9+.-]*:\/\/[^?#]*\/files\/([a-z0-9][a-z0-9-]{0,39})$/;
/** Schemes of URIs Google fetches itself (YouTube, public URLs, Cloud Storage): no one's uploaded file. */
const EXTERNAL_SCHEMES = new Set(['http:', 'https:', 'gs:']);
/** Public Cloud Storage objects live under googleapis.com but are not the Files API. */
const PUBLIC_STORAGE = 'storage.googleapis.com';
const MAX_DECODE_ROUNDS = 3;

export type GeminiFileReference = { id: string } | 'external' | 'unreadable';

/**
 * What a `fileUri` value points at: one of the project's Gemini files (its id,
 * lower-cased), an external URI, or something Gatehouse cannot read for sure
 * (refused). Trimmed and percent-decoded (repeatedly: `files%252F…`) first.
 */
export function geminiFileReference(value: string): GeminiFileReference {
  const trimmed = value.trim();
  const decoded = decodeFully(trimmed);
  const text = decoded?.trim().toLowerCase();
  if (text === undefined) return isExternal(trimmed) && !/\/files\//i.test(trimmed) ? 'external' : 'unreadable';
  const files = FILES_API.exec(text);
  if (files) return { id: files[1]! };
  // Judged on the URI as sent (a public URL may hold %20), but never if its decoded form names the Gemini API.
  if (text.includes('generativelanguage') || !isExternal(trimmed)) return 'unreadable';
  // Another host may be a gateway in front of Gemini (a custom provider's base URL): a path
  // ending in /files/<id> is checked as that file, and any other /files/ path is refused.
  const gateway = GATEWAY_FILE.exec(text);
  if (gateway) return { id: gateway[1]! };
  return text.includes('/files/') ? 'unreadable' : 'external';
}

/** Percent-decodes until nothing is left to decode; null if malformed or still encoded after a few rounds. */
function decodeFully(text: string): string | null {
  let out = text;
  for (let round = 0; round < MAX_DECODE_ROUNDS && out.includes('%'); round++) {
    try {
      out = decodeURIComponent(out);
    } catch {
      return null;
    }
  }
  return out.includes('%') ? null : out;
}

/**
 * An absolute http(s) or gs URI on a host that is not Google's API: fetched by
 * Google, not looked up among uploaded files. Anything relative, anything
 * mentioning the Gemini API's host, and anything with characters URL parsers
 * disagree on (whitespace, backslashes) is not external.
 */
function isExternal(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower.includes('generativelanguage') || /[\s\\]/.test(lower)) return false;
  let url: URL;
  try {
    url = new URL(lower);
  } catch {
    return false;
  }
  if (!EXTERNAL_SCHEMES.has(url.protocol) || url.hostname === '') return false;
  const host = url.hostname.replace(/\.+$/, '');
  if (host === PUBLIC_STORAGE) return true;
  return !(host === 'googleapis.com' || host.endsWith('.googleapis.com') || host === 'google.com' || host.endsWith('.google.com'));
}
