// Refresh-token rotation, reuse detection, sign-out scopes, session lists and
// signing-key rotation (issue #3 §3, §4), on every engine, with a frozen clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv, createTestUser } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

describe.each(engines())('sessions and signing keys (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.parse('2026-06-01T12:00:00Z');
  const advance = (ms: number) => { nowMs += ms; };

  beforeAll(async () => { gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), clock: clockAt(() => nowMs) }); });
  afterAll(async () => { await gh?.close(); });

  const refresh = (token: string) => gh.app.inject({
    method: 'POST', url: '/auth/v1/token?grant_type=refresh_token', headers: { apikey: gh.publishableKey }, payload: { refresh_token: token },
  });
  const me = (accessToken: string, apikey = gh.publishableKey) => gh.app.inject({ url: '/auth/v1/user', headers: { apikey, authorization: `Bearer ${accessToken}` } });
  const bearer = (t: string) => ({ apikey: gh.publishableKey, authorization: `Bearer ${t}` });

  it('rotates the refresh token on every use', async () => {
    const u = await createTestUser(gh);
    const first = await refresh(u.refreshToken);
    expect(first.statusCode).toBe(200);
    const second = await refresh(first.json().refresh_token);
    expect(second.statusCode).toBe(200);
    expect(new Set([u.refreshToken, first.json().refresh_token, second.json().refresh_token]).size).toBe(3);
    const rows = await gh.deps.storage.db.selectFrom('identity_refresh_tokens').select('token_hash').execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(u.refreshToken); // only hashes are stored
  });

  it('reused refresh token revokes its family', async () => {
    const u = await createTestUser(gh);
    const next = (await refresh(u.refreshToken)).json();
    advance(11_000); // past the 10 s reuse interval
    const reuse = await refresh(u.refreshToken);
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().error_code).toBe('refresh_token_already_used');
    // The thief's and the owner's tokens are all dead now.
    const child = await refresh(next.refresh_token);
    expect(child.statusCode).toBe(400);
    expect(child.json().error_code).toBe('refresh_token_not_found');
    const access = await me(next.access_token);
    expect(access.statusCode).toBe(403);
    expect(access.json().error_code).toBe('session_not_found');
    await gh.deps.events.flush();
    const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'refresh_token_reused' });
    expect(events[0]?.details).toMatchObject({ user_id: u.id });
    expect(gh.logs.join('\n')).not.toContain(u.refreshToken);
  });

  it('a concurrent refresh within the reuse interval gets a sibling, not a revocation', async () => {
    const u = await createTestUser(gh);
    const [a, b] = await Promise.all([refresh(u.refreshToken), refresh(u.refreshToken)]);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(a.json().refresh_token).not.toBe(b.json().refresh_token);
    expect((await refresh(a.json().refresh_token)).statusCode).toBe(200);
    expect((await refresh(b.json().refresh_token)).statusCode).toBe(200);
  });

  it('unknown, empty and other-project refresh tokens are refused', async () => {
    const garbage = await refresh('x'.repeat(43));
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error_code).toBe('refresh_token_not_found');
    const u = await createTestUser(gh);
    const other = await gh.createProject('refresh-other');
    const cross = await gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=refresh_token', headers: { apikey: other.publishableKey }, payload: { refresh_token: u.refreshToken } });
    expect(cross.statusCode).toBe(400);
    expect(cross.json().error_code).toBe('refresh_token_not_found');
    // The cross-project attempt did not spend the token in its own project.
    expect((await refresh(u.refreshToken)).statusCode).toBe(200);
    const missing = await gh.app.inject({ method: 'POST', url: '/auth/v1/token', headers: { apikey: gh.publishableKey }, payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error_code).toBe('unsupported_grant_type');
  });

  it('logout local ends one session, others keeps the current one, global ends all', async () => {
    const u = await createTestUser(gh);
    const signIn = () => gh.app.inject({ method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, payload: { email: u.email, password: u.password } }).then((r) => r.json());
    const s2 = await signIn();
    const s3 = await signIn();
    const local = await gh.app.inject({ method: 'POST', url: '/auth/v1/logout?scope=local', headers: bearer(u.accessToken) });
    expect(local.statusCode).toBe(204);
    expect((await me(u.accessToken)).statusCode).toBe(403);
    expect((await me(s2.access_token)).statusCode).toBe(200);
    const others = await gh.app.inject({ method: 'POST', url: '/auth/v1/logout?scope=others', headers: bearer(s2.access_token) });
    expect(others.statusCode).toBe(204);
    expect((await me(s2.access_token)).statusCode).toBe(200);
    expect((await me(s3.access_token)).statusCode).toBe(403);
    const s4 = await signIn();
    await gh.app.inject({ method: 'POST', url: '/auth/v1/logout', headers: bearer(s2.access_token) });
    expect((await me(s2.access_token)).statusCode).toBe(403);
    expect((await me(s4.access_token)).statusCode).toBe(403);
    expect((await refresh(s4.refresh_token)).json().error_code).toBe('refresh_token_not_found');
  });

  it('users list and revoke their own sessions, never another user\'s', async () => {
    const alice = await createTestUser(gh);
    const bob = await createTestUser(gh);
    const list = await gh.app.inject({ url: '/auth/v1/sessions', headers: bearer(alice.accessToken) });
    expect(list.statusCode).toBe(200);
    const sessions = list.json().sessions as Array<{ id: string; user_id: string }>;
    expect(sessions).toHaveLength(1);
    const bobs = (await gh.app.inject({ url: '/auth/v1/sessions', headers: bearer(bob.accessToken) })).json().sessions[0].id as string;
    const steal = await gh.app.inject({ method: 'DELETE', url: `/auth/v1/sessions/${bobs}`, headers: bearer(alice.accessToken) });
    expect(steal.statusCode).toBe(403);
    expect(steal.json().error_code).toBe('session_not_found');
    expect((await me(bob.accessToken)).statusCode).toBe(200);
    const own = await gh.app.inject({ method: 'DELETE', url: `/auth/v1/sessions/${sessions[0]!.id}`, headers: bearer(alice.accessToken) });
    expect(own.statusCode).toBe(204);
    expect((await me(alice.accessToken)).statusCode).toBe(403);
  });

  it('admins list and revoke sessions', async () => {
    const u = await createTestUser(gh);
    const list = await gh.app.inject({ url: `/admin/v1/users/${u.id}/sessions`, headers: { apikey: gh.secretKey } });
    expect(list.statusCode).toBe(200);
    const id = list.json().sessions[0].id as string;
    const revoke = await gh.app.inject({ method: 'POST', url: `/admin/v1/sessions/${id}/revoke`, headers: { apikey: gh.secretKey } });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toMatchObject({ id, revoked_reason: 'revoked_by_admin' });
    expect((await me(u.accessToken)).statusCode).toBe(403);
    const denied = await gh.app.inject({ url: `/admin/v1/users/${u.id}/sessions`, headers: { apikey: gh.publishableKey } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('secret_key_required');
  });

  it('a rotated signing key still verifies old tokens until they expire', async () => {
    const u = await createTestUser(gh);
    const oldKid = JSON.parse(Buffer.from(u.accessToken.split('.')[0]!, 'base64url').toString()).kid as string;
    const rotate = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/signing-keys/rotate', headers: { apikey: gh.secretKey } });
    expect(rotate.statusCode).toBe(201);
    expect(rotate.json().previous).toBe(oldKid);
    const newKid = rotate.json().kid as string;
    const fresh = (await refresh(u.refreshToken)).json();
    expect(JSON.parse(Buffer.from(fresh.access_token.split('.')[0], 'base64url').toString()).kid).toBe(newKid);
    expect((await me(u.accessToken)).statusCode).toBe(200); // old kid, still verifying
    const jwks = (await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid).sort()).toEqual([newKid, oldKid].sort());
    expect(JSON.stringify(jwks)).not.toMatch(/"d":/); // public halves only
    // Past the old token's lifetime (TTL + skew) the old key leaves the set.
    advance(3600_000 + 61_000 + 5_000);
    const keys = (await gh.app.inject({ method: 'GET', url: '/admin/v1/auth/signing-keys', headers: { apikey: gh.secretKey } })).json().keys;
    expect(keys.find((k: { kid: string }) => k.kid === oldKid).status).toBe('expired');
    const after = (await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } })).json();
    expect(after.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
    // The private key is stored sealed by the keyring, never as a JWK.
    const row = await gh.deps.storage.db.selectFrom('identity_signing_keys').select('private_jwk').where('kid', '=', newKid).executeTakeFirstOrThrow();
    expect(row.private_jwk).not.toContain('"d"');
  });
});
