// RFC 8725 attacks against Gatehouse-issued tokens, one test each (issue #3 §6).
// Every rejection: 401 invalid_token with a reason, the handler never ran (no
// user came back), a token_rejected security event, and the token not logged.
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv, createTestUser, type TestUser } from '../harness/users.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(engines())('RFC 8725 verification of Gatehouse tokens (%s)', (engine) => {
  let gh: TestApp;
  let user: TestUser;
  let real: { kid: string; alg: string; key: CryptoKey };
  let claims: JWTPayload;

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousAuthLimitsEnv() });
    user = await createTestUser(gh);
    real = await gh.deps.identity.signingKeys.current(gh.project.id, 'dev');
    const [, payload] = user.accessToken.split('.');
    claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as JWTPayload;
  });
  afterAll(async () => { await gh?.close(); });

  async function expectRejected(token: string, reason: string) {
    const res = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(401);
    const body = res.json();
    expect(body.error_code).toBe('invalid_token');
    expect(body.details).toEqual({ reason });
    expect(body.id).toBeUndefined(); // the handler never ran
    expect(res.headers['www-authenticate']).toContain('invalid_token');
    await gh.deps.events.flush();
    const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'token_rejected', limit: 1 });
    expect(events[0]?.details).toMatchObject({ reason });
    expect(gh.logs.join('\n')).not.toContain(token);
  }

  /** A token signed with Gatehouse's real key: only the header or claims are wrong. */
  function signReal(overrides: JWTPayload = {}, header: Record<string, unknown> = {}) {
    // jose refuses to sign an unknown crit unless told it is "understood".
    const crit = Array.isArray(header.crit) ? Object.fromEntries((header.crit as string[]).map((c) => [c, true])) : undefined;
    return new SignJWT({ ...claims, ...overrides }).setProtectedHeader({ alg: real.alg, kid: real.kid, typ: 'JWT', ...header }).sign(real.key, crit ? { crit } : undefined);
  }

  const nowS = () => Math.floor(Date.now() / 1000);

  it('accepts the genuine token (control)', async () => {
    const res = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${await signReal()}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(user.id);
  });

  it('rejects alg none (unsigned token)', async () => {
    await expectRejected(`${b64({ alg: 'none', typ: 'JWT', kid: real.kid })}.${b64(claims)}.`, 'alg_none');
  });

  it('rejects alg NONE in any case', async () => {
    await expectRejected(`${b64({ alg: 'nOnE', typ: 'JWT' })}.${b64(claims)}.`, 'alg_none');
  });

  it('rejects HMAC signed with the public key (algorithm confusion)', async () => {
    const jwks = await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } });
    const publicJwk = jwks.json().keys.find((k: { kid: string }) => k.kid === real.kid);
    const { importJWK } = await import('jose');
    const pem = await exportSPKI((await importJWK(publicJwk, real.alg)) as CryptoKey);
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: real.kid, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
      await expectRejected(forged, 'alg_not_allowed');
    }
  });

  it('rejects a jku header pointing at an attacker key set', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: real.kid, jku: 'https://evil.example/jwks.json' }).sign(attacker.privateKey);
    await expectRejected(forged, 'forbidden_header');
  });

  it('rejects an x5u header', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: real.kid, x5u: 'https://evil.example/cert.pem' }).sign(attacker.privateKey);
    await expectRejected(forged, 'forbidden_header');
  });

  it('rejects an embedded jwk header (self-signed token)', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: real.kid, jwk: await exportJWK(attacker.publicKey) }).sign(attacker.privateKey);
    await expectRejected(forged, 'forbidden_header');
  });

  it('rejects an unknown crit extension even when the signature is good', async () => {
    await expectRejected(await signReal({}, { crit: ['exp-ext'], 'exp-ext': true }), 'unknown_crit');
  });

  it('rejects a token signed by an unknown key', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'sk_attackerattackerattack' }).sign(attacker.privateKey);
    await expectRejected(forged, 'unknown_key');
  });

  it('rejects a token with the right kid but the wrong key', async () => {
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: real.kid }).sign(attacker.privateKey);
    await expectRejected(forged, 'bad_signature');
  });

  it('rejects a token without kid', async () => {
    await expectRejected(await new SignJWT(claims).setProtectedHeader({ alg: real.alg }).sign(real.key), 'kid_missing');
  });

  it('rejects an expired token (beyond the 60 s skew)', async () => {
    await expectRejected(await signReal({ iat: nowS() - 7200, exp: nowS() - 61 }), 'expired');
  });

  it('accepts a token expired within the skew', async () => {
    const res = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${await signReal({ iat: nowS() - 3600, exp: nowS() - 30 })}` } });
    expect(res.statusCode).toBe(200);
  });

  it('rejects a token not valid yet (nbf beyond the skew)', async () => {
    await expectRejected(await signReal({ nbf: nowS() + 120 }), 'not_yet_valid');
  });

  it('rejects a token issued in the future (iat beyond the skew)', async () => {
    await expectRejected(await signReal({ iat: nowS() + 120, exp: nowS() + 3600 }), 'issued_in_future');
  });

  it('rejects missing exp', async () => {
    const { exp: _exp, ...noExp } = claims;
    await expectRejected(await new SignJWT(noExp).setProtectedHeader({ alg: real.alg, kid: real.kid }).sign(real.key), 'missing_claim');
  });

  it('rejects a wrong audience', async () => {
    await expectRejected(await signReal({ aud: 'service_role' }), 'wrong_audience');
  });

  it('rejects a wrong issuer (not a configured external issuer either)', async () => {
    await expectRejected(await signReal({ iss: 'https://evil.example/auth/v1' }), 'wrong_issuer');
  });

  it('rejects claims naming another project environment', async () => {
    await expectRejected(await signReal({ environment: 'prod' }), 'wrong_project');
  });

  it('rejects a token of another project, even with valid signature there', async () => {
    const other = await gh.createProject('other-project');
    const stranger = await createTestUser(gh, { publishableKey: other.publishableKey });
    await expectRejected(stranger.accessToken, 'wrong_project');
    // The same token works in its own project.
    const own = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: other.publishableKey, authorization: `Bearer ${stranger.accessToken}` } });
    expect(own.statusCode).toBe(200);
  });

  it('rejects garbage, truncated and oversized tokens', async () => {
    await expectRejected('not-a-jwt', 'malformed');
    await expectRejected(user.accessToken.slice(0, -10), 'bad_signature');
    await expectRejected(user.accessToken.split('.').slice(0, 2).join('.'), 'malformed');
    await expectRejected(`${b64({ alg: 'ES256' })}.%%%.abc`, 'malformed');
    await expectRejected('a'.repeat(20_000) + '.b.c', 'malformed');
  });

  it('rejects the access token of a revoked session', async () => {
    const victim = await createTestUser(gh);
    const revoke = await gh.app.inject({ method: 'POST', url: `/admin/v1/users/${victim.id}/sessions/revoke`, headers: { apikey: gh.secretKey } });
    expect(revoke.json()).toEqual({ revoked: 1 });
    const res = await gh.app.inject({ url: '/admin/v1/users', headers: { apikey: gh.publishableKey, authorization: `Bearer ${victim.accessToken}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token', details: { reason: 'session_revoked' } });
  });

  it('a bad token is 401 on other surfaces too, never a guest', async () => {
    const res = await gh.app.inject({ url: '/admin/v1/users', headers: { apikey: gh.publishableKey, authorization: 'Bearer garbage.garbage.garbage' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_token');
  });
});
