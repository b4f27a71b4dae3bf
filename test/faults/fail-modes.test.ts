// What each route class does while the limiter's Redis is down, as docs/operations.md documents
// it: the table there must match the code's defaults, and a real outage must behave as the table
// says (503 in the surface's dialect for `closed`, served for `open`), then count exactly again
// once Redis is back.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/limits/policy.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { frozenClock, PROBES, startLimitsApp, type LimitsApp } from '../limits/limits-app.js';

const MIN = 60_000;
const DOC = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

/** `| \`class\` | open … |` rows of the fail-mode table. */
function documentedModes(): Record<string, string> {
  const modes: Record<string, string> = {};
  for (const match of DOC.matchAll(/^\| `(\w+)` \| \*\*(open|closed)\*\*/gm)) modes[match[1]!] = match[2]!;
  return modes;
}

describe('fail modes', () => {
  it('the documented table names every route class and the per-IP check, with the mode the code applies', () => {
    const expected: Record<string, string> = { address: DEFAULT_LIMITS.address!.failMode };
    for (const [name, policy] of Object.entries(DEFAULT_LIMITS.classes)) expected[name] = policy.failMode;
    expect(documentedModes()).toEqual(expected);
  });
});

describe.skipIf(inject('redisUrl') === null)('a Redis outage, class by class, as documented', () => {
  let redis: RedisServer;
  let gh: LimitsApp;
  beforeAll(async () => {
    redis = await startRedis();
    gh = await startLimitsApp('sqlite', { clock: frozenClock(), redisUrl: redis.url });
  });
  afterAll(async () => {
    await gh?.close();
    await redis?.stop();
  });

  const send = (probe: keyof typeof PROBES, apikey = gh.secretKey) =>
    gh.app.inject({ method: PROBES[probe].method, url: PROBES[probe].url, headers: { apikey }, ...(PROBES[probe].method === 'POST' ? { payload: {} } : {}) });
  const byClass = {
    auth: () => send('auth'),
    llm: () => send('llmOpenai'),
    data_read: () => send('dataRead'),
    data_write: () => send('dataWrite'),
    admin: () => gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey } }),
    default: () => send('default'),
  };

  it('closed classes answer 503 in their dialect with Retry-After, open ones are served; exact counting resumes after', async () => {
    const modes = documentedModes();
    await redis.stop();
    for (const [name, request] of Object.entries(byClass)) {
      const res = await request();
      if (modes[name] === 'open') {
        expect([name, res.statusCode]).toEqual([name, 200]);
      } else {
        expect([name, res.statusCode]).toEqual([name, 503]);
        expect(res.headers['retry-after']).toBe('1');
      }
    }
    // The case: a data write during a Redis outage, in PostgREST's shape.
    const write = await send('dataWrite');
    expect(write.json()).toMatchObject({ code: 'service_unavailable', error: 'service_unavailable', hint: null });
    const metrics = await gh.deps.metrics.registry.metrics();
    expect(metrics).toMatch(/^gatehouse_service_unavailable_total\{service="redis"\} [1-9]/m);

    await redis.start();
    const back = performance.now();
    while ((await send('dataWrite')).statusCode !== 200) {
      expect(performance.now() - back).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Counting is exact again: a key allowed 5 writes a minute gets exactly 5 of 12.
    const created = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: gh.secretKey }, payload: { kind: 'secret' } });
    const { key, id } = created.json() as { key: string; id: string };
    const put = await gh.app.inject({ method: 'PUT', url: `/admin/v1/limits/overrides/key:${id}`, headers: { apikey: gh.secretKey }, payload: { data_write: [{ limit: 5, windowMs: MIN }] } });
    expect(put.statusCode).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 12 }, () => send('dataWrite', key).then((r) => r.statusCode)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  }, 30_000);
});
