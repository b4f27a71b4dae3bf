// Overview: the project environment's traffic over a chosen period, one chart per metric.
import { useState } from 'preact/hooks';
import { useAdmin, type Metric, type Series } from '../admin-api.js';
import { useSession } from '../session.js';
import { TimeChart } from '../ui/charts.js';
import { ErrorText, Loading, Select } from '../ui/controls.js';
import { useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

const METRICS: { metric: Metric; title: string }[] = [
  { metric: 'requests', title: 'Requests' },
  { metric: 'errors', title: 'Errors (5xx and 4xx)' },
  { metric: 'rate_limited', title: 'Rate limited (429)' },
  { metric: 'llm_tokens', title: 'LLM tokens' },
  { metric: 'active_users', title: 'Active users' },
];

const PERIODS = [
  { value: '3600', label: 'Last hour', step: 60 },
  { value: '86400', label: 'Last 24 hours', step: 900 },
  { value: '604800', label: 'Last 7 days', step: 3600 },
  { value: '2592000', label: 'Last 30 days', step: 21600 },
];

/** Active users are counted in 5-minute buckets: their step is a multiple of 300 s. */
function stepFor(metric: Metric, step: number): number {
  return metric === 'active_users' ? Math.max(300, Math.ceil(step / 300) * 300) : step;
}

function MetricChart({ metric, title, seconds, step }: { metric: Metric; title: string; seconds: number; step: number }) {
  const admin = useAdmin();
  const series = useLoad((signal) => {
    const to = new Date();
    const from = new Date(to.getTime() - seconds * 1000);
    return admin<Series>('GET', '/stats/series', undefined, { signal, query: { metric, from: from.toISOString(), to: to.toISOString(), step: stepFor(metric, step) } });
  }, [metric, seconds, step]);
  return (
    <div class="card" data-testid={`chart-${metric}`}>
      {series.loading && !series.data ? <Loading what={title.toLowerCase()} /> : null}
      <ErrorText error={series.error && `${title}: ${series.error}`} />
      {series.data && <TimeChart title={title} points={series.data.points} />}
    </div>
  );
}

function Overview() {
  const session = useSession();
  const [period, setPeriod] = useState('86400');
  const chosen = PERIODS.find((p) => p.value === period) ?? PERIODS[1]!;
  return (
    <>
      <div class="card-head">
        <h1>Overview of {session.project?.name} · {session.scope?.environment}</h1>
        <Select label="Period" value={period} onValue={setPeriod} options={PERIODS} />
      </div>
      <div class="grid">
        {METRICS.map((m) => <MetricChart key={m.metric} {...m} seconds={Number(chosen.value)} step={chosen.step} />)}
      </div>
    </>
  );
}

export const overviewPage: PageDefinition = { path: '/', title: 'Overview', nav: 'project', access: 'project', component: Overview };
