// No admin caller grants, or takes for itself, power beyond its own (issue 11, review of every admin
// route): an admin user (a publishable key plus an admin's token) or a scoped secret key may not
// grant the admin role, read live sign-in codes, trust a new issuer, or lift the limits it is under.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

describe.each(engines())('admin power is bounded by the caller\'s own (%s)', (engine) => {
  let gh: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousAuthLimitsEnv() });
    admin = await createTestUser(gh, { admin: true });
  });
  afterAll(async () => { await gh?.close(); });

  type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  const call = (method: Method, url: string, headers: Record<string, string>, payload?: object) =>
    gh.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const asAdminUser = () => ({ apikey: gh.publishableKey, authorization: `Bearer ${admin.accessToken}` });
  const asSecret = () => ({ apikey: gh.secretKey });
  const scopedKey = async (scopes: string[]) => {
    const res = await call('POST', '/admin/v1/keys', asSecret(), { kind: 'secret', scopes });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; key: string };
  };
  const roleOf = async (id: string) => (await call('GET', `/admin/v1/users/${id}`, asSecret())).json().role as string;

  describe('granting the admin role', () => {
    it('a key scoped to admin:users cannot make a user admin, by PATCH or by creating one', async () => {
      const { key } = await scopedKey(['admin:users']);
      const target = await createTestUser(gh);
      const patch = await call('PATCH', `/admin/v1/users/${target.id}`, { apikey: key }, { role: 'admin' });
      expect(patch.statusCode).toBe(403);
      expect(patch.json()).toMatchObject({ error: 'insufficient_scope', details: { required_scope: '*' } });
      expect(await roleOf(target.id)).toBe('authenticated');
      const create = await call('POST', '/admin/v1/users', { apikey: key }, { email: 'would-be-admin@example.test', password: 'a long enough passphrase', role: 'admin' });
      expect(create.statusCode).toBe(403);
      expect((await call('GET', '/admin/v1/users?email=would-be-admin@example.test', asSecret())).json().users).toEqual([]);
    });

    it('it still demotes and creates ordinary users; an unscoped secret key grants admin', async () => {
      const { key } = await scopedKey(['admin:users']);
      const target = await createTestUser(gh);
      expect((await call('PATCH', `/admin/v1/users/${target.id}`, asSecret(), { role: 'admin' })).statusCode).toBe(200);
      expect((await call('PATCH', `/admin/v1/users/${target.id}`, { apikey: key }, { role: 'authenticated' })).statusCode).toBe(200);
      expect(await roleOf(target.id)).toBe('authenticated');
      expect((await call('POST', '/admin/v1/users', { apikey: key }, { email: 'plain@example.test', password: 'a long enough passphrase' })).statusCode).toBe(201);
    });
  });

  it('a key scoped to admin:auth cannot read the outbox (live codes would take over an admin\'s account)', async () => {
    const { key } = await scopedKey(['admin:auth']);
    await call('POST', '/auth/v1/recover', { apikey: gh.publishableKey }, { email: admin.email });
    const res = await call('GET', '/admin/v1/auth/outbox', { apikey: key });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'insufficient_scope', details: { required_scope: '*' } });
    expect(res.body).not.toContain(admin.email);
    // The rest of admin:auth still works for it, and the unscoped key reads the outbox.
    expect((await call('GET', '/admin/v1/auth/settings', { apikey: key })).statusCode).toBe(200);
    const outbox = await call('GET', `/admin/v1/auth/outbox?to=${encodeURIComponent(admin.email)}`, asSecret());
    expect(outbox.statusCode).toBe(200);
    expect(outbox.json().messages.length).toBeGreaterThan(0);
  });

  it('an admin user cannot trust a new issuer (a token factory that would outlive its role)', async () => {
    const issuer = { kind: 'supabase', issuer: 'https://attacker.example/auth/v1', hmac_secret: 'attacker-controlled-hmac-secret-000' };
    const res = await call('POST', '/admin/v1/auth/issuers', asAdminUser(), issuer);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('secret_key_required');
    expect(res.body).not.toContain(issuer.hmac_secret);
    const listed = await call('GET', '/admin/v1/auth/issuers', asAdminUser());
    expect(listed.statusCode).toBe(200);
    expect(listed.json().issuers).toEqual([]);
    const { key } = await scopedKey(['admin:auth']);
    const bySecret = await call('POST', '/admin/v1/auth/issuers', { apikey: key }, issuer);
    expect(bySecret.statusCode, bySecret.body).toBe(201);
    expect((await call('DELETE', `/admin/v1/auth/issuers/${bySecret.json().id}`, asAdminUser())).statusCode).toBe(204);
  });

  describe('rate limits and quotas', () => {
    const lifted = { default: [{ limit: 1_000_000, windowMs: 1000 }] };

    it('an admin user cannot lift its own limits: no override, no policy change; it may read them', async () => {
      for (const [method, url, payload] of [
        ['PUT', `/admin/v1/limits/overrides/user:${admin.id}`, lifted],
        ['DELETE', `/admin/v1/limits/overrides/user:${admin.id}`, undefined],
        ['PUT', '/admin/v1/limits/policy', { default: { tiers: { admin: [{ limit: 1_000_000, windowMs: 1000 }] } } }],
        ['DELETE', '/admin/v1/limits/policy', undefined],
      ] as const) {
        const res = await call(method, url, asAdminUser(), payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().error).toBe('secret_key_required');
      }
      const view = await call('GET', '/admin/v1/limits', asAdminUser());
      expect(view.statusCode).toBe(200);
      expect(view.json()).toMatchObject({ policy: null, overrides: [] });
    });

    it('a key scoped to admin:limits cannot touch its own override or the policy; it sets others\' overrides', async () => {
      const self = await scopedKey(['admin:limits']);
      const own = await call('PUT', `/admin/v1/limits/overrides/key:${self.id}`, { apikey: self.key }, lifted);
      expect(own.statusCode).toBe(403);
      expect(own.json().error).toBe('forbidden');
      const policy = await call('PUT', '/admin/v1/limits/policy', { apikey: self.key }, { default: { tiers: { admin: [{ limit: 1_000_000, windowMs: 1000 }] } } });
      expect(policy.statusCode).toBe(403);
      expect(policy.json()).toMatchObject({ error: 'insufficient_scope', details: { required_scope: '*' } });
      expect((await call('GET', '/admin/v1/limits', asSecret())).json()).toMatchObject({ policy: null, overrides: [] });
      const other = await createTestUser(gh);
      expect((await call('PUT', `/admin/v1/limits/overrides/user:${other.id}`, { apikey: self.key }, lifted)).statusCode).toBe(200);
      expect((await call('DELETE', `/admin/v1/limits/overrides/user:${other.id}`, { apikey: self.key })).statusCode).toBe(204);
      // The operator's own unscoped key may set its own override.
      const mainId = (await call('GET', '/admin/v1/keys', asSecret())).json().keys.find((k: { kind: string; scopes: unknown; created_by: unknown }) => k.kind === 'secret' && k.scopes === null && k.created_by === null).id;
      expect((await call('PUT', `/admin/v1/limits/overrides/key:${mainId}`, asSecret(), lifted)).statusCode).toBe(200);
      expect((await call('DELETE', `/admin/v1/limits/overrides/key:${mainId}`, asSecret())).statusCode).toBe(204);
    });

    it('an admin user cannot lift the token quotas it is itself under; it may read them', async () => {
      expect((await call('PUT', '/admin/v1/llm/quotas', asSecret(), { tokens_per_day: 10, tokens_per_month: null })).statusCode).toBe(200);
      const res = await call('PUT', '/admin/v1/llm/quotas', asAdminUser(), { tokens_per_day: null, tokens_per_month: null });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('secret_key_required');
      const read = await call('GET', '/admin/v1/llm/quotas', asAdminUser());
      expect(read.json()).toEqual({ tokens_per_day: 10, tokens_per_month: null });
    });
  });
});
