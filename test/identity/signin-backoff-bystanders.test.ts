// Sign-in backoff slows the guesser, not the people sharing its address (issue 19). One attacker
// behind a campus or carrier NAT used to lock every user of that NAT out, correct passwords
// included; now the counters are per account and address, the address ceiling spares accounts
// signed into from that address before, and a stranger elsewhere cannot lock the owner out.
// Run on the memory and on the Redis attempt store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { redisUrl } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv, type TestUser } from '../harness/users.js';
import { frozenClock } from '../limits/limits-app.js';

const url = redisUrl();
const STORES: Array<{ store: string; env: Record<string, string> }> = [{ store: 'memory', env: {} }, ...(url ? [{ store: 'redis', env: { REDIS_URL: url } }] : [])];

describe.each(STORES)('sign-in backoff and bystanders ($store attempt store)', ({ env }) => {
  let gh: TestApp;
  // A random far-future hour: the Redis store is shared by the whole run, and the address
  // counter's window is in its key.
  const clock = frozenClock();
  // A random private /24 per app, for the same reason.
  const net = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  beforeAll(async () => {
    gh = await startTestApp('sqlite', {
      clock,
      env: {
        ...generousAuthLimitsEnv(), ...env,
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3', GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT_ALL_ADDRESSES: '8',
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_IP: '20', GATEHOUSE_SIGNIN_BACKOFF_BASE_MS: '1000', GATEHOUSE_SIGNIN_BACKOFF_MAX_MS: '900000',
      },
    });
  });
  afterAll(async () => { await gh?.close(); });

  const signIn = (email: string, password: string, remoteAddress: string) => gh.app.inject({
    method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, remoteAddress, payload: { email, password },
  });
  const nextHour = () => { clock.ms += 3600_000; };

  it('credential stuffing from behind a NAT is refused; its users who signed in there before still get in', async () => {
    nextHour();
    const nat = `${net}.1`;
    const crowd: TestUser[] = [];
    for (let i = 0; i < 5; i++) crowd.push(await createTestUser(gh));
    for (const u of crowd) expect((await signIn(u.email, u.password, nat)).statusCode).toBe(200);
    // The attacker: one or two guesses each at many accounts, far past the address ceiling.
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const res = await signIn(`breached-${i}@example.test`, `Summer${i}!!`, nat);
      if (res.statusCode === 429) refused++;
      else expect(res.json().error_code).toBe('invalid_credentials');
    }
    expect(refused).toBeGreaterThan(30);
    const next = await signIn('breached-next@example.test', 'Autumn2031!!', nat);
    expect(next.statusCode).toBe(429);
    expect(next.json().error_code).toBe('over_request_rate_limit');
    // The honest crowd behind the same address, right passwords: all in.
    for (const u of crowd) {
      const res = await signIn(u.email, u.password, nat);
      expect(res.statusCode, res.body).toBe(200);
    }
    // The limit of the rule: an account never signed into from this address waits while the
    // address is over its ceiling (said in docs/identity.md).
    const newcomer = await createTestUser(gh);
    expect((await signIn(newcomer.email, newcomer.password, nat)).statusCode).toBe(429);
    // Elsewhere the address's counter means nothing.
    expect((await signIn(newcomer.email, newcomer.password, `${net}.2`)).statusCode).toBe(200);
  });

  it('an honest crowd making its usual typos never reaches the address ceiling: it counts per window', async () => {
    nextHour();
    const nat = `${net}.3`;
    // 15 typos per 15-minute window, for an hour: 60 failures in all, 20 allowed per window.
    for (let window = 0; window < 4; window++) {
      for (let i = 0; i < 15; i++) expect((await signIn(`typo-${window}-${i}@example.test`, 'almost right', nat)).statusCode).toBe(400);
      clock.ms += 900_000;
    }
    const first = await createTestUser(gh);
    expect((await signIn(first.email, first.password, nat)).statusCode).toBe(200);
  });

  it('guessing one account from one address backs off only that pair: the owner elsewhere gets in', async () => {
    nextHour();
    const owner = await createTestUser(gh);
    const attacker = `${net}.4`;
    for (let i = 0; i < 3; i++) expect((await signIn(owner.email, `guess ${i}`, attacker)).statusCode).toBe(400);
    const slowed = await signIn(owner.email, `guess 3`, attacker);
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    // The owner, from an address never used before and with the right password.
    expect((await signIn(owner.email, owner.password, `${net}.5`)).statusCode).toBe(200);
    // The owner's success does not free the attacker's pair.
    expect((await signIn(owner.email, owner.password, attacker)).statusCode).toBe(429);
  });

  it('guesses at one account spread over many addresses still back off, except where the owner signs in', async () => {
    nextHour();
    const owner = await createTestUser(gh);
    const home = `${net}.6`;
    expect((await signIn(owner.email, owner.password, home)).statusCode).toBe(200);
    // A botnet: two guesses per address, 8 free for the account across addresses.
    for (let i = 0; i < 8; i++) expect((await signIn(owner.email, `botnet guess ${i}`, `${net}.${100 + Math.floor(i / 2)}`)).statusCode).toBe(400);
    const botnet = await signIn(owner.email, 'botnet guess 9', `${net}.120`);
    expect(botnet.statusCode).toBe(429);
    // Even with the right password, a new address waits: it might be the botnet that found it.
    expect((await signIn(owner.email, owner.password, `${net}.121`)).statusCode).toBe(429);
    // Home, where the owner signed in before, is not locked out by strangers.
    expect((await signIn(owner.email, owner.password, home)).statusCode).toBe(200);
    // And that success resets the account-wide counter: new addresses are free again.
    expect((await signIn(owner.email, owner.password, `${net}.122`)).statusCode).toBe(200);
  });

  it('rotating through the addresses of one IPv6 /64 does not mint fresh counters', async () => {
    nextHour();
    const owner = await createTestUser(gh);
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
    for (let i = 0; i < 3; i++) expect((await signIn(owner.email, `v6 guess ${i}`, `${prefix}::${i + 1}`)).statusCode).toBe(400);
    expect((await signIn(owner.email, 'v6 guess 3', `${prefix}::ff`)).statusCode).toBe(429);
    // The address ceiling too: a spray over many accounts from one /64.
    clock.ms += 900_000 * 2;
    let refused = 0;
    for (let i = 0; i < 30; i++) if ((await signIn(`v6-spray-${i}@example.test`, 'Winter2031!!', `${prefix}::${(i + 16).toString(16)}`)).statusCode === 429) refused++;
    expect(refused).toBeGreaterThan(5);
  });
});
