// Gemini media uploads as Google serves them (POST /upload/v1beta/files):
//  - resumable: `start` (JSON metadata; answers X-Goog-Upload-URL with an
//    upload_id), then `upload` chunks at exact offsets, `upload, finalize`
//    (answers the File), `query` (status + size received) and `cancel`;
//  - multipart: one multipart/related body, JSON metadata then the bytes;
//  - raw: the bytes alone.
// Files are stored per API key, with their bytes, so tests can compare what
// arrived with what was sent.
import { createHash } from 'node:crypto';
import { fakeId, readMultipart, sendJson, type Ctx } from './server.js';

export interface GeminiFile {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  sha256Hash: string;
  uri: string;
  state: 'ACTIVE';
  source: 'UPLOADED';
}

interface Session {
  key: string;
  name?: string;
  displayName?: string;
  mimeType: string;
  declaredSize: number | null;
  chunks: Buffer[];
  received: number;
  status: 'active' | 'final' | 'cancelled';
}

const filesByKey = new Map<string, Map<string, GeminiFile>>();
const bytesByName = new Map<string, Buffer>();
const sessions = new Map<string, Session>();

/** The files one API key has uploaded, by name (`files/…`). */
export function geminiFiles(key: string): Map<string, GeminiFile> {
  let files = filesByKey.get(key);
  if (!files) filesByKey.set(key, (files = new Map()));
  return files;
}

/** Drops a file the way Google does after 48 hours, without telling Gatehouse. */
export function expireGeminiFile(name: string): void {
  for (const files of filesByKey.values()) files.delete(name);
  bytesByName.delete(name);
}

/** The stored bytes of a file, for assertions. */
export function geminiFileBytes(name: string): Buffer | undefined {
  return bytesByName.get(name);
}

function error(ctx: Ctx, code: number, status: string, message: string, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
  sendJson(ctx.res, code, { error: { code, message, status } });
}

function createFile(ctx: Ctx, key: string, meta: { displayName?: string; mimeType?: string; name?: string }, data: Buffer): GeminiFile {
  const name = typeof meta.name === 'string' && /^files\/[a-z0-9-]{1,40}$/.test(meta.name) ? meta.name : `files/${fakeId('f').toLowerCase()}`;
  const now = new Date().toISOString();
  const file: GeminiFile = {
    name,
    ...(meta.displayName ? { displayName: meta.displayName } : {}),
    mimeType: meta.mimeType ?? 'application/octet-stream',
    sizeBytes: String(data.length),
    createTime: now, updateTime: now,
    sha256Hash: createHash('sha256').update(data).digest('base64'),
    uri: `http://${ctx.req.headers.host}/gemini/v1beta/${name}`,
    state: 'ACTIVE', source: 'UPLOADED',
  };
  geminiFiles(key).set(name, file);
  bytesByName.set(name, Buffer.from(data));
  return file;
}

/** multipart/related: parts in order, each with its headers and bytes untouched. */
function relatedParts(ctx: Ctx): Array<{ type: string; data: Buffer }> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(String(ctx.req.headers['content-type'] ?? ''));
  if (!m) return [];
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: Array<{ type: string; data: Buffer }> = [];
  let pos = ctx.body.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (ctx.body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = ctx.body.indexOf('\r\n\r\n', start);
    const next = headerEnd === -1 ? -1 : ctx.body.indexOf(boundary, headerEnd);
    if (next === -1) break;
    const head = ctx.body.subarray(start, headerEnd).toString('utf8');
    parts.push({ type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '', data: Buffer.from(ctx.body.subarray(headerEnd + 4, next - 2)) });
    pos = next;
  }
  return parts;
}

function metadataOf(json: any): { displayName?: string; mimeType?: string; name?: string } {
  const f = json?.file ?? {};
  return { displayName: f.displayName ?? f.display_name, mimeType: f.mimeType ?? f.mime_type, name: f.name };
}

export function handleGeminiUpload(ctx: Ctx, key: string): void {
  const protocol = String(ctx.req.headers['x-goog-upload-protocol'] ?? '').toLowerCase();
  const commands = String(ctx.req.headers['x-goog-upload-command'] ?? '').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
  const uploadId = ctx.query.get('upload_id');

  if (uploadId !== null) return continueSession(ctx, key, uploadId, commands);

  if (protocol === 'resumable') {
    if (commands.join() !== 'start') return error(ctx, 400, 'INVALID_ARGUMENT', 'Resumable uploads begin with X-Goog-Upload-Command: start.');
    const declared = ctx.req.headers['x-goog-upload-header-content-length'];
    const meta = metadataOf(ctx.json);
    if (meta.name && [...filesByKey.values()].some((files) => files.has(meta.name!))) return error(ctx, 409, 'ALREADY_EXISTS', `${meta.name} already exists.`);
    const id = `ADPycd${fakeId('')}-${Math.random().toString(36).slice(2)}_x`;
    sessions.set(id, {
      key, name: meta.name, displayName: meta.displayName,
      mimeType: String(ctx.req.headers['x-goog-upload-header-content-type'] ?? meta.mimeType ?? 'application/octet-stream'),
      declaredSize: declared === undefined ? null : Number(declared),
      chunks: [], received: 0, status: 'active',
    });
    const url = ctx.mode.geminiUploadUrl ?? `http://${ctx.req.headers.host}/gemini${ctx.path}?upload_id=${id}&upload_protocol=resumable`;
    ctx.res.writeHead(200, {
      'x-goog-upload-url': url, 'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '8388608',
      'x-goog-upload-control-url': url, 'content-type': 'text/plain; charset=utf-8', 'content-length': 0,
    });
    return void ctx.res.end();
  }
  if (protocol === 'multipart') {
    const parts = relatedParts(ctx);
    if (parts.length !== 2) return error(ctx, 400, 'INVALID_ARGUMENT', 'A multipart upload has a metadata part and a media part.');
    let meta: any;
    try {
      meta = JSON.parse(parts[0]!.data.toString('utf8'));
    } catch {
      return error(ctx, 400, 'INVALID_ARGUMENT', 'The metadata part is not JSON.');
    }
    const m = metadataOf(meta);
    return sendJson(ctx.res, 200, { file: createFile(ctx, key, { ...m, mimeType: m.mimeType ?? parts[1]!.type }, parts[1]!.data) });
  }
  if (protocol === 'raw') {
    return sendJson(ctx.res, 200, { file: createFile(ctx, key, { mimeType: String(ctx.req.headers['content-type'] ?? '') || undefined }, ctx.body) });
  }
  // No protocol header: a multipart/form-data body with a `file` field (older clients).
  const file = readMultipart(ctx).get('file');
  return sendJson(ctx.res, 200, { file: createFile(ctx, key, { mimeType: file?.contentType }, file?.data ?? ctx.body) });
}

function continueSession(ctx: Ctx, key: string, uploadId: string, commands: string[]): void {
  const session = sessions.get(uploadId);
  // Google answers an unknown or foreign session with a 404 and no body detail.
  if (!session || session.key !== key) return error(ctx, 404, 'NOT_FOUND', 'Upload session not found.');
  const statusHeaders = () => ({ 'x-goog-upload-status': session.status, 'x-goog-upload-size-received': String(session.received) });
  const empty = () => {
    ctx.res.writeHead(200, { ...statusHeaders(), 'content-length': 0 });
    ctx.res.end();
  };
  if (commands.join() === 'query') return empty();
  if (commands.join() === 'cancel') {
    session.status = 'cancelled';
    return empty();
  }
  if (session.status !== 'active') return error(ctx, 400, 'FAILED_PRECONDITION', `The upload session is ${session.status}.`, statusHeaders());
  const upload = commands.includes('upload');
  const finalize = commands.includes('finalize');
  if (!upload && !finalize) return error(ctx, 400, 'INVALID_ARGUMENT', 'Unknown upload command.');
  if (upload) {
    const offset = Number(ctx.req.headers['x-goog-upload-offset']);
    if (offset !== session.received) return error(ctx, 400, 'INVALID_ARGUMENT', `Offset ${offset} does not match the ${session.received} bytes received.`, statusHeaders());
    session.chunks.push(Buffer.from(ctx.body));
    session.received += ctx.body.length;
  }
  if (!finalize) return empty();
  const data = Buffer.concat(session.chunks);
  if (session.declaredSize !== null && data.length !== session.declaredSize) {
    return error(ctx, 400, 'INVALID_ARGUMENT', `Received ${data.length} bytes, ${session.declaredSize} were declared.`, statusHeaders());
  }
  session.status = 'final';
  const file = createFile(ctx, key, { name: session.name, displayName: session.displayName, mimeType: session.mimeType }, data);
  ctx.res.setHeader('x-goog-upload-status', 'final');
  sendJson(ctx.res, 200, { file });
}
