// Shared set-up for the change-feed tests: callers built exactly as the identify stage builds them
// (a verified key, a verified user token), subscribers that collect what the feed delivers, and
// Data API requests through the real HTTP app.
import { createCaller, type Caller } from '../../src/access/index.js';
import type { ChangePayload, ChangeSpec, ChangeSubscriber } from '../../src/realtime/index.js';
import type { TestApp } from '../harness/app.js';

export async function callerFor(gh: TestApp, key: string, accessToken?: string): Promise<Caller> {
  const verified = await gh.deps.apiKeys.verify(key);
  const user = accessToken ? await gh.deps.identity.userTokens.verify(verified.projectId, verified.environment, accessToken) : null;
  return createCaller(verified, user);
}

export interface Collector {
  events: ChangePayload[];
  unsubscribe(): void;
  /** Resolves once `n` events arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<ChangePayload[]>;
}

export async function collect(gh: TestApp, caller: Caller, spec: ChangeSpec): Promise<Collector> {
  const events: ChangePayload[] = [];
  const waiters: Array<() => void> = [];
  const sub: ChangeSubscriber = {
    environment: { projectId: caller.projectId, environment: caller.environment },
    caller: () => caller,
    deliver(payload) {
      events.push(payload);
      for (const w of waiters.splice(0)) w();
    },
  };
  const { unsubscribe } = await gh.deps.realtime.feed.subscribe(sub, spec);
  return {
    events,
    unsubscribe,
    waitFor(n, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${n} events, got ${events.length}: ${JSON.stringify(events)}`)), ms);
        const check = () => {
          if (events.length >= n) {
            clearTimeout(timer);
            resolve(events.slice());
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/**
 * Every event the feed had to deliver has been: a marker row written after the others, seen by
 * an admin subscriber, proves the changes before it were handled (one table, commit order).
 */
export async function settle(gh: TestApp, table: string, secretKey: string, marker: Record<string, unknown>): Promise<void> {
  const admin = await collect(gh, await callerFor(gh, secretKey), { event: 'INSERT', table });
  try {
    await rest(gh, 'POST', `/rest/v1/${table}`, { apikey: secretKey }, marker);
    await admin.waitFor(1);
    // Every subscriber of the table is handled in the same pass as the admin's: one more turn of the loop.
    await new Promise((r) => setImmediate(r));
  } finally {
    admin.unsubscribe();
  }
}

export async function rest(gh: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: { apikey: string; token?: string; accept?: string }, payload?: unknown) {
  const res = await gh.app.inject({
    method, url, payload: payload as never,
    headers: {
      apikey: headers.apikey,
      ...(headers.token ? { authorization: `Bearer ${headers.token}` } : {}),
      ...(headers.accept ? { accept: headers.accept } : {}),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      prefer: 'return=representation',
    },
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}
