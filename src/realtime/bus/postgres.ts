import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ServiceUnavailableError } from '../../errors/index.js';
import { createOutageLog } from '../../shared/outage-log.js';
import type { RealtimeBus } from '../changes/types.js';
import { createTopics } from './topics.js';
import { joinChunks, splitMessage, type ChunkAssembler } from './chunks.js';

// Several instances on PostgreSQL without Redis: LISTEN/NOTIFY on one channel, the topic inside
// the payload. One dedicated connection (not the pool's: a listening session must stay open),
// opened on first use, both listens and notifies, so one instance's messages leave in the order
// it published them. NOTIFY refuses payloads of 8000 bytes or more: bigger messages go out as
// numbered chunks in ONE statement (one transaction, delivered together) and are joined on arrival.
// Every listening session gets every message, its own included; the topic decides who hears it.

export interface PostgresBusOptions {
  databaseUrl: string;
  logger: Logger;
  /** The NOTIFY channel; tests give each run its own. */
  channel?: string;
  /** ms between reconnect attempts after the connection dropped. */
  reconnectMs?: number;
}

export function createPostgresBus({ databaseUrl, logger, channel = 'gatehouse_realtime', reconnectMs = 1_000 }: PostgresBusOptions): RealtimeBus {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new TypeError('realtime channel must be a plain identifier');
  const topics = createTopics(logger);
  const outage = createOutageLog(logger, 'realtime PostgreSQL listener');
  const assembler: ChunkAssembler = joinChunks();
  let client: Promise<pg.Client> | null = null;
  /** The connected client, to tell its events from a replaced one's. */
  let current: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;
  /** Publishes one after the other on the one connection (pg would queue them too, but deprecates it). */
  let tail: Promise<unknown> = Promise.resolve();

  function onPayload(payload: string | undefined): void {
    if (!payload) return;
    const text = assembler.accept(payload);
    if (text === null) return;
    let parsed: { t?: unknown; m?: unknown };
    try {
      parsed = JSON.parse(text) as { t?: unknown; m?: unknown };
    } catch {
      logger.warn('realtime bus: a notification that is not JSON was dropped');
      return;
    }
    if (typeof parsed.t === 'string') topics.dispatch(parsed.t, parsed.m);
  }

  function lost(c: pg.Client, error: unknown): void {
    if (c !== current || closed) return;
    outage.down(error);
    current = null;
    client = null;
    c.end().catch(() => undefined);
    // Reconnect by itself if anyone still listens: messages sent meanwhile are lost (at most once).
    if (topics.size() > 0 && !retry) {
      retry = setTimeout(() => {
        retry = null;
        if (!closed) connection().catch(() => undefined);
      }, reconnectMs);
      retry.unref();
    }
  }

  function connection(): Promise<pg.Client> {
    if (closed) return Promise.reject(new Error('realtime bus closed'));
    client ??= (async () => {
      // Loaded on first use: an embedded (SQLite) start never loads pg.
      const { default: pgModule } = await import('pg');
      const c = new pgModule.Client({ connectionString: databaseUrl, application_name: 'gatehouse-realtime' });
      c.on('notification', (n) => onPayload(n.payload));
      c.on('error', (error) => lost(c, error));
      c.on('end', () => lost(c, new Error('connection ended')));
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
      } catch (error) {
        c.end().catch(() => undefined);
        throw error;
      }
      outage.up();
      current = c;
      return c;
    })().catch((error: unknown) => {
      client = null;
      outage.down(error);
      throw new ServiceUnavailableError('database', { message: 'Realtime messaging (PostgreSQL LISTEN) is unavailable.', cause: error });
    });
    return client;
  }

  return {
    async publish(topic, message) {
      const chunks = splitMessage(JSON.stringify({ t: topic, m: message }), randomBytes(6).toString('base64url'));
      const calls = chunks.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ');
      const sent = tail.then(async () => {
        const c = await connection();
        await c.query(`SELECT ${calls}`, [channel, ...chunks]);
      });
      tail = sent.catch(() => undefined);
      await sent;
    },
    async subscribe(topic, onMessage) {
      const { remove } = topics.add(topic, onMessage);
      try {
        await connection();
      } catch (error) {
        remove();
        throw error;
      }
      return async () => {
        remove();
      };
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      topics.clear();
      const c = await client?.catch(() => null);
      client = null;
      current = null;
      await c?.end().catch(() => undefined);
    },
  };
}
