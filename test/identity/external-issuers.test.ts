// External issuers (issue #3 §5): Supabase (HS256 secret or JWKS), Firebase-shaped
// and generic OIDC tokens, with the issuers' JWKS served by local loopback servers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

interface Idp { url: string; keys: JWK[]; fetches: number; down: boolean; close(): Promise<void> }

async function startIdp(): Promise<Idp> {
  const idp = { url: '', keys: [] as JWK[], fetches: 0, down: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    idp.fetches++;
    if (idp.down) return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: idp.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  idp.close = () => new Promise((resolve) => server.close(() => resolve()));
  return idp;
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';

describe.each(engines())('external issuers (%s)', (engine) => {
  let gh: TestApp;
  let idp: Idp;
  let nowMs = Date.now();
  const nowS = () => Math.floor(nowMs / 1000);
  let rsa: Awaited<ReturnType<typeof keyPair>>;

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), clock: clockAt(() => nowMs) });
    idp = await startIdp();
    rsa = await keyPair('RS256', 'k1');
    idp.keys = [rsa.jwk];
    const add = async (body: object) => {
      const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey }, payload: body });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    await add({ kind: 'oidc', issuer: 'https://idp.example', jwks_url: idp.url, audience: 'my-api' });
    await add({ kind: 'firebase', firebase_project_id: 'my-fb-app', jwks_url: idp.url });
    const supa = await add({ kind: 'supabase', issuer: 'https://abc.supabase.co/auth/v1', hmac_secret: SUPABASE_SECRET });
    expect(supa.has_hmac_secret).toBe(true);
    expect(JSON.stringify(supa)).not.toContain(SUPABASE_SECRET);
    await add({ kind: 'supabase', issuer: 'https://def.supabase.co/auth/v1', jwks_url: idp.url });
  });
  afterAll(async () => {
    await gh?.close();
    await idp?.close();
  });

  const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: 'https://idp.example', aud: 'my-api', sub: 'ext-user-1', iat: nowS(), exp: nowS() + 600, ...extra });
  const sign = (payload: JWTPayload, key: { kid: string; alg: string; privateKey: CryptoKey | Uint8Array }) =>
    new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  const me = (token: string, apikey = gh.publishableKey) => gh.app.inject({ url: '/auth/v1/user', headers: { apikey, authorization: `Bearer ${token}` } });
  async function expectRejected(token: string, reason: string, apikey = gh.publishableKey) {
    const res = await me(token, apikey);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'invalid_token', details: { reason } });
    expect(gh.logs.join('\n')).not.toContain(token);
  }

  it('accepts an OIDC token and gives its (issuer, sub) one local user', async () => {
    const first = await me(await sign(claims(), rsa));
    expect(first.statusCode, first.body).toBe(200);
    const again = await me(await sign(claims({ iat: nowS() - 5 }), rsa));
    expect(again.json().id).toBe(first.json().id);
    const rows = await gh.deps.storage.db.selectFrom('identity_users').select(['id', 'external_sub', 'issuer_id']).where('external_sub', '=', 'ext-user-1').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.issuer_id).toMatch(/^iss_/);
  });

  it('rejects an OIDC token with the wrong issuer, audience or key', async () => {
    await expectRejected(await sign(claims({ iss: 'https://other-idp.example' }), rsa), 'wrong_issuer');
    await expectRejected(await sign(claims({ aud: 'someone-else' }), rsa), 'wrong_audience');
    const impostor = await keyPair('RS256', 'k1');
    await expectRejected(await sign(claims(), impostor), 'bad_signature');
    await expectRejected(await sign(claims({ exp: nowS() - 120 }), rsa), 'expired');
    const rows = await gh.deps.storage.db.selectFrom('identity_users').select('id').where('external_sub', '=', 'ext-user-1').execute();
    expect(rows).toHaveLength(1); // no user was made for any of these
  });

  it('rejects HS256 signed with the issuer\'s RSA public key (confusion) and alg none', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(pem));
    await expectRejected(forged, 'alg_not_allowed');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await expectRejected(`${b64({ alg: 'none' })}.${b64(claims())}.`, 'alg_none');
  });

  it('refetches the JWKS on an unknown kid at most once a minute', async () => {
    const rotated = await keyPair('ES256', 'k2');
    nowMs += 61_000; // the first fetch (earlier test) counts against the minute too
    const before = idp.fetches;
    await expectRejected(await sign(claims(), rotated), 'unknown_key'); // not published yet: one refetch
    expect(idp.fetches).toBe(before + 1);
    idp.keys = [rsa.jwk, rotated.jwk];
    await expectRejected(await sign(claims(), rotated), 'unknown_key'); // within the minute: no refetch
    await expectRejected(await sign(claims(), await keyPair('ES256', 'k-random')), 'unknown_key');
    expect(idp.fetches).toBe(before + 1);
    nowMs += 61_000;
    const ok = await me(await sign(claims(), rotated));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(idp.fetches).toBe(before + 2);
  });

  it('accepts a Firebase-shaped token and checks its audience and auth_time', async () => {
    const fb = (extra: JWTPayload = {}) => claims({ iss: 'https://securetoken.google.com/my-fb-app', aud: 'my-fb-app', sub: 'fb-uid-1', auth_time: nowS() - 60, ...extra });
    const ok = await me(await sign(fb(), rsa));
    expect(ok.statusCode, ok.body).toBe(200);
    await expectRejected(await sign(fb({ aud: 'another-fb-app' }), rsa), 'wrong_audience');
    await expectRejected(await sign(fb({ iss: 'https://securetoken.google.com/another-fb-app' }), rsa), 'wrong_issuer');
    await expectRejected(await sign(fb({ auth_time: nowS() + 3600 }), rsa), 'issued_in_future');
  });

  it('accepts a Supabase HS256 token; its service_role grants nothing', async () => {
    const secret = new TextEncoder().encode(SUPABASE_SECRET);
    const supa = (extra: JWTPayload = {}) => claims({ iss: 'https://abc.supabase.co/auth/v1', aud: 'authenticated', sub: '8d0fd2b3-0000-4000-8000-000000000001', role: 'authenticated', ...extra });
    const ok = await me(await new SignJWT(supa()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret));
    expect(ok.statusCode, ok.body).toBe(200);
    const wrongSecret = await new SignJWT(supa()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    await expectRejected(wrongSecret, 'bad_signature');
    await expectRejected(await new SignJWT(supa({ aud: 'anon' })).setProtectedHeader({ alg: 'HS256' }).sign(secret), 'wrong_audience');
    // An asymmetric token for an HMAC issuer is refused before any key is used.
    await expectRejected(await sign(supa(), rsa), 'alg_not_allowed');
    const serviceRole = await new SignJWT(supa({ role: 'service_role' })).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const admin = await gh.app.inject({ url: '/admin/v1/users', headers: { apikey: gh.publishableKey, authorization: `Bearer ${serviceRole}` } });
    expect(admin.statusCode).toBe(403);
    expect(admin.json().error).toBe('secret_key_required');
  });

  it('accepts a Supabase JWKS (asymmetric) token', async () => {
    const ok = await me(await sign(claims({ iss: 'https://def.supabase.co/auth/v1', aud: 'authenticated', sub: 'supa-jwks-1' }), rsa));
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('an issuer of one environment is unknown to another project', async () => {
    const other = await gh.createProject('ext-other');
    await expectRejected(await sign(claims(), rsa), 'wrong_issuer', other.publishableKey);
  });

  it('refuses issuer definitions that mix HMAC and public keys or allow weak algorithms', async () => {
    const post = (payload: object) => gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey }, payload });
    for (const body of [
      { kind: 'supabase', issuer: 'https://x.supabase.co/auth/v1', hmac_secret: SUPABASE_SECRET, jwks_url: idp.url },
      { kind: 'oidc', issuer: 'https://y.example', jwks_url: idp.url, audience: 'a', algorithms: ['none'] },
      { kind: 'oidc', issuer: 'https://y.example', jwks_url: idp.url, audience: 'a', algorithms: ['HS256'] },
      { kind: 'supabase', issuer: 'https://z.supabase.co/auth/v1', hmac_secret: SUPABASE_SECRET, algorithms: ['RS256'] },
      { kind: 'oidc', issuer: 'https://y.example', jwks_url: 'ftp://idp.example/jwks', audience: 'a' },
    ]) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe('validation_failed');
    }
    const list = await gh.app.inject({ url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey } });
    expect(list.json().issuers).toHaveLength(4);
  });

  it('an unreachable issuer with no cached keys is 503, never a pass', async () => {
    const down = await startIdp();
    down.down = true;
    const key = await keyPair('RS256', 'kd');
    const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: gh.secretKey }, payload: { kind: 'oidc', issuer: 'https://down.example', jwks_url: down.url, audience: 'a' } });
    expect(res.statusCode).toBe(201);
    const call = await me(await sign({ iss: 'https://down.example', aud: 'a', sub: 's', iat: nowS(), exp: nowS() + 60 }, key));
    expect(call.statusCode).toBe(503);
    expect(call.json().error_code).toBe('service_unavailable');
    await down.close();
  });
});
