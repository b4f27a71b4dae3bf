import { describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { createWriteBehind } from '../../shared/write-behind.js';
import { createBufferedQuotaStore } from './buffered-quota-store.js';
import type { QuotaStore, QuotaSubject } from './quota-store.js';

/** A database stand-in that counts its calls: the buffer's whole point is to make fewer. */
function countingStore() {
  const totals = new Map<string, number>();
  const calls = { used: 0, add: 0 };
  const store: QuotaStore = {
    async used(s, periods) {
      calls.used++;
      return periods.map((p) => totals.get(`${s.userId}/${p}`) ?? 0);
    },
    async add(s, periods, tokens) {
      calls.add++;
      for (const p of periods) totals.set(`${s.userId}/${p}`, (totals.get(`${s.userId}/${p}`) ?? 0) + tokens);
    },
  };
  return { store, totals, calls };
}

const alice: QuotaSubject = { projectId: 'p', environment: 'dev', userId: 'alice' };
const logger = { error() {}, warn() {} };
/** A writer whose timer never fires within a test: only flush() and close() write. */
const writer = () => createWriteBehind({ intervalMs: 60_000, logger });

describe('createBufferedQuotaStore', () => {
  it('counts this instance’s own tokens at once, writes them in one batch, and never under-counts around a flush', async () => {
    const db = countingStore();
    const background = writer();
    const store = createBufferedQuotaStore(db.store, { writer: background, clock: systemClock });
    for (let i = 0; i < 50; i++) await store.add(alice, ['day:2026-11-27', 'month:2026-11'], 10);
    expect(db.calls.add).toBe(0);
    expect(await store.used(alice, ['day:2026-11-27', 'month:2026-11'])).toEqual([500, 500]);
    await store.flush();
    expect(db.calls.add).toBe(2); // one upsert per period, not per request
    expect(db.totals.get('alice/day:2026-11-27')).toBe(500);
    expect(await store.used(alice, ['day:2026-11-27'])).toEqual([500]);
    await store.add(alice, ['day:2026-11-27'], 5);
    expect(await store.used(alice, ['day:2026-11-27'])).toEqual([505]);
    await background.close();
    expect(db.totals.get('alice/day:2026-11-27')).toBe(505);
  });

  it('reads the database once per cache period, and sees other instances’ writes after it', async () => {
    const db = countingStore();
    let readCacheMs = 60_000;
    const background = writer();
    const store = createBufferedQuotaStore(db.store, { writer: background, clock: systemClock, readCacheMs });
    expect(await store.used(alice, ['day:x'])).toEqual([0]);
    expect(await store.used(alice, ['day:x'])).toEqual([0]);
    expect(db.calls.used).toBe(1);
    readCacheMs = 0;
    const fresh = createBufferedQuotaStore(db.store, { writer: background, clock: systemClock, readCacheMs });
    db.totals.set('alice/day:x', 42); // written by another instance
    expect(await fresh.used(alice, ['day:x'])).toEqual([42]);
    await background.close();
  });
});
