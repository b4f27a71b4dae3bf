// Micro-benchmark of one store: sequential hits, so the figure is per-decision latency (for Redis,
// one round trip each) rather than throughput under concurrency. Used by `npm run bench`.
import type { Window } from './policy.js';
import { systemClock } from '../shared/clock.js';
import type { LimiterStore } from './store.js';

export interface BenchResult {
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** Two windows, like the auth and generation classes; limits high enough that every hit is allowed. */
const BENCH_WINDOWS: Window[] = [
  { limit: 1_000_000_000, windowMs: 60_000 },
  { limit: 1_000_000_000, windowMs: 3_600_000 },
];

export async function benchLimiter(store: LimiterStore, n: number): Promise<BenchResult> {
  if (!Number.isInteger(n) || n < 1) throw new TypeError('benchLimiter: n must be a positive integer');
  const prefix = `bench:${process.pid}:${systemClock.nowMs()}`;
  const latenciesNs = new Float64Array(n);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // 1,000 subjects: realistic key churn without one hot key.
    const key = `${prefix}:${i % 1000}`;
    const t0 = process.hrtime.bigint();
    await store.hit(key, BENCH_WINDOWS, systemClock.nowMs());
    latenciesNs[i] = Number(process.hrtime.bigint() - t0);
  }
  const elapsedNs = Number(process.hrtime.bigint() - started);
  latenciesNs.sort();
  const at = (q: number): number => (latenciesNs[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0) / 1000;
  return { ops: n, opsPerSec: Math.round(n / (elapsedNs / 1e9)), p50Us: Math.round(at(0.5)), p99Us: Math.round(at(0.99)) };
}
