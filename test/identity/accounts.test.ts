// Accounts (issue #3 §1, §2, §7): sign-up modes, brute-force backoff, recovery through
// the outbox, password rehash; every rejection in GoTrue's shape and as a security event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

describe.each(engines())('accounts (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.parse('2026-06-01T12:00:00Z');
  beforeAll(async () => {
    gh = await startTestApp(engine, {
      clock: clockAt(() => nowMs),
      env: {
        ...generousAuthLimitsEnv(),
        GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3', GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT_ALL_ADDRESSES: '3', GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_IP: '6',
        GATEHOUSE_SIGNIN_BACKOFF_BASE_MS: '2000', GATEHOUSE_SIGNIN_BACKOFF_MAX_MS: '8000',
      },
    });
  });
  afterAll(async () => { await gh?.close(); });

  const signIn = (email: string, password: string, remoteAddress = '203.0.113.10') => gh.app.inject({
    method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: gh.publishableKey }, remoteAddress, payload: { email, password },
  });
  const admin = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => gh.app.inject({ method, url, headers: { apikey: gh.secretKey }, ...(payload ? { payload } : {}) });

  it('failed sign-ins back off per account, exponentially and capped; success resets', async () => {
    const u = await createTestUser(gh);
    for (let i = 0; i < 3; i++) expect((await signIn(u.email, 'wrong password!')).json().error_code).toBe('invalid_credentials');
    const limited = await signIn(u.email, u.password);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error_code).toBe('over_request_rate_limit');
    expect(limited.headers['retry-after']).toBe('2');
    nowMs += 2000;
    expect((await signIn(u.email, 'wrong password!')).statusCode).toBe(400); // 4th failure: next wait 4 s
    expect((await signIn(u.email, u.password)).headers['retry-after']).toBe('4');
    nowMs += 4000;
    for (const wait of ['8', '8']) { // capped at 8 s
      expect((await signIn(u.email, 'wrong password!')).statusCode).toBe(400);
      expect((await signIn(u.email, u.password)).headers['retry-after']).toBe(wait);
      nowMs += 8000;
    }
    // From another address the account is still cooling down: the counter is the account's.
    expect((await signIn(u.email, 'wrong password!', '203.0.113.99')).statusCode).toBe(400);
    expect((await signIn(u.email, u.password, '203.0.113.99')).statusCode).toBe(429);
    nowMs += 8000;
    expect((await signIn(u.email, u.password, '203.0.113.99')).statusCode).toBe(200);
    // Success reset the account: three fresh failures are free again.
    for (let i = 0; i < 3; i++) expect((await signIn(u.email, 'wrong password!', '203.0.113.98')).statusCode).toBe(400);
    await gh.deps.events.flush();
    const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'sign_in_backoff' });
    expect(events.length).toBeGreaterThan(0);
    expect(gh.logs.join('\n')).not.toContain('wrong password!');
    nowMs += 60_000;
  });

  it('a password spray from one address backs off per IP across accounts', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < 6; i++) expect((await signIn(`spray${i}@example.test`, 'Spring2026!!', ip)).statusCode).toBe(400);
    const blocked = await signIn('spray-next@example.test', 'Spring2026!!', ip);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signIn('spray-next@example.test', 'Spring2026!!', '203.0.113.51')).statusCode).toBe(400);
    nowMs += 60_000;
  });

  it('unknown email and wrong password give the same answer', async () => {
    const u = await createTestUser(gh);
    const unknown = await signIn('nobody-here@example.test', 'some password', '203.0.113.70');
    const wrong = await signIn(u.email, 'some password', '203.0.113.71');
    expect(unknown.statusCode).toBe(wrong.statusCode);
    const strip = (b: { request_id?: string }) => ({ ...b, request_id: undefined });
    expect(strip(unknown.json())).toEqual(strip(wrong.json()));
  });

  it('bad input gets GoTrue errors, never a 500', async () => {
    const post = (url: string, payload: unknown) => gh.app.inject({ method: 'POST', url, headers: { apikey: gh.publishableKey, 'content-type': 'application/json' }, remoteAddress: '203.0.113.80', payload: payload as object });
    const cases: Array<[string, unknown, number, string]> = [
      ['/auth/v1/signup', { email: 'a@b', password: 'long enough pw' }, 400, 'email_address_invalid'],
      ['/auth/v1/signup', { email: `${'x'.repeat(300)}@example.test`, password: 'long enough pw' }, 400, 'email_address_invalid'],
      ['/auth/v1/signup', { email: `${'x'.repeat(400)}@example.test`, password: 'long enough pw' }, 400, 'validation_failed'],
      ['/auth/v1/signup', { email: 'long@example.test', password: 'p'.repeat(1025) }, 422, 'weak_password'],
      ['/auth/v1/signup', { email: 'long@example.test', password: 'p'.repeat(5000) }, 400, 'validation_failed'],
      ['/auth/v1/signup', { email: 'x@example.test' }, 400, 'validation_failed'],
      ['/auth/v1/signup', { email: 'x@example.test', password: 'long enough pw', role: 'admin' }, 400, 'validation_failed'],
      ['/auth/v1/token?grant_type=magic', { email: 'x@example.test', password: 'y' }, 400, 'unsupported_grant_type'],
      ['/auth/v1/token?grant_type=password', { email: 'x@example.test' }, 400, 'invalid_credentials'],
      ['/auth/v1/verify', { type: 'recovery', token: 'nope' }, 403, 'otp_expired'],
      ['/auth/v1/verify', { type: 'magiclink', token: 'nope' }, 400, 'validation_failed'],
    ];
    const count = async () => {
      await gh.deps.events.flush();
      return (await gh.deps.storage.db.selectFrom('security_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    };
    for (const [url, payload, status, code] of cases) {
      const before = Number(await count());
      const res = await post(url, payload);
      expect(res.statusCode, `${url} ${JSON.stringify(payload).slice(0, 80)}: ${res.body}`).toBe(status);
      expect(res.json().error_code).toBe(code);
      expect(res.json()).toMatchObject({ code: status, msg: expect.any(String), request_id: expect.any(String) });
      expect(Number(await count()), `${url} left no security event`).toBeGreaterThan(before);
    }
    const garbage = await gh.app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { apikey: gh.publishableKey, 'content-type': 'application/json' }, payload: '{"email":' });
    expect(garbage.statusCode).toBe(400);
    const rows = await gh.deps.storage.db.selectFrom('identity_users').select('email').where('email', 'in', ['long@example.test', 'x@example.test']).execute();
    expect(rows).toHaveLength(0);
  });

  it('sign-up modes: closed refuses, invite admits invited emails once, open admits all', async () => {
    expect((await admin('PUT', '/admin/v1/auth/settings', { signup_mode: 'closed' })).statusCode).toBe(200);
    const closed = await createTestUser(gh).catch((e: Error) => e.message);
    expect(closed).toContain('signup_disabled');
    expect((await admin('PUT', '/admin/v1/auth/settings', { signup_mode: 'invite' })).statusCode).toBe(200);
    expect(await createTestUser(gh).catch((e: Error) => e.message)).toContain('signup_disabled');
    expect((await admin('POST', '/admin/v1/users/invites', { email: 'Invited@Example.test' })).statusCode).toBe(201);
    const invited = await createTestUser(gh, { email: 'invited@example.test' });
    expect(invited.id).toMatch(/^usr_/);
    // Other environments keep their own mode (the default, open).
    expect((await admin('GET', '/admin/v1/auth/settings')).json()).toEqual({ signup_mode: 'invite' });
    await gh.deps.events.flush();
    expect((await gh.deps.events.list(gh.project.id, 'dev', { type: 'sign_up_rejected' })).length).toBeGreaterThanOrEqual(2);
    expect((await admin('PUT', '/admin/v1/auth/settings', { signup_mode: 'open' })).statusCode).toBe(200);
    expect((await createTestUser(gh)).id).toMatch(/^usr_/);
  });

  it('recovery: a one-time code by mail (outbox, not the log), single use, 1 h', async () => {
    const u = await createTestUser(gh);
    const recover = (email: string) => gh.app.inject({ method: 'POST', url: '/auth/v1/recover', headers: { apikey: gh.publishableKey }, payload: { email } });
    expect((await recover(u.email)).json()).toEqual({});
    expect((await recover('nobody@example.test')).json()).toEqual({}); // same answer
    await gh.deps.identity.recovery.flush(); // the code is mailed off the request path
    const outbox = await admin('GET', `/admin/v1/auth/outbox?to=${encodeURIComponent(u.email)}`);
    const message = outbox.json().messages[0];
    expect(message.kind).toBe('recovery');
    const code = /\n\n(\S+)\n\n/.exec(message.body)![1]!;
    expect(gh.logs.join('\n')).not.toContain(code);
    const byUser = await gh.app.inject({ url: '/admin/v1/auth/outbox', headers: { apikey: gh.publishableKey, authorization: `Bearer ${(await createTestUser(gh, { admin: true })).accessToken}` } });
    expect(byUser.statusCode).toBe(403); // holds live codes: secret key only
    const verify = (token: string) => gh.app.inject({ method: 'POST', url: '/auth/v1/verify', headers: { apikey: gh.publishableKey }, payload: { type: 'recovery', token, email: u.email } });
    const session = await verify(code);
    expect(session.statusCode, session.body).toBe(200);
    const reset = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${session.json().access_token}` }, payload: { password: 'recovered passphrase' } });
    expect(reset.statusCode).toBe(200);
    expect((await signIn(u.email, 'recovered passphrase', '203.0.113.90')).statusCode).toBe(200);
    // Changing the password ended the other sessions.
    expect((await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` } })).statusCode).toBe(403);
    const again = await verify(code);
    expect(again.statusCode).toBe(403);
    expect(again.json().error_code).toBe('otp_expired');
    // A second code expires after an hour.
    await recover(u.email);
    await gh.deps.identity.recovery.flush();
    const code2 = /\n\n(\S+)\n\n/.exec((await admin('GET', `/admin/v1/auth/outbox?to=${encodeURIComponent(u.email)}`)).json().messages[0].body)![1]!;
    nowMs += 3600_000 + 1000;
    expect((await verify(code2)).json().error_code).toBe('otp_expired');
    const stored = await gh.deps.storage.db.selectFrom('identity_one_time_tokens').select('token_hash').execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(code2);
  });

  it('changing the email tells the old address and ends the other sessions, once both addresses confirmed it', async () => {
    const u = await createTestUser(gh, { email: 'old-address@example.test' });
    const other = await signIn(u.email, u.password, '203.0.113.130');
    const change = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` }, payload: { email: 'New-Address@Example.test' } });
    expect(change.statusCode, change.body).toBe(200);
    // Pending until confirmed (issue #11 §4; test/identity/email-change.test.ts has the attacks).
    expect(change.json()).toMatchObject({ email: 'old-address@example.test', new_email: 'new-address@example.test' });
    const codeTo = async (to: string) => /\n\n(\S+)\n\n/.exec((await admin('GET', `/admin/v1/auth/outbox?to=${to}`)).json().messages[0].body)![1]!;
    const verify = (email: string, token: string) => gh.app.inject({ method: 'POST', url: '/auth/v1/verify', headers: { apikey: gh.publishableKey }, payload: { type: 'email_change', email, token } });
    expect((await verify('new-address@example.test', await codeTo('new-address@example.test'))).statusCode).toBe(200);
    const done = await verify('old-address@example.test', await codeTo('old-address@example.test'));
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().user.email).toBe('new-address@example.test');
    // The clock is frozen here, so the notice and the code share a timestamp: pick by kind.
    const notice = (await admin('GET', '/admin/v1/auth/outbox?to=old-address@example.test')).json().messages.find((m: { kind: string }) => m.kind === 'email_changed');
    expect(notice).toMatchObject({ kind: 'email_changed' });
    expect(notice.body).toContain('new-address@example.test');
    const stale = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${other.json().access_token}` } });
    expect(stale.statusCode).toBe(403);
    // The session that confirmed goes on; the one that asked was made under the old address and ended with the others.
    const still = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${done.json().access_token}` } });
    expect(still.statusCode).toBe(200);
    const requester = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` } });
    expect(requester.statusCode).toBe(403);
    // Taking an address that is in use is refused and changes nothing.
    const taken = await createTestUser(gh);
    const clash = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${taken.accessToken}` }, payload: { email: 'new-address@example.test' } });
    expect(clash.statusCode).toBe(422);
    expect(clash.json().error_code).toBe('email_exists');
  });

  it('a stored hash with older parameters is upgraded on sign-in', async () => {
    const u = await createTestUser(gh);
    const { hash } = await import('@node-rs/argon2');
    const weak = await hash(u.password, { memoryCost: 8192, timeCost: 1, parallelism: 1, algorithm: 2 as never });
    await gh.deps.storage.db.updateTable('identity_users').set({ password_hash: weak }).where('id', '=', u.id).execute();
    expect((await signIn(u.email, u.password, '203.0.113.120')).statusCode).toBe(200);
    const row = await gh.deps.storage.db.selectFrom('identity_users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await signIn(u.email, u.password, '203.0.113.121')).statusCode).toBe(200);
  });
});
