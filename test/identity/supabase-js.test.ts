// The real @supabase/supabase-js client against a listening Gatehouse (issue #3, "Done means").
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousAuthLimitsEnv } from '../harness/users.js';

// Node 20 has no global WebSocket and realtime is not used here: a stand-in transport
// keeps supabase-js from refusing to construct (it never opens a socket unless subscribed).
class NoWebSocket {
  constructor() {
    throw new Error('realtime is not used in these tests');
  }
}

function client(gh: TestApp): SupabaseClient {
  return createClient(gh.url, gh.publishableKey, {
    auth: { autoRefreshToken: false, persistSession: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as never },
  });
}

describe.each(engines())('supabase-js auth against Gatehouse (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp(engine, { env: generousAuthLimitsEnv(), listen: true }); });
  afterAll(async () => { await gh?.close(); });

  it('signUp, signInWithPassword, getUser, updateUser, refreshSession, signOut', async () => {
    const supabase = client(gh);
    const email = 'Ada@Example.test';
    const signUp = await supabase.auth.signUp({ email, password: 'correct horse battery', options: { data: { name: 'Ada' } } });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session?.access_token).toBeTruthy();
    expect(signUp.data.user?.email).toBe('ada@example.test');
    expect(signUp.data.user?.user_metadata).toEqual({ name: 'Ada' });

    const signIn = await supabase.auth.signInWithPassword({ email, password: 'correct horse battery' });
    expect(signIn.error).toBeNull();
    const first = signIn.data.session!;
    expect(first.token_type).toBe('bearer');
    expect(first.expires_in).toBe(3600);

    const got = await supabase.auth.getUser();
    expect(got.error).toBeNull();
    expect(got.data.user?.id).toBe(signUp.data.user!.id);

    const updated = await supabase.auth.updateUser({ data: { name: 'Ada L.' }, password: 'a brand new passphrase' });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.user_metadata).toEqual({ name: 'Ada L.' });

    const refreshed = await supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(refreshed.data.session!.refresh_token).not.toBe(first.refresh_token);
    expect(refreshed.data.session!.access_token).not.toBe(first.access_token);

    // The old password no longer works, the new one does.
    const stale = await client(gh).auth.signInWithPassword({ email, password: 'correct horse battery' });
    expect(stale.error?.code).toBe('invalid_credentials');
    expect(stale.error?.status).toBe(400);
    const fresh = await client(gh).auth.signInWithPassword({ email, password: 'a brand new passphrase' });
    expect(fresh.error).toBeNull();

    const accessToken = refreshed.data.session!.access_token;
    const out = await supabase.auth.signOut();
    expect(out.error).toBeNull();
    expect((await supabase.auth.getSession()).data.session).toBeNull();
    // Global sign-out revoked every session: the access token is dead at once, not at its expiry.
    const after = await gh.app.inject({ url: '/admin/v1/users', headers: { apikey: gh.publishableKey, authorization: `Bearer ${accessToken}` } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toBe('invalid_token');
    expect(after.json().details).toEqual({ reason: 'session_revoked' });
    const me = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${accessToken}` } });
    expect(me.statusCode).toBe(403);
    expect(me.json().error_code).toBe('session_not_found');
    const logs = gh.logs.join('\n');
    for (const secret of [first.access_token, first.refresh_token, refreshed.data.session!.refresh_token, 'correct horse battery', 'a brand new passphrase']) {
      expect(logs).not.toContain(secret);
    }
  });

  it('an expired session is refreshed by the client', async () => {
    const supabase = client(gh);
    const { data, error } = await supabase.auth.signUp({ email: 'expiring@example.test', password: 'expiring passphrase' });
    expect(error).toBeNull();
    const before = data.session!;
    // Jump both the client's and the server's clock two hours ahead: the access token is expired for both.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3600_000);
      const raw = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${before.access_token}` } });
      expect(raw.statusCode).toBe(401);
      expect(raw.json().error_code).toBe('invalid_token');
      const got = await supabase.auth.getUser();
      expect(got.error).toBeNull();
      expect(got.data.user?.email).toBe('expiring@example.test');
      const now = (await supabase.auth.getSession()).data.session!;
      expect(now.refresh_token).not.toBe(before.refresh_token);
      expect(now.expires_at! * 1000).toBeGreaterThan(Date.now());
    } finally {
      vi.useRealTimers();
    }
  });

  it('resetPasswordForEmail + verifyOtp(recovery) + updateUser, and getClaims over our JWKS', async () => {
    const supabase = client(gh);
    expect((await supabase.auth.signUp({ email: 'forgetful@example.test', password: 'first passphrase' })).error).toBeNull();
    const fresh = client(gh);
    expect((await fresh.auth.resetPasswordForEmail('forgetful@example.test')).error).toBeNull();
    await gh.deps.identity.recovery.flush(); // the code is mailed off the request path
    const outbox = await gh.app.inject({ url: '/admin/v1/auth/outbox?to=forgetful@example.test', headers: { apikey: gh.secretKey } });
    const code = /\n\n(\S+)\n\n/.exec(outbox.json().messages[0].body)![1]!;
    const verified = await fresh.auth.verifyOtp({ email: 'forgetful@example.test', token: code, type: 'recovery' });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.access_token).toBeTruthy();
    expect((await fresh.auth.updateUser({ password: 'second passphrase' })).error).toBeNull();
    expect((await client(gh).auth.signInWithPassword({ email: 'forgetful@example.test', password: 'second passphrase' })).error).toBeNull();
    const reused = await client(gh).auth.verifyOtp({ email: 'forgetful@example.test', token: code, type: 'recovery' });
    expect(reused.error?.code).toBe('otp_expired');
    // supabase-js verifies our ES256 token itself, with the keys of /auth/v1/.well-known/jwks.json.
    const claims = await fresh.auth.getClaims();
    expect(claims.error).toBeNull();
    expect(claims.data?.claims.sub).toBe(verified.data.user!.id);
    expect(claims.data?.header.alg).toBe('ES256');
  });

  it('errors come back as AuthApiError with GoTrue codes', async () => {
    const supabase = client(gh);
    const weak = await supabase.auth.signUp({ email: 'weak@example.test', password: 'password123' });
    expect(weak.error?.name).toBe('AuthWeakPasswordError');
    expect(weak.error?.status).toBe(422);
    const short = await supabase.auth.signUp({ email: 'short@example.test', password: 'short' });
    expect(short.error?.code).toBe('weak_password');
    const dup = await supabase.auth.signUp({ email: 'dup@example.test', password: 'a fine passphrase' });
    expect(dup.error).toBeNull();
    const again = await client(gh).auth.signUp({ email: 'dup@example.test', password: 'a fine passphrase' });
    expect(again.error?.code).toBe('user_already_exists');
    const bad = await client(gh).auth.signUp({ email: 'not-an-email', password: 'a fine passphrase' });
    expect(bad.error?.code).toBe('email_address_invalid');
    expect(bad.error?.status).toBe(400);
    const unknown = await client(gh).auth.signInWithPassword({ email: 'nobody@example.test', password: 'whatever it is' });
    expect(unknown.error?.code).toBe('invalid_credentials');
    const rows = await gh.deps.storage.db.selectFrom('identity_users').select('email').execute();
    expect(rows.map((r) => r.email)).not.toContain('weak@example.test');
    expect(rows.map((r) => r.email)).not.toContain('not-an-email');
    expect(gh.logs.join('\n')).not.toContain('a fine passphrase');
  });
});
