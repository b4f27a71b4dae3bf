// Issue 13 item 5: another service verifies Gatehouse tokens with a stock OIDC library and no
// Gatehouse-specific header. Each project environment has its own issuer, whose discovery
// document and JWKS are public; pinning the issuer refuses the tokens of every other environment.
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';
import { frozenClock, startLimitsApp } from '../limits/limits-app.js';

const AUDIENCE = 'authenticated';
const WELL_KNOWN = ['openid-configuration', 'jwks.json'] as const;

/** What jwtVerify threw, as jose's error code (or 'accepted'). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof errors.JOSEError ? error.code : `other: ${String(error)}`;
  }
  return 'accepted';
}

const issOf = (token: string) => String(decodeJwt(token).iss);

describe.each(engines())('per-environment issuer, public discovery and JWKS (%s)', (engine) => {
  let gh: TestApp;
  let dev: TestUser;
  let prod: TestUser;
  let other: TestUser;
  let prodKey: string;
  let otherProject: Awaited<ReturnType<TestApp['createProject']>>;

  beforeAll(async () => {
    gh = await startTestApp(engine, { listen: true, env: generousAuthLimitsEnv() });
    dev = await createTestUser(gh);
    prodKey = (await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'prod', kind: 'publishable', name: 'prod' })).key;
    prod = await createTestUser(gh, { publishableKey: prodKey });
    otherProject = await gh.createProject('other-project');
    other = await createTestUser(gh, { publishableKey: otherProject.publishableKey });
  });
  afterAll(async () => { await gh?.close(); });

  const me = (apikey: string, token: string) => gh.app.inject({ url: '/auth/v1/user', headers: { apikey, authorization: `Bearer ${token}` } });

  it('each environment signs with its own issuer URL, under the server\'s own address', () => {
    expect(issOf(dev.accessToken)).toBe(`${gh.url}/auth/v1/projects/${gh.project.id}/dev`);
    expect(issOf(prod.accessToken)).toBe(`${gh.url}/auth/v1/projects/${gh.project.id}/prod`);
    expect(issOf(other.accessToken)).toBe(`${gh.url}/auth/v1/projects/${otherProject.project.id}/dev`);
  });

  it('a service verifies a token with jose alone: discovery, createRemoteJWKSet, jwtVerify({ issuer, audience }), no header', async () => {
    const issuer = issOf(dev.accessToken);
    // A browser page on any site may read it: no key, no allowlist.
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { origin: 'https://some-other-site.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    const discovery = await res.json() as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(issuer);
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(dev.accessToken, jwks, { issuer: discovery.issuer, audience: AUDIENCE });
    expect(payload.sub).toBe(dev.id);
    expect(protectedHeader.alg).toBe('ES256');
  });

  it('pinning another environment\'s issuer refuses the token: another environment, another project', async () => {
    const devJwks = createRemoteJWKSet(new URL(`${issOf(dev.accessToken)}/.well-known/jwks.json`));
    for (const theirs of [prod, other]) {
      const issuer = issOf(theirs.accessToken);
      const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
      // Control: their own token verifies there.
      expect(await refusal(jwtVerify(theirs.accessToken, jwks, { issuer, audience: AUDIENCE }))).toBe('accepted');
      // The dev token: no key of theirs signed it…
      expect(await refusal(jwtVerify(dev.accessToken, jwks, { issuer, audience: AUDIENCE }))).toBe('ERR_JWKS_NO_MATCHING_KEY');
      // …and even with the right keys, the issuer pin alone refuses it.
      expect(await refusal(jwtVerify(dev.accessToken, devJwks, { issuer, audience: AUDIENCE }))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    }
  });

  it('Gatehouse itself refuses a token of P/dev at P/prod and at project Q', async () => {
    for (const apikey of [prodKey, otherProject.publishableKey]) {
      const res = await me(apikey, dev.accessToken);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error_code: 'invalid_token', details: { reason: 'wrong_project' } });
      expect(res.json().id).toBeUndefined();
    }
    expect((await me(gh.publishableKey, dev.accessToken)).statusCode).toBe(200);
  });

  it('the discovery document says what OIDC Discovery requires, and only what is true', async () => {
    const issuer = issOf(dev.accessToken);
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(await res.json()).toEqual({
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: [],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });

  it('the public key set holds the signing key and the rotated-out one, public halves only, as the apikey route does', async () => {
    const before = String((await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } })).json().keys[0].kid);
    const rotated = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/signing-keys/rotate', headers: { apikey: gh.secretKey } });
    expect(rotated.statusCode).toBe(201);
    const res = await fetch(`${issOf(dev.accessToken)}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const body = await res.json() as { keys: Array<Record<string, unknown>> };
    expect(body.keys.map((k) => k.kid).sort()).toEqual([before, rotated.json().kid].sort());
    for (const k of body.keys) expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    // supabase-js's route (with the key) serves the same set.
    const keyed = await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } });
    expect(keyed.json()).toEqual(body);
    // The token signed before the rotation still verifies with the public set.
    expect(await refusal(jwtVerify(dev.accessToken, createRemoteJWKSet(new URL(`${issOf(dev.accessToken)}/.well-known/jwks.json`)), { issuer: issOf(dev.accessToken), audience: AUDIENCE }))).toBe('accepted');
  });

  it('the apikey route still needs a key', async () => {
    const res = await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error_code).toBe('missing_api_key');
  });

  it('an unknown project or environment, or a malformed id, is a 404 JSON and creates no key', async () => {
    const unknownId = 'aaaaaaaaaaaaaaaa';
    const paths = [
      `/auth/v1/projects/${unknownId}/dev`,
      `/auth/v1/projects/${gh.project.id}/test`,
      `/auth/v1/projects/${gh.project.id}/DEV`,
      `/auth/v1/projects/${gh.project.name}/dev`,
      `/auth/v1/projects/${'x'.repeat(90)}/dev`,
      `/auth/v1/projects/%00/dev`,
    ];
    for (const path of paths) {
      for (const doc of WELL_KNOWN) {
        const res = await gh.app.inject({ url: `${path}/.well-known/${doc}` });
        expect(res.statusCode, path).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        // One answer for every unknown issuer: it tells nothing but "no such issuer".
        expect(res.json()).toMatchObject({ code: 404, error_code: 'not_found', msg: 'No such issuer.' });
      }
    }
    const keys = await gh.deps.storage.db.selectFrom('identity_signing_keys').select('kid').where('project_id', '=', unknownId).execute();
    expect(keys).toEqual([]);
  });

  it('a token minted before the upgrade (the old single iss) keeps working in Gatehouse until it expires', async () => {
    const real = await gh.deps.identity.signingKeys.current(gh.project.id, 'dev');
    const user = await createTestUser(gh);
    const claims = decodeJwt(user.accessToken);
    const nowS = Math.floor(Date.now() / 1000);
    // Exactly what the previous version minted without GATEHOUSE_PUBLIC_URL.
    const legacy = (over: JWTPayload) => new SignJWT({ ...claims, iss: 'urn:gatehouse/auth/v1', ...over })
      .setProtectedHeader({ alg: real.alg, kid: real.kid, typ: 'JWT' }).sign(real.key);
    const live = await legacy({});
    expect((await me(gh.publishableKey, live)).json().id).toBe(user.id);
    const expired = await me(gh.publishableKey, await legacy({ iat: nowS - 7200, exp: nowS - 3600 }));
    expect(expired.statusCode).toBe(401);
    expect(expired.json().details).toEqual({ reason: 'expired' });
    // It names no environment, so another one still refuses it by its key.
    expect((await me(prodKey, live)).json().details).toEqual({ reason: 'wrong_project' });
    // A third party pinning the new issuer refuses it: only Gatehouse carries the old one over.
    const jwks = createRemoteJWKSet(new URL(`${issOf(user.accessToken)}/.well-known/jwks.json`));
    expect(await refusal(jwtVerify(live, jwks, { issuer: issOf(user.accessToken), audience: AUDIENCE }))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('a token claiming an issuer of this server it was not signed for is refused', async () => {
    const real = await gh.deps.identity.signingKeys.current(gh.project.id, 'dev');
    const claims = decodeJwt(dev.accessToken);
    // Signed with the dev key, but claiming P/prod's issuer: it must not pass at dev (iss) nor at prod (key).
    const forged = await new SignJWT({ ...claims, iss: issOf(prod.accessToken) }).setProtectedHeader({ alg: real.alg, kid: real.kid, typ: 'JWT' }).sign(real.key);
    expect((await me(gh.publishableKey, forged)).json().details).toEqual({ reason: 'wrong_issuer' });
    expect((await me(prodKey, forged)).json().details).toEqual({ reason: 'wrong_project' });
  });

  it('an environment may trust another environment\'s issuer through its public JWKS, like any OIDC issuer', async () => {
    const issuer = issOf(dev.accessToken);
    expect((await me(otherProject.publishableKey, dev.accessToken)).json().details).toEqual({ reason: 'wrong_project' });
    const add = await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/issuers', headers: { apikey: otherProject.secretKey }, payload: { kind: 'supabase', issuer } });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.json().jwks_url).toBe(`${issuer}/.well-known/jwks.json`);
    const res = await me(otherProject.publishableKey, dev.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    // A user of project Q of its own, tied to the issuer, not P's user.
    expect(res.json().id).not.toBe(dev.id);
    expect(res.json().app_metadata).toMatchObject({ issuer_id: add.json().id });
  });
});

describe('issuer with GATEHOUSE_PUBLIC_URL', () => {
  let gh: TestApp;
  const PUBLIC = 'https://api.example.test';
  beforeAll(async () => {
    gh = await startTestApp('sqlite', { env: { ...generousAuthLimitsEnv(), GATEHOUSE_PUBLIC_URL: `${PUBLIC}/` } });
  });
  afterAll(async () => { await gh?.close(); });

  it('the issuer is built on the public URL, never on the request\'s Host or X-Forwarded-Host', async () => {
    const user = await createTestUser(gh);
    const issuer = `${PUBLIC}/auth/v1/projects/${gh.project.id}/dev`;
    expect(issOf(user.accessToken)).toBe(issuer);
    const res = await gh.app.inject({
      url: `/auth/v1/projects/${gh.project.id}/dev/.well-known/openid-configuration`,
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    });
    expect(res.json()).toMatchObject({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json` });
  });

  it('instances of one deployment share the public URL, so each accepts the tokens of the others', async () => {
    const user = await createTestUser(gh);
    const second = await startTestApp('sqlite', {
      listen: true, env: { ...generousAuthLimitsEnv(), GATEHOUSE_PUBLIC_URL: PUBLIC }, database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir },
    });
    try {
      const res = await second.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${user.accessToken}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().id).toBe(user.id);
    } finally {
      await second.close();
    }
  });

  it('a token of the previous version (iss <public url>/auth/v1) still works until it expires', async () => {
    const user = await createTestUser(gh);
    const real = await gh.deps.identity.signingKeys.current(gh.project.id, 'dev');
    const token = await new SignJWT({ ...decodeJwt(user.accessToken), iss: `${PUBLIC}/auth/v1` })
      .setProtectedHeader({ alg: real.alg, kid: real.kid, typ: 'JWT' }).sign(real.key);
    const res = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('public key set across a rotation (clock advanced)', () => {
  let gh: TestApp;
  let nowMs = Date.now();
  beforeAll(async () => {
    gh = await startTestApp('sqlite', { env: generousAuthLimitsEnv(), clock: clockAt(() => nowMs) });
  });
  afterAll(async () => { await gh?.close(); });

  it('a rotated-out key leaves the public set once its last token has expired', async () => {
    const path = `/auth/v1/projects/${gh.project.id}/dev/.well-known/jwks.json`;
    const first = (await gh.app.inject({ url: path })).json().keys.map((k: { kid: string }) => k.kid);
    expect(first).toHaveLength(1);
    const { kid } = (await gh.app.inject({ method: 'POST', url: '/admin/v1/auth/signing-keys/rotate', headers: { apikey: gh.secretKey } })).json();
    expect((await gh.app.inject({ url: path })).json().keys.map((k: { kid: string }) => k.kid).sort()).toEqual([...first, kid].sort());
    // Access-token TTL (1 h) plus 60 s of skew, plus the 5 s the key set is cached.
    nowMs += (3600 + 60 + 6) * 1000;
    expect((await gh.app.inject({ url: path })).json().keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  });
});

describe.each(engines())('public issuer documents are limited per address (%s)', (engine) => {
  it('past the address budget: 429, other addresses unaffected', async () => {
    const gh = await startLimitsApp(engine, { clock: frozenClock(), rateLimits: { address: { failMode: 'open', windows: [{ limit: 5, windowMs: 60_000 }] } } });
    try {
      const url = `/auth/v1/projects/${gh.project.id}/dev/.well-known/jwks.json`;
      for (let i = 0; i < 5; i++) expect((await gh.app.inject({ url })).statusCode).toBe(200);
      const refused = await gh.app.inject({ url: `/auth/v1/projects/${gh.project.id}/dev/.well-known/openid-configuration` });
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error_code).toBe('rate_limit_exceeded');
      expect((await gh.app.inject({ url, remoteAddress: '198.51.100.7' })).statusCode).toBe(200);
    } finally {
      await gh.close();
    }
  });
});
