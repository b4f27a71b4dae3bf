import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastGauge, FastHistogram } from './metrics-fast.js';

// The fast series must read exactly as prom-client's own metrics would: same text for the same events.
describe('fast metrics', () => {
  it('expose the same Prometheus text as prom-client\'s counter, gauge and histogram', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const buckets = [0.1, 1, 10];
    const def = { help: 'h', labelNames: ['a', 'b'] as const };
    const c1 = new Counter({ name: 'c', ...def, registers: [theirs] });
    const g1 = new Gauge({ name: 'g', ...def, registers: [theirs] });
    const h1 = new Histogram({ name: 'h', ...def, buckets, registers: [theirs] });
    const c2 = new FastCounter(ours, { name: 'c', ...def });
    const g2 = new FastGauge(ours, { name: 'g', ...def });
    const h2 = new FastHistogram(ours, { name: 'h', ...def, buckets });
    const events: Array<[string, string, number]> = [['x', 'y', 0.05], ['x', 'y', 1], ['x', 'z', 11], ['w', 'y', 0.1], ['x', 'y', 5]];
    for (const [a, b, v] of events) {
      c1.inc({ a, b }, v);
      c2.series(a, b).inc(v);
      h1.observe({ a, b }, v);
      h2.series(a, b).observe(v);
      g1.inc({ a, b });
      g2.series(a, b).inc();
    }
    g1.dec({ a: 'x', b: 'y' });
    g2.series('x', 'y').dec();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuse more than four labels or none, at start', () => {
    expect(() => new FastCounter(new Registry(), { name: 'n', help: 'h', labelNames: [] })).toThrow(TypeError);
    expect(() => new FastCounter(new Registry(), { name: 'n', help: 'h', labelNames: ['a', 'b', 'c', 'd', 'e'] })).toThrow(TypeError);
  });
});
