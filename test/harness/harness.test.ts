// Tests of the test harness itself: the services it provides must really work.
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { engines, freshDatabaseUrl, redisUrl } from './engines.js';
import { createDatabase } from './postgres.js';
import { startRedis } from './redis.js';

const pgUrl = inject('postgresUrl');
const sharedRedisUrl = inject('redisUrl');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function redisPing(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // connect() rejects with the error; no 'unhandled error event' noise
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

/** Resolves with the socket error code (e.g. ECONNREFUSED), or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('services in CI', () => {
  it.runIf(process.env.CI === 'true')('CI always has PostgreSQL and Redis', () => {
    expect(pgUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(sharedRedisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('PostgreSQL', () => {
  it.skipIf(!pgUrl)('answers select 1 through the provided url', async () => {
    const rows = await query<{ one: number }>(pgUrl!, 'select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it.skipIf(!pgUrl)('listens on loopback with room for many connections', async () => {
    const rows = await query<{ setting: string; name: string }>(
      pgUrl!,
      "select name, setting from pg_settings where name in ('listen_addresses', 'max_connections') order by name",
    );
    expect(rows).toEqual([
      { name: 'listen_addresses', setting: '127.0.0.1' },
      { name: 'max_connections', setting: '300' },
    ]);
  });

  it.skipIf(!pgUrl)('createDatabase gives isolated databases and drop() removes them', async () => {
    const a = await createDatabase(pgUrl!);
    const b = await createDatabase(pgUrl!);
    try {
      expect(a.url).not.toBe(b.url);
      expect(a.url).toMatch(/\/gh_[0-9a-f]{16}$/);
      await query(a.url, 'create table only_in_a (id int primary key)');
      await query(a.url, 'insert into only_in_a values (1)');
      const inA = await query<{ t: string | null }>(a.url, "select to_regclass('public.only_in_a')::text as t");
      const inB = await query<{ t: string | null }>(b.url, "select to_regclass('public.only_in_a')::text as t");
      expect(inA).toEqual([{ t: 'only_in_a' }]);
      expect(inB).toEqual([{ t: null }]);
    } finally {
      // An open connection must not stop drop().
      const lingering = new pg.Client({ connectionString: a.url });
      await lingering.connect();
      lingering.on('error', () => undefined); // terminated by drop()
      await a.drop();
      await b.drop();
      await a.drop(); // idempotent
      await lingering.end().catch(() => undefined);
    }
    const names = [new URL(a.url).pathname.slice(1), new URL(b.url).pathname.slice(1)];
    const left = await query(pgUrl!, 'select datname from pg_database where datname = any($1)', [names]);
    expect(left).toEqual([]);
  });
});

describe('Redis', () => {
  it.skipIf(!sharedRedisUrl)('the provided Redis answers PING', async () => {
    expect(redisUrl()).toBe(sharedRedisUrl);
    expect(await redisPing(sharedRedisUrl!)).toBe('PONG');
  });

  it.skipIf(!sharedRedisUrl)('stop() refuses connections and start() comes back on the same port', async () => {
    // A private server: the shared one is used by other test files at the same time.
    const server = await startRedis();
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(await redisPing(server.url)).toBe('PONG');

      await server.stop();
      expect(await tryConnect(server.port)).toBe('ECONNREFUSED');
      await expect(redisPing(server.url)).rejects.toThrow();
      await server.stop(); // idempotent

      await server.start();
      expect(await redisPing(server.url)).toBe('PONG');
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    } finally {
      await server.stop();
    }
    expect(await tryConnect(server.port)).toBe('ECONNREFUSED');
  });

  it.skipIf(!sharedRedisUrl)('startRedis(port) uses the given port', async () => {
    const first = await startRedis();
    const port = first.port;
    await first.stop();
    const server = await startRedis(port);
    try {
      expect(server.port).toBe(port);
      expect(await redisPing(`redis://127.0.0.1:${port}`)).toBe('PONG');
    } finally {
      await server.stop();
    }
  });
});

describe('engines', () => {
  it('always includes sqlite, and postgres exactly when PostgreSQL is available', () => {
    expect(engines()).toEqual(pgUrl ? ['sqlite', 'postgres'] : ['sqlite']);
  });

  for (const engine of engines()) {
    it(`freshDatabaseUrl(${engine}) gives an empty data dir and cleans up`, async () => {
      const db = await freshDatabaseUrl(engine);
      const other = await freshDatabaseUrl(engine);
      try {
        expect(readdirSync(db.dataDir)).toEqual([]);
        expect(db.dataDir).not.toBe(other.dataDir);
        if (engine === 'sqlite') {
          expect(db.databaseUrl).toBeUndefined();
        } else {
          expect(db.databaseUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/gh_[0-9a-f]+$/);
          expect(db.databaseUrl).not.toBe(other.databaseUrl);
          expect(await query(db.databaseUrl!, 'select 1 as one')).toEqual([{ one: 1 }]);
        }
      } finally {
        await db.cleanup();
        await other.cleanup();
      }
      expect(existsSync(db.dataDir)).toBe(false);
      if (engine === 'postgres') {
        const name = new URL(db.databaseUrl!).pathname.slice(1);
        expect(await query(pgUrl!, 'select 1 from pg_database where datname = $1', [name])).toEqual([]);
      }
    });
  }
});
