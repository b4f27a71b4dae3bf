// Operators: the setup link, sign-in (password, backoff, TOTP and its replay), the session cookie's
// flags and the session's end (sign-out, idle, removal, password change). Real app, both engines.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/operators/index.js';
import { clockAt } from '../../src/shared/clock.js';
import type { TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { asOperator, cookieOf, OWN_ORIGIN, PASSWORD, sessionFor, setUp, signIn, startOperatorApp } from './operators.js';

for (const engine of engines()) {
  describe(`operator setup link (${engine})`, () => {
    let gh: TestApp;
    let now: number;
    beforeEach(async () => {
      now = Date.parse('2026-12-02T12:00:00Z');
      gh = await startOperatorApp(engine, { clock: clockAt(() => now) });
    });
    afterEach(() => gh.close());

    const post = (payload: object) => gh.app.inject({ method: 'POST', url: '/_/api/setup', headers: { origin: OWN_ORIGIN }, payload });

    it('is needed until the first operator exists, works once, and makes an owner of every project', async () => {
      const other = await gh.createProject('other');
      expect((await gh.app.inject({ url: '/_/api/setup' })).json()).toEqual({ needed: true });
      const token = await gh.deps.operators.issueSetupToken();
      const res = await post({ token, email: 'Owner@Example.com', password: PASSWORD });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.operator).toMatchObject({ email: 'owner@example.com', totpEnabled: false });
      expect(body.projects.map((p: { id: string; role: string }) => [p.id, p.role]).sort()).toEqual([[gh.project.id, 'owner'], [other.project.id, 'owner']].sort());
      expect(typeof body.csrfToken).toBe('string');
      expect((await gh.app.inject({ url: '/_/api/setup' })).json()).toEqual({ needed: false });
      // The same token again, even for another email: refused, and no second operator.
      const again = await post({ token, email: 'second@example.com', password: PASSWORD });
      expect(again.statusCode).toBe(403);
      expect(again.json().error).toBe('forbidden');
      expect(await gh.deps.operators.issueSetupToken()).toBeNull();
      expect((await gh.deps.operators.list()).map((o) => o.email)).toEqual(['owner@example.com']);
    });

    it('refuses a wrong token, an expired one, and one replaced by a newer link', async () => {
      const first = await gh.deps.operators.issueSetupToken();
      const wrong = await post({ token: 'x'.repeat(43), email: 'a@example.com', password: PASSWORD });
      expect(wrong.statusCode).toBe(403);
      const second = await gh.deps.operators.issueSetupToken();
      expect((await post({ token: first, email: 'a@example.com', password: PASSWORD })).statusCode).toBe(403);
      now += 3600_000 + 1;
      expect((await post({ token: second, email: 'a@example.com', password: PASSWORD })).statusCode).toBe(403);
      expect(await gh.deps.operators.setupNeeded()).toBe(true);
      const third = await gh.deps.operators.issueSetupToken();
      expect((await post({ token: third, email: 'a@example.com', password: PASSWORD })).statusCode).toBe(200);
    });

    it('checks the token before hashing the password: a wrong one costs no Argon2 hash', async () => {
      await gh.deps.operators.issueSetupToken();
      const hasher = gh.deps.identity.hasher;
      const original = hasher.hash;
      let hashed = 0;
      hasher.hash = async (password: string) => { hashed++; return original.call(hasher, password); };
      try {
        expect((await post({ token: 'x'.repeat(43), email: 'a@example.com', password: PASSWORD })).statusCode).toBe(403);
        expect(hashed).toBe(0);
        const token = await gh.deps.operators.issueSetupToken();
        expect((await post({ token, email: 'a@example.com', password: PASSWORD })).statusCode).toBe(200);
        expect(hashed).toBe(1);
      } finally {
        hasher.hash = original;
      }
    });

    it('refuses a weak password and a setup posted from another origin', async () => {
      const token = await gh.deps.operators.issueSetupToken();
      expect((await post({ token, email: 'a@example.com', password: 'password' })).json().error).toBe('weak_password');
      const foreign = await gh.app.inject({ method: 'POST', url: '/_/api/setup', headers: { origin: 'https://evil.example' }, payload: { token, email: 'a@example.com', password: PASSWORD } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json().error).toBe('csrf_rejected');
      expect(await gh.deps.operators.setupNeeded()).toBe(true);
    });
  });

  describe(`operator sign-in and sessions (${engine})`, () => {
    let gh: TestApp;
    let now: number;
    beforeEach(async () => {
      now = Date.parse('2026-12-02T12:00:00Z');
      gh = await startOperatorApp(engine, { clock: clockAt(() => now), env: { GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3' } });
      await setUp(gh);
    });
    afterEach(() => gh.close());

    it('sets an HttpOnly, SameSite=Strict cookie on path /, not Secure without TLS, and /me answers with it', async () => {
      const res = await signIn(gh, 'owner@example.com');
      expect(res.statusCode).toBe(200);
      const line = String(res.headers['set-cookie']);
      expect(line).toMatch(/^gatehouse_operator=[A-Za-z0-9_-]{43};/);
      expect(line).toContain('HttpOnly');
      expect(line).toContain('SameSite=Strict');
      expect(line).toContain('Path=/');
      expect(line).not.toContain('Secure');
      const me = await gh.app.inject({ url: '/_/api/me', headers: { cookie: cookieOf(res) } });
      expect(me.statusCode).toBe(200);
      expect(me.json().operator.email).toBe('owner@example.com');
      expect(me.json().csrfToken).toBe(res.json().csrfToken);
      expect((await gh.app.inject({ url: '/_/api/me' })).json().error).toBe('not_signed_in');
      // The session id is stored hashed: the cookie's value is nowhere in the database.
      const value = cookieOf(res).split('=')[1]!;
      const rows = await gh.deps.storage.db.selectFrom('operator_sessions').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(value);
    });

    it('answers a wrong password and an unknown email alike with 401 invalid_credentials, then backs off with 429', async () => {
      const unknown = await signIn(gh, 'nobody@example.com');
      expect([unknown.statusCode, unknown.json().error]).toEqual([401, 'invalid_credentials']);
      for (let i = 0; i < 3; i++) {
        const res = await signIn(gh, 'owner@example.com', 'wrong password here');
        expect([res.statusCode, res.json().error]).toEqual([401, 'invalid_credentials']);
      }
      const limited = await signIn(gh, 'owner@example.com');
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      now += 60_000;
      expect((await signIn(gh, 'owner@example.com')).statusCode).toBe(200);
    });

    it('with TOTP on: 401 totp_required without a code, with a wrong one, and with a replayed one', async () => {
      const session = await sessionFor(gh, 'owner@example.com');
      const enrolled = await asOperator(gh, session, { method: 'POST', url: '/_/api/totp/enroll', payload: { currentPassword: PASSWORD } });
      expect(enrolled.statusCode).toBe(200);
      const { secret, otpauthUrl } = enrolled.json();
      expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Gatehouse:owner%40example\.com\?/);
      // Sealed at rest: the secret is not in the row.
      const row = await gh.deps.storage.db.selectFrom('operators').selectAll().executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(secret);
      expect((await asOperator(gh, session, { method: 'POST', url: '/_/api/totp/confirm', payload: { code: '000000' } })).json().error).toBe('totp_required');
      expect((await asOperator(gh, session, { method: 'POST', url: '/_/api/totp/confirm', payload: { code: totpCode(secret, now) } })).statusCode).toBe(204);
      const audited = await gh.deps.storage.db.selectFrom('audit_log').select(['project_id', 'actor', 'details']).where('action', '=', 'operator.totp_on').execute();
      expect(audited).toEqual([{ project_id: gh.project.id, actor: `operator:${session.operatorId}`, details: '{}' }]);

      now += 30_000;
      const missing = await signIn(gh, 'owner@example.com');
      expect([missing.statusCode, missing.json().error]).toEqual([401, 'totp_required']);
      expect(missing.headers['set-cookie']).toBeUndefined();
      const wrongCode = await signIn(gh, 'owner@example.com', PASSWORD, totpCode(secret, now + 10 * 60_000));
      expect([wrongCode.statusCode, wrongCode.json().error]).toEqual([401, 'totp_required']);
      const code = totpCode(secret, now);
      expect((await signIn(gh, 'owner@example.com', PASSWORD, code)).statusCode).toBe(200);
      const replay = await signIn(gh, 'owner@example.com', PASSWORD, code);
      expect([replay.statusCode, replay.json().error]).toEqual([401, 'totp_required']);
      // Nor does the code of the step before work once a later one was used.
      expect((await signIn(gh, 'owner@example.com', PASSWORD, totpCode(secret, now - 30_000))).statusCode).toBe(401);
      now += 30_000;
      expect((await signIn(gh, 'owner@example.com', PASSWORD, totpCode(secret, now))).statusCode).toBe(200);
    });

    it('a session alone cannot enrol or disable a second factor: the current password is asked; confirming ends the other sessions', async () => {
      const other = await sessionFor(gh, 'owner@example.com');
      const here = await sessionFor(gh, 'owner@example.com');
      for (const payload of [{}, { currentPassword: 'not it at all' }]) {
        const res = await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/enroll', payload });
        expect(res.statusCode).toBe(payload.currentPassword === undefined ? 400 : 401);
      }
      expect((await gh.deps.storage.db.selectFrom('operators').select('totp_pending').executeTakeFirstOrThrow()).totp_pending).toBeNull();
      const { secret } = (await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/enroll', payload: { currentPassword: PASSWORD } })).json();
      expect((await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/confirm', payload: { code: totpCode(secret, now) } })).statusCode).toBe(204);
      // The other session got in without the factor: it ends; this browser's stays.
      expect((await asOperator(gh, other, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await asOperator(gh, here, { url: '/_/api/me' })).statusCode).toBe(200);
      now += 30_000;
      const wrong = await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/disable', payload: { code: totpCode(secret, now), currentPassword: 'not it at all' } });
      expect([wrong.statusCode, wrong.json().error]).toEqual([401, 'invalid_credentials']);
      const noPassword = await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/disable', payload: { code: totpCode(secret, now) } });
      expect(noPassword.statusCode).toBe(400);
      expect((await gh.deps.operators.findByEmail('owner@example.com'))!.totpEnabled).toBe(true);
      const off = await asOperator(gh, here, { method: 'POST', url: '/_/api/totp/disable', payload: { code: totpCode(secret, now), currentPassword: PASSWORD } });
      expect(off.statusCode).toBe(204);
      expect((await gh.deps.operators.findByEmail('owner@example.com'))!.totpEnabled).toBe(false);
    });

    it('ends the session on sign-out, after 2 hours idle, and at once when the operator is removed', async () => {
      const a = await sessionFor(gh, 'owner@example.com');
      const out = await asOperator(gh, a, { method: 'POST', url: '/_/api/sign-out' });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/gatehouse_operator=;.*Max-Age=0/);
      expect((await asOperator(gh, a, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await asOperator(gh, a, { url: '/admin/v1/keys', project: gh.project.id })).json().error).toBe('not_signed_in');

      const b = await sessionFor(gh, 'owner@example.com');
      now += 2 * 3600_000 - 1000;
      expect((await asOperator(gh, b, { url: '/_/api/me' })).statusCode).toBe(200);
      now += 2 * 3600_000 - 1000; // used a moment ago: still live, idle time restarts
      expect((await asOperator(gh, b, { url: '/_/api/me' })).statusCode).toBe(200);
      now += 2 * 3600_000 + 1000;
      expect((await asOperator(gh, b, { url: '/_/api/me' })).statusCode).toBe(401);

      const c = await sessionFor(gh, 'owner@example.com');
      await gh.deps.operators.add({ email: 'second@example.com', password: PASSWORD, roles: [{ projectId: gh.project.id, role: 'owner' }] });
      const second = await sessionFor(gh, 'second@example.com');
      expect((await asOperator(gh, c, { method: 'DELETE', url: `/_/api/operators/${second.operatorId}` })).statusCode).toBe(204);
      expect((await asOperator(gh, second, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await asOperator(gh, second, { url: '/admin/v1/keys', project: gh.project.id })).statusCode).toBe(401);
    });

    it('a sign-in from a browser that held a session ends that session', async () => {
      const before = await sessionFor(gh, 'owner@example.com');
      const res = await gh.app.inject({ method: 'POST', url: '/_/api/sign-in', headers: { origin: OWN_ORIGIN, cookie: before.cookie }, payload: { email: 'owner@example.com', password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      expect((await asOperator(gh, before, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await gh.app.inject({ url: '/_/api/me', headers: { cookie: cookieOf(res) } })).statusCode).toBe(200);
    });

    it('prunes ended sessions and spent setup tokens (at most hourly, on a sign-in)', async () => {
      const db = gh.deps.storage.db;
      const ended = await sessionFor(gh, 'owner@example.com');
      await asOperator(gh, ended, { method: 'POST', url: '/_/api/sign-out' });
      await sessionFor(gh, 'owner@example.com'); // will idle out
      now += 3 * 3600_000;
      const live = await sessionFor(gh, 'owner@example.com');
      const count = async (table: 'operator_sessions' | 'operator_setup_tokens') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      expect(await count('operator_sessions')).toBe(1);
      expect(await count('operator_setup_tokens')).toBe(0); // setUp's token was spent
      expect((await asOperator(gh, live, { url: '/_/api/me' })).statusCode).toBe(200);
    });

    it('ends every session on a password change, keeping this browser signed in with a new one', async () => {
      const other = await sessionFor(gh, 'owner@example.com');
      const here = await sessionFor(gh, 'owner@example.com');
      const wrong = await asOperator(gh, here, { method: 'POST', url: '/_/api/password', payload: { currentPassword: 'not it at all', newPassword: 'another long passphrase' } });
      expect([wrong.statusCode, wrong.json().error]).toEqual([401, 'invalid_credentials']);
      const changed = await asOperator(gh, here, { method: 'POST', url: '/_/api/password', payload: { currentPassword: PASSWORD, newPassword: 'another long passphrase' } });
      expect(changed.statusCode).toBe(200);
      expect((await asOperator(gh, other, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await asOperator(gh, here, { url: '/_/api/me' })).statusCode).toBe(401);
      expect((await gh.app.inject({ url: '/_/api/me', headers: { cookie: cookieOf(changed) } })).statusCode).toBe(200);
      expect((await signIn(gh, 'owner@example.com', 'another long passphrase')).statusCode).toBe(200);
      const audited = await gh.deps.storage.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', 'operator.password').execute();
      expect(audited).toEqual([{ actor: `operator:${here.operatorId}`, details: '{}' }]);
    });

    it('never logs the session id, the CSRF token or the password', async () => {
      const res = await signIn(gh, 'owner@example.com');
      const value = cookieOf(res).split('=')[1]!;
      await gh.app.inject({ url: '/_/api/me', headers: { cookie: cookieOf(res) } });
      const logs = gh.logs.join('\n');
      expect(logs).not.toContain(value);
      expect(logs).not.toContain(res.json().csrfToken);
      expect(logs).not.toContain(PASSWORD);
    });
  });
}

describe('operator cookie under TLS', () => {
  it('is Secure when the server itself speaks TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
      '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const gh = await startOperatorApp('sqlite', { env: { GATEHOUSE_TLS_CERT: join(dir, 'cert.pem'), GATEHOUSE_TLS_KEY: join(dir, 'key.pem') } });
    try {
      await gh.deps.operators.add({ email: 'ops@example.com', password: PASSWORD, roles: [] });
      const res = await gh.app.inject({ method: 'POST', url: '/_/api/sign-in', headers: { origin: OWN_ORIGIN }, payload: { email: 'ops@example.com', password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure(;|$)/);
    } finally {
      await gh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is Secure when the public URL is https (TLS ends at a proxy)', async () => {
    const gh = await startOperatorApp('sqlite', { env: { GATEHOUSE_PUBLIC_URL: 'https://gate.example.com' } });
    try {
      await gh.deps.operators.add({ email: 'ops@example.com', password: PASSWORD, roles: [] });
      const res = await gh.app.inject({ method: 'POST', url: '/_/api/sign-in', headers: { origin: 'https://gate.example.com' }, payload: { email: 'ops@example.com', password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      const line = String(res.headers['set-cookie']);
      expect(line).toMatch(/^__Host-gatehouse_operator=[A-Za-z0-9_-]{43};/);
      expect(line).toMatch(/; Secure(;|$)/);
      expect(line).toContain('Path=/');
      expect(line).not.toContain('Domain');
    } finally {
      await gh.close();
    }
  });

  it('is Secure and __Host- when the request came over https through a trusted proxy; only a trusted proxy counts', async () => {
    const gh = await startOperatorApp('sqlite', { env: { GATEHOUSE_TRUST_PROXY: '127.0.0.1' } });
    try {
      await gh.deps.operators.add({ email: 'ops@example.com', password: PASSWORD, roles: [] });
      const viaProxy = (remoteAddress: string) => gh.app.inject({
        method: 'POST', url: '/_/api/sign-in', remoteAddress,
        headers: { origin: 'https://localhost:80', 'x-forwarded-proto': 'https' }, payload: { email: 'ops@example.com', password: PASSWORD },
      });
      const res = await viaProxy('127.0.0.1');
      expect(res.statusCode, res.body).toBe(200);
      const line = String(res.headers['set-cookie']);
      expect(line).toMatch(/^__Host-gatehouse_operator=[A-Za-z0-9_-]{43};/);
      expect(line).toMatch(/; Secure(;|$)/);
      const session = cookieOf(res);
      // The __Host- name is read, and wins over a plain one beside it (which could have been planted).
      expect((await gh.app.inject({ url: '/_/api/me', headers: { cookie: session } })).statusCode).toBe(200);
      expect((await gh.app.inject({ url: '/_/api/me', headers: { cookie: `gatehouse_operator=${'A'.repeat(43)}; ${session}` } })).statusCode).toBe(200);
      expect((await gh.app.inject({ url: '/_/api/me', headers: { cookie: `${session.split('=')[0]}=${'A'.repeat(43)}; gatehouse_operator=${session.split('=')[1]}` } })).statusCode).toBe(401);
      // Sign-out clears both names.
      const out = await gh.app.inject({
        method: 'POST', url: '/_/api/sign-out', remoteAddress: '127.0.0.1',
        headers: { cookie: session, origin: 'https://localhost:80', 'x-forwarded-proto': 'https', 'x-csrf-token': res.json().csrfToken },
      });
      expect(out.statusCode).toBe(204);
      const cleared = ([] as string[]).concat(out.headers['set-cookie'] as string | string[]);
      expect(cleared.map((c) => c.split('=')[0]).sort()).toEqual(['__Host-gatehouse_operator', 'gatehouse_operator']);
      expect(cleared.every((c) => c.includes('Max-Age=0'))).toBe(true);
      // From an address that is not a trusted proxy, X-Forwarded-Proto is ignored: plain name, not Secure.
      const untrusted = await gh.app.inject({
        method: 'POST', url: '/_/api/sign-in', remoteAddress: '10.1.2.3',
        headers: { origin: OWN_ORIGIN, 'x-forwarded-proto': 'https' }, payload: { email: 'ops@example.com', password: PASSWORD },
      });
      expect(untrusted.statusCode, untrusted.body).toBe(200);
      expect(String(untrusted.headers['set-cookie'])).toMatch(/^gatehouse_operator=/);
      expect(String(untrusted.headers['set-cookie'])).not.toContain('Secure');
    } finally {
      await gh.close();
    }
  });
});
