// No caller may create, rotate, revoke or even list a key more powerful than itself, and a key an
// admin user made lives no longer than that user's admin role (issue 11, items 1 and 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillKeyCreators } from '../../src/db/migrations/0009-api-key-creator.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

interface KeyJson { id: string; key: string; kind: string; scopes: string[] | null; created_by: string | null; status: string }

describe.each(engines())('key power on %s', (engine) => {
  let gh: TestApp;
  // No key cache: a demotion must show on the very next request (the cache bounds it to ≤ 1 s in production).
  beforeAll(async () => { gh = await startTestApp(engine, { env: { ...generousAuthLimitsEnv(), GATEHOUSE_KEY_CACHE_TTL_MS: '0' } }); });
  afterAll(async () => { await gh?.close(); });

  const asKey = (key: string) => ({ apikey: key });
  const asUser = (user: TestUser, apikey = gh.publishableKey) => ({ apikey, authorization: `Bearer ${user.accessToken}` });
  const post = (url: string, headers: Record<string, string>, payload?: object) => gh.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
  const list = async (headers: Record<string, string>) => (await gh.app.inject({ url: '/admin/v1/keys', headers })).json().keys as KeyJson[];
  const mainSecretKeyId = async () => (await list(asKey(gh.secretKey))).find((k) => k.kind === 'secret' && k.scopes === null && k.created_by === null)!.id;
  // A valid publishable key reaches /admin and is refused there (403); a dead one is refused at the door (401).
  const probe = async (key: string) => (await gh.app.inject({ url: '/admin/v1/project', headers: asKey(key) })).statusCode;
  const mintAsSecret = async (payload: object) => {
    const res = await post('/admin/v1/keys', asKey(gh.secretKey), payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as KeyJson;
  };
  const keyCount = async () => (await gh.deps.storage.db.selectFrom('api_keys').select('id').execute()).length;

  describe('an admin user', () => {
    it('cannot mint a secret key, scoped or not; nothing is stored', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const before = await keyCount();
      for (const payload of [{ kind: 'secret' }, { kind: 'secret', scopes: ['admin:users'] }]) {
        const res = await post('/admin/v1/keys', asUser(admin), payload);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ error: 'secret_key_required' });
        expect(res.body).not.toMatch(/sk_dev_/);
      }
      expect(await keyCount()).toBe(before);
    });

    it('can mint a publishable key, recorded as the user\'s', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const res = await post('/admin/v1/keys', asUser(admin), { kind: 'publishable', name: 'mobile app' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ kind: 'publishable', created_by: `user:${admin.id}`, status: 'active' });
      expect(await probe(res.json().key)).toBe(403);
      const audit = await gh.deps.storage.db.selectFrom('audit_log').selectAll().where('target', '=', res.json().id).execute();
      expect(audit).toEqual([expect.objectContaining({ action: 'api_key.create', actor: `user:${admin.id}` })]);
    });

    it('the keys it made stop working when it is demoted, and come back only with the role', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const made = (await post('/admin/v1/keys', asUser(admin), { kind: 'publishable' })).json() as KeyJson;
      expect(await probe(made.key)).toBe(403);
      const demote = await gh.app.inject({ method: 'PATCH', url: `/admin/v1/users/${admin.id}`, headers: asKey(gh.secretKey), payload: { role: 'authenticated' } });
      expect(demote.statusCode).toBe(200);
      const refused = await gh.app.inject({ url: '/admin/v1/project', headers: asKey(made.key) });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe('invalid_api_key');
      expect((await list(asKey(gh.secretKey))).find((k) => k.id === made.id)).toMatchObject({ status: 'suspended', created_by: `user:${admin.id}` });
      await gh.deps.events.flush();
      const events = await gh.deps.storage.db.selectFrom('security_events').select('details').where('type', '=', 'api_key_rejected').execute();
      expect(events.some((e) => e.details.includes('creator_lost_power'))).toBe(true);
      expect(JSON.stringify(events)).not.toContain(made.key);
      // Its power is the user's: made admin again, the user's key works again.
      await gh.app.inject({ method: 'PATCH', url: `/admin/v1/users/${admin.id}`, headers: asKey(gh.secretKey), payload: { role: 'admin' } });
      expect(await probe(made.key)).toBe(403);
    });

    it('the keys it made stop working when it is deleted', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const made = (await post('/admin/v1/keys', asUser(admin), { kind: 'publishable' })).json() as KeyJson;
      expect((await gh.app.inject({ method: 'DELETE', url: `/admin/v1/users/${admin.id}`, headers: asKey(gh.secretKey) })).statusCode).toBe(204);
      expect(await probe(made.key)).toBe(401);
    });

    it('cannot rotate any key, nor revoke a secret key; it lists and revokes publishable keys', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const mainId = await mainSecretKeyId();
      const pk = await mintAsSecret({ kind: 'publishable', name: 'to revoke' });
      for (const id of [mainId, pk.id]) {
        const rotate = await post(`/admin/v1/keys/${id}/rotate`, asUser(admin));
        expect(rotate.statusCode).toBe(403);
        expect(rotate.json().error).toBe('secret_key_required');
        expect(rotate.body).not.toMatch(/"key":/);
      }
      const revokeMain = await post(`/admin/v1/keys/${mainId}/revoke`, asUser(admin));
      expect(revokeMain.statusCode).toBe(403);
      expect(revokeMain.json().error).toBe('secret_key_required');
      expect(await probe(gh.secretKey)).toBe(200);
      const seen = await list(asUser(admin));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((k) => k.kind === 'publishable')).toBe(true);
      const revoked = await post(`/admin/v1/keys/${pk.id}/revoke`, asUser(admin));
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(await probe(pk.key)).toBe(401);
    });

    it('with a scoped publishable key, acts only within that key\'s scopes', async () => {
      const admin = await createTestUser(gh, { admin: true });
      const narrowPk = await mintAsSecret({ kind: 'publishable', scopes: ['admin:keys', 'data:notes:read'] });
      const wider = await post('/admin/v1/keys', asUser(admin, narrowPk.key), { kind: 'publishable', scopes: ['data:*:read'] });
      expect(wider.statusCode).toBe(403);
      expect(wider.json().error).toBe('insufficient_scope');
      const revokeApp = await post(`/admin/v1/keys/${(await list(asKey(gh.secretKey))).find((k) => k.kind === 'publishable' && k.created_by === null)!.id}/revoke`, asUser(admin, narrowPk.key));
      expect(revokeApp.statusCode).toBe(403);
      expect(await probe(gh.publishableKey)).toBe(403);
      const ok = await post('/admin/v1/keys', asUser(admin, narrowPk.key), { kind: 'publishable', scopes: ['data:notes:read'] });
      expect(ok.statusCode).toBe(201);
    });
  });

  describe('a key scoped to admin:keys', () => {
    it('cannot revoke the unscoped main secret key, nor a key with scopes it lacks', async () => {
      const keysOnly = await mintAsSecret({ kind: 'secret', scopes: ['admin:keys'] });
      const wider = await mintAsSecret({ kind: 'secret', scopes: ['admin:keys', 'admin:users'] });
      for (const target of [await mainSecretKeyId(), wider.id]) {
        const res = await post(`/admin/v1/keys/${target}/revoke`, asKey(keysOnly.key));
        expect(res.statusCode).toBe(403);
        expect(res.json().error).toBe('insufficient_scope');
      }
      expect(await probe(gh.secretKey)).toBe(200);
      expect((await gh.app.inject({ url: '/admin/v1/users?limit=1', headers: asKey(wider.key) })).statusCode).toBe(200);
    });

    it('does not see keys beyond its scopes, and revokes those within them', async () => {
      const keysOnly = await mintAsSecret({ kind: 'secret', scopes: ['admin:keys'] });
      const narrower = await mintAsSecret({ kind: 'secret', scopes: ['admin:keys'], name: 'ci' });
      const seen = await list(asKey(keysOnly.key));
      expect(seen.every((k) => k.scopes !== null && k.scopes.every((s) => s === 'admin:keys'))).toBe(true);
      expect(seen.map((k) => k.id)).toEqual(expect.arrayContaining([keysOnly.id, narrower.id]));
      expect(seen.map((k) => k.id)).not.toContain(await mainSecretKeyId());
      const res = await post(`/admin/v1/keys/${narrower.id}/revoke`, asKey(keysOnly.key));
      expect(res.statusCode, res.body).toBe(200);
      expect((await gh.app.inject({ url: '/admin/v1/keys', headers: asKey(narrower.key) })).statusCode).toBe(401);
    });

    it('an unknown key id is 404, as before', async () => {
      const keysOnly = await mintAsSecret({ kind: 'secret', scopes: ['admin:keys'] });
      const res = await post('/admin/v1/keys/key_aaaaaaaaaaaaaaaaaaaa/revoke', asKey(keysOnly.key));
      expect(res.statusCode).toBe(404);
    });
  });

  it('a secret key records itself as the creator; its successor is the rotator\'s', async () => {
    const made = await mintAsSecret({ kind: 'publishable' });
    const mainId = await mainSecretKeyId();
    expect(made.created_by).toBe(`key:${mainId}`);
    const rotator = await mintAsSecret({ kind: 'secret', name: 'rotator' });
    const rotated = await post(`/admin/v1/keys/${made.id}/rotate`, asKey(rotator.key));
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json().created_by).toBe(`key:${rotator.id}`);
  });

  it('keys minted by admin users before the fix are tied to them by the audit log: a secret one counts for nothing', async () => {
    const admin = await createTestUser(gh, { admin: true });
    // What the old code let an admin user do: an unscoped secret key, its creation audited under the user.
    const minted = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'dev', kind: 'secret', name: 'minted by a user' });
    await gh.deps.audit.write({ projectId: gh.project.id, environment: 'dev', actor: `user:${admin.id}`, action: 'api_key.create', target: minted.summary.id, details: { kind: 'secret', scopes: null } });
    expect(await probe(minted.key)).toBe(200);
    await backfillKeyCreators(gh.deps.storage.db);
    expect(await probe(minted.key)).toBe(401);
    expect(await probe(gh.secretKey)).toBe(200);
  });
});
