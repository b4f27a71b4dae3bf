// No oracle for "does this address have an account?":
//   - sign-up checks the environment's mode first: closed or invite-only, an existing address
//     gets the same signup_disabled as a new one, and no account is even looked up;
//   - /recover does the same work on the request path for known and unknown addresses (none:
//     the look-up, the code and the mail run after the answer), so a slow mailer cannot make
//     the known address answer slower.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';
import { RECOVERY_QUEUE_MAX } from '../../src/identity/accounts/index.js';

describe.each(engines())('account enumeration (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp(engine, { env: generousAuthLimitsEnv() }); });
  afterAll(async () => { await gh?.close(); });
  afterEach(async () => {
    vi.restoreAllMocks();
    await gh.app.inject({ method: 'PUT', url: '/admin/v1/auth/settings', headers: { apikey: gh.secretKey }, payload: { signup_mode: 'open' } });
  });

  const post = (url: string, payload: object) => gh.app.inject({ method: 'POST', url, headers: { apikey: gh.publishableKey }, remoteAddress: '203.0.113.90', payload });
  const setMode = async (mode: string) => {
    expect((await gh.app.inject({ method: 'PUT', url: '/admin/v1/auth/settings', headers: { apikey: gh.secretKey }, payload: { signup_mode: mode } })).statusCode).toBe(200);
  };
  const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });

  it.each(['closed', 'invite'])('sign-up in %s mode answers an existing address exactly as a new one, without looking it up', async (mode) => {
    const existing = await createTestUser(gh);
    await setMode(mode);
    const lookup = vi.spyOn(gh.deps.identity.users, 'byEmail');
    const known = await post('/auth/v1/signup', { email: existing.email, password: 'a long enough passphrase' });
    const unknown = await post('/auth/v1/signup', { email: `never-${mode}@example.test`, password: 'a long enough passphrase' });
    expect(known.statusCode).toBe(422);
    expect(known.json().error_code).toBe('signup_disabled');
    expect(withoutRequestId(known.json())).toEqual(withoutRequestId(unknown.json()));
    expect(lookup).not.toHaveBeenCalled();
  });

  it('invite mode: an invited address signs up once; an invited address that already has an account is told so', async () => {
    const existing = await createTestUser(gh);
    await setMode('invite');
    for (const email of ['fresh-invitee@example.test', existing.email]) {
      expect((await gh.app.inject({ method: 'POST', url: '/admin/v1/users/invites', headers: { apikey: gh.secretKey }, payload: { email } })).statusCode).toBe(201);
    }
    expect((await post('/auth/v1/signup', { email: 'fresh-invitee@example.test', password: 'a long enough passphrase' })).statusCode).toBe(200);
    expect((await post('/auth/v1/signup', { email: 'fresh-invitee@example.test', password: 'a long enough passphrase' })).json().error_code).toBe('signup_disabled');
    // Whoever holds an invitation for the address may learn it is taken (and the invite stays unused).
    expect((await post('/auth/v1/signup', { email: existing.email, password: 'a long enough passphrase' })).json().error_code).toBe('user_already_exists');
    const invites = await gh.deps.identity.signup.listInvites(gh.project.id, 'dev');
    expect(invites.find((i) => i.email === existing.email)).toMatchObject({ used_at: null });
  });

  it('open mode still refuses a taken address (sign-up signs in at once, so it cannot pretend)', async () => {
    const existing = await createTestUser(gh);
    expect((await post('/auth/v1/signup', { email: existing.email, password: 'a long enough passphrase' })).json().error_code).toBe('user_already_exists');
  });

  it('/recover answers before the account is even looked up, for known and unknown addresses alike', async () => {
    const u = await createTestUser(gh);
    // Hold every look-up until after both answers: before, the known address waited for it (and more).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const original = gh.deps.identity.users.byEmail.bind(gh.deps.identity.users);
    const lookup = vi.spyOn(gh.deps.identity.users, 'byEmail').mockImplementation(async (...args) => { await gate; return original(...args); });
    const send = vi.spyOn(gh.deps.identity.outbox!, 'send');
    const known = await post('/auth/v1/recover', { email: u.email });
    const unknown = await post('/auth/v1/recover', { email: 'no-such-account@example.test' });
    expect(known.statusCode).toBe(200);
    expect(known.json()).toEqual(unknown.json());
    expect(send).not.toHaveBeenCalled();
    release();
    await gh.deps.identity.recovery.flush();
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![0]).toMatchObject({ to: u.email, kind: 'recovery' });
  });

  it('a deliberately slow mailer does not slow the known address\'s answer; the mail still goes out', async () => {
    const u = await createTestUser(gh);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const original = gh.deps.identity.outbox!.send.bind(gh.deps.identity.outbox!);
    const send = vi.spyOn(gh.deps.identity.outbox!, 'send').mockImplementation(async (m) => { await gate; return original(m); });
    const known = await post('/auth/v1/recover', { email: u.email });
    expect(known.statusCode).toBe(200);
    // The answer came while the mailer was still stuck.
    release();
    await gh.deps.identity.recovery.flush();
    expect(send).toHaveBeenCalledTimes(1);
    const outbox = await gh.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(u.email)}`, headers: { apikey: gh.secretKey } });
    expect(outbox.json().messages).toHaveLength(1);
  });

  it('a pile-up of recoveries is refused with 503 for every address alike, never queued without bound', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    vi.spyOn(gh.deps.identity.users, 'byEmail').mockImplementation(async () => { await gate; return null; });
    for (let i = 0; i < RECOVERY_QUEUE_MAX; i++) expect((await post('/auth/v1/recover', { email: `queued-${i}@example.test` })).statusCode).toBe(200);
    const over = await post('/auth/v1/recover', { email: 'one-too-many@example.test' });
    expect(over.statusCode).toBe(503);
    expect(over.json().error_code).toBe('service_unavailable');
    expect(over.headers['retry-after']).toBe('1');
    release();
    await gh.deps.identity.recovery.flush();
    expect((await post('/auth/v1/recover', { email: 'after-the-pile@example.test' })).statusCode).toBe(200);
    await gh.deps.identity.recovery.flush();
  });
});
