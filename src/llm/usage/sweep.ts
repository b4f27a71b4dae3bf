import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { ResourceStore, SweepCursor, UncountedResource } from '../ownership/index.js';
import { authHeaders, type ProviderService } from '../providers/index.js';
import { readBounded } from '../proxy/request-body.js';
import type { Upstreams } from '../proxy/upstream.js';
import { hasSettled, isDeferred, settled } from './deferred.js';
import type { TokenUsage } from './extract.js';

// A run or background response is counted when Gatehouse first sees it settled
// (usage/deferred.ts), which needs someone to fetch it again. A client can read
// a run's answer from its thread's messages and never fetch the run itself; its
// tokens would then go uncounted, a way around the quota. The sweep fetches
// runs and responses still uncounted a while after they were created, with the
// provider's key, and counts the settled ones against their creator through
// the same compare-and-set claim, so a poll and the sweep (on any instance)
// never both count one.

export interface DeferredSweepOptions {
  resources: ResourceStore;
  providers: ProviderService;
  upstreams: Upstreams;
  clock: Clock;
  logger: Logger;
  /** Counts a settled resource's tokens against its recorded owner. */
  charge(resource: UncountedResource, usage: TokenUsage): void;
  responseBufferBytes: number;
  /** Left to clients' own polls for this long first. */
  minAgeMs?: number;
  /** Older ones are given up on (OpenAI expires runs after ten minutes). */
  maxAgeMs?: number;
  /** Most fetched per sweep. */
  batch?: number;
}

const FETCH_TIMEOUT_MS = 30_000;

export type SweepOutcome = 'counted' | 'closed' | 'pending' | 'skipped';

export function createDeferredSweep(o: DeferredSweepOptions) {
  const { resources, providers, upstreams, clock, logger } = o;
  const batch = o.batch ?? 50;
  // Each sweep goes on where the last one stopped and wraps around at the end, so that runs
  // still in progress at the head of the list cannot keep newer ones from ever being fetched.
  let cursor: SweepCursor | null = null;

  async function fetchState(resource: UncountedResource): Promise<SweepOutcome> {
    const { scope, id, kind, parent } = resource;
    if (kind === 'run' && !parent) return 'skipped'; // recorded before migration 0008: no path to fetch it
    const provider = await providers.resolve(scope.projectId, scope.environment, scope.provider);
    if (!provider || provider.kind !== 'openai') return 'skipped';
    const path = kind === 'run'
      ? `${provider.basePath}/v1/threads/${encodeURIComponent(parent!)}/runs/${encodeURIComponent(id)}`
      : `${provider.basePath}/v1/responses/${encodeURIComponent(id)}`;
    const res = await upstreams.request(provider.origin, {
      path, method: 'GET', headers: { accept: 'application/json', 'openai-beta': 'assistants=v2', ...authHeaders(provider.kind, provider.apiKey) },
      // A status read, not a completion: a provider this slow is tried again next time.
      headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS,
    });
    if (res.statusCode === 404) {
      // Gone (deleted, expired, never stored): nothing will ever be counted; stop fetching it.
      res.body.resume();
      return (await resources.claimAccounting(scope, id)) ? 'closed' : 'skipped';
    }
    if (res.statusCode !== 200) {
      res.body.resume(); // a provider error: tried again next time
      return 'pending';
    }
    const bytes = await readBounded(res.body, o.responseBufferBytes);
    if (!bytes) return 'pending';
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      return 'pending';
    }
    if (!isDeferred(doc) || doc.id !== id || !hasSettled(doc)) return 'pending';
    const found = settled(provider.kind, doc);
    if (!(await resources.claimAccounting(scope, id))) return 'skipped'; // a poll or another instance counted it
    if (!found) return 'closed'; // settled without usage (failed before running)
    o.charge(resource, found.usage);
    return 'counted';
  }

  return {
    /** One pass: fetches up to `batch` uncounted runs and responses after the last pass's; returns what became of each. */
    async sweep(options: { minAgeMs?: number; batch?: number } = {}): Promise<Record<SweepOutcome, number>> {
      const now = clock.nowMs();
      const from = new Date(now - (o.maxAgeMs ?? 24 * 3_600_000)).toISOString();
      const to = new Date(now - (options.minAgeMs ?? o.minAgeMs ?? 60_000)).toISOString();
      const limit = options.batch ?? batch;
      const outcome: Record<SweepOutcome, number> = { counted: 0, closed: 0, pending: 0, skipped: 0 };
      let page = await resources.uncountedBetween(from, to, limit, cursor);
      if (page.length === 0 && cursor) page = await resources.uncountedBetween(from, to, limit, null); // wrap around
      const last = page.at(-1);
      cursor = page.length < limit || !last ? null : { createdAt: last.createdAt, id: last.id };
      for (const resource of page) {
        try {
          outcome[await fetchState(resource)] += 1;
        } catch (error) {
          // The provider is down or slow: the next sweep tries again.
          outcome.pending += 1;
          logger.warn({ provider: resource.scope.provider, code: (error as { code?: string }).code }, 'deferred usage sweep: provider fetch failed');
        }
      }
      return outcome;
    },
  };
}

export type DeferredSweep = ReturnType<typeof createDeferredSweep>;
