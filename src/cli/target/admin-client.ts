// A small client of a running server's admin API (/admin/v1), for the CLI's remote mode. It holds
// a secret key, so it is careful where the key goes: plain http only to this machine unless told,
// no redirect followed (fetch would carry the apikey header to wherever a redirect points), and
// the key itself never in a message.
import type { fetch as undiciFetch } from 'undici';
import { loadUndici } from '../../shared/load-undici.js';
import { CliUsageError } from '../usage-error.js';

/** ms to wait for one answer: a schema apply on a large table can take a while. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The server answered with an error (its JSON error, in plain words), or could not be reached. */
export class RemoteError extends Error {
  constructor(message: string, readonly status: number | null = null, readonly code: string | null = null, readonly requestId: string | null = null) {
    super(message);
    this.name = 'RemoteError';
  }

  /** One line that helps find the request in the server's logs. */
  get trace(): string | null {
    if (this.status === null) return null;
    return `(HTTP ${this.status}${this.code ? ` ${this.code}` : ''}${this.requestId ? `, request id ${this.requestId}` : ''})`;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AdminClient {
  /** Where the client points, for messages (no credentials: a URL with them is refused). */
  readonly origin: string;
  call<T>(method: Method, path: string, options?: { body?: unknown; query?: Record<string, string | number | undefined> }): Promise<T>;
  /** GET of a JSON-lines document (the audit export), one line at a time. */
  lines(path: string): AsyncGenerator<string>;
  /** Closes the connections: an idle keep-alive socket would hold the command open for seconds. */
  close(): Promise<void>;
}

export interface AdminClientOptions {
  url: URL;
  secretKey: string;
  timeoutMs?: number;
}

const isLoopback = (host: string) =>
  host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]';

/**
 * Checks --url / GATEHOUSE_URL. Plain http to another machine would send the secret key in the
 * clear, so it needs --allow-http (a private network the operator vouches for).
 */
export function parseServerUrl(text: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError('--url (GATEHOUSE_URL) must be an absolute URL such as https://gatehouse.example.com.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliUsageError('--url (GATEHOUSE_URL) must start with https:// or http://.');
  if (url.username || url.password) throw new CliUsageError('--url (GATEHOUSE_URL) must not hold credentials: the secret key goes in GATEHOUSE_SECRET_KEY or --secret-key-file.');
  if (url.search || url.hash) throw new CliUsageError('--url (GATEHOUSE_URL) is the server\'s base URL, without a query or fragment.');
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !allowHttp) {
    throw new CliUsageError(`--url ${url.origin} is plain http: the secret key would cross the network unencrypted. Use https, or add --allow-http on a private network you trust.`);
  }
  return url;
}

/** Server text can hold anything: keep terminal control characters out of what we print. */
const printable = (text: string) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?').slice(0, 2000);

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the server running there?)';
  if (cause?.code === 'ENOTFOUND') return 'no such host';
  return cause?.message ?? (error as Error).message ?? String(error);
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  // undici loads when the CLI first talks to a server, not with every command or `gatehouse start`
  // (which shares this entry point; issue 18, start-up).
  const client = loadUndici().then(({ Agent, fetch }) => ({ dispatcher: new Agent(), fetch }));
  client.catch(() => undefined); // a failure is reported by the first request that awaits it
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const base = options.url.href.replace(/\/+$/, '');
  const origin = options.url.origin;

  async function send(method: Method, path: string, body: unknown, query: Record<string, string | number | undefined> | undefined, accept = 'application/json', signal: AbortSignal = AbortSignal.timeout(timeoutMs)) {
    const target = new URL(`${base}/admin/v1${path}`);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) target.searchParams.set(name, String(value));
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      const { dispatcher, fetch } = await client;
      response = await fetch(target, {
        dispatcher,
        method,
        headers: { apikey: options.secretKey, accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new RemoteError(`cannot reach ${origin}: ${reasonOf(error)}`);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      throw new RemoteError(`${origin} answered with a redirect${location ? ` to ${printable(location)}` : ''}; the secret key is not sent on. Give the final address with --url.`, response.status);
    }
    return response;
  }
  const errorOf = (status: number, json: unknown) => {
    const e = (json ?? {}) as { error?: unknown; message?: unknown; request_id?: unknown };
    const message = typeof e.message === 'string' ? printable(e.message) : `${origin} answered HTTP ${status} without a Gatehouse error: is it a Gatehouse server?`;
    return new RemoteError(message, status, typeof e.error === 'string' ? printable(e.error) : null, typeof e.request_id === 'string' ? printable(e.request_id) : null);
  };

  return {
    origin,
    async call<T>(method: Method, path: string, { body, query }: { body?: unknown; query?: Record<string, string | number | undefined> } = {}): Promise<T> {
      const response = await send(method, path, body, query);
      const json = parseJson(await response.text());
      if (!response.ok) throw errorOf(response.status, json);
      if (json === undefined && response.status !== 204) throw new RemoteError(`${origin} did not answer with JSON: is it a Gatehouse server?`, response.status);
      return json as T;
    },
    async *lines(path: string): AsyncGenerator<string> {
      // An export may stream for longer than one call may take: here the timeout covers the answer's start only.
      const start = new AbortController();
      const timer = setTimeout(() => start.abort(new DOMException('no answer in time', 'TimeoutError')), timeoutMs);
      const response = await send('GET', path, undefined, undefined, 'application/x-ndjson', start.signal).finally(() => clearTimeout(timer));
      if (!response.ok) throw errorOf(response.status, parseJson(await response.text()));
      // A long export is read as it arrives, a line at a time, never whole.
      let pending = '';
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) if (line !== '') yield line;
      }
      if (pending !== '') yield pending;
    },
    close: async () => (await client).dispatcher.close(),
  };
}
