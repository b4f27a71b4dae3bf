import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/identity/api-keys/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines, freshDatabaseUrl } from '../harness/engines.js';
import { clockAt } from '../../src/shared/clock.js';

/** A clock tests move by hand. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return { ...clockAt(() => now), advance: (ms: number) => void (now += ms) };
}

async function eventsOf(gh: TestApp, type: string) {
  await gh.deps.events.flush();
  return gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', type).execute();
}

describe.each(engines())('API keys on %s', (engine) => {
  let gh: TestApp;
  // Real time plus what a test skips ahead: caches and expiries read this clock, so no test sleeps.
  let shiftMs = 0;
  const clock = clockAt(() => Date.now() + shiftMs);
  beforeEach(async () => {
    gh = await startTestApp(engine, { clock });
  });
  afterEach(async () => {
    await gh.close();
  });

  const get = (url: string, headers: Record<string, string>) => gh.app.inject({ method: 'GET', url, headers });

  it('accepts a key from apikey, X-API-Key or Authorization: Bearer', async () => {
    const variants: Array<Record<string, string>> = [{ apikey: gh.secretKey }, { 'x-api-key': gh.secretKey }, { authorization: `Bearer ${gh.secretKey}` }];
    for (const headers of variants) {
      const res = await get('/admin/v1/project', headers);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: gh.project.id, environment: 'dev' });
    }
  });

  it('refuses two different keys in one request', async () => {
    const res = await get('/admin/v1/project', { apikey: gh.secretKey, 'x-api-key': gh.publishableKey });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('bad_request');
  });

  it('stores only a SHA-256 hash: the clear key is nowhere in the database', async () => {
    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', name: 'ci' } });
    expect(created.statusCode).toBe(201);
    const newKey: string = created.json().key;
    await gh.deps.events.flush();
    const clearKeys = [gh.secretKey, gh.publishableKey, newKey];
    let dump: string;
    if (engine === 'sqlite') {
      // Checkpoint the WAL so the file holds everything, then read raw bytes (file + WAL).
      await sql`PRAGMA wal_checkpoint(FULL)`.execute(gh.deps.storage.db);
      const dir = gh.config.dataDir;
      dump = readdirSync(dir).filter((f) => f.startsWith('gatehouse.db')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    } else {
      const client = new pg.Client({ connectionString: gh.config.databaseUrl });
      await client.connect();
      const tables = await client.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = 'public'");
      const parts: string[] = [];
      for (const { table_name } of tables.rows) parts.push(JSON.stringify((await client.query(`select * from "${table_name}"`)).rows));
      await client.end();
      dump = parts.join('\n');
    }
    const row = await gh.deps.storage.db.selectFrom('api_keys').selectAll().where('id', '=', created.json().id).executeTakeFirstOrThrow();
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(dump).toContain(row.key_hash);
    for (const key of clearKeys) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(24, 60)); // not even the random part
    }
  });

  it('shows a created key once; lists show only prefix and last four characters', async () => {
    const created = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'publishable' } })).json();
    const list = await get('/admin/v1/keys', { apikey: gh.secretKey });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain(gh.secretKey);
    const listed = list.json().keys.find((k: { id: string }) => k.id === created.id);
    expect(listed.display).toBe(`pk_dev_…${created.key.slice(-4)}`);
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('key_hash');
  });

  it.each([
    ['missing', undefined, 401, 'missing_api_key'],
    ['wrong prefix', 'xk_dev_' + 'a'.repeat(60), 401, 'invalid_api_key'],
    ['bad checksum', 'TYPO', 401, 'invalid_api_key'],
    ['unknown', 'UNKNOWN', 401, 'invalid_api_key'],
  ])('rejects a %s key with 401 and records a security event without the key', async (_name, kind, status, code) => {
    let key = kind;
    if (kind === 'TYPO') key = gh.secretKey.slice(0, 30) + (gh.secretKey[30] === 'x' ? 'y' : 'x') + gh.secretKey.slice(31);
    if (kind === 'UNKNOWN') key = generateApiKey('secret', 'dev', gh.project.id).key;
    const res = await get('/admin/v1/keys', key ? { apikey: key } : {});
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error: code, request_id: res.headers['x-request-id'] });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const events = await eventsOf(gh, 'api_key_rejected');
    expect(events.length).toBe(1);
    if (key) {
      expect(JSON.stringify(events)).not.toContain(key);
      expect(gh.logs.join('\n')).not.toContain(key);
    }
  });

  it('a revoked key stops working within one second, also on another instance with a warm cache', async () => {
    const second = await startTestApp(engine, { clock, database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir } });
    try {
      const created = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } })).json();
      // Warm both caches.
      expect((await second.app.inject({ url: '/admin/v1/project', headers: { apikey: created.key } })).statusCode).toBe(200);
      const revoked = await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${created.id}/revoke`, headers: { apikey: gh.secretKey } });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().status).toBe('revoked');
      // This instance evicts at once.
      expect((await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: created.key } })).statusCode).toBe(401);
      // The other one within the cache TTL (1 s of the shared clock).
      shiftMs += 1000;
      expect((await second.app.inject({ url: '/admin/v1/project', headers: { apikey: created.key } })).statusCode).toBe(401);
      const events = await eventsOf(gh, 'api_key_rejected');
      expect(events.some((e) => JSON.parse(e.details).reason === 'revoked')).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('a key kept warm on another instance (read again in the background) is still refused within the TTL once revoked', async () => {
    // The second instance keeps the key's entry warm with real timers (ttl-cache.ts keepWarmMs):
    // its background reads must see the revocation made elsewhere, not extend the old answer.
    const second = await startTestApp(engine, {
      clock, database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir }, env: { GATEHOUSE_KEY_CACHE_TTL_MS: '200' },
    });
    try {
      const created = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } })).json();
      const call = () => second.app.inject({ url: '/admin/v1/project', headers: { apikey: created.key } });
      expect((await call()).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 450)); // two TTLs of quiet: the entry is read again meanwhile
      expect((await call()).statusCode).toBe(200);
      expect((await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${created.id}/revoke`, headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 250)); // one TTL
      const refused = await call();
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe('invalid_api_key');
    } finally {
      await second.close();
    }
  });

  it('an expired key is refused', async () => {
    const created = (await gh.app.inject({
      method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey },
      payload: { kind: 'secret', expires_at: new Date(clock.nowMs() + 1500).toISOString() },
    })).json();
    expect((await get('/admin/v1/project', { apikey: created.key })).statusCode).toBe(200);
    shiftMs += 1600;
    const res = await get('/admin/v1/project', { apikey: created.key });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_api_key');
  });

  it('refuses an expiry in the past', async () => {
    const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', expires_at: '2001-01-01T00:00:00Z' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_failed');
  });

  it('a publishable key cannot use admin routes', async () => {
    const res = await get('/admin/v1/keys', { apikey: gh.publishableKey });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('secret_key_required');
    expect((await eventsOf(gh, 'secret_key_required')).length).toBe(1);
  });

  it('keys of another environment or project cannot see or touch this one', async () => {
    const prod = await gh.deps.apiKeys.create({ projectId: gh.project.id, environment: 'prod', kind: 'secret' });
    const other = await gh.createProject('other');
    const devKeys = (await get('/admin/v1/keys', { apikey: gh.secretKey })).json().keys as Array<{ id: string }>;
    const target = devKeys[0]!.id;
    for (const key of [prod.key, other.secretKey]) {
      const list = await get('/admin/v1/keys', { apikey: key });
      expect(list.statusCode).toBe(200);
      expect(list.json().keys.map((k: { id: string }) => k.id)).not.toContain(target);
      for (const action of ['revoke', 'rotate']) {
        const res = await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${target}/${action}`, headers: { apikey: key } });
        expect(res.statusCode).toBe(404);
        expect(res.json().error).toBe('not_found');
      }
    }
    // The dev key still works: nothing was revoked.
    expect((await get('/admin/v1/project', { apikey: gh.secretKey })).statusCode).toBe(200);
    // A prod key is refused when it claims dev (the environment is part of the checksummed key).
    const forged = prod.key.replace('sk_prod_', 'sk_dev_');
    expect((await get('/admin/v1/project', { apikey: forged })).statusCode).toBe(401);
    // A project A key presented as project B's.
    const swapped = gh.secretKey.replace(gh.project.id, other.project.id);
    expect((await get('/admin/v1/project', { apikey: swapped })).statusCode).toBe(401);
  });

  describe('scopes', () => {
    it('a key without the route scope gets 403 insufficient_scope', async () => {
      const scoped = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', scopes: ['admin:logs'] } })).json();
      const res = await get('/admin/v1/keys', { apikey: scoped.key });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'insufficient_scope', details: { required_scope: 'admin:keys' } });
      expect((await get('/admin/v1/security-events', { apikey: scoped.key })).statusCode).toBe(200);
      expect((await eventsOf(gh, 'api_key_scope_denied')).length).toBe(1);
    });

    it('a scoped key cannot mint or rotate into a more powerful key', async () => {
      const scoped = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', scopes: ['admin:keys', 'data:notes:read'] } })).json();
      const broader = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: scoped.key }, payload: { kind: 'secret' } });
      expect(broader.statusCode).toBe(403);
      expect(broader.json().error).toBe('insufficient_scope');
      const wider = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: scoped.key }, payload: { kind: 'secret', scopes: ['data:*:read'] } });
      expect(wider.statusCode).toBe(403);
      const narrower = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: scoped.key }, payload: { kind: 'publishable', scopes: ['data:notes:read'] } });
      expect(narrower.statusCode).toBe(201);
      const unscopedId = (await get('/admin/v1/keys', { apikey: gh.secretKey })).json().keys.find((k: { scopes: unknown; kind: string }) => k.scopes === null && k.kind === 'secret').id;
      const rotate = await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${unscopedId}/rotate`, headers: { apikey: scoped.key } });
      expect(rotate.statusCode).toBe(403);
      expect((await get('/admin/v1/project', { apikey: gh.secretKey })).statusCode).toBe(200);
    });

    it('refuses malformed scopes', async () => {
      const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret', scopes: ['billing:everything'] } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'validation_failed' });
    });
  });

  it('writes an audit entry for every key change', async () => {
    const created = (await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } })).json();
    await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${created.id}/rotate`, headers: { apikey: gh.secretKey } });
    await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${created.id}/revoke`, headers: { apikey: gh.secretKey } });
    const entries = (await get('/admin/v1/audit-log', { apikey: gh.secretKey })).json().entries as Array<{ action: string; target: string }>;
    expect(entries.filter((e) => e.target === created.id).map((e) => e.action)).toEqual(['api_key.revoke', 'api_key.rotate', 'api_key.create']);
    expect(JSON.stringify(entries)).not.toContain(created.key);
  });
});

describe.each(engines())('API key rotation on %s', (engine) => {
  it('the old key keeps working through the grace period, then stops', async () => {
    const clock = manualClock();
    const gh = await startTestApp(engine, { clock, env: { GATEHOUSE_KEY_CACHE_TTL_MS: '0' } });
    try {
      const id = (await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: gh.secretKey } })).json().keys.find((k: { kind: string }) => k.kind === 'publishable').id;
      const rotated = await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${id}/rotate`, headers: { apikey: gh.secretKey } });
      expect(rotated.statusCode).toBe(201);
      const body = rotated.json();
      expect(body.key).toMatch(/^pk_dev_/);
      expect(body.previous).toMatchObject({ id, replaced_by: body.id, status: 'expiring', expires_at: '2026-01-02T00:00:00.000Z' });
      const probe = (key: string) => gh.app.inject({ url: '/admin/v1/project', headers: { apikey: key } });
      // Publishable keys reach non-admin routes only; /admin answers 403 (valid key) vs 401 (invalid key).
      expect((await probe(gh.publishableKey)).statusCode).toBe(403);
      clock.advance(24 * 3600 * 1000 - 1000);
      expect((await probe(gh.publishableKey)).statusCode).toBe(403);
      clock.advance(2000);
      expect((await probe(gh.publishableKey)).statusCode).toBe(401);
      expect((await probe(body.key)).statusCode).toBe(403);
    } finally {
      await gh.close();
    }
  });

  it('a custom grace period of 0 stops the old key at once', async () => {
    const fresh = await freshDatabaseUrl(engine);
    const gh = await startTestApp(engine, { database: fresh, env: { GATEHOUSE_KEY_CACHE_TTL_MS: '0' } });
    try {
      const sk = (await gh.app.inject({ url: '/admin/v1/keys', headers: { apikey: gh.secretKey } })).json().keys.find((k: { kind: string }) => k.kind === 'secret');
      const rotated = (await gh.app.inject({ method: 'POST', url: `/admin/v1/keys/${sk.id}/rotate?grace_seconds=0`, headers: { apikey: gh.secretKey } })).json();
      expect((await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey } })).statusCode).toBe(401);
      expect((await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: rotated.key } })).statusCode).toBe(200);
    } finally {
      await gh.close();
      await fresh.cleanup();
    }
  });
});
