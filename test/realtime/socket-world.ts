// A listening Gatehouse for realtime tests: supabase-js clients on Node 20 with `ws` as the
// WebSocket, users signed in through the real /auth routes, and helpers to wait for what a
// channel receives.
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { applySchema } from '../data/fixtures.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../harness/app.js';
import type { EngineName } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

export interface RealtimeWorld {
  gh: TestApp;
  /** A supabase-js client whose realtime socket carries `token` (setAuth), if given. */
  client(key: string, token?: string): SupabaseClient;
  user(options?: { admin?: boolean }): Promise<TestUser>;
  /** PUT /admin/v1/realtime with the secret key. */
  settings(body: { public_channels: boolean; rules?: unknown[] }): Promise<void>;
  close(): Promise<void>;
}

export async function startRealtimeWorld(engine: EngineName, options: Omit<TestAppOptions, 'listen'> = {}): Promise<RealtimeWorld> {
  const gh = await startTestApp(engine, { ...options, env: { ...generousAuthLimitsEnv(), ...options.env }, listen: true });
  const clients: SupabaseClient[] = [];
  return {
    gh,
    client(key, token) {
      const supabase = createClient(gh.url, key, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
        realtime: { transport: WebSocket as never, heartbeatIntervalMs: 5_000 },
      });
      if (token) void supabase.realtime.setAuth(token);
      clients.push(supabase);
      return supabase;
    },
    user: (opts) => createTestUser(gh, opts),
    async settings(body) {
      const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/realtime', headers: { apikey: gh.secretKey }, payload: { rules: [], ...body } });
      if (res.statusCode !== 200) throw new Error(`settings: ${res.statusCode} ${res.body}`);
    },
    async close() {
      for (const c of clients) await c.removeAllChannels().catch(() => {});
      for (const c of clients) c.realtime.disconnect();
      await gh.close();
    },
  };
}

/**
 * A todos table under row and column rules, for the change tests over the socket: every user
 * inserts, each reads their own rows and the public ones; `note` is the author's, `internal` the admin's.
 */
export const RULED_TODOS = {
  columns: {
    title: { type: 'text', required: true },
    done: { type: 'boolean', default: false },
    public: { type: 'boolean', default: false },
    note: { type: 'text', read: ['self', 'admin'], write: ['self', 'admin'] },
    internal: { type: 'text', read: ['admin'], write: ['admin'] },
  },
  rules: { select: ['admin', 'self', 'public == true'], insert: ['admin', 'user'], update: ['admin', 'self'], delete: ['admin', 'self'] },
};

export interface RulesWorld extends RealtimeWorld {
  alice: TestUser;
  bob: TestUser;
}

/**
 * A realtime world where rules decide what each subscriber gets: `schema` applied (if given), two
 * signed-in users, and public channels allowed so a guest can listen too.
 */
export async function startRulesWorld(engine: EngineName, schema?: unknown): Promise<RulesWorld> {
  const world = await startRealtimeWorld(engine);
  try {
    if (schema !== undefined) await applySchema(world.gh, world.gh.secretKey, schema);
    const [alice, bob] = [await world.user(), await world.user()];
    await world.settings({ public_channels: true });
    return { ...world, alice, bob };
  } catch (error) {
    await world.close();
    throw error;
  }
}

/** Subscribes and resolves with the status it ends in (SUBSCRIBED, CHANNEL_ERROR with its error, …). */
export function subscribed(channel: RealtimeChannel, timeoutMs = 5_000): Promise<{ status: string; error?: Error }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'WAIT_TIMEOUT' }), timeoutMs);
    channel.subscribe((status, error) => {
      clearTimeout(timer);
      resolve({ status, ...(error ? { error } : {}) });
    });
  });
}

/** Collects what a listener receives; `next()` waits for the next one (or rejects after a timeout). */
export function inbox<T>() {
  const items: T[] = [];
  const waiters: { resolve: (v: T) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  let read = 0;
  return {
    items,
    push(item: T) {
      items.push(item);
      const waiter = waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        read += 1;
        waiter.resolve(item);
      }
    },
    next(timeoutMs = 5_000): Promise<T> {
      if (read < items.length) return Promise.resolve(items[read++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.timer === timer);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error('inbox: nothing arrived in time'));
        }, timeoutMs);
        waiters.push({ resolve, reject, timer });
      });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plain `ws` client speaking the Phoenix frames by hand, for what supabase-js never sends. */
export interface RawSocket {
  ws: WebSocket;
  /** v2 frame [join_ref, ref, topic, event, payload] as text. */
  push(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): void;
  /** The next received frame matching `test` (earlier ones that do not match are kept). */
  next(test?: (frame: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
  /** A phx_reply to `ref`: [status, response]. */
  reply(ref: string): Promise<{ status: string; response: Record<string, unknown> }>;
  closed: Promise<{ code: number; reason: string }>;
}

export function rawSocket(url: string, options: { vsn?: string; headers?: Record<string, string> } = {}): Promise<RawSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + (url.includes('?') ? '&' : '?') + `vsn=${options.vsn ?? '2.0.0'}`, { headers: options.headers });
  const frames: unknown[][] = [];
  const waiters: { test: (f: unknown[]) => boolean; resolve: (f: unknown[]) => void }[] = [];
  ws.on('message', (data, isBinary) => {
    const frame = isBinary ? ['binary', data] : (JSON.parse(String(data)) as unknown[]);
    const i = waiters.findIndex((w) => w.test(frame));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const socket: RawSocket = {
    ws,
    closed,
    push: (joinRef, ref, topic, event, payload) => ws.send(JSON.stringify([joinRef, ref, topic, event, payload])),
    next(test = () => true, timeoutMs = 5_000) {
      const i = frames.findIndex(test);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const waiter = { test, resolve: (f: unknown[]) => { clearTimeout(timer); resolve(f); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`rawSocket: no matching frame in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async reply(ref) {
      const frame = await socket.next((f) => f[1] === ref && f[3] === 'phx_reply');
      return frame[4] as { status: string; response: Record<string, unknown> };
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('close', () => req.destroy());
      res.on('data', (c: Buffer) => { body += c; });
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}
