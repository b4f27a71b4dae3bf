import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Keyring } from '../../crypto/index.js';
import type { Database } from '../../db/index.js';
import type { Clock } from '../../shared/clock.js';
import type { WriteBehind } from '../../shared/write-behind.js';
import { startCapture, timePrefix, type CaptureStart, type CapturedEntry, type ReplyLike, type RequestLogHandle } from './capture.js';
import { createRequestLogSettings, type RequestLogSettings, type SettingsChange } from './settings.js';
import { createRequestLogStore, type RequestLogRow } from './store.js';
import type { LlmRequestLogTable } from './tables.js';

/** An entry as the admin API shows it: the row without its tenancy, with its bodies opened. */
export type RequestLogEntry = Omit<LlmRequestLogTable, 'project_id' | 'environment' | 'truncated' | 'request_body' | 'response_body'> & {
  truncated: boolean;
  request_body: string | null;
  response_body: string | null;
  /** A stored body did not decrypt (tampered with, moved to another row, its data key gone); it reads as null. */
  bodies_unreadable: boolean;
};

export interface RequestLogOptions {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  logger: Logger;
  /** Seals and stores captured entries off the request path. */
  writer: WriteBehind;
  /** How stale the settings snapshot may get on other instances (≤ 1 s, issue 5 §7). */
  refreshMs?: number;
  /** How often expired entries are deleted (also once at start-up). */
  cleanupMs?: number;
  /** Captured bytes waiting to be stored; past it new entries are dropped (and counted), so a slow database cannot exhaust memory. */
  maxPendingBytes?: number;
}

const DAY_MS = 86_400_000;
const scopeOf = (projectId: string, environment: string) => `${projectId}/${environment}`;
/** Associated data binds each sealed body to its record and role: a ciphertext copied to another row or column fails to open. */
const contextOf = (id: string, part: 'request' | 'response') => `llm_request_log:${id}:${part}`;

/**
 * Opt-in request logging for the LLM proxy (issue 5 §7). Off by default; an
 * admin turns it on per project environment with a retention limit. Capture
 * costs the proxy a Map lookup when off; when on, bodies are copied up to the
 * cap as they pass and everything else (sealing, SQL) runs off the request
 * path in batches.
 */
export function createRequestLog({ db, keyring, clock, logger, writer, refreshMs = 1000, cleanupMs = 10 * 60_000, maxPendingBytes = 32 * 1024 * 1024 }: RequestLogOptions) {
  const settings = createRequestLogSettings({ db, clock, logger, refreshMs });
  const store = createRequestLogStore(db);
  const pending = writer.buffer<CapturedEntry>({ name: 'LLM request log entries', metricsId: 'request_log', write, maxBatch: 200, maxBytes: maxPendingBytes });
  let cleaning: Promise<number> | null = null;

  function enqueue(entry: CapturedEntry): void {
    pending.put(entry.id, entry, (entry.request?.length ?? 0) + (entry.response?.length ?? 0) + 512);
  }

  async function seal(entry: CapturedEntry): Promise<RequestLogRow> {
    const scope = scopeOf(entry.projectId, entry.environment);
    const u = entry.usage;
    return {
      id: entry.id, project_id: entry.projectId, environment: entry.environment, provider: entry.provider,
      method: entry.method, path: entry.path, user_id: entry.userId, status: entry.status, model: entry.model,
      input_tokens: u ? u.input : null, output_tokens: u ? u.output : null, total_tokens: u ? u.total : null,
      duration_ms: entry.durationMs,
      request_body: entry.request ? await keyring.encrypt(scope, entry.request, contextOf(entry.id, 'request')) : null,
      response_body: entry.response ? await keyring.encrypt(scope, entry.response, contextOf(entry.id, 'response')) : null,
      truncated: entry.truncated ? 1 : 0,
      created_at: entry.createdAt,
    };
  }

  async function write(batch: ReadonlyMap<string, CapturedEntry>): Promise<void> {
    // Ids only: a log line must never carry a prompt or completion.
    const rows: RequestLogRow[] = [];
    for (const entry of batch.values()) {
      try {
        rows.push(await seal(entry));
      } catch (error) {
        logger.error({ err: error, entry_id: entry.id }, 'could not seal an LLM request log entry');
      }
    }
    await store.insert(rows, (error) => logger.error({ err: error }, 'could not store an LLM request log entry'));
  }

  const flush = (): Promise<void> => pending.flush();

  /** Deletes entries past their environment's retention, as of the clock's now. Returns how many. */
  function cleanup(): Promise<number> {
    cleaning ??= (async () => {
      const now = clock.nowMs();
      let deleted = 0;
      for (const r of await settings.retentions()) {
        deleted += await store.deleteOlderThan(r.projectId, r.environment, new Date(now - r.retentionDays * DAY_MS).toISOString());
      }
      return deleted;
    })().finally(() => {
      cleaning = null;
    });
    return cleaning;
  }

  const runCleanup = () => void cleanup().catch((error: unknown) => logger.error({ err: error }, 'LLM request log cleanup failed'));
  const cleanupTimer = setInterval(runCleanup, cleanupMs);
  cleanupTimer.unref();
  runCleanup();

  /** A body that does not open (moved to another row, tampered with, data key gone) is reported, not fatal to the page. */
  async function open(projectId: string, environment: string, id: string, part: 'request' | 'response', sealed: string | null): Promise<{ text: string | null; unreadable: boolean }> {
    if (sealed === null) return { text: null, unreadable: false };
    try {
      return { text: (await keyring.decrypt(scopeOf(projectId, environment), sealed, contextOf(id, part))).toString('utf8'), unreadable: false };
    } catch {
      logger.warn({ entry: id, part }, 'an LLM request log body could not be decrypted');
      return { text: null, unreadable: true };
    }
  }

  return {
    ready: settings.ready,

    /** The proxy's guard, so that it builds nothing for begin() when logging is off: one Map lookup (none while off everywhere). */
    isOn: (projectId: string, environment: string): boolean => settings.active(projectId, environment) !== undefined,

    /** Called by the proxy just before it calls the provider: a handle when logging is on for the environment, else null. */
    begin(reply: ReplyLike, start: CaptureStart): RequestLogHandle | null {
      const active = settings.active(start.projectId, start.environment);
      if (!active) return null;
      return startCapture(reply, start, { maxBodyBytes: active.maxBodyBytes, now: clock.now(), done: enqueue });
    },

    getSettings: (projectId: string, environment: string): Promise<RequestLogSettings> => settings.get(projectId, environment),
    putSettings: (projectId: string, environment: string, change: SettingsChange, actor: string): Promise<RequestLogSettings> =>
      settings.put(projectId, environment, change, actor),

    /** Newest first, bodies opened; entries past retention are hidden even before the cleanup removes them. */
    async list(projectId: string, environment: string, q: { limit: number; before?: string; userId?: string }): Promise<RequestLogEntry[]> {
      await flush();
      const { retentionDays } = await settings.get(projectId, environment);
      const since = new Date(clock.nowMs() - retentionDays * DAY_MS).toISOString();
      const beforeId = q.before === undefined ? undefined : q.before.startsWith('req_') ? q.before : `req_${timePrefix(Date.parse(q.before))}`;
      const rows = await store.page(projectId, environment, { limit: q.limit, beforeId, since, userId: q.userId });
      return Promise.all(rows.map(async (r) => {
        const request = await open(projectId, environment, r.id, 'request', r.request_body);
        const response = await open(projectId, environment, r.id, 'response', r.response_body);
        return {
          id: r.id, provider: r.provider, method: r.method, path: r.path, user_id: r.user_id, status: Number(r.status), model: r.model,
          input_tokens: num(r.input_tokens), output_tokens: num(r.output_tokens), total_tokens: num(r.total_tokens),
          duration_ms: Number(r.duration_ms), created_at: r.created_at, truncated: Number(r.truncated) === 1,
          request_body: request.text, response_body: response.text, bodies_unreadable: request.unreadable || response.unreadable,
        };
      }));
    },

    async purge(projectId: string, environment: string, userId?: string): Promise<number> {
      await flush();
      return store.purge(projectId, environment, userId);
    },

    cleanup,
    flush,

    async close(): Promise<void> {
      clearInterval(cleanupTimer);
      await settings.close();
      await cleaning?.catch(() => undefined);
      await flush();
    },
  };
}

export type RequestLog = ReturnType<typeof createRequestLog>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
