import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { GatehouseError } from '../../errors/index.js';
import { actorOf } from '../context.js';
import type { StorageService } from '../service.js';
import type { UploadBody } from '../upload.js';

// Uploads, in their own context: no body parser runs (the handler streams the body itself, so a
// 1 GiB file is never held in memory and an over-size one is cut off at the limit), except
// multipart, which @fastify/multipart streams part by part. Bodies as storage-js sends them:
//   Blob / File / FormData → multipart: `cacheControl`, optional `metadata` (JSON), the file ('' field)
//   Buffer / string / stream → raw, with content-type, cache-control and optional x-metadata (base64 JSON)

type Wild = { Params: { bucket: string; '*': string }; Querystring: { token?: string } };

const write = (request: FastifyRequest) => `storage:${(request.params as { bucket?: string }).bucket ?? ''}:write`;
/** Multipart fields other than the file: small. */
const FIELD_BYTES = 64 * 1024;
/** Multipart framing a body may add around its file (boundaries, part headers, fields). */
const MULTIPART_SLACK_BYTES = 1024 * 1024;

function parseMetadata(text: string | undefined, base64: boolean): Record<string, unknown> | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const value = JSON.parse(base64 ? Buffer.from(text, 'base64').toString('utf8') : text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    if (JSON.stringify(value).length > FIELD_BYTES) throw new Error('too large');
    return value as Record<string, unknown>;
  } catch {
    throw new GatehouseError('validation_failed', { message: 'metadata must be a JSON object (base64 in x-metadata) of at most 64 KiB.' });
  }
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
}

function fieldValue(field: unknown): string | undefined {
  const one = Array.isArray(field) ? field[0] : field;
  const value = (one as { value?: unknown } | undefined)?.value;
  return typeof value === 'string' ? value : undefined;
}

async function uploadBody(request: FastifyRequest, maxObjectBytes: number): Promise<UploadBody> {
  if (!request.isMultipart()) {
    return {
      stream: (request.body as Readable | undefined) ?? Readable.from([]),
      contentType: request.headers['content-type'],
      declaredBytes: declaredLength(request),
      cacheControl: request.headers['cache-control'],
      metadata: parseMetadata(request.headers['x-metadata'] as string | undefined, true),
    };
  }
  const total = declaredLength(request);
  if (total !== undefined && total > maxObjectBytes + MULTIPART_SLACK_BYTES) throw new GatehouseError('storage_entity_too_large');
  const part = await request.file({ limits: { files: 1, fields: 8, parts: 10, fieldSize: FIELD_BYTES, fileSize: maxObjectBytes + 1 } });
  if (!part) throw new GatehouseError('validation_failed', { message: 'The multipart body has no file.' });
  return {
    stream: part.file,
    contentType: part.mimetype,
    declaredBytes: undefined,
    cacheControl: fieldValue(part.fields.cacheControl),
    metadata: parseMetadata(fieldValue(part.fields.metadata), false),
  };
}

/** Errors of the multipart parser a client causes, as storage errors. */
function clientError(error: unknown): unknown {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new GatehouseError('storage_entity_too_large');
  if (typeof code === 'string' && /^FST_(PARTS|FILES|FIELDS)_LIMIT$|^FST_INVALID_MULTIPART|^FST_PROTO_VIOLATION/.test(code)) {
    return new GatehouseError('bad_request', { message: 'The multipart body is malformed or has too many parts.' });
  }
  return error;
}

export async function uploadRoutes(app: FastifyInstance, { storage, maxObjectBytes }: { storage: StorageService; maxObjectBytes: number }): Promise<void> {
  app.removeAllContentTypeParsers();
  // The body stream itself becomes request.body (after any preParsing stage), read by the handler.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  await app.register(multipart, { limits: { fileSize: maxObjectBytes + 1 } });

  const answer = (row: { id: string; bucket_id: string; name: string }) => ({ Id: row.id, Key: `${row.bucket_id}/${row.name}` });
  async function run<T>(request: FastifyRequest, reply: { header(name: string, value: string): unknown }, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      // The rest of a refused body is not read: the connection closes after the answer.
      if (!request.raw.readableEnded) reply.header('Connection', 'close');
      throw clientError(error);
    }
  }

  const upload = (replaceOnly: boolean) => async (request: FastifyRequest<Wild>, reply: { header(name: string, value: string): unknown }) =>
    run(request, reply, async () => {
      const body = await uploadBody(request, maxObjectBytes);
      const upsert = !replaceOnly && request.headers['x-upsert'] === 'true';
      return answer(await storage.upload(actorOf(request.caller!), request.params.bucket, request.params['*'], { upsert, replaceOnly }, body));
    });
  app.post<Wild>('/object/:bucket/*', { config: { scope: write } }, upload(false));
  app.put<Wild>('/object/:bucket/*', { config: { scope: write } }, upload(true));

  // A signed upload URL is its own permission: no key needed, the token names the uploader.
  app.put<Wild>('/object/upload/sign/:bucket/*', { config: { auth: 'public' } }, async (request, reply) =>
    run(request, reply, async () => {
      const body = await uploadBody(request, maxObjectBytes);
      const row = await storage.uploadSigned(request.query.token, request.params.bucket, request.params['*'], body);
      return { Key: `${row.bucket_id}/${row.name}`, Id: row.id };
    }));
}
