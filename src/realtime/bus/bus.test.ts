// The buses: messages reach every subscriber of the topic (and only of it), an unsubscribed
// handler hears nothing more, and a bus whose backing service is down answers 503, never hangs.
import { createServer } from 'node:net';
import pino from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { ServiceUnavailableError } from '../../errors/index.js';
import { createLimiterRedisClient } from '../../limits/redis-store.js';
import type { RealtimeBus } from '../changes/types.js';
import { createMemoryBus } from './memory.js';
import { createPostgresBus } from './postgres.js';
import { createRedisBus } from './redis.js';

const logger = pino({ level: 'silent' });

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A Redis bus as an instance makes it: publishing on a fail-fast client like the counter store's, closed with the bus here. */
async function redisBus(url: string, options: { prefix?: string; connect: boolean }): Promise<RealtimeBus> {
  const publisher = createLimiterRedisClient(url, { lazyConnect: true, retryStrategy: options.connect ? undefined : () => null });
  if (options.connect) await publisher.connect();
  const bus = createRedisBus({ publisher, logger, prefix: options.prefix });
  return {
    ...bus,
    async close() {
      await bus.close();
      publisher.disconnect();
    },
  };
}

const buses: Array<[string, () => RealtimeBus | Promise<RealtimeBus>, boolean]> = [
  ['memory', () => createMemoryBus({ logger }), false],
  ['redis', () => redisBus(inject('redisUrl')!, { prefix: `test:${Math.random().toString(36).slice(2)}:`, connect: true }), inject('redisUrl') === null],
  ['postgres', () => createPostgresBus({ databaseUrl: inject('postgresUrl')!, logger, channel: `test_${Math.random().toString(36).slice(2)}` }), inject('postgresUrl') === null],
];

for (const [name, make, skip] of buses) {
  describe.skipIf(skip)(`realtime bus (${name})`, () => {
    it('delivers to the subscribers of the topic, in order, and stops after unsubscribe', async () => {
      const bus = await make();
      try {
        const a: unknown[] = [];
        const b: unknown[] = [];
        const other: unknown[] = [];
        const stopA = await bus.subscribe('t1', (m) => a.push(m));
        await bus.subscribe('t1', (m) => b.push(m));
        await bus.subscribe('t2', (m) => other.push(m));
        for (let i = 0; i < 20; i++) await bus.publish('t1', { i, text: 'é😀' });
        await expect.poll(() => b.length).toBe(20);
        expect(a).toEqual(b);
        expect(b.map((m) => (m as { i: number }).i)).toEqual([...Array(20).keys()]);
        await stopA();
        await bus.publish('t1', { i: 20 });
        await expect.poll(() => b.length).toBe(21);
        expect(a).toHaveLength(20);
        expect(other).toEqual([]);
      } finally {
        await bus.close();
      }
    });
  });
}

describe('a bus whose service is down', () => {
  it('redis: subscribe and publish fail with 503 (redis)', async () => {
    const bus = await redisBus(`redis://127.0.0.1:${await deadPort()}`, { connect: false });
    try {
      const sub = await bus.subscribe('t', () => undefined).then(() => null, (e: unknown) => e);
      expect(sub).toBeInstanceOf(ServiceUnavailableError);
      expect((sub as ServiceUnavailableError).service).toBe('redis');
      await expect(bus.publish('t', {})).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await bus.close();
    }
  });

  it('postgres: subscribe and publish fail with 503 (database)', async () => {
    const bus = createPostgresBus({ databaseUrl: `postgres://nobody@127.0.0.1:${await deadPort()}/none`, logger });
    try {
      const sub = await bus.subscribe('t', () => undefined).then(() => null, (e: unknown) => e);
      expect(sub).toBeInstanceOf(ServiceUnavailableError);
      expect((sub as ServiceUnavailableError).service).toBe('database');
      await expect(bus.publish('t', {})).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await bus.close();
    }
  });
});
