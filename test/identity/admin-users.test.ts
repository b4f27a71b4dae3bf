// /admin/v1/users and friends: secret key (or admin user) of the same project environment only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';

describe.each(engines())('admin users API (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp(engine, { env: generousAuthLimitsEnv() }); });
  afterAll(async () => { await gh?.close(); });
  const asAdmin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, apikey = gh.secretKey) =>
    gh.app.inject({ method, url, headers: { apikey }, ...(payload ? { payload } : {}) });

  it('creates, lists, reads and deletes users; never shows a hash', async () => {
    const created = await asAdmin('POST', '/admin/v1/users', { email: 'Made@Example.test', password: 'made by the admin api' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const list = await asAdmin('GET', '/admin/v1/users?email=made@example.test');
    expect(list.json().users).toEqual([expect.objectContaining({ id, email: 'made@example.test', role: 'authenticated' })]);
    expect(list.body).not.toContain('argon2');
    expect((await asAdmin('GET', `/admin/v1/users/${id}`)).json().id).toBe(id);
    // The user can sign in, then deleting them ends the session at once.
    const signIn = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, payload: { email: 'made@example.test', password: 'made by the admin api' } });
    expect(signIn.statusCode).toBe(200);
    expect((await asAdmin('DELETE', `/admin/v1/users/${id}`)).statusCode).toBe(204);
    const after = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${signIn.json().access_token}` } });
    expect(after.statusCode).toBe(403);
    expect(after.json().error_code).toBe('session_not_found');
    expect((await asAdmin('GET', `/admin/v1/users/${id}`)).statusCode).toBe(404);
    const audit = await gh.deps.storage.db.selectFrom('audit_log').select('action').where('target', '=', id).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['user.create', 'user.delete']);
  });

  it('another project cannot see, change or revoke this project\'s users (404)', async () => {
    const u = await createTestUser(gh);
    const other = await gh.createProject('admin-other');
    for (const [method, url, payload] of [
      ['GET', `/admin/v1/users/${u.id}`, undefined],
      ['PATCH', `/admin/v1/users/${u.id}`, { role: 'admin' }],
      ['DELETE', `/admin/v1/users/${u.id}`, undefined],
    ] as const) {
      const res = await asAdmin(method, url, payload, other.secretKey);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await asAdmin('GET', '/admin/v1/users', undefined, other.secretKey)).json().users).toEqual([]);
    expect((await asAdmin('POST', `/admin/v1/users/${u.id}/sessions/revoke`, undefined, other.secretKey)).json()).toEqual({ revoked: 0 });
    const row = await gh.deps.storage.db.selectFrom('identity_users').select('role').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.role).toBe('authenticated');
    const me = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` } });
    expect(me.statusCode).toBe(200);
  });

  it('a publishable key alone is refused; bad ids are 400', async () => {
    const res = await asAdmin('GET', '/admin/v1/users', undefined, gh.publishableKey);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('secret_key_required');
    const bad = await asAdmin('GET', '/admin/v1/users/..%2Fkeys');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('validation_failed');
  });
});
