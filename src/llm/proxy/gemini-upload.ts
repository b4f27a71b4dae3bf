import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import { GatehouseError } from '../../errors/index.js';
import { authorizeResources, type Denial, type Owner, type ResourceScope, type ResourceStore } from '../ownership/index.js';
import type { ResolvedProvider } from '../providers/index.js';
import type { EndpointMatch } from '../whitelist/index.js';
import { readBounded } from './request-body.js';
import { maskSecretText } from './secret-mask.js';
import { upstreamError } from './upstream.js';
import { createPublicBase } from '../../shared/public-base.js';

// Gemini file uploads (`POST /upload/v1beta/files`), Google's resumable
// protocol included: a `start` call opens a session and answers with an
// X-Goog-Upload-URL holding an upload_id; `upload` / `finalize` / `query` /
// `cancel` calls then go to that URL. The upload_id is a capability: whoever
// holds it can write into, finish or read the state of the session, so it is
// recorded to the user who started it and every follow-up is checked against
// that record before anything goes upstream. The URL handed back points at
// Gatehouse, so the client's next call carries its own credentials again.
// https://ai.google.dev/api/files#method:-media.upload

const UPLOAD_PATH = /^\/upload\/v1(beta)?\/files$/;
const COMMANDS = new Set(['start', 'upload', 'finalize', 'query', 'cancel']);
const PROTOCOLS = new Set(['resumable', 'multipart', 'raw']);
/** Google's upload ids are URL-safe base64-ish tokens; anything else is refused rather than forwarded. */
const UPLOAD_ID = /^[A-Za-z0-9._~-]{1,512}$/;
const DIGITS = /^\d{1,15}$/;
/** A MIME type as X-Goog-Upload-Header-Content-Type carries it (RFC 9110 token/token plus parameters). */
const MIME = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/** Request headers of the protocol that may reach Google (on this endpoint only), validated below. */
const REQUEST_HEADERS = ['x-goog-upload-command', 'x-goog-upload-offset', 'x-goog-upload-header-content-length', 'x-goog-upload-header-content-type'] as const;
/** Response headers of the protocol passed back as they are; X-Goog-Upload-URL is rewritten instead. */
const RESPONSE_HEADERS = ['x-goog-upload-status', 'x-goog-upload-size-received', 'x-goog-upload-chunk-granularity'] as const;

export interface UploadPlan {
  /** The query string sent upstream ('' or '?…'): only the protocol's own parameters. */
  query: string;
  /** Protocol headers to forward, on top of the common allowlist. */
  headers: Record<string, string>;
  /**
   * The body is file bytes whatever its Content-Type says (@google/genai sends
   * chunks as application/json): forward it as is, never parse it.
   */
  rawBody: boolean;
  /** Bytes this request's body may carry: what is left of the file limit after the offset. */
  maxBodyBytes: number;
  /**
   * The ownership check, once the JSON body (if any) is parsed: a session's
   * upload_id must be the caller's. A denial means 404 and nothing sent upstream.
   */
  authorize(body: unknown): Promise<Denial | null>;
  /** A buffered chunk (sent as application/json) checked against maxBodyBytes. */
  chunk(bytes: Buffer): Buffer;
  /** A success answers with a newly created File (a one-shot upload, or a finalize). */
  creates: boolean;
}

export function isGeminiUpload(provider: ResolvedProvider, match: EndpointMatch): boolean {
  return provider.kind === 'gemini' && match.pattern.method === 'POST' && UPLOAD_PATH.test(match.pattern.path);
}

function bad(message: string, field: string): GatehouseError {
  return new GatehouseError('bad_request', { message, details: { field } });
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export interface PlanInput {
  headers: Record<string, string | string[] | undefined>;
  /** Raw query string, without '?'. */
  query: string;
  match: EndpointMatch;
  owner: Owner;
  scope: ResourceScope;
  store: ResourceStore;
  /** The largest file accepted, in bytes (the proxy's body limit). */
  maxBytes: number;
}

/** Validates an upload request and decides what goes upstream. Throws 400/413 on bad input. */
export function planGeminiUpload(input: PlanInput): UploadPlan {
  const { headers, match, owner, scope, store, maxBytes } = input;
  const protocol = header(headers, 'x-goog-upload-protocol')?.trim().toLowerCase();
  if (protocol !== undefined && !PROTOCOLS.has(protocol)) throw bad('X-Goog-Upload-Protocol must be resumable, multipart or raw.', 'X-Goog-Upload-Protocol');
  const rawCommand = header(headers, 'x-goog-upload-command');
  const commands = rawCommand === undefined ? [] : rawCommand.split(',').map((c) => c.trim().toLowerCase());
  if (rawCommand !== undefined && (commands.length === 0 || commands.some((c) => !COMMANDS.has(c)))) {
    throw bad('X-Goog-Upload-Command must list start, upload, finalize, query or cancel.', 'X-Goog-Upload-Command');
  }
  const forward: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = header(headers, name);
    if (value !== undefined) forward[name] = value;
  }
  for (const name of ['x-goog-upload-offset', 'x-goog-upload-header-content-length'] as const) {
    if (forward[name] !== undefined && !DIGITS.test(forward[name])) throw bad(`${name} must be a byte count.`, name);
  }
  const mime = forward['x-goog-upload-header-content-type'];
  if (mime !== undefined && (mime.length > 200 || !MIME.test(mime))) throw bad('X-Goog-Upload-Header-Content-Type must be a MIME type.', 'X-Goog-Upload-Header-Content-Type');

  const params = new URLSearchParams(input.query);
  const ids = params.getAll('upload_id');
  const session = commands.length > 0 && !commands.includes('start');

  if (!session) {
    if (ids.length > 0) throw bad('upload_id belongs to the upload URL of a started upload, with an X-Goog-Upload-Command.', 'upload_id');
    if (commands.includes('start') && (commands.length > 1 || protocol !== 'resumable')) {
      throw bad('The start command stands alone and needs X-Goog-Upload-Protocol: resumable.', 'X-Goog-Upload-Command');
    }
    const declared = forward['x-goog-upload-header-content-length'];
    if (declared !== undefined && Number(declared) > maxBytes) throw new GatehouseError('payload_too_large', { message: `The file is larger than ${maxBytes} bytes.` });
    // Google reads only `alt` and `uploadType` here; the rest (and `key`) is dropped.
    const kept = new URLSearchParams();
    for (const name of ['alt', 'uploadType']) for (const v of params.getAll(name)) kept.append(name, v);
    const text = kept.toString();
    return {
      query: text ? `?${text}` : '', headers: forward, rawBody: false, maxBodyBytes: maxBytes, chunk: (bytes) => bytes,
      creates: !commands.includes('start'),
      authorize: (body) => authorizeResources(store, scope, owner, match, body),
    };
  }

  if (ids.length !== 1 || !UPLOAD_ID.test(ids[0]!)) throw bad('This upload command needs the upload URL returned by the start command (one upload_id).', 'upload_id');
  const uploadProtocol = params.get('upload_protocol');
  if (uploadProtocol !== null && uploadProtocol !== 'resumable') throw bad('upload_protocol must be resumable.', 'upload_protocol');
  // Each chunk is bounded by the body limit; the offset bounds the whole file.
  const offset = Number(forward['x-goog-upload-offset'] ?? 0);
  const length = Number(header(headers, 'content-length') ?? 0);
  if (offset + length > maxBytes) throw new GatehouseError('payload_too_large', { message: `The file is larger than ${maxBytes} bytes.` });
  const id = ids[0]!;
  return {
    query: `?${new URLSearchParams({ upload_id: id, upload_protocol: 'resumable' }).toString()}`,
    headers: forward,
    rawBody: true,
    maxBodyBytes: Math.max(0, maxBytes - offset),
    creates: commands.includes('finalize'),
    chunk(bytes) {
      if (offset + bytes.length > maxBytes) throw new GatehouseError('payload_too_large', { message: `The file is larger than ${maxBytes} bytes.` });
      return bytes;
    },
    async authorize() {
      if (!owner.enforced) return null;
      const recorded = (await store.owners(scope, [id])).get(id);
      return recorded === owner.id ? null : { kind: 'upload', where: 'path', reason: recorded === undefined ? 'not_recorded' : 'other_owner' };
    },
  };
}

export interface AnswerInput {
  plan: UploadPlan;
  provider: ResolvedProvider;
  owner: Owner;
  scope: ResourceScope;
  store: ResourceStore;
  /** Where clients reach Gatehouse, from configuration only (uploadUrlBase). */
  base(): string;
  responseBufferBytes: number;
}

/**
 * Before the provider's answer is relayed: passes the protocol's status
 * headers, records a new session's upload_id to the caller and rewrites its
 * upload URL to come back through Gatehouse. An upload URL anywhere but on the
 * provider's own upload endpoint is refused (502): following it would send
 * the next chunk, and our key, somewhere we never vetted. Returns the response
 * to relay (re-readable when its body had to be read here).
 */
export async function answerGeminiUpload(input: AnswerInput, res: Dispatcher.ResponseData, reply: FastifyReply): Promise<Dispatcher.ResponseData> {
  if (res.statusCode >= 500 || res.statusCode === 401) return res; // respond() turns these into 502 anyway
  for (const name of RESPONSE_HEADERS) {
    const value = res.headers[name];
    if (typeof value === 'string') reply.header(name, maskSecretText(value, input.provider.apiKey));
  }
  if (input.plan.creates && res.statusCode >= 200 && res.statusCode < 300) return claimCreatedFile(input, res);
  const location = res.headers['x-goog-upload-url'];
  if (location === undefined || res.statusCode >= 300) return res; // only a session that opened has a URL worth following
  try {
    const id = typeof location === 'string' ? trustedUploadId(location, input.provider) : null;
    if (id === null) throw new GatehouseError('upstream_failed', { message: `The provider ${input.provider.name} returned an upload URL Gatehouse does not accept.` });
    const base = input.base();
    // Recorded before the client sees the URL: its first chunk may follow at once.
    await input.store.record(input.scope, input.owner.id, [{ kind: 'upload', id: id.uploadId }]);
    reply.header('x-goog-upload-url', `${base}/llm/${input.provider.name}${id.path}?${new URLSearchParams({ upload_id: id.uploadId, upload_protocol: 'resumable' }).toString()}`);
  } catch (error) {
    res.body.on('error', () => {}); // destroying an undici body emits an AbortError nobody else listens for
    res.body.destroy();
    for (const name of RESPONSE_HEADERS) reply.removeHeader(name);
    throw error;
  }
  return res;
}

/**
 * Gemini lets the client pick the new file's name (`file.name`), and Google
 * refuses a name that exists (409). So a File in a successful create answer is
 * new, and a record of that name to someone else is stale (their file expired
 * after 48 hours or was deleted behind Gatehouse's back): it is dropped, and
 * respond() records the file to its real creator. Left in place, it would give
 * the old owner the new file.
 */
async function claimCreatedFile(input: AnswerInput, res: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData> {
  if (!/^application\/json\s*(;|$)/i.test(String(res.headers['content-type'] ?? ''))) return res;
  let bytes: Buffer | null;
  try {
    bytes = await readBounded(res.body, input.responseBufferBytes);
  } catch (error) {
    throw upstreamError(error, input.provider.name);
  }
  if (bytes === null) throw new GatehouseError('upstream_failed', { message: `The provider ${input.provider.name} sent a response Gatehouse could not check.` });
  let name: unknown;
  try {
    name = (JSON.parse(bytes.toString('utf8')) as { file?: { name?: unknown } } | null)?.file?.name;
  } catch {
    name = undefined;
  }
  if (typeof name === 'string' && name.startsWith('files/')) {
    const id = name.slice(6);
    const recorded = (await input.store.owners(input.scope, [id])).get(id);
    if (recorded !== undefined && recorded !== input.owner.id) await input.store.remove(input.scope, recorded, id);
  }
  // respond() reads the body as a stream again; a Readable over the bytes serves (async iteration, pipe, resume, destroy).
  return { ...res, body: Readable.from([bytes]) as unknown as Dispatcher.ResponseData['body'] };
}

/** The upload id of a URL on the provider's own upload endpoint, or null. */
function trustedUploadId(location: string, provider: ResolvedProvider): { uploadId: string; path: string } | null {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return null;
  }
  if (url.origin !== provider.origin || url.username || url.password || url.hash) return null;
  if (!url.pathname.startsWith(`${provider.basePath}/`)) return null;
  const path = url.pathname.slice(provider.basePath.length);
  if (!UPLOAD_PATH.test(path)) return null;
  const ids = url.searchParams.getAll('upload_id');
  if (ids.length !== 1 || !UPLOAD_ID.test(ids[0]!)) return null;
  return { uploadId: ids[0]!, path };
}

/**
 * Where the rewritten upload URL points: GATEHOUSE_PUBLIC_URL, which production requires
 * (config/production.ts), else the listen address (shared/public-base.ts). Never the request's
 * Host or X-Forwarded-Host: a client, or anything in front of Gatehouse, could name another
 * server, and the next chunk (with the user's token) would go there.
 */
export function uploadUrlBase(config: { publicUrl?: string; tls?: unknown; host: string; port: number }, server: { address(): AddressInfo | string | null }): () => string {
  const base = createPublicBase(config);
  base.listenOn(server);
  return () => {
    // Not the configured address before listening: a URL that may reach nothing is worse than a clear 503.
    const url = base.reachableUrl();
    if (url === null) throw new GatehouseError('service_unavailable', { message: 'Gatehouse has no address to build the upload URL on: set GATEHOUSE_PUBLIC_URL.' });
    return url;
  };
}
