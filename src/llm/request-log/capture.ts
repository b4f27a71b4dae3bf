import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { TokenUsage } from '../usage/index.js';


export interface CaptureStart {
  projectId: string;
  environment: string;
  provider: string;
  method: string;
  /** The provider path only: a query string may carry a key (Gemini's ?key=). */
  path: string;
  userId: string;
  /** The JSON body as the caller sent it (never headers); null for uploads and bodiless requests. */
  requestBody: Buffer | null;
  /** The parsed body, for the model it asks for. */
  requestDoc?: unknown;
}

/** What one logged request becomes; bodies are plaintext only until the writer seals them. */
export interface CapturedEntry extends Omit<CaptureStart, 'requestBody' | 'requestDoc'> {
  id: string;
  createdAt: string;
  model: string | null;
  usage: TokenUsage | null;
  status: number;
  durationMs: number;
  request: Buffer | null;
  response: Buffer | null;
  truncated: boolean;
}

/** The handle the proxy holds while the request runs. */
export interface RequestLogHandle {
  /** Token usage as accounted (may arrive after the response closed, when a stream is cut). */
  usage(usage: TokenUsage | null): void;
}

/** What the capture needs of a Fastify reply (kept narrow so it is testable without Fastify). */
export interface ReplyLike {
  raw: ServerResponse;
  getHeader(name: string): unknown;
  readonly elapsedTime: number;
}

// Bodies of these types are text worth reading later; audio, images and files are not stored.
const TEXTUAL = /^(text\/|application\/(json|x-ndjson|jsonl|[a-z.+-]*\+json)\b)/i;

let lastMs = -1;
let seq = 0;

/**
 * `req_` + creation time (9 base-36 digits) + a per-process sequence + random:
 * ids sort by creation time (so an id is also the page cursor), stay ordered
 * within one millisecond (and under a frozen test clock), and never collide
 * across instances.
 */
export function newEntryId(at: Date): string {
  const ms = at.getTime();
  if (ms === lastMs) seq = (seq + 1) % 36 ** 4;
  else {
    lastMs = ms;
    seq = 0;
  }
  return `req_${timePrefix(ms)}${seq.toString(36).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
}

/** The id prefix of a moment: every id created before it compares lower. */
export function timePrefix(ms: number): string {
  return Math.max(0, ms).toString(36).padStart(9, '0');
}

/** Copies at most `cap` bytes; sets `truncated` when more arrived. */
class Bounded {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  add(chunk: unknown, encoding?: unknown): void {
    if (chunk === null || chunk === undefined || typeof chunk === 'function') return;
    const room = this.cap - this.size;
    let bytes: Buffer;
    if (typeof chunk === 'string') {
      if (chunk.length === 0) return;
      if (room <= 0) return void (this.truncated = true);
      // A character is at least one byte: cut before converting a long string we would mostly drop.
      bytes = Buffer.from(chunk.length > room ? chunk.slice(0, room) : chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
      if (chunk.length > room) this.truncated = true;
    } else if (chunk instanceof Uint8Array) {
      if (chunk.byteLength === 0) return;
      if (room <= 0) return void (this.truncated = true);
      bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    } else return;
    if (bytes.length > room) {
      this.truncated = true;
      bytes = bytes.subarray(0, room);
    }
    // A copy: the writer may reuse its buffer once write() returns.
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
  }

  bytes(): Buffer | null {
    return this.chunks.length === 0 ? null : Buffer.concat(this.chunks, this.size);
  }
}

/**
 * Starts capturing one proxied request. The response is read where it leaves:
 * `write`/`end` of this one response are wrapped, so the log holds exactly what
 * the caller received (a filtered list, an error in the provider's shape, each
 * SSE chunk) without a stream stage in between — chunks still go out the moment
 * they are written, and nothing changes for requests that are not logged. The
 * entry is handed on when the response closes.
 */
export function startCapture(
  reply: ReplyLike,
  start: CaptureStart,
  options: { maxBodyBytes: number; now: Date; done(entry: CapturedEntry): void },
): RequestLogHandle {
  const cap = options.maxBodyBytes;
  const doc = start.requestDoc as { model?: unknown } | undefined;
  const entry: CapturedEntry = {
    id: newEntryId(options.now),
    projectId: start.projectId, environment: start.environment, provider: start.provider,
    method: start.method, path: start.path.slice(0, 2000), userId: start.userId,
    createdAt: options.now.toISOString(),
    model: doc && typeof doc === 'object' && typeof doc.model === 'string' ? doc.model.slice(0, 200) : null,
    usage: null, status: 0, durationMs: 0, request: null, response: null, truncated: false,
  };
  if (start.requestBody && start.requestBody.length > 0 && cap > 0) {
    entry.request = Buffer.from(start.requestBody.subarray(0, cap));
    entry.truncated = start.requestBody.length > cap;
  }

  const res = reply.raw;
  const body = new Bounded(cap);
  let textual: boolean | null = cap > 0 ? null : false;
  const take = (chunk: unknown, encoding: unknown) => {
    // Decided on the first byte, once the reply's content type is final.
    textual ??= TEXTUAL.test(String(reply.getHeader('content-type') ?? ''));
    if (textual) body.add(chunk, encoding);
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    take(args[0], args[1]);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    take(args[0], args[1]);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];

  res.once('close', () => {
    res.write = write;
    res.end = end;
    // Not finished: the caller left, or the provider's stream was cut (the "client closed request" convention).
    entry.status = res.writableFinished ? res.statusCode : 499;
    entry.durationMs = Math.max(0, Math.round(reply.elapsedTime));
    entry.response = body.bytes();
    entry.truncated ||= body.truncated;
    options.done(entry);
  });

  return {
    usage(usage) {
      if (!usage) return;
      entry.usage = usage;
      if (usage.model) entry.model = usage.model.slice(0, 200);
    },
  };
}
