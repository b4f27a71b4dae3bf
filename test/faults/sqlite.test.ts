// SQLite that cannot serve (another process holds the write lock past busy_timeout, an I/O error,
// a full disk) is a 503 with Retry-After like any backing-service outage, logged once, not a 500.
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteFilePath } from '../../src/db/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';

describe('SQLite busy (sqlite)', () => {
  let gh: TestApp | undefined;
  afterEach(async () => {
    await gh?.close();
    gh = undefined;
  });

  it('a write lock held by another process past busy_timeout is 503, then writes resume', async () => {
    gh = await startTestApp('sqlite');
    const other = new SQLite(sqliteFilePath(gh.config.dataDir));
    try {
      other.exec('BEGIN IMMEDIATE');
      // Waits out busy_timeout (5 s): the lock is ours until ROLLBACK.
      const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ error: 'service_unavailable', message: 'The database is temporarily unavailable; retry shortly.' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const again = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } });
    expect(again.statusCode).toBe(201);
    const messages = gh.logs.map((l) => JSON.parse(l) as { msg: string });
    expect(messages.filter((m) => m.msg === 'database unavailable')).toHaveLength(1);
    expect(messages.filter((m) => m.msg === 'database available again')).toHaveLength(1);
    expect(messages.filter((m) => m.msg === 'request failed')).toHaveLength(0);
  }, 20_000);
});
