// A listening Gatehouse for supabase.storage tests: an admin client (secret key), users with
// their own clients, and a guest client (publishable key only).
import type { SupabaseClient } from '@supabase/supabase-js';
import { client as clientFor } from '../data/fixtures.js';
import { clockAt } from '../../src/shared/clock.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../harness/app.js';
import type { EngineName } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

export interface StorageWorld {
  gh: TestApp;
  admin: SupabaseClient;
  guest: SupabaseClient;
  /** The server's clock, frozen until a test moves it. */
  clock: { nowMs: number };
  user(): Promise<{ user: TestUser; client: SupabaseClient }>;
  storageUrl: string;
  close(): Promise<void>;
}

export async function startStorageWorld(engine: EngineName, options: { env?: Record<string, string> } & Omit<TestAppOptions, 'env' | 'listen' | 'clock'> = {}): Promise<StorageWorld> {
  const clock = { nowMs: Date.parse('2026-06-01T12:00:00Z') };
  const gh = await startTestApp(engine, { ...options, env: { ...generousAuthLimitsEnv(), ...options.env }, listen: true, clock: clockAt(() => clock.nowMs) });
  return {
    gh,
    clock,
    admin: clientFor(gh, gh.secretKey),
    guest: clientFor(gh, gh.publishableKey),
    storageUrl: `${gh.url}/storage/v1`,
    async user() {
      const user = await createTestUser(gh);
      return { user, client: clientFor(gh, gh.publishableKey, user.accessToken) };
    },
    close: () => gh.close(),
  };
}
