// The user-token stage's contract for the other features (issue #3, priority 1):
// request.caller.user and group, admin users, and what a missing token leaves alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';

describe.each(engines())('caller.user and group (%s)', (engine) => {
  let gh: TestApp;
  // Real time plus what a test skips ahead: caches age on this clock, so no test sleeps for them.
  let shiftMs = 0;
  const clock = clockAt(() => Date.now() + shiftMs);
  beforeAll(async () => { gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), clock }); });
  afterAll(async () => { await gh?.close(); });

  // The admin API tells groups apart: 200 for admin callers, 403 secret_key_required otherwise.
  const whoami = (headers: Record<string, string>) => gh.app.inject({ url: '/admin/v1/users?limit=1', headers });

  it('a user token makes the caller a user: admin routes refuse it', async () => {
    const u = await createTestUser(gh);
    const res = await whoami({ apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('secret_key_required');
  });

  it('an admin user counts as admin (with a publishable key)', async () => {
    const admin = await createTestUser(gh, { admin: true });
    const res = await whoami({ apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` });
    expect(res.statusCode, res.body).toBe(200);
    const payload = JSON.parse(Buffer.from(admin.accessToken.split('.')[1]!, 'base64url').toString());
    expect(payload.role).toBe('admin');
  });

  it('demoting an admin takes effect at once, not when the token expires', async () => {
    const admin = await createTestUser(gh, { admin: true });
    // Warm this instance's session cache first: the demotion must evict it.
    expect((await whoami({ apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` })).statusCode).toBe(200);
    const demote = await gh.app.inject({ method: 'PATCH', url: `/admin/v1/users/${admin.id}`, headers: { apikey: gh.secretKey }, payload: { role: 'authenticated' } });
    expect(demote.statusCode).toBe(200);
    const res = await whoami({ apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` });
    expect(res.statusCode).toBe(403);
  });

  it('a sign-out or a demotion made on another instance applies here within one second, warm cache or not', async () => {
    const second = await startTestApp(engine, { env: generousAuthLimitsEnv(), clock, database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir } });
    try {
      const admin = await createTestUser(gh, { admin: true });
      const user = await createTestUser(gh);
      const asAdmin = { apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` };
      const asUser = { apikey: gh.publishableKey, authorization: `Bearer ${user.accessToken}` };
      // Warm both caches on this instance.
      expect((await whoami(asAdmin)).statusCode).toBe(200);
      expect((await gh.app.inject({ url: '/auth/v1/user', headers: asUser })).statusCode).toBe(200);
      // Changed on the other instance.
      expect((await second.app.inject({ method: 'PATCH', url: `/admin/v1/users/${admin.id}`, headers: { apikey: gh.secretKey }, payload: { role: 'authenticated' } })).statusCode).toBe(200);
      expect((await second.app.inject({ method: 'POST', url: '/auth/v1/logout', headers: asUser })).statusCode).toBe(204);
      // One second later on the shared clock, whatever this instance had cached has expired.
      shiftMs += 1000;
      expect((await whoami(asAdmin)).statusCode).toBe(403);
      expect((await gh.app.inject({ url: '/auth/v1/user', headers: asUser })).statusCode).toBe(403);
    } finally {
      await second.close();
    }
  });

  it('only a secret key grants the admin role, not an admin user', async () => {
    const admin = await createTestUser(gh, { admin: true });
    const target = await createTestUser(gh);
    const res = await gh.app.inject({
      method: 'PATCH', url: `/admin/v1/users/${target.id}`, headers: { apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` }, payload: { role: 'admin' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('secret_key_required');
    const row = await gh.deps.storage.db.selectFrom('identity_users').select('role').where('id', '=', target.id).executeTakeFirstOrThrow();
    expect(row.role).toBe('authenticated');
  });

  it('a secret key stays admin with a user token riding along', async () => {
    const u = await createTestUser(gh);
    const res = await whoami({ apikey: gh.secretKey, authorization: `Bearer ${u.accessToken}` });
    expect(res.statusCode).toBe(200);
  });

  it('no token leaves the caller as it was (guest with a publishable key)', async () => {
    const guest = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey } });
    expect(guest.statusCode).toBe(401);
    expect(guest.json().error_code).toBe('no_authorization');
    const secret = await whoami({ apikey: gh.secretKey });
    expect(secret.statusCode).toBe(200);
  });

  it('a bearer that is an API key is not treated as a user token', async () => {
    const res = await whoami({ authorization: `Bearer ${gh.secretKey}` });
    expect(res.statusCode).toBe(200);
  });

  it('an external-style token from an unconfigured issuer is 401, not a guest', async () => {
    const res = await whoami({ apikey: gh.secretKey, authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token', details: { reason: 'wrong_issuer' } });
  });
});
