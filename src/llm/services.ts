import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Keyring } from '../crypto/index.js';
import type { LlmMetrics } from '../observability/index.js';
import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { WriteBehind } from '../shared/write-behind.js';
import { createResourceStore, type ResourceStore } from './ownership/index.js';
import { createProviderService, createProviderStore, providerLabel, type ProviderService } from './providers/index.js';
import { createAdmission, type Admission } from './proxy/admission.js';
import { createUpstreams, type Upstreams } from './proxy/upstream.js';
import { createRequestLog, type RequestLog } from './request-log/index.js';
import { createBufferedQuotaStore } from './usage/buffered-quota-store.js';
import { createQuotaService, createSqlQuotaStore, createUsageRecorder, ownerCharge, type QuotaService, type QuotaStore, type UsageRecorder } from './usage/index.js';
import { createDeferredSweep, type DeferredSweep } from './usage/sweep.js';
import type { ResourceScope } from './ownership/index.js';
import type { TokenUsage } from './usage/index.js';

/** Everything the LLM proxy and its admin routes share: one instance per process, so caches invalidate together. */
export interface LlmServices {
  providers: ProviderService;
  resources: ResourceStore;
  usage: UsageRecorder;
  quotas: QuotaService;
  upstreams: Upstreams;
  /** Requests in flight per user, project and provider origin: who may open one more (proxy/admission.ts). */
  admission: Admission;
  /** Upstream latency, errors, streams and tokens (a no-op recorder when metrics are off). */
  metrics: LlmMetrics;
  /** Opt-in request logging per project environment (off by default). */
  requestLog: RequestLog;
  /** Counts a resource's tokens against its recorded owner (`user:<id>` or `key:<id>`): usage, and quota for a user. */
  chargeOwner(scope: ResourceScope, owner: string, usage: TokenUsage): void;
  /** Counts runs and background responses nobody fetched again (a timer runs it every `llm.deferredSweepMs`). */
  sweepDeferred: DeferredSweep['sweep'];
  /** Runs bookkeeping off the response path; failures are logged, never sent. */
  track(work: Promise<unknown>): void;
  /** Resolves when tracked work and buffered usage are stored (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timers and stores what is buffered (the background writer itself is the deps'). */
  close(): Promise<void>;
}

export interface LlmServicesOptions {
  config: Readonly<Config>;
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  logger: Logger;
  /** The process's background writer: usage, token counters (SQL) and the request log are stored through it. */
  writer: WriteBehind;
  /** Defaults to the SQL store; a Redis store can be passed instead. */
  quotaStore?: QuotaStore;
  metrics: LlmMetrics;
}

export function createLlmServices({ config, db, keyring, clock, logger, writer, quotaStore, metrics }: LlmServicesOptions): LlmServices {
  const pending = new Set<Promise<unknown>>();
  const recorder = createUsageRecorder({ db, writer });
  // Every token counted (proxied answers, streams, runs settled later) passes here once.
  const usage: UsageRecorder = {
    ...recorder,
    add(key, tokens, at) {
      recorder.add(key, tokens, at);
      metrics.tokens(providerLabel(key.provider), tokens.model, tokens.input, tokens.output);
    },
  };
  const requestLog = createRequestLog({ db, keyring, clock, logger, writer });
  // The database store is buffered (two upserts per response otherwise); a shared Redis store is not.
  const buffered = quotaStore ? null : createBufferedQuotaStore(createSqlQuotaStore(db), { writer, clock });
  const origin = (name: string) => config.llm.origins[name];
  const upstreams = createUpstreams({
    connectTimeoutMs: config.llm.connectTimeoutMs,
    headersTimeoutMs: config.llm.headersTimeoutMs,
    bodyIdleTimeoutMs: config.llm.bodyIdleTimeoutMs,
    settings: (name) => ({ connections: origin(name)?.connections ?? config.llm.connectionsPerOrigin, http2: origin(name)?.http2 ?? config.llm.http2 }),
  });
  const admission = createAdmission({
    perUser: config.llm.maxInFlightPerUser,
    perProject: config.llm.maxInFlightPerProject,
    // Never more in flight than the pool can carry (one stream per HTTP/1.1 connection, up to 100
    // per HTTP/2 one): past it undici would queue silently and without bound.
    perOrigin: (name) => {
      const connections = origin(name)?.connections ?? config.llm.connectionsPerOrigin;
      const h2 = (origin(name)?.http2 ?? config.llm.http2) && name.startsWith('https:');
      return Math.min(origin(name)?.maxInFlight ?? config.llm.maxInFlightPerOrigin, connections * (h2 ? 100 : 1));
    },
    queueMs: config.llm.originQueueMs,
  });
  const track = (work: Promise<unknown>) => {
    const p = work.catch((error: unknown) => logger.error({ err: error }, 'LLM bookkeeping failed')).finally(() => pending.delete(p));
    pending.add(p);
  };
  const providers = createProviderService({ store: createProviderStore(db), keyring, clock, cacheMs: config.llm.providerCacheMs });
  const resources = createResourceStore(db, clock);
  const quotas = createQuotaService({ db, store: quotaStore ?? buffered!, clock, cacheMs: config.llm.providerCacheMs });
  const chargeOwner = (scope: ResourceScope, owner: string, tokens: TokenUsage) => {
    const charge = ownerCharge(scope, owner);
    usage.add(charge.usageKey, tokens, clock.now());
    if (charge.subject && tokens.total > 0) track(quotas.consume(charge.subject, tokens.total));
  };
  const sweep = createDeferredSweep({
    resources, providers, upstreams, clock, logger, responseBufferBytes: config.llm.responseBufferBytes,
    charge: (resource, tokens) => chargeOwner(resource.scope, resource.owner, tokens),
  });
  let sweeping = false;
  const sweepTimer = config.llm.deferredSweepMs > 0 ? setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    track(sweep.sweep().finally(() => {
      sweeping = false;
    }));
  }, config.llm.deferredSweepMs) : null;
  sweepTimer?.unref();
  const flush = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
    await usage.flush();
    await requestLog.flush();
    await buffered?.flush();
  };
  return {
    providers,
    resources,
    usage,
    quotas,
    upstreams,
    admission,
    metrics,
    requestLog,
    chargeOwner,
    sweepDeferred: (options) => sweep.sweep(options),
    track,
    flush,
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      await flush();
      await requestLog.close();
      await upstreams.close();
    },
  };
}
