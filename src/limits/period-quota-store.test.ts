import { describe, expect, it } from 'vitest';
import { createPeriodQuotaStore, periodEndMs } from './period-quota-store.js';
import { clockAt } from '../shared/clock.js';
import { MemoryStore } from './memory-store.js';

describe('period quota store over a quota counter', () => {
  it('period ends are the next UTC day or month', () => {
    expect(periodEndMs('day:2026-11-23')).toBe(Date.UTC(2026, 10, 24));
    expect(periodEndMs('day:2026-12-31')).toBe(Date.UTC(2027, 0, 1));
    expect(periodEndMs('month:2026-12')).toBe(Date.UTC(2027, 0, 1));
    expect(() => periodEndMs('week:2026-47')).toThrow(TypeError);
  });

  it('adds to every period and keeps users, environments and projects apart', async () => {
    const store = createPeriodQuotaStore(new MemoryStore(), { clock: clockAt(() => Date.UTC(2026, 10, 23)) });
    const alice = { projectId: 'p1', environment: 'dev', userId: 'u1' };
    const periods = ['day:2026-11-23', 'month:2026-11'];
    await store.add(alice, periods, 100);
    await store.add(alice, ['month:2026-11'], 20);
    await store.add(alice, periods, 0);
    expect(await store.used(alice, periods)).toEqual([100, 120]);
    expect(await store.used({ ...alice, environment: 'prod' }, periods)).toEqual([0, 0]);
    expect(await store.used({ ...alice, userId: 'u1:x' }, periods)).toEqual([0, 0]);
    expect(await store.used({ ...alice, projectId: 'p2' }, periods)).toEqual([0, 0]);
  });
});
