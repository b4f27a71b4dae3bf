// The `auth` rate limit (sign-up, sign-in, recovery) counts the client address whatever user token
// rides along, and, on routes that name an account (sign-up, recovery), the account too. Before,
// each token had its own bucket: one address could sign up an account, attach its token, and get
// a fresh budget with every account it made.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

const LIMIT = 3;

/** A config file with `auth` at LIMIT a minute for every tier (and a roomy address pre-check). */
function tightAuthEnv(): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'gh-auth-tight-')), 'config.json');
  const windows = [{ limit: LIMIT, windowMs: 60_000 }];
  writeFileSync(file, JSON.stringify({
    rateLimits: {
      classes: { auth: { failMode: 'closed', tiers: { guest: windows, user: windows, admin: windows } } },
      address: { failMode: 'open', windows: [{ limit: 10_000, windowMs: 60_000 }] },
    },
  }));
  return { GATEHOUSE_CONFIG: file };
}

describe.each(engines())('auth limits per address and account (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.parse('2031-03-01T08:00:00Z');
  beforeAll(async () => {
    gh = await startTestApp(engine, { env: tightAuthEnv(), clock: clockAt(() => nowMs) });
  });
  afterAll(async () => { await gh?.close(); });

  const post = (url: string, payload: object, remoteAddress: string, token?: string) => gh.app.inject({
    method: 'POST', url, remoteAddress, payload,
    headers: { apikey: gh.publishableKey, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const users = async () => Number((await gh.deps.storage.db.selectFrom('identity_users').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', gh.project.id).executeTakeFirstOrThrow()).n);

  it('attaching the token of each new account does not mint a fresh sign-up budget for the address', async () => {
    nowMs += 3600_000;
    const ip = '203.0.113.10';
    const before = await users();
    let token: string | undefined;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 4; i++) {
      const res = await post('/auth/v1/signup', { email: `chain-${i}@example.test`, password: 'a long enough passphrase' }, ip, token);
      statuses.push(res.statusCode);
      if (res.statusCode === 200) token = res.json().access_token as string;
    }
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
    expect(statuses.slice(LIMIT)).toEqual(Array(4).fill(429));
    expect(await users()).toBe(before + LIMIT);
    const refused = await post('/auth/v1/signup', { email: 'chain-x@example.test', password: 'a long enough passphrase' }, ip, token);
    expect(refused.json()).toMatchObject({ code: 429, error_code: 'rate_limit_exceeded' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is its own guest: the honest path still works.
    expect((await post('/auth/v1/signup', { email: 'bystander@example.test', password: 'a long enough passphrase' }, '203.0.113.11')).statusCode).toBe(200);
  });

  it('sign-in, recovery and verify count the address whatever token is attached', async () => {
    nowMs += 3600_000;
    const tokens = await Promise.all(Array.from({ length: 6 }, async () => (await createTestUser(gh)).accessToken));
    const routes: Array<[string, object]> = [
      ['/auth/v1/token?grant_type=password', { email: 'nobody@example.test', password: 'not this one' }],
      ['/auth/v1/recover', { email: 'someone-else@example.test' }],
      ['/auth/v1/verify', { type: 'recovery', token: 'not-a-code' }],
    ];
    for (const [n, [url, body]] of routes.entries()) {
      const ip = `203.0.113.${20 + n}`;
      const statuses: number[] = [];
      // A different user's token on every request: before, each one was a new bucket.
      for (const token of tokens) statuses.push((await post(url, body, ip, token)).statusCode);
      expect(statuses.slice(LIMIT), url).toEqual(Array(tokens.length - LIMIT).fill(429));
      expect(statuses.slice(0, LIMIT).every((s) => s !== 429), url).toBe(true);
    }
  });

  it('recovery mail for one account is limited however many addresses ask, in any spelling of the address', async () => {
    nowMs += 3600_000;
    const victim = await createTestUser(gh, { email: 'mailbombed@example.test' });
    nowMs += 60_000; // the sign-up named the account too: start from a fresh window
    const spellings = ['mailbombed@example.test', 'MailBombed@Example.TEST', '  mailbombed@example.test ', 'ｍailbombed@example.test', 'mailbombed@example.test', 'mailbombed@example.test'];
    const statuses: number[] = [];
    for (const [i, email] of spellings.entries()) statuses.push((await post('/auth/v1/recover', { email }, `198.51.100.${i + 1}`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    await gh.deps.identity.recovery.flush();
    const outbox = await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(victim.email)}`, headers: { apikey: gh.secretKey } });
    expect(outbox.json().messages).toHaveLength(LIMIT);
    // Other accounts are not affected by the victim's counter.
    expect((await post('/auth/v1/recover', { email: 'other-account@example.test' }, '198.51.100.50')).statusCode).toBe(200);
    // No email in a rate-limit event: the account subject is a digest.
    await gh.deps.events.flush();
    const events = JSON.stringify(await gh.deps.events.list(gh.project.id, 'dev', { type: 'rate_limited' }));
    expect(events).toContain('account:');
    expect(events).not.toContain('mailbombed');
  });

  it('sign-in has no per-account request limit: strangers elsewhere cannot use it to lock the owner out', async () => {
    nowMs += 3600_000;
    const owner = await createTestUser(gh);
    for (let i = 0; i < LIMIT + 2; i++) {
      const res = await post('/auth/v1/token?grant_type=password', { email: owner.email, password: owner.password }, `192.0.2.${i + 1}`);
      expect(res.statusCode, res.body).toBe(200);
    }
  });

  it('a secret key (which no client can mint) is counted as itself, not as the address', async () => {
    nowMs += 3600_000;
    const ip = '203.0.113.40';
    for (let i = 0; i < LIMIT; i++) expect((await post('/auth/v1/recover', { email: `sk-${i}@example.test` }, ip)).statusCode).toBe(200);
    expect((await post('/auth/v1/recover', { email: 'sk-x@example.test' }, ip)).statusCode).toBe(429);
    const bySecret = await gh.app.inject({ method: 'POST', url: '/auth/v1/recover', remoteAddress: ip, headers: { apikey: gh.secretKey }, payload: { email: 'sk-y@example.test' } });
    expect(bySecret.statusCode).toBe(200);
  });
});
