// A listening Gatehouse for realtime tests: supabase-js clients on Node 20 with `ws` as the
// WebSocket, users signed in through the real /auth routes, and helpers to wait for what a
// channel receives.
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
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
