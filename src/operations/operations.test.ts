// The actions themselves, without a front end: each decides by its principal, and a refused act
// changes nothing and audits nothing; an act that happens leaves one entry naming its principal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { depsOn, seedProject } from '../../test/harness/cli.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../../test/harness/engines.js';
import type { Deps } from '../deps.js';
import { actorOf, createOperations, OPERATOR, type ActionContext, type Operations, type Principal } from './index.js';
import { creatorOf, keyPowerOf } from './principal.js';

const secretKey = (scopes: string[] | null, userId: string | null = null): Principal => ({ kind: 'secret_key', keyId: 'key_scoped', scopes, userId });
const adminUser: Principal = { kind: 'admin_user', userId: 'usr_admin', keyId: 'key_pk', scopes: null };

describe('principals', () => {
  it('the audit names the user riding a secret key, but the keys it makes are the key\'s and so is the power', () => {
    const p = secretKey(['admin:keys'], 'usr_rider');
    expect(actorOf(p)).toBe('user:usr_rider');
    expect(creatorOf(p)).toBe('key:key_scoped');
    expect(keyPowerOf(p)).toEqual({ kind: 'secret', scopes: ['admin:keys'] });
  });

  it('an admin user acts as itself with its publishable key\'s scopes; the operator as cli with every power', () => {
    expect([actorOf(adminUser), creatorOf(adminUser), keyPowerOf(adminUser)]).toEqual(['user:usr_admin', 'user:usr_admin', { kind: 'publishable', scopes: null }]);
    expect([actorOf(OPERATOR), creatorOf(OPERATOR), keyPowerOf(OPERATOR)]).toEqual(['cli', 'cli', { kind: 'secret', scopes: null }]);
  });
});

describe.each(engines())('operations (%s)', (engine) => {
  let db: FreshDatabase;
  let deps: Deps;
  let operations: Operations;
  let projectId: string;
  const as = (principal: Principal): ActionContext => ({ principal, projectId, environment: 'dev' });
  /** Entries of the acts under test (not the project's creation), newest first. */
  const audited = async () => (await deps.audit.list(projectId, 'dev')).filter((e) => e.actor !== 'test').map((e) => [e.actor, e.action]);

  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
    projectId = (await seedProject(db, 'shop')).project.id;
    deps = await depsOn(db);
    operations = createOperations(deps);
  });
  afterEach(async () => {
    await deps.close();
    await db.cleanup();
  });

  it('an admin user cannot do what would outlive its role or lift its own limits', async () => {
    const key = await operations.keys.create(as(OPERATOR), { kind: 'publishable' });
    const before = await audited();
    const refusals = [
      operations.keys.rotate(as(adminUser), key.summary.id),
      operations.auth.addIssuer(as(adminUser), { kind: 'supabase', issuer: 'https://x.supabase.co/auth/v1', hmac_secret: 'a'.repeat(40) }),
      operations.providers.setQuotas(as(adminUser), { tokensPerDay: null }),
      operations.limits.setPolicy(as(adminUser), {}),
      operations.limits.setOverride(as(adminUser), 'user:usr_admin', {}),
      operations.users.setRole(as(adminUser), 'usr_aaaaaaaaaaaaaaaaaaaa', 'authenticated'),
      operations.keys.create(as(adminUser), { kind: 'secret' }),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toMatchObject({ code: 'secret_key_required' });
    expect(await operations.auth.issuers(as(OPERATOR))).toEqual([]);
    expect(await audited()).toEqual(before);
  });

  it('a scoped secret key cannot hand out a whole role or change its own override; one with every scope can', async () => {
    const scoped = secretKey(['admin:users', 'admin:limits', 'admin:auth']);
    await expect(operations.users.create(as(scoped), { email: 'boss@example.test', password: 'a long enough passphrase', role: 'admin' }))
      .rejects.toMatchObject({ code: 'insufficient_scope', details: { required_scope: '*' } });
    await expect(operations.limits.changeClass(as(scoped), 'llm', { tiers: ['admin'], windows: [{ limit: 1_000_000, windowMs: 60_000 }] }))
      .rejects.toMatchObject({ code: 'insufficient_scope' });
    await expect(operations.limits.setOverride(as(scoped), 'key:key_scoped', { llm: [{ limit: 1_000_000, windowMs: 60_000 }] }))
      .rejects.toMatchObject({ code: 'forbidden' });
    await expect(operations.auth.outbox(as(scoped), {})).rejects.toMatchObject({ code: 'insufficient_scope' });
    expect(await audited()).toEqual([]);

    const full = secretKey(['*']);
    await operations.limits.setOverride(as(full), 'key:key_scoped', { llm: [{ limit: 5, windowMs: 60_000 }] });
    const made = await operations.users.create(as(full), { email: 'boss@example.test', password: 'a long enough passphrase', role: 'admin' });
    expect(made.role).toBe('admin');
    expect(await audited()).toEqual([['key:key_scoped', 'user.create'], ['key:key_scoped', 'rate_limits.override.set']]);
  });

  it('the operator holds full power, and each act is audited once as cli', async () => {
    const key = await operations.keys.create(as(OPERATOR), { kind: 'secret', scopes: ['admin:keys'] });
    expect(key.summary.createdBy).toBe('cli');
    await operations.keys.rotate(as(OPERATOR), key.summary.id, 0);
    await operations.limits.changeClass(as(OPERATOR), 'llm', { tiers: ['user'], windows: [{ limit: 5, windowMs: 60_000 }] });
    await operations.providers.setQuotas(as(OPERATOR), { tokensPerDay: 10 });
    expect(await operations.providers.quotas(as(OPERATOR))).toEqual({ tokensPerDay: 10, tokensPerMonth: null });
    expect(await audited()).toEqual([
      ['cli', 'llm_quotas.put'], ['cli', 'rate_limits.policy.set'], ['cli', 'api_key.rotate'], ['cli', 'api_key.create'],
    ]);
  });

  it('bad input is refused before anything is done', async () => {
    const key = await operations.keys.create(as(OPERATOR), { kind: 'publishable' });
    const before = await audited();
    await expect(operations.keys.rotate(as(OPERATOR), key.summary.id, 30 * 86400 + 1)).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'grace_seconds' }] });
    await expect(operations.keys.rotate(as(OPERATOR), key.summary.id, 1.5)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(operations.keys.create(as(OPERATOR), { kind: 'publishable', expiresAt: 'next tuesday' })).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'expires_at' }] });
    await expect(operations.providers.setQuotas(as(OPERATOR), { tokensPerDay: -1 })).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'tokens_per_day' }] });
    await expect(operations.auth.setSignupMode(as(OPERATOR), 'sometimes')).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'signup_mode' }] });
    await expect(operations.users.setRole(as(OPERATOR), 'usr_aaaaaaaaaaaaaaaaaaaa', 'root')).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'role' }] });
    await expect(operations.requestLog.putSettings(as(OPERATOR), { enabled: true })).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'retention_days' }] });
    expect((await operations.keys.list(as(OPERATOR))).find((k) => k.id === key.summary.id)?.status).toBe('active');
    expect(await audited()).toEqual(before);
  });
});
