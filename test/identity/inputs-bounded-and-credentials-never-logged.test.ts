// Security review of issue #3: input bounds before any expensive work, email
// normalisation across accounts and backoff, metadata growth, tokens of another
// environment, and secrets kept out of logs and security events.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';
import { MAX_METADATA_BYTES } from '../../src/identity/accounts/service.js';

describe.each(engines())('identity hardening (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine, {
      env: {
        ...generousAuthLimitsEnv(), GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '2', GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT_ALL_ADDRESSES: '2',
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_IP: '1000',
      },
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gh?.close();
  });

  const post = (url: string, payload: unknown, remoteAddress = '203.0.113.7', headers: Record<string, string> = {}) =>
    gh.app.inject({ method: 'POST', url, headers: { apikey: gh.publishableKey, ...headers }, remoteAddress, payload: payload as object });
  const usersNamed = (email: string) => gh.deps.storage.db.selectFrom('identity_users').select('id').where('project_id', '=', gh.project.id).where('email', '=', email).execute();
  const allEvents = async () => {
    await gh.deps.events.flush();
    return JSON.stringify(await gh.deps.events.list(gh.project.id, 'dev', { limit: 1000 }));
  };

  it('an over-long password at sign-in is refused without being hashed', async () => {
    const u = await createTestUser(gh);
    const verify = vi.spyOn(gh.deps.identity.hasher, 'verify');
    const hash = vi.spyOn(gh.deps.identity.hasher, 'hash');
    const long = `${u.password}${'y'.repeat(1100)}`;
    const res = await post('/auth/v1/token?grant_type=password', { email: u.email, password: long }, '203.0.113.21');
    expect(res.statusCode).toBe(400);
    expect(res.json().error_code).toBe('invalid_credentials');
    expect(verify).not.toHaveBeenCalled();
    expect(hash).not.toHaveBeenCalled();
    // Still a failed sign-in: an event, and no session was made.
    await gh.deps.events.flush();
    const failed = await gh.deps.events.list(gh.project.id, 'dev', { type: 'sign_in_failed', limit: 1 });
    expect(failed[0]?.details).toMatchObject({ reason: 'password_too_long' });
    const sessions = await gh.deps.storage.db.selectFrom('identity_sessions').select('id').where('user_id', '=', u.id).execute();
    expect(sessions).toHaveLength(1); // the sign-up's only
    // Control: the exact maximum is verified normally (and is simply wrong here).
    const atMax = await post('/auth/v1/token?grant_type=password', { email: u.email, password: 'z'.repeat(1024) }, '203.0.113.22');
    expect(atMax.json().error_code).toBe('invalid_credentials');
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();
    hash.mockRestore();
  });

  it('a 1 MB password at sign-up is refused before hashing and makes no account', async () => {
    const hash = vi.spyOn(gh.deps.identity.hasher, 'hash');
    const res = await post('/auth/v1/signup', { email: 'megabyte@example.test', password: 'p'.repeat(1024 * 1024) }, '203.0.113.23');
    expect([400, 413]).toContain(res.statusCode);
    expect(res.json().code).toBe(res.statusCode); // GoTrue shape
    expect(typeof res.json().error_code).toBe('string');
    expect(hash).not.toHaveBeenCalled();
    expect(await usersNamed('megabyte@example.test')).toHaveLength(0);
    const justOver = await post('/auth/v1/signup', { email: 'justover@example.test', password: 'q'.repeat(1025) }, '203.0.113.24');
    expect(justOver.statusCode).toBe(422);
    expect(justOver.json().error_code).toBe('weak_password');
    expect(hash).not.toHaveBeenCalled();
    expect(await usersNamed('justover@example.test')).toHaveLength(0);
    hash.mockRestore();
  });

  it('emails differing in case and whitespace are one account and one backoff counter', async () => {
    const first = await post('/auth/v1/signup', { email: '  Mixed.Case@Example.COM ', password: 'a long enough passphrase' }, '203.0.113.30');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().user.email).toBe('mixed.case@example.com');
    const dup = await post('/auth/v1/signup', { email: 'mixed.case@example.com', password: 'another passphrase!' }, '203.0.113.31');
    expect(dup.statusCode).toBe(422);
    expect(dup.json().error_code).toBe('user_already_exists');
    expect(await usersNamed('mixed.case@example.com')).toHaveLength(1);
    // Unicode look-alikes of the same address: full-width letters, decomposed accents.
    const fullWidth = await post('/auth/v1/signup', { email: 'ＭＩＸＥＤ.case@example.com', password: 'another passphrase!' }, '203.0.113.35');
    expect(fullWidth.json().error_code).toBe('user_already_exists');
    const composed = await post('/auth/v1/signup', { email: 'ren\u00e9@example.test', password: 'a long enough passphrase' }, '203.0.113.36');
    expect(composed.statusCode, composed.body).toBe(200);
    const decomposed = await post('/auth/v1/signup', { email: 'rene\u0301@example.test', password: 'a long enough passphrase' }, '203.0.113.37');
    expect(decomposed.json().error_code).toBe('user_already_exists');
    expect(await usersNamed('ren\u00e9@example.test')).toHaveLength(1);
    // Two failures under two spellings, from two addresses: the account's counter is shared.
    expect((await post('/auth/v1/token?grant_type=password', { email: 'MIXED.CASE@example.com', password: 'wrong passphrase 1' }, '203.0.113.32')).statusCode).toBe(400);
    expect((await post('/auth/v1/token?grant_type=password', { email: ' mixed.case@EXAMPLE.com', password: 'wrong passphrase 2' }, '203.0.113.33')).statusCode).toBe(400);
    const limited = await post('/auth/v1/token?grant_type=password', { email: 'Mixed.Case@example.com', password: 'a long enough passphrase' }, '203.0.113.34');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error_code).toBe('over_request_rate_limit');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('user_metadata cannot grow past its limit by successive PUT /user patches', async () => {
    const u = await createTestUser(gh);
    const put = (payload: object) => gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` }, payload });
    const half = Math.floor(MAX_METADATA_BYTES * 0.6);
    expect((await put({ data: { a: 'x'.repeat(half) } })).statusCode).toBe(200);
    const grow = await put({ data: { b: 'y'.repeat(half) } });
    expect(grow.statusCode).toBe(400);
    expect(grow.json().error_code).toBe('validation_failed');
    const row = await gh.deps.storage.db.selectFrom('identity_users').select('user_metadata').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(Object.keys(JSON.parse(row.user_metadata))).toEqual(['a']);
    // Multi-byte characters count as bytes: under the limit in UTF-16 units, over it in bytes.
    const wide = await put({ data: { a: '€'.repeat(Math.ceil(MAX_METADATA_BYTES / 3) + 10) } });
    expect(wide.statusCode).toBe(400);
    // Replacing a key within the limit is fine (control).
    expect((await put({ data: { a: 'small' } })).statusCode).toBe(200);
  });

  it('PUT /user cannot set role or app_metadata', async () => {
    const u = await createTestUser(gh);
    for (const payload of [{ role: 'admin' }, { app_metadata: { gatehouse_role: 'admin' } }, { data: { x: 1 }, role: 'service_role' }]) {
      const res = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error_code).toBe('validation_failed');
    }
    const row = await gh.deps.storage.db.selectFrom('identity_users').select(['role', 'app_metadata', 'user_metadata']).where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ role: 'authenticated', app_metadata: '{}', user_metadata: '{}' });
  });

  it('a token signed by a valid key of another environment of the same project is refused', async () => {
    const u = await createTestUser(gh);
    const session = await gh.deps.storage.db.selectFrom('identity_sessions').select('id').where('user_id', '=', u.id).executeTakeFirstOrThrow();
    // Genuinely signed with the project's staging key, naming a real dev session and user.
    const staging = await gh.deps.identity.tokens.issue(gh.project.id, 'staging', {
      sub: u.id, email: u.email, role: 'authenticated', sessionId: session.id, appMetadata: {}, userMetadata: {}, authTime: Math.floor(Date.now() / 1000), method: 'password',
    });
    const res = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${staging.token}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'invalid_token', details: { reason: 'wrong_project' } });
    expect(res.json().id).toBeUndefined();
    // Control: the dev token of the same user works.
    expect((await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` } })).statusCode).toBe(200);
  });

  it('no password, access, refresh or recovery token appears in logs or security events', async () => {
    const u = await createTestUser(gh, { email: 'leaky@example.test', password: 'leak-canary-passphrase-1' });
    await post('/auth/v1/token?grant_type=password', { email: u.email, password: 'leak-canary-wrong-pass' }, '203.0.113.40');
    const refreshed = await post('/auth/v1/token?grant_type=refresh_token', { refresh_token: u.refreshToken }, '203.0.113.41');
    expect(refreshed.statusCode).toBe(200);
    await post('/auth/v1/token?grant_type=refresh_token', { refresh_token: 'leak-canary-refresh-garbage' }, '203.0.113.42');
    await post('/auth/v1/recover', { email: u.email }, '203.0.113.43');
    await gh.deps.identity.recovery.flush(); // the code is mailed off the request path
    const outbox = await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(u.email)}`, headers: { apikey: gh.secretKey } });
    const code = /\n\n(\S+)\n\n/.exec(outbox.json().messages[0].body)![1]!;
    await post('/auth/v1/verify', { type: 'recovery', token: `${code}x` }, '203.0.113.44');
    expect((await post('/auth/v1/verify', { type: 'recovery', token: code }, '203.0.113.45')).statusCode).toBe(200);
    await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}x` } });
    const haystack = `${gh.logs.join('\n')}\n${await allEvents()}`;
    for (const secret of [u.password, 'leak-canary-wrong-pass', u.accessToken, u.refreshToken, refreshed.json().refresh_token, 'leak-canary-refresh-garbage', code, gh.secretKey]) {
      expect(haystack.includes(secret), secret.slice(0, 12)).toBe(false);
    }
    // Signing keys: no private JWK member in any line.
    expect(haystack).not.toMatch(/"d":"[A-Za-z0-9_-]{20,}"/);
  });
  it('one spent recovery code voids the other outstanding codes of that account', async () => {
    const u = await createTestUser(gh);
    const codes: string[] = [];
    for (const ip of ['203.0.113.50', '203.0.113.51']) {
      expect((await post('/auth/v1/recover', { email: u.email }, ip)).statusCode).toBe(200);
      await gh.deps.identity.recovery.flush();
      const outbox = await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(u.email)}`, headers: { apikey: gh.secretKey } });
      codes.push(/\n\n(\S+)\n\n/.exec(outbox.json().messages[0].body)![1]!);
    }
    expect(codes[0]).not.toBe(codes[1]);
    const first = await post('/auth/v1/verify', { type: 'recovery', token: codes[1] }, '203.0.113.52');
    expect(first.statusCode, first.body).toBe(200);
    const sessionsBefore = (await gh.deps.storage.db.selectFrom('identity_sessions').select('id').where('user_id', '=', u.id).execute()).length;
    const second = await post('/auth/v1/verify', { type: 'recovery', token: codes[0] }, '203.0.113.53');
    expect(second.statusCode).toBe(403);
    expect(second.json().error_code).toBe('otp_expired');
    const sessionsAfter = (await gh.deps.storage.db.selectFrom('identity_sessions').select('id').where('user_id', '=', u.id).execute()).length;
    expect(sessionsAfter).toBe(sessionsBefore); // no session came of it
  });

  it('an external issuer\'s algorithm allowlist holds even for a key its JWKS publishes', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true });
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const keys = [
      { ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rs1', alg: 'RS256', use: 'sig' },
    ];
    const server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const add = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey }, payload: { kind: 'oidc', issuer: 'https://rs-only.example', jwks_url: jwksUrl, audience: 'api', algorithms: ['RS256'] } });
      expect(add.statusCode, add.body).toBe(201);
      const nowS = Math.floor(Date.now() / 1000);
      const claims = { iss: 'https://rs-only.example', aud: 'api', sub: 'alg-test', iat: nowS, exp: nowS + 300 };
      const es = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey);
      const refused = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${es}` } });
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error_code: 'invalid_token', details: { reason: 'alg_not_allowed' } });
      const external = () => gh.deps.storage.db.selectFrom('identity_users').select('id').where('external_sub', '=', 'alg-test').execute();
      expect(await external()).toHaveLength(0); // no local user was made for the refused token
      // Control: the allowed algorithm passes.
      const rs = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rs1' }).sign(rsa.privateKey);
      expect((await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${rs}` } })).statusCode).toBe(200);
      expect(await external()).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  it('metadata at the size limit still yields an access token that works over HTTP', async () => {
    const live = await startTestApp(engine, { listen: true, env: generousAuthLimitsEnv() });
    try {
      const u = await createTestUser(live);
      const headers = { apikey: live.publishableKey, 'content-type': 'application/json' };
      // As large as the limit allows, in multi-byte characters (the worst case for the token).
      const filler = 'é'.repeat(Math.floor((MAX_METADATA_BYTES - 16) / 2));
      const put = await fetch(`${live.url}/auth/v1/user`, { method: 'PUT', headers: { ...headers, authorization: `Bearer ${u.accessToken}` }, body: JSON.stringify({ data: { f: filler } }) });
      expect(put.status).toBe(200);
      const refreshed = await fetch(`${live.url}/auth/v1/token?grant_type=refresh_token`, { method: 'POST', headers, body: JSON.stringify({ refresh_token: u.refreshToken }) });
      expect(refreshed.status).toBe(200);
      const { access_token: token } = (await refreshed.json()) as { access_token: string };
      const me = await fetch(`${live.url}/auth/v1/user`, { headers: { apikey: live.publishableKey, authorization: `Bearer ${token}` } });
      expect(me.status, `token of ${token.length} chars`).toBe(200);
      expect(((await me.json()) as { user_metadata: { f: string } }).user_metadata.f).toBe(filler);
    } finally {
      await live.close();
    }
  });
  it('a mail outage at /recover answers as for an unknown email, logged without the code', async () => {
    const u = await createTestUser(gh);
    const send = vi.spyOn(gh.deps.identity.outbox!, 'send').mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED with code 123456'), { code: 'ECONNREFUSED' }));
    const known = await post('/auth/v1/recover', { email: u.email }, '203.0.113.60');
    const unknown = await post('/auth/v1/recover', { email: 'nobody-at-all@example.test' }, '203.0.113.61');
    await gh.deps.identity.recovery.flush();
    expect(send).toHaveBeenCalledTimes(1);
    const text = String((send.mock.calls[0]![0] as { text: string }).text);
    const code = /\n\n(\S+)\n\n/.exec(text)![1]!;
    send.mockRestore();
    expect(known.statusCode).toBe(200);
    expect(known.json()).toEqual(unknown.json());
    const line = gh.logs.find((l) => l.includes('recovery mail could not be sent'));
    expect(line).toContain('ECONNREFUSED');
    expect(gh.logs.join('\n')).not.toContain(code);
    expect(gh.logs.join('\n')).not.toContain('123456');
  });

  it('an unknown email costs an Argon2 verification like a wrong password', async () => {
    const verify = vi.spyOn(gh.deps.identity.hasher, 'verify');
    const res = await post('/auth/v1/token?grant_type=password', { email: 'ghost-account@example.test', password: 'some passphrase' }, '203.0.113.62');
    expect(res.json().error_code).toBe('invalid_credentials');
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]![0]).toBeNull(); // verified against the dummy hash
    verify.mockRestore();
  });
});
