// Shared set-up for the Data API tests: a todo schema with row rules and
// column rules, applied through the admin API, and supabase-js clients.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestApp } from '../harness/app.js';

/** Rate limits out of the way (these tests send hundreds of requests a minute from one address). */
export function generousLimitsEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-data-limits-'));
  const file = join(dir, 'config.json');
  const windows = [{ limit: 1_000_000, windowMs: 60_000 }];
  const tiers = { guest: windows, user: windows, admin: windows };
  const classes = Object.fromEntries(['auth', 'llm', 'data_read', 'data_write', 'admin', 'default'].map((c) => [c, { failMode: 'closed', tiers }]));
  writeFileSync(file, JSON.stringify({ rateLimits: { classes, address: { failMode: 'open', windows } } }));
  return { GATEHOUSE_CONFIG: file };
}

export const TODO_SCHEMA = {
  tables: {
    lists: {
      columns: { name: { type: 'text', required: true } },
      rules: { select: ['admin', 'self'], insert: ['user', 'admin'], update: ['self'], delete: ['self', 'admin'] },
    },
    todos: {
      columns: {
        title: { type: 'text', required: true, max_length: 200 },
        done: { type: 'boolean', default: false },
        public: { type: 'boolean', default: false },
        /** Private note: only its author (and admins) read or write it. */
        note: { type: 'text', read: ['self', 'admin'], write: ['self', 'admin'] },
        /** Everyone may read it; only admins set it. */
        priority: { type: 'integer', read: ['admin', 'user', 'guest'], write: ['admin'] },
        due: { type: 'timestamp' },
        meta: { type: 'json' },
        list_id: { type: 'reference', table: 'lists', on_delete: 'cascade' },
      },
      rules: {
        select: ['admin', 'self', 'public == true'],
        insert: ['admin', 'user'],
        update: ['admin', 'self'],
        delete: ['admin', 'self'],
      },
    },
  },
};

export async function applySchema(gh: TestApp, secretKey: string, schema: unknown = TODO_SCHEMA, extra: Record<string, unknown> = {}) {
  const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/schema', headers: { apikey: secretKey }, payload: { schema, ...extra } });
  if (res.statusCode !== 200) throw new Error(`schema apply failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

// Node 20 has no global WebSocket and realtime is not used: a stand-in transport
// keeps supabase-js from refusing to construct (it never opens a socket unless subscribed).
class NoWebSocket {
  constructor() {
    throw new Error('realtime is not used in these tests');
  }
}

export function client(gh: TestApp, key: string, accessToken?: string): SupabaseClient {
  return createClient(gh.url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as never },
    global: accessToken ? { headers: { Authorization: `Bearer ${accessToken}` } } : {},
  });
}
