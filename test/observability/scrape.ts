// Reads GET /metrics the way Prometheus does (through the public route, with the metrics token)
// and picks samples out of the text.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

export const METRICS_TOKEN = 'metrics-token-for-the-metrics-tests-0123456789';

export interface Scrape {
  text: string;
  /** The sum of the samples of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** Whether any sample of `name` (with `labels`) exists. */
  has(name: string, labels?: Record<string, string>): boolean;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseScrape(text: string): Scrape {
  const samples = text.split('\n').filter((l) => l && !l.startsWith('#')).map((line) => {
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!;
    return { name: m[1]!, labels, value: Number(m[3]) };
  });
  const matching = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    text,
    value: (name, labels) => matching(name, labels).reduce((sum, s) => sum + s.value, 0),
    has: (name, labels) => matching(name, labels).length > 0,
  };
}

let scrapes = 0;

/**
 * One scrape, each from its own address (TEST-NET-1) so that scrapes never spend the per-address
 * budget of a test's requests. A scrape is itself a request: it counts in the metrics that the
 * next scrape shows (one address check allowed, one response of GET /metrics).
 */
export async function scrape(app: FastifyInstance): Promise<Scrape> {
  const remoteAddress = `192.0.2.${(scrapes++ % 254) + 1}`;
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` }, remoteAddress });
  expect(res.statusCode, res.body).toBe(200);
  return parseScrape(res.body);
}

/** What `during` changed: the value after minus the value before, per (name, labels). */
export async function delta(app: FastifyInstance, during: () => Promise<unknown>): Promise<(name: string, labels?: Record<string, string>) => number> {
  const before = await scrape(app);
  await during();
  const after = await scrape(app);
  return (name, labels) => after.value(name, labels) - before.value(name, labels);
}
