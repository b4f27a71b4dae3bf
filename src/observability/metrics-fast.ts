// Counters, gauges and histograms for the request path, exposed through a prom-client Registry.
//
// Why not prom-client's own: its `labels(...)` child re-hashes and re-validates the label object on
// every inc or observe (about 1 µs per counter and 2-3 µs per histogram observation, measured), and
// a proxied LLM request records a dozen. Here a series is a plain object found by one Map lookup on
// a string key, and recording is an add (a histogram: a short scan of its buckets). The registry
// only reads them at scrape time, through the `get()` it calls on every metric it holds.
//
// Label values must come from fixed tables or capped sets: every distinct set is a series kept for
// the life of the process.
import type { Registry } from 'prom-client';

interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Definition {
  name: string;
  help: string;
  labelNames: readonly string[];
}

/** What prom-client's Registry needs of a metric: its name, and get() at scrape time. */
abstract class FastMetric<S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  protected readonly all: Array<{ labels: Record<string, string>; series: S }> = [];
  /** One Map level per label: lookups hash strings that are already interned, never a joined key. */
  private readonly tree = new Map<string, unknown>();

  constructor(registry: Registry, { name, help, labelNames }: Definition) {
    if (labelNames.length < 1 || labelNames.length > 4) throw new TypeError(`${name}: one to four labels`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    registry.registerMetric(this as never);
  }

  protected abstract create(): S;

  /** The series of these label values (in labelNames' order), created on first use. */
  series(a: string, b?: string, c?: string, d?: string): S {
    const depth = this.labelNames.length;
    let level = this.tree;
    let found = level.get(a);
    if (depth > 1 && found !== undefined) found = (level = found as Map<string, unknown>).get(b!);
    if (depth > 2 && found !== undefined) found = (level = found as Map<string, unknown>).get(c!);
    if (depth > 3 && found !== undefined) found = (level = found as Map<string, unknown>).get(d!);
    return found === undefined ? this.add([a, b, c, d]) : (found as S);
  }

  private add(values: Array<string | undefined>): S {
    const labels: Record<string, string> = {};
    let level = this.tree;
    this.labelNames.forEach((label, i) => {
      const value = values[i]!;
      labels[label] = value;
      if (i === this.labelNames.length - 1) return;
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    });
    const series = this.create();
    level.set(values[this.labelNames.length - 1]!, series);
    this.all.push({ labels, series });
    return series;
  }

  protected abstract values(labels: Record<string, string>, series: S): MetricValue[];

  /** Registry.resetMetrics(). */
  reset(): void {
    this.all.length = 0;
    this.tree.clear();
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.all) values.push(...this.values(labels, series));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class CounterSeries {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class GaugeSeries extends CounterSeries {
  dec(): void {
    this.value -= 1;
  }
}

/** A counter or a gauge: one value per series. */
abstract class ValueMetric<S extends CounterSeries> extends FastMetric<S> {
  protected values(labels: Record<string, string>, series: S): MetricValue[] {
    return [{ labels, value: series.value }];
  }
}

export class FastCounter extends ValueMetric<CounterSeries> {
  readonly type = 'counter';
  protected create(): CounterSeries {
    return new CounterSeries();
  }
}

export class FastGauge extends ValueMetric<GaugeSeries> {
  readonly type = 'gauge';
  protected create(): GaugeSeries {
    return new GaugeSeries();
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];
  constructor(registry: Registry, definition: Definition & { buckets: readonly number[] }) {
    super(registry, definition);
    this.bounds = [...definition.buckets].sort((x, y) => x - y);
  }
  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }
  protected values(labels: Record<string, string>, series: HistogramSeries): MetricValue[] {
    const out: MetricValue[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += series.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...labels }, value: cumulative });
    });
    out.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: series.count });
    out.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
    out.push({ metricName: `${this.name}_count`, labels, value: series.count });
    return out;
  }
}
