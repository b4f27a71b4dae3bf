// A client retrying the same forged token (issue 18): the refusal for a bad signature is kept
// for a minute, by exact token and environment, so a retry costs a lookup, not an ECDSA check.
// Only that verdict is kept (it can never change); the cache is bounded, and it never refuses a
// genuine token or a token whose key another instance has just made.
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';

describe('tokens refused for their signature are remembered, safely', () => {
  let gh: TestApp;
  let user: TestUser;
  let claims: JWTPayload;
  // A frozen clock that tests move: cache ages and the 1 s key-reload throttle never depend on how fast the test runs.
  let nowMs = Date.now();
  const clock = clockAt(() => nowMs);
  const nowS = () => Math.floor(nowMs / 1000);

  beforeAll(async () => {
    gh = await startTestApp('sqlite', { env: generousAuthLimitsEnv(), clock });
    user = await createTestUser(gh);
    claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as JWTPayload;
  });
  afterAll(async () => { await gh?.close(); });

  const tokens = () => gh.deps.identity.tokens;
  const projectId = () => gh.project.id;
  /** A full-length signature that is not the key's: the shape is right, only the ECDSA check can refuse it. */
  const forged = (token: string) => `${token.split('.').slice(0, 2).join('.')}.${randomBytes(64).toString('base64url')}`;
  async function signReal(overrides: JWTPayload = {}) {
    const key = await gh.deps.identity.signingKeys.current(projectId(), 'dev');
    return new SignJWT({ ...claims, ...overrides }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.key);
  }
  async function answer(token: string, app = gh.app) {
    const res = await app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${token}` } });
    return res.statusCode === 200 ? 'ok' : `${res.statusCode} ${String(res.json().details?.reason)}`;
  }

  it('a forged signature is refused, then refused again from memory until a minute has passed', async () => {
    // Not expired yet (within the 60 s skew), but expired on every check once the clock moves 15 s.
    const token = forged(await signReal({ exp: nowS() - 50 }));
    expect(tokens().refusedBefore(projectId(), 'dev', token)).toBeUndefined();
    expect(await answer(token)).toBe('401 bad_signature');
    expect(tokens().refusedBefore(projectId(), 'dev', token)).toBe('bad_signature');
    nowMs += 15_000;
    // Checked afresh it would be `expired` (claims come before the signature): the answer came from memory.
    expect(await answer(token)).toBe('401 bad_signature');
    nowMs += 60_000;
    expect(tokens().refusedBefore(projectId(), 'dev', token)).toBeUndefined();
    expect(await answer(token)).toBe('401 expired');
  });

  it('is remembered for its own environment only', async () => {
    const token = forged(user.accessToken);
    expect(await answer(token)).toBe('401 bad_signature');
    const other = await gh.createProject('other');
    expect(tokens().refusedBefore(projectId(), 'dev', token)).toBe('bad_signature');
    expect(tokens().refusedBefore(projectId(), 'prod', token)).toBeUndefined();
    expect(tokens().refusedBefore(other.project.id, 'dev', token)).toBeUndefined();
    // In the other project it is checked there, for that project's reason.
    const there = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: other.publishableKey, authorization: `Bearer ${token}` } });
    expect(there.json().details).toEqual({ reason: 'wrong_project' });
  });

  it('never refuses the genuine token whose header and claims the forgeries copied', async () => {
    for (let i = 0; i < 5; i++) expect(await answer(forged(user.accessToken))).toBe('401 bad_signature');
    expect(tokens().refusedBefore(projectId(), 'dev', user.accessToken)).toBeUndefined();
    expect(await answer(user.accessToken)).toBe('ok');
  });

  it('keeps no verdict that can change or costs nothing to reach again', async () => {
    const expired = await signReal({ iat: nowS() - 7200, exp: nowS() - 3600 });
    const stranger = await createTestUser(gh, { publishableKey: (await gh.createProject('stranger')).publishableKey });
    const refusals: Array<[string, string]> = [
      [expired, '401 expired'],
      ['garbage.garbage.garbage', '401 malformed'],
      [await signReal({ aud: 'service_role' }), '401 wrong_audience'],
      [stranger.accessToken, '401 wrong_project'],
    ];
    for (const [token, expected] of refusals) {
      expect(await answer(token)).toBe(expected);
      expect(tokens().refusedBefore(projectId(), 'dev', token)).toBeUndefined();
    }
  });

  it('never keeps unknown_key: a key another instance has just made verifies once this one reloads', async () => {
    const second = await startTestApp('sqlite', { env: generousAuthLimitsEnv(), clock, database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir } });
    try {
      // This instance has the key set loaded just now; the other rotates and signs with the new key.
      expect(await answer(user.accessToken)).toBe('ok');
      await second.deps.identity.signingKeys.rotate(projectId(), 'dev');
      const signIn = await second.app.inject({
        method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, payload: { email: user.email, password: user.password },
      });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const fresh = signIn.json().access_token as string;
      // Reloads of the key set are throttled to one a second: within it, the kid is unknown here.
      expect(await answer(fresh)).toBe('401 unknown_key');
      expect(tokens().refusedBefore(projectId(), 'dev', fresh)).toBeUndefined();
      nowMs += 1001;
      expect(await answer(fresh)).toBe('ok');
    } finally {
      await second.close();
    }
  });

  it('is bounded: the oldest refusal goes first, and a long token is not kept at all', async () => {
    const first = forged(user.accessToken);
    const refuse = (token: string) => tokens().verify(projectId(), 'dev', token).then(() => 'accepted', (error: { reason?: string }) => error.reason);
    expect(await refuse(first)).toBe('bad_signature');
    let last = first;
    for (let i = 0; i < 1000; i++) {
      last = forged(user.accessToken);
      expect(await refuse(last)).toBe('bad_signature');
    }
    expect(tokens().refusedBefore(projectId(), 'dev', first)).toBeUndefined();
    expect(tokens().refusedBefore(projectId(), 'dev', last)).toBe('bad_signature');
    const long = forged(await signReal({ user_metadata: { note: 'x'.repeat(5000) } }));
    expect(await refuse(long)).toBe('bad_signature');
    expect(tokens().refusedBefore(projectId(), 'dev', long)).toBeUndefined();
  });
});
