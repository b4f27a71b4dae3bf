// Email changes (issue #11 §4): `PUT /auth/v1/user {"email"}` only makes the address pending;
// codes mailed to the new address and (secure change, the default) to the current one confirm
// it, through supabase-js's verifyOtp({ type: 'email_change' }). Until then the `email` claim,
// the login address and email_confirmed_at stay those of the old, proven address.
import { randomBytes } from 'node:crypto';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../src/crypto/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

// Node 20 has no global WebSocket; realtime is never used here.
class NoWebSocket {
  constructor() {
    throw new Error('realtime is not used in these tests');
  }
}

const SINGLE_CONFIRMATION = 'Confirmation link accepted. Please proceed to confirm link sent to the other email';

describe.each(engines())('email change (%s)', (engine) => {
  let gh: TestApp;
  // The server's clock: real time plus what a test skips ahead (supabase-js judges expiry by real time).
  let offsetMs = 0;
  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), listen: true, clock: clockAt(() => Date.now() + offsetMs) });
  });
  afterAll(async () => { await gh?.close(); });

  const client = (): SupabaseClient => createClient(gh.url, gh.publishableKey, {
    auth: { autoRefreshToken: false, persistSession: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as never },
  });
  const address = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.test`;
  async function signedUp(email = address('user'), password = `pw-${randomBytes(12).toString('base64url')}`) {
    const supabase = client();
    const { data, error } = await supabase.auth.signUp({ email, password });
    expect(error).toBeNull();
    return { supabase, email, password, user: data.user!, session: data.session! };
  }
  /** The newest email-change code mailed to `to` (the outbox is read with the secret key). */
  async function codeFor(to: string): Promise<string> {
    const res = await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(to)}`, headers: { apikey: gh.secretKey } });
    const mail = (res.json().messages as Array<{ kind: string; body: string }>).find((m) => m.kind === 'email_change');
    if (!mail) throw new Error(`no email_change mail to ${to}`);
    return /\n\n(\S+)\n\n/.exec(mail.body)![1]!;
  }
  /** Asks for a change of `u`'s address to a fresh one; returns it and the code mailed to it. */
  async function requestChange(u: { supabase: SupabaseClient }, name: string) {
    const next = address(name);
    expect((await u.supabase.auth.updateUser({ email: next })).error).toBeNull();
    return { next, toNew: await codeFor(next) };
  }
  const row = (id: string) => gh.deps.storage.db.selectFrom('identity_users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const signIn = (email: string, password: string) => client().auth.signInWithPassword({ email, password });
  const nextMinute = () => { offsetMs += 61_000; };

  it('a requested address stays pending: token claim, login address and email_confirmed_at keep the proven one', async () => {
    const mallory = await signedUp(address('mallory'));
    const target = address('ceo');
    const put = await mallory.supabase.auth.updateUser({ email: target });
    expect(put.error).toBeNull();
    // GoTrue's user JSON while pending.
    expect(put.data.user).toMatchObject({ email: mallory.email, new_email: target, email_confirmed_at: mallory.user.email_confirmed_at });
    expect(put.data.user!.email_change_sent_at).toEqual(expect.any(String));
    // A fresh token still carries the old address: a rule on auth.claims.email cannot be claimed.
    const refreshed = await mallory.supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(decodeJwt(refreshed.data.session!.access_token).email).toBe(mallory.email);
    expect((await mallory.supabase.auth.getUser()).data.user).toMatchObject({ email: mallory.email, new_email: target });
    // The login address is unchanged.
    expect((await signIn(target, mallory.password)).error?.code).toBe('invalid_credentials');
    expect((await signIn(mallory.email, mallory.password)).error).toBeNull();
    const stored = await row(mallory.user.id);
    expect(stored).toMatchObject({ email: mallory.email, email_change: target, email_confirmed_at: mallory.user.email_confirmed_at });
    // Without the code mailed to the target, guessing gets nowhere.
    const guess = await client().auth.verifyOtp({ email: target, token: randomBytes(32).toString('base64url'), type: 'email_change' });
    expect(guess.error?.code).toBe('otp_expired');
    expect(guess.error?.status).toBe(403);
    expect((await row(mallory.user.id)).email).toBe(mallory.email);
  });

  it('verifyOtp(email_change) with both codes confirms: new claim, new login, old address told, old sessions ended', async () => {
    const ada = await signedUp(address('ada'));
    const otherDevice = await signIn(ada.email, ada.password);
    const { next, toNew } = await requestChange(ada, 'ada-new');
    const toCurrent = await codeFor(ada.email);
    expect(toNew).not.toBe(toCurrent);

    const first = await ada.supabase.auth.verifyOtp({ email: next, token: toNew, type: 'email_change' });
    // GoTrue's half-way answer, { msg, code }, which supabase-js returns as no user and no session.
    expect(first.error).toBeNull();
    expect(first.data).toEqual({ user: null, session: null });
    expect((await row(ada.user.id)).email).toBe(ada.email); // one code is not enough

    const second = await ada.supabase.auth.verifyOtp({ email: ada.email, token: toCurrent, type: 'email_change' });
    expect(second.error).toBeNull();
    const session = second.data.session!;
    expect(decodeJwt(session.access_token).email).toBe(next);
    expect(second.data.user).toMatchObject({ email: next });
    expect(second.data.user!.new_email).toBeUndefined();
    expect(Date.parse(second.data.user!.email_confirmed_at!)).toBeGreaterThan(Date.parse(ada.user.email_confirmed_at!));
    expect((await ada.supabase.auth.getUser()).data.user?.email).toBe(next);

    expect((await signIn(next, ada.password)).error).toBeNull();
    expect((await signIn(ada.email, ada.password)).error?.code).toBe('invalid_credentials');
    const notice = (await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(ada.email)}`, headers: { apikey: gh.secretKey } })).json().messages
      .find((m: { kind: string }) => m.kind === 'email_changed');
    expect(notice).toMatchObject({ kind: 'email_changed' });
    expect(notice.body).toContain(next);
    // Sessions made under the old address are over; the verifier's new one works.
    const stale = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${otherDevice.data.session!.access_token}` } });
    expect(stale.statusCode).toBe(403);
    // Codes are one-time.
    for (const [email, token] of [[next, toNew], [ada.email, toCurrent]] as const) {
      expect((await client().auth.verifyOtp({ email, token, type: 'email_change' })).error?.code).toBe('otp_expired');
    }
  });

  it('a stolen session cannot move the account: the code to the new address alone changes nothing', async () => {
    const victim = await signedUp(address('victim'));
    const thief = address('thief');
    // The thief holds the victim's session and the thief's own mailbox.
    expect((await victim.supabase.auth.updateUser({ email: thief })).error).toBeNull();
    const half = await client().auth.verifyOtp({ email: thief, token: await codeFor(thief), type: 'email_change' });
    expect(half).toMatchObject({ error: null, data: { user: null, session: null } });
    expect((await row(victim.user.id))).toMatchObject({ email: victim.email, email_change: thief });
    // The victim's mail says what happened; changing the password drops the pending change.
    const warning = await codeFor(victim.email);
    expect(warning).toBeTruthy();
    const changed = await victim.supabase.auth.updateUser({ password: 'a fresh passphrase for the victim' });
    expect(changed.error).toBeNull();
    expect(changed.data.user!.new_email).toBeUndefined();
    expect((await client().auth.verifyOtp({ email: victim.email, token: warning, type: 'email_change' })).error?.code).toBe('otp_expired');
    expect((await row(victim.user.id))).toMatchObject({ email: victim.email, email_change: null });
  });

  it('a code only counts with the address it was mailed to', async () => {
    const u = await signedUp(address('bound'));
    const { next, toNew } = await requestChange(u, 'bound-new');
    for (const email of [u.email, address('elsewhere')]) {
      expect((await client().auth.verifyOtp({ email, token: toNew, type: 'email_change' })).error?.code).toBe('otp_expired');
    }
    // Without an address the request is malformed (GoTrue needs it too).
    const bare = await gh.app.inject({ method: 'POST', url: '/auth/v1/verify', headers: { apikey: gh.publishableKey }, payload: { type: 'email_change', token: toNew } });
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toMatchObject({ error_code: 'validation_failed', details: { field: 'email' } });
    // With its own address it is still good (the misses above were below the limit).
    const good = await gh.app.inject({ method: 'POST', url: '/auth/v1/verify', headers: { apikey: gh.publishableKey }, payload: { type: 'email_change', token: toNew, email: next } });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ msg: SINGLE_CONFIRMATION, code: '200' });
  });

  it('codes expire after an hour, and only their hash is stored', async () => {
    const u = await signedUp(address('slow'));
    const { next, toNew } = await requestChange(u, 'slow-new');
    const stored = await gh.deps.storage.db.selectFrom('identity_one_time_tokens').select(['token_hash', 'sent_to', 'kind']).where('user_id', '=', u.user.id).execute();
    expect(stored.map((r) => r.token_hash)).toContain(sha256Hex(toNew));
    expect(JSON.stringify(stored)).not.toContain(toNew);
    offsetMs += 3600_000 + 1000;
    const late = await client().auth.verifyOtp({ email: next, token: toNew, type: 'email_change' });
    expect(late.error?.code).toBe('otp_expired');
    expect((await row(u.user.id)).email).toBe(u.email);
  });

  it('five wrong codes against an address cancel the change it waits for', async () => {
    const u = await signedUp(address('guessed'));
    const { next, toNew } = await requestChange(u, 'guessed-new');
    for (let i = 0; i < 5; i++) {
      const miss = await client().auth.verifyOtp({ email: next, token: randomBytes(32).toString('base64url'), type: 'email_change' });
      expect(miss.error?.code).toBe('otp_expired');
    }
    // The right code no longer helps: the change was dropped with its codes.
    expect((await client().auth.verifyOtp({ email: next, token: toNew, type: 'email_change' })).error?.code).toBe('otp_expired');
    expect(await row(u.user.id)).toMatchObject({ email: u.email, email_change: null });
    expect((await u.supabase.auth.getUser()).data.user!.new_email).toBeUndefined();
    await gh.deps.events.flush();
    const events = await gh.deps.events.list(gh.project.id, 'dev', { type: 'email_change_rejected' });
    expect(events.map((e) => (e.details as { reason: string }).reason)).toContain('too_many_attempts');
    expect(`${gh.logs.join('\n')}${JSON.stringify(events)}`).not.toContain(toNew);
  });

  it('an address another account holds is refused, at the request and at confirmation', async () => {
    const taken = await signedUp(address('taken'));
    const u = await signedUp(address('wants'));
    const clash = await u.supabase.auth.updateUser({ email: taken.email });
    expect(clash.error?.code).toBe('email_exists');
    expect(clash.error?.status).toBe(422);
    // Free at the request, taken by a sign-up before the confirmation.
    const contested = address('contested');
    expect((await u.supabase.auth.updateUser({ email: contested })).error).toBeNull();
    const toNew = await codeFor(contested);
    const toCurrent = await codeFor(u.email);
    await signedUp(contested);
    expect((await client().auth.verifyOtp({ email: contested, token: toNew, type: 'email_change' })).error).toBeNull();
    const last = await client().auth.verifyOtp({ email: u.email, token: toCurrent, type: 'email_change' });
    expect(last.error?.code).toBe('email_exists');
    expect(await row(u.user.id)).toMatchObject({ email: u.email, email_change: null });
  });

  it('one email-change mail per minute; a new request voids the codes of the last one', async () => {
    const u = await signedUp(address('hasty'));
    const first = address('first');
    expect((await u.supabase.auth.updateUser({ email: first })).error).toBeNull();
    const firstCode = await codeFor(first);
    const again = await u.supabase.auth.updateUser({ email: address('second') });
    expect(again.error?.code).toBe('over_email_send_rate_limit');
    expect(again.error?.status).toBe(429);
    nextMinute();
    const second = address('second');
    expect((await u.supabase.auth.updateUser({ email: second })).data.user?.new_email).toBe(second);
    expect((await client().auth.verifyOtp({ email: first, token: firstCode, type: 'email_change' })).error?.code).toBe('otp_expired');
    expect((await client().auth.verifyOtp({ email: second, token: await codeFor(second), type: 'email_change' })).error).toBeNull();
    expect((await client().auth.verifyOtp({ email: u.email, token: await codeFor(u.email), type: 'email_change' })).data.user?.email).toBe(second);
  });

  it('a mail outage answers 502 and leaves no pending change, logged without the code', async () => {
    const u = await signedUp(address('outage'));
    const send = vi.spyOn(gh.deps.identity.outbox!, 'send').mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const put = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.session.access_token}` }, payload: { email: address('unreached') } });
    const sent = String((send.mock.calls[0]![0] as { text: string }).text);
    send.mockRestore();
    expect(put.statusCode).toBe(502);
    expect(put.json().error_code).toBe('upstream_failed');
    expect(await row(u.user.id)).toMatchObject({ email: u.email, email_change: null });
    const code = /\n\n(\S+)\n\n/.exec(sent)![1]!;
    expect(gh.logs.find((l) => l.includes('email change mail could not be sent'))).toContain('ECONNREFUSED');
    expect(gh.logs.join('\n')).not.toContain(code);
  });

  it('a user of an external issuer cannot set an email here', async () => {
    const u = await signedUp(address('plain'));
    await gh.deps.storage.db.updateTable('identity_users').set({ issuer_id: 'iss_test', external_sub: 'ext-1' }).where('id', '=', u.user.id).execute();
    gh.deps.identity.sessions.forgetUser(gh.project.id, 'dev', u.user.id);
    const put = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.session.access_token}` }, payload: { email: address('elsewhere') } });
    expect(put.statusCode).toBe(400);
    expect(put.json().error_code).toBe('validation_failed');
    expect(await row(u.user.id)).toMatchObject({ email: u.email, email_change: null });
  });
});

describe.each(engines())('email change without the secure variant (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp(engine, { env: { ...generousAuthLimitsEnv(), GATEHOUSE_SECURE_EMAIL_CHANGE: 'false' } }); });
  afterAll(async () => { await gh?.close(); });

  it('the code to the new address confirms alone; the old address is told at the request', async () => {
    const headers = { apikey: gh.publishableKey };
    const signUp = await gh.app.inject({ method: 'POST', url: '/auth/v1/signup', headers, payload: { email: 'plain@example.test', password: 'plain passphrase one' } });
    const token = signUp.json().access_token as string;
    const put = await gh.app.inject({ method: 'PUT', url: '/auth/v1/user', headers: { ...headers, authorization: `Bearer ${token}` }, payload: { email: 'plain-new@example.test' } });
    expect(put.json()).toMatchObject({ email: 'plain@example.test', new_email: 'plain-new@example.test' });
    const outbox = async (to: string) => (await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${to}`, headers: { apikey: gh.secretKey } })).json().messages as Array<{ kind: string; body: string }>;
    expect((await outbox('plain@example.test')).map((m) => m.kind)).toEqual(['email_change_requested']);
    const code = /\n\n(\S+)\n\n/.exec((await outbox('plain-new@example.test'))[0]!.body)![1]!;
    const verified = await gh.app.inject({ method: 'POST', url: '/auth/v1/verify', headers, payload: { type: 'email_change', email: 'plain-new@example.test', token: code } });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(decodeJwt(verified.json().access_token).email).toBe('plain-new@example.test');
  });
});
