import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import {
  createKeyring, createSqlDataKeyStore, loadOrCreateDevMasterKey, parseMasterKey, type Keyring,
} from './crypto/index.js';
import { migrateToLatest, openStorage, type Storage } from './db/index.js';
import { createApiKeyService, createApiKeyStore, type ApiKeyService } from './identity/api-keys/index.js';
import { createIdentity, createSignInBackoff, type Identity } from './identity/index.js';
import { createOperatorService, OPERATOR_SESSION_DEFAULTS, type OperatorService } from './operators/index.js';
import { createAuditLog, createLogger, createSecurityEvents, startSecurityEventPruning, wantsPrettyLogs, type AuditLog, type SecurityEvents } from './observability/index.js';
import { createMetrics, createRequestStats, type Metrics, type RequestStats } from './observability/index.js';
import { createPeriodQuotaStore, createRateLimits, openCounterStore, type RateLimits } from './limits/index.js';
import { createLlmServices, type LlmServices } from './llm/index.js';
import { createDataService, type DataService } from './data/index.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createWriteBehind, type WriteBehind } from './shared/write-behind.js';
import { createProjectService, type ProjectService } from './tenancy/index.js';
import { createStorageService, type StorageService } from './storage/index.js';
import { createChannelSettings, openRealtime, type ChangeFeed, type ChannelSettingsService, type RealtimeBus } from './realtime/index.js';

/** Everything the app and the CLI run on, built once from the config. */
export interface Deps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  storage: Storage;
  keyring: Keyring;
  projects: ProjectService;
  apiKeys: ApiKeyService;
  /** End users: accounts, sessions, JWTs, external issuers (issue #3). */
  identity: Identity;
  /** The dashboard's operators: accounts, sessions, TOTP, the setup link (issue 17). */
  operators: OperatorService;
  events: SecurityEvents;
  audit: AuditLog;
  /** Prometheus registry and counters (GET /metrics). */
  metrics: Metrics;
  /** Rate limiter, per-environment limit settings and quota counters (memory, or Redis with REDIS_URL). */
  rateLimits: RateLimits;
  /** Responses, errors, 429s and signed-in users per project environment over time (dashboard charts). */
  stats: RequestStats;
  /** The one background writer: LLM usage, token counters (SQL), the request log and security events. */
  writer: WriteBehind;
  /** LLM proxy: providers, resource ownership, usage and token quotas. */
  llm: LlmServices;
  /** Data API: user tables, schema, row- and column-level rules (issue #4). */
  data: DataService;
  /** File storage: buckets, objects and their bytes (issue #15). `storage` above is the database. */
  files: StorageService;
  /**
   * Realtime (issue 16): the row-change feed (Data API writes and storage objects, after commit,
   * per subscriber under the table's or the bucket's rules) and the bus between instances (Redis, else PostgreSQL LISTEN/NOTIFY, else in process).
   */
  realtime: { feed: ChangeFeed; bus: RealtimeBus };
  /** Realtime channel settings: public channels, private channel rules (issue 16). */
  realtimeChannels: ChannelSettingsService;
  close(): Promise<void>;
}

export interface MasterKeyMaterial {
  key: Buffer;
  previous: Buffer[];
  /** Set when a dev key was generated on this start. */
  generatedAt?: string;
}

export function resolveMasterKey(config: Readonly<Config>): MasterKeyMaterial {
  const previous = config.previousMasterKeys.map((k) => parseMasterKey(k));
  if (config.masterKey) return { key: parseMasterKey(config.masterKey), previous };
  if (config.masterKeyFile) return { key: parseMasterKey(readFileSync(config.masterKeyFile, 'utf8')), previous };
  // Development only (production refuses at config load): a key beside the data.
  const dev = loadOrCreateDevMasterKey(config.dataDir);
  return { key: dev.key, previous, ...(dev.created ? { generatedAt: dev.path } : {}) };
}

export interface CreateDepsOptions {
  logger?: Logger;
  clock?: Clock;
}

/** ms between two batches of the background writer: bookkeeping reaches the database within this. */
const WRITE_BEHIND_INTERVAL_MS = 500;

export async function createDeps(config: Readonly<Config>, options: CreateDepsOptions = {}): Promise<Deps> {
  const logger = options.logger
    ?? createLogger({ level: config.logLevel, pretty: wantsPrettyLogs({ format: config.logFormat, mode: config.mode, isTTY: process.stdout.isTTY }) });
  const clock = options.clock ?? systemClock;
  const storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const writer = createWriteBehind({ intervalMs: WRITE_BEHIND_INTERVAL_MS, logger });
  let counters: Awaited<ReturnType<typeof openCounterStore>> | null = null;
  try {
    await migrateToLatest(storage);
    const master = resolveMasterKey(config);
    if (master.generatedAt) {
      logger.warn({ path: master.generatedAt }, 'development mode: generated a master key (0600) in the data dir; set GATEHOUSE_MASTER_KEY in production');
    }
    const keyring = createKeyring({
      masterKey: master.key,
      previousMasterKeys: master.previous,
      store: createSqlDataKeyStore(storage.db),
      now: () => clock.now(),
    });
    const events = createSecurityEvents({ db: storage.db, logger, clock, writer, retentionDays: config.securityEvents.retentionDays });
    // One counter store (and with REDIS_URL one Redis client) for the limiter, the token quotas
    // and the sign-in backoff.
    counters = await openCounterStore({ redisUrl: config.redisUrl, logger });
    const { store } = counters;
    const identity = await createIdentity({ config, db: storage.db, keyring, clock, events, logger, attempts: store });
    const metrics = createMetrics({ enabled: config.metrics === 'on' });
    metrics.watch({ buffers: () => writer.stats(), pool: () => storage.poolStats?.() ?? null });
    const rateLimits = createRateLimits({
      store,
      rateLimits: config.rateLimits,
      db: storage.db,
      logger,
      clock,
      onStoreError: (routeClass, mode) => metrics.limiterStoreErrors.inc({ route_class: routeClass, mode }),
      headers: config.limits.rateLimitHeaders,
    });
    // Token quotas count in Redis when there is one (shared by every instance, no database write
    // per request); otherwise in SQL, which outlives a restart unlike the limiter's memory store.
    const llm = createLlmServices({
      config, db: storage.db, keyring, clock, logger, writer, metrics: metrics.llm,
      quotaStore: store.kind === 'redis' ? createPeriodQuotaStore(store, { clock }) : undefined,
    });
    // The first proxied request must already know whether its environment logs requests.
    await llm.requestLog.ready();
    // Last, once nothing below can fail: close() is what stops them.
    writer.start();
    const audit = createAuditLog({ db: storage.db, clock });
    const c = config.identity;
    // Operators sign in with end users' hashing and backoff policy, on their own counters.
    const operators = createOperatorService({
      db: storage.db, clock, keyring, hasher: identity.hasher, events, ...OPERATOR_SESSION_DEFAULTS,
      backoff: createSignInBackoff({
        store, clock, events,
        policy: {
          freePerAccount: c.backoffFreeAttemptsPerAccount, freePerAccountAllAddresses: c.backoffFreeAttemptsPerAccountAllAddresses,
          freePerIp: c.backoffFreeAttemptsPerIp, baseMs: c.backoffBaseMs, maxMs: c.backoffMaxMs,
        },
      }),
    });
    const pruning = startSecurityEventPruning(events, { intervalMs: config.securityEvents.pruneIntervalMs, logger });
    const openCounters = counters;
    // The bus connects on first use: a CLI command that writes no row opens nothing. With Redis it
    // publishes on the counter store's client (closed after it) and subscribes on its own connection.
    const realtime = openRealtime({
      redisPublisher: counters.redis, postgresUrl: storage.engine === 'postgres' ? config.databaseUrl : undefined, concurrentWriters: storage.capabilities.concurrentWriters, clock, logger,
    });
    const data = createDataService({ storage, clock, changes: realtime.publisher });
    const files = createStorageService({ config, storage, clock, audit, signingKeys: identity.signingKeys, changes: realtime.publisher.objects });
    const feed = realtime.startFeed({ tables: (projectId, environment) => data.schema.tables(projectId, environment), objects: files.readAccess });
    return {
      config,
      logger,
      clock,
      storage,
      keyring,
      projects: createProjectService({ db: storage.db, clock, devOrigins: config.cors.devOrigins }),
      apiKeys: createApiKeyService({
        store: createApiKeyStore(storage.db),
        clock,
        cacheTtlMs: config.apiKeys.cacheTtlMs,
        rotationGraceSeconds: config.apiKeys.rotationGraceSeconds,
        isAdminUser: identity.isAdmin,
        isKeyOperator: async (projectId, operatorId) => {
          const role = await operators.roleIn(operatorId, projectId);
          return role === 'owner' || role === 'admin';
        },
      }),
      identity,
      operators,
      events,
      audit,
      metrics,
      stats: createRequestStats({ db: storage.db, writer, clock }),
      rateLimits,
      writer,
      llm,
      data,
      files,
      realtime: { feed, bus: realtime.bus },
      realtimeChannels: createChannelSettings({ db: storage.db, clock }),
      async close() {
        await realtime.close();
        await files.close();
        await identity.close();
        await llm.close();
        await pruning.stop();
        // After everything that records: what is still buffered reaches the database before it closes.
        await writer.close();
        await openCounters.close();
        await storage.close();
      },
    };
  } catch (error) {
    await writer.close();
    await counters?.close();
    await storage.close();
    throw error;
  }
}
