// The development mail outbox (issue #11 §14): it holds live one-time codes in clear, so it
// keeps mail only minutes (GATEHOUSE_OUTBOX_RETENTION_SECONDS), exists only with
// GATEHOUSE_MAILER=outbox, and production has none (config refuses it: src/config/load.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../src/crypto/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines, freshDatabaseUrl } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';
import { clockAt } from '../../src/shared/clock.js';

const SMTP_ENV = { GATEHOUSE_MAILER: 'smtp', GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:9' }; // nothing listens: sends fail, and are only logged

describe.each(engines())('dev outbox (%s)', (engine) => {
  let gh: TestApp;
  let nowMs = Date.parse('2026-07-01T09:00:00Z');
  beforeAll(async () => {
    gh = await startTestApp(engine, { clock: clockAt(() => nowMs), env: { ...generousAuthLimitsEnv(), GATEHOUSE_OUTBOX_RETENTION_SECONDS: '60' } });
  });
  afterAll(async () => { await gh?.close(); });

  const outbox = (app: TestApp, to: string) => app.app.inject({ url: `/admin/v1/auth/outbox?to=${encodeURIComponent(to)}`, headers: { apikey: app.secretKey } });
  const stored = (app: TestApp, to: string) => app.deps.storage.db.selectFrom('identity_outbox').select('id').where('to_address', '=', to).execute();

  it('a message, and the live code in it, is gone after the retention: from the listing and from the table', async () => {
    const u = await createTestUser(gh);
    expect((await gh.app.inject({ method: 'POST', url: '/auth/v1/recover', headers: { apikey: gh.publishableKey }, payload: { email: u.email } })).statusCode).toBe(200);
    await gh.deps.identity.recovery.flush(); // the mail leaves after the answer
    const fresh = await outbox(gh, u.email);
    expect(fresh.json().messages.map((m: { kind: string }) => m.kind)).toEqual(['recovery']);
    nowMs += 59_000;
    expect((await outbox(gh, u.email)).json().messages).toHaveLength(1); // still within the minute
    nowMs += 2_000;
    const later = await outbox(gh, u.email);
    expect(later.statusCode).toBe(200);
    expect(later.json().messages).toEqual([]);
    expect(await stored(gh, u.email)).toEqual([]);
  });

  it('sending purges what has outlived the retention, even if nobody reads the outbox', async () => {
    const a = await createTestUser(gh);
    const b = await createTestUser(gh);
    const recover = (email: string) => gh.app.inject({ method: 'POST', url: '/auth/v1/recover', headers: { apikey: gh.publishableKey }, payload: { email } });
    await recover(a.email);
    await gh.deps.identity.recovery.flush();
    expect(await stored(gh, a.email)).toHaveLength(1);
    nowMs += 61_000;
    await recover(b.email);
    await gh.deps.identity.recovery.flush();
    expect(await stored(gh, a.email)).toEqual([]);
    expect(await stored(gh, b.email)).toHaveLength(1);
  });

  it('with SMTP there is no outbox: the admin route answers outbox_disabled and nothing is stored', async () => {
    const smtp = await startTestApp(engine, { env: { ...generousAuthLimitsEnv(), ...SMTP_ENV } });
    try {
      const u = await createTestUser(smtp);
      expect((await smtp.app.inject({ method: 'POST', url: '/auth/v1/recover', headers: { apikey: smtp.publishableKey }, payload: { email: u.email } })).statusCode).toBe(200);
      await smtp.deps.identity.recovery.flush();
      const res = await outbox(smtp, u.email);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: 'outbox_disabled' });
      expect(await stored(smtp, u.email)).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  it('production has no outbox, and deletes what a development run left in it', async () => {
    const database = await freshDatabaseUrl(engine);
    const masterKey = generateMasterKey();
    try {
      const dev = await startTestApp(engine, { database, env: { ...generousAuthLimitsEnv(), GATEHOUSE_MASTER_KEY: masterKey } });
      const u = await createTestUser(dev);
      await dev.app.inject({ method: 'POST', url: '/auth/v1/recover', headers: { apikey: dev.publishableKey }, payload: { email: u.email } });
      await dev.deps.identity.recovery.flush();
      expect(await stored(dev, u.email)).toHaveLength(1);
      await dev.close();

      const prod = await startTestApp(engine, { database, env: { ...generousAuthLimitsEnv(), ...SMTP_ENV, GATEHOUSE_MODE: 'production', GATEHOUSE_MASTER_KEY: masterKey, GATEHOUSE_PUBLIC_URL: 'https://api.example.com' } });
      try {
        expect(await stored(prod, u.email)).toEqual([]);
        const res = await outbox(prod, u.email);
        expect(res.statusCode).toBe(404);
        expect(res.json().error).toBe('outbox_disabled');
        expect(JSON.stringify(res.json())).not.toContain('Reset your password');
      } finally {
        await prod.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});
