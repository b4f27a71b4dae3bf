import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;

describe('memory store', () => {
  it('drops counters once their window has ended', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 100; i++) await store.hit(`s${i}`, [{ limit: 5, windowMs: MIN }, { limit: 50, windowMs: HOUR }], T0);
    expect(store.size).toBe(200);
    await store.hit('late', [{ limit: 5, windowMs: MIN }], T0 + MIN);
    expect(store.size).toBe(101); // the hour counters, and the new minute counter
    await store.hit('later', [{ limit: 5, windowMs: MIN }], T0 + HOUR);
    expect(store.size).toBe(1);
  });

  it('denied requests create no counters', async () => {
    const store = new MemoryStore();
    await store.hit('a', [{ limit: 1, windowMs: MIN }], T0);
    for (let i = 0; i < 10; i++) expect((await store.hit('a', [{ limit: 1, windowMs: MIN }], T0)).allowed).toBe(false);
    expect(store.size).toBe(1);
  });

  it('at the key cap, evicts the counters closest to their end first', async () => {
    const store = new MemoryStore({ maxKeys: 3 });
    await store.hit('hourly', [{ limit: 1, windowMs: HOUR }], T0);
    await store.hit('m1', [{ limit: 1, windowMs: MIN }], T0);
    await store.hit('m2', [{ limit: 1, windowMs: MIN }], T0);
    await store.hit('m3', [{ limit: 1, windowMs: MIN }], T0);
    expect(store.size).toBe(3);
    // The hour counter survived, so the subject is still refused.
    expect((await store.hit('hourly', [{ limit: 1, windowMs: HOUR }], T0)).allowed).toBe(false);
  });

  it('rejects a nonsensical cap', () => {
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(TypeError);
  });
});
