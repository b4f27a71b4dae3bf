// End users for tests, created through the real /auth/v1 routes:
//
//   const alice = await createTestUser(gh);                 // random email, strong password
//   const admin = await createTestUser(gh, { admin: true }); // role admin (group 'admin' on requests)
//   await gh.app.inject({ url: '/rest/v1/notes', headers: { apikey: gh.publishableKey, authorization: `Bearer ${alice.accessToken}` } });
//
// `publishableKey` defaults to gh.publishableKey; pass another project's key to create its users.
// Each call comes from its own documentation-range client IP, so that making many users does not
// trip the per-IP `auth` rate limit or the sign-in backoff of the tests that use it.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestApp } from './app.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export interface CreateTestUserOptions {
  email?: string;
  password?: string;
  admin?: boolean;
  /** user_metadata at sign-up. */
  data?: Record<string, unknown>;
  publishableKey?: string;
}

export async function createTestUser(gh: TestApp, options: CreateTestUserOptions = {}): Promise<TestUser> {
  const email = options.email ?? `user-${randomBytes(6).toString('hex')}@example.test`;
  const password = options.password ?? `pw-${randomBytes(12).toString('base64url')}`;
  const apikey = options.publishableKey ?? gh.publishableKey;
  const remoteAddress = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;
  const signUp = await gh.app.inject({
    method: 'POST', url: '/auth/v1/signup', headers: { apikey }, remoteAddress,
    payload: { email, password, ...(options.data ? { data: options.data } : {}) },
  });
  if (signUp.statusCode !== 200) throw new Error(`createTestUser: sign-up failed with ${signUp.statusCode}: ${signUp.body}`);
  let session = signUp.json() as { access_token: string; refresh_token: string; user: { id: string } };
  if (options.admin) {
    const secretKey = apikey === gh.publishableKey ? gh.secretKey : undefined;
    if (!secretKey) throw new Error('createTestUser: admin users can only be made in the default project');
    const grant = await gh.app.inject({
      method: 'PATCH', url: `/admin/v1/users/${session.user.id}`, headers: { apikey: secretKey }, payload: { role: 'admin' },
    });
    if (grant.statusCode !== 200) throw new Error(`createTestUser: granting admin failed with ${grant.statusCode}: ${grant.body}`);
    // A fresh sign-in so that the token's role claim says admin too (the server reads the role from the database anyway).
    const signIn = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey }, remoteAddress, payload: { email, password } });
    if (signIn.statusCode !== 200) throw new Error(`createTestUser: sign-in failed with ${signIn.statusCode}: ${signIn.body}`);
    session = signIn.json() as typeof session;
  }
  return { id: session.user.id, email, password, accessToken: session.access_token, refreshToken: session.refresh_token };
}

/**
 * Env for startTestApp that lifts the `auth` rate-limit class far out of the way, for tests
 * that sign in and refresh many times from one address (not for tests of the limits themselves).
 */
export function generousAuthLimitsEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-auth-limits-'));
  const file = join(dir, 'config.json');
  const windows = [{ limit: 1_000_000, windowMs: 60_000 }];
  writeFileSync(file, JSON.stringify({
    rateLimits: { classes: { auth: { failMode: 'closed', tiers: { guest: windows, user: windows, admin: windows } } } },
  }));
  return { GATEHOUSE_CONFIG: file };
}
