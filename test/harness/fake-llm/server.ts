// A fake LLM upstream speaking the OpenAI, Anthropic and Gemini wire formats
// (JSON, SSE streaming with usage in the final chunk, multipart file uploads,
// assistants/threads/runs, vector stores). One server, one prefix per format:
//   <url>/openai/v1/...   <url>/anthropic/v1/...   <url>/gemini/v1beta/...
// Every request is recorded (tests assert that a refused request never
// arrived), and modes make it stall or fail for the timeout and fault tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleAnthropic } from './anthropic.js';
import { echoCredentials, type EchoMode } from './echo.js';
import { handleGemini } from './gemini.js';
import { forgetOpenAiObject, handleOpenAi } from './openai.js';

export const FAKE_KEYS = { openai: 'sk-fake-openai-0123456789', anthropic: 'sk-ant-fake-0123456789', gemini: 'AIzaFakeGemini0123456789' } as const;

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface FakeMode {
  /** Never send response headers (header timeout). */
  stallHeaders?: boolean;
  /** Send headers and one event, then go silent (body idle timeout, client disconnects). */
  stallBody?: boolean;
  /** Send headers and the first half of the first event, then go silent (a proxy must not hold a partial event back). */
  stallMidEvent?: boolean;
  /** Answer every request with this status and a provider-shaped error. */
  failStatus?: number;
  /** Destroy the socket without answering (connection reset). */
  reset?: boolean;
  /** Milliseconds between streamed chunks. */
  chunkDelayMs?: number;
  /** Content chunks per streamed answer. */
  streamChunks?: number;
  /** Gemini: answer a resumable start with this X-Goog-Upload-URL instead of our own (a forged URL). */
  geminiUploadUrl?: string;
  /** OpenAI: answer 429 with a rate-limit message that names the organization and project (as OpenAI's does). */
  orgRateLimit?: boolean;
  /** Answer every request by sending its credentials back, in the body or headers (echo.ts). */
  echoCredentials?: EchoMode;
}

export interface FakeLlm {
  url: string;
  requests: RecordedRequest[];
  mode: FakeMode;
  /** Requests whose client went away before the response ended. */
  aborted: number;
  /** Requests whose body was cut short: never handled, not in `requests`. */
  incomplete: number;
  /** Requests open now: arrived, response not yet closed (a held stream counts until it ends). */
  inFlight: number;
  /** The most requests open at once since the last reset (what a connection cap must bound). */
  maxInFlight: number;
  /** Resolves when `aborted` reaches n (or rejects after timeoutMs). */
  waitForAborted(n: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  /** OpenAI: the provider no longer has this object (deleted, expired). */
  forget(id: string): void;
  close(): Promise<void>;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer;
  mode: FakeMode;
  /** Parsed JSON body, or undefined. */
  json: any;
}

function ctxOf(req: IncomingMessage, res: ServerResponse, body: Buffer, mode: FakeMode): Ctx {
  const url = new URL(req.url ?? '/', 'http://fake');
  return { req, res, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, mode, json: undefined };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'openai-organization': 'org-secret-name', 'x-ratelimit-limit-requests': '10000' });
  res.end(text);
}

/** Writes SSE events with an optional delay; stops early if the client leaves. */
export async function sendEvents(ctx: Ctx, events: Array<{ event?: string; data: string }>): Promise<void> {
  ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [i, e] of events.entries()) {
    if (ctx.res.destroyed) return;
    const text = `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`;
    if (ctx.mode.stallMidEvent && i === 0) return void ctx.res.write(text.slice(0, Math.floor(text.length / 2)));
    ctx.res.write(text);
    if (ctx.mode.stallBody && i === 0) return; // silence: the proxy's idle timeout or the client must end it
    if (ctx.mode.chunkDelayMs) await new Promise((r) => setTimeout(r, ctx.mode.chunkDelayMs));
  }
  ctx.res.end();
}

export async function startFakeLlm(): Promise<FakeLlm> {
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  const fake: FakeLlm = {
    url: '',
    requests: [],
    mode: {},
    aborted: 0,
    incomplete: 0,
    inFlight: 0,
    maxInFlight: 0,
    waitForAborted(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`upstream saw ${fake.aborted} aborted requests, wanted ${n}`)), timeoutMs);
        const check = () => {
          if (fake.aborted >= n) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
    reset() {
      fake.requests.length = 0;
      fake.mode = {};
      fake.aborted = 0;
      fake.incomplete = 0;
      fake.maxInFlight = fake.inFlight; // requests still open from before count on
    },
    forget: forgetOpenAiObject,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server = createServer(async (req, res) => {
    fake.inFlight++;
    fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
    res.on('close', () => fake.inFlight--);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // The client cut the body short (Gatehouse refusing an upload mid-stream): no request arrived.
      fake.incomplete++;
      return;
    }
    const body = Buffer.concat(chunks);
    fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.on('close', () => {
      if (!res.writableFinished) {
        fake.aborted++;
        waiters.splice(0).forEach((w) => w());
      }
    });
    const mode = fake.mode;
    if (mode.reset) return req.socket.destroy();
    if (mode.stallHeaders) return; // never answers
    if (mode.echoCredentials) return echoCredentials(ctxOf(req, res, body, mode), mode.echoCredentials);
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, prefix, ...rest] = url.pathname.split('/');
    const ctxBase = { req, res, method: req.method ?? 'GET', path: `/${rest.join('/')}`, query: url.searchParams, body, mode };
    let json: unknown;
    // Gemini upload chunks are file bytes whatever their Content-Type says (@google/genai sends application/json).
    if (String(req.headers['content-type'] ?? '').includes('json') && body.length > 0 && !url.searchParams.has('upload_id')) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: { message: 'bad json', type: 'invalid_request_error' } });
      }
    }
    const ctx: Ctx = { ...ctxBase, json };
    try {
      if (prefix === 'openai') return await handleOpenAi(ctx);
      if (prefix === 'anthropic') return await handleAnthropic(ctx);
      if (prefix === 'gemini') return await handleGemini(ctx);
      sendJson(res, 404, { error: { message: 'unknown prefix' } });
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

let counter = 0;
export function fakeId(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(4, '0')}`;
}

/** Minimal multipart/form-data reader: fields and files, bytes untouched. */
export function readMultipart(ctx: Ctx): Map<string, { filename?: string; contentType?: string; data: Buffer }> {
  const type = String(ctx.req.headers['content-type'] ?? '');
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  const parts = new Map<string, { filename?: string; contentType?: string; data: Buffer }>();
  if (!m) return parts;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  let pos = ctx.body.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (ctx.body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = ctx.body.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const head = ctx.body.subarray(start + 2, headerEnd).toString('utf8');
    const next = ctx.body.indexOf(boundary, headerEnd);
    if (next === -1) break;
    const data = ctx.body.subarray(headerEnd + 4, next - 2);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    const contentType = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    parts.set(name, { filename, contentType, data: Buffer.from(data) });
    pos = next;
  }
  return parts;
}
