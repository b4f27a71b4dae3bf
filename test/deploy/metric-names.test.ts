// The Grafana dashboard and the alert rules name only metrics that Gatehouse exports: a running
// app's /metrics is scraped and every metric name in every dashboard query (template variables
// included) and every alert expression must be there. prom-client prints `# TYPE` for each
// registered metric even before it has a value, so a fresh app lists them all. A renamed metric
// would otherwise leave a panel empty and an alert silent, with nothing failing.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { DEPLOY } from './tools.js';

/** Metric names in a PromQL expression: ours all start with `gatehouse_`. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bgatehouse_[a-zA-Z0-9_]+/g)].map((m) => m[0]);
}

/** The name a scrape lists under `# TYPE`: histogram and summary series carry a suffix. */
function exported(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && (types.get(base) === 'histogram' || types.get(base) === 'summary');
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function dashboardQueries(dashboard: { panels: Panel[]; templating: { list: Array<{ name: string; query?: unknown; definition?: string }> } }): Array<{ where: string; expr: string }> {
  const queries: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr !== undefined) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    if (variable.name !== 'datasource' && query) queries.push({ where: `variable $${variable.name}`, expr: query });
  }
  return queries;
}

describe('metric names in deploy/', () => {
  let gh: TestApp;
  let types: Map<string, string>;

  beforeAll(async () => {
    gh = await startTestApp('sqlite');
    const res = await gh.app.inject({ url: '/metrics', headers: { apikey: gh.secretKey } });
    expect(res.statusCode).toBe(200);
    types = new Map([...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(types.size).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await gh?.close();
  });

  it('every query of the Grafana dashboard names metrics a running Gatehouse exports', async () => {
    const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana', 'gatehouse.json'), 'utf8'));
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(10);
    // A query naming no metric of ours would escape the check below.
    expect(queries.filter((q) => metricNames(q.expr).length === 0)).toEqual([]);
    const missing = [...new Set(queries.flatMap((q) => metricNames(q.expr).filter((n) => !exported(n, types)).map((n) => `${n} (${q.where})`)))];
    expect(missing, `metrics the dashboard queries but /metrics does not list:\n  ${missing.join('\n  ')}`).toEqual([]);
  });

  it('every alert rule names metrics a running Gatehouse exports', async () => {
    const rules = await readFile(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8');
    const names = [...new Set(metricNames(rules))];
    expect(names.length).toBeGreaterThan(5);
    const missing = names.filter((n) => !exported(n, types));
    expect(missing, `metrics the alert rules use but /metrics does not list:\n  ${missing.join('\n  ')}`).toEqual([]);
  });
});
