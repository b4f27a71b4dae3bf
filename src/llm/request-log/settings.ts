import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../db/index.js';
import { isoNow, type Clock } from '../../shared/clock.js';

export interface RequestLogSettings {
  enabled: boolean;
  retentionDays: number;
  maxBodyBytes: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

export const DEFAULT_RETENTION_DAYS = 7;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const MAX_RETENTION_DAYS = 90;
/** Bounds one entry at 2 × this in memory and in a listed page. */
export const MAX_BODY_BYTES_LIMIT = 256 * 1024;

const OFF: RequestLogSettings = { enabled: false, retentionDays: DEFAULT_RETENTION_DAYS, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, updatedAt: null, updatedBy: null };

export interface SettingsChange {
  enabled: boolean;
  retentionDays?: number;
  maxBodyBytes?: number;
}

/**
 * The per-environment switch. It is consulted on every proxied request, so the
 * proxy never queries for it: the environments with logging on are held in a
 * snapshot that is reloaded every `refreshMs` (≤ 1 s, so a change made on
 * another instance applies within a second) and updated at once by a change on
 * this instance. With logging off everywhere the check is one `size` test;
 * otherwise it is one Map lookup. Only enabled rows are loaded, which keeps the
 * snapshot small however many environments exist.
 */
export function createRequestLogSettings({ db, clock, logger, refreshMs }: { db: Kysely<Database>; clock: Clock; logger: Logger; refreshMs: number }) {
  // projectId -> environment -> settings; nested so the lookup builds no key string.
  let enabled = new Map<string, Map<string, RequestLogSettings>>();
  let failing = false;
  let refreshing: Promise<void> | null = null;
  // Bumped by every local change: a reload that started before it read the old row and must not win.
  let version = 0;

  async function load(): Promise<void> {
    const startedAt = version;
    const rows = await db.selectFrom('llm_request_log_settings').selectAll().where('enabled', '=', 1).execute();
    const next = new Map<string, Map<string, RequestLogSettings>>();
    for (const row of rows) {
      let envs = next.get(row.project_id);
      if (!envs) next.set(row.project_id, (envs = new Map()));
      envs.set(row.environment, toSettings(row));
    }
    if (version === startedAt) enabled = next;
  }

  /** Never rejects: on a failure the last snapshot stays in force, logged once per failing streak. */
  function refresh(): Promise<void> {
    refreshing ??= load()
      .then(() => {
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) logger.error({ err: error }, 'could not load LLM request log settings');
        failing = true;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  async function get(projectId: string, environment: string): Promise<RequestLogSettings> {
    const row = await db.selectFrom('llm_request_log_settings').selectAll()
      .where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
    return row ? toSettings(row) : OFF;
  }

  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();
  const first = refresh();

  return {
    /** Resolves once the first snapshot is loaded (awaited at start-up, so the first request is judged right). */
    ready: (): Promise<void> => first,

    /** The hot path: settings when logging is on for this environment, else undefined. */
    active(projectId: string, environment: string): RequestLogSettings | undefined {
      if (enabled.size === 0) return undefined;
      return enabled.get(projectId)?.get(environment);
    },

    get,

    async put(projectId: string, environment: string, change: SettingsChange, actor: string): Promise<RequestLogSettings> {
      const current = await get(projectId, environment);
      const values = {
        project_id: projectId, environment,
        enabled: change.enabled ? 1 : 0,
        retention_days: change.retentionDays ?? current.retentionDays,
        max_body_bytes: change.maxBodyBytes ?? current.maxBodyBytes,
        updated_at: isoNow(clock),
        updated_by: actor,
      };
      await db.insertInto('llm_request_log_settings').values(values)
        .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet({
          enabled: values.enabled, retention_days: values.retention_days, max_body_bytes: values.max_body_bytes,
          updated_at: values.updated_at, updated_by: values.updated_by,
        }))
        .execute();
      const settings = toSettings(values);
      version += 1;
      // This instance applies the change at once (copy-on-write: a request mid-lookup keeps a consistent map).
      const next = new Map(enabled);
      const envs = new Map(next.get(projectId));
      if (settings.enabled) envs.set(environment, settings);
      else envs.delete(environment);
      if (envs.size > 0) next.set(projectId, envs);
      else next.delete(projectId);
      enabled = next;
      return settings;
    },

    /** Every environment with a settings row (on or off: entries outlive a switch-off until their retention ends). */
    async retentions(): Promise<Array<{ projectId: string; environment: string; retentionDays: number }>> {
      const rows = await db.selectFrom('llm_request_log_settings').select(['project_id', 'environment', 'retention_days']).execute();
      return rows.map((r) => ({ projectId: r.project_id, environment: r.environment, retentionDays: Number(r.retention_days) }));
    },

    async close(): Promise<void> {
      clearInterval(timer);
      await refreshing;
    },
  };
}

export type RequestLogSettingsService = ReturnType<typeof createRequestLogSettings>;

function toSettings(row: { enabled: number; retention_days: number; max_body_bytes: number; updated_at: string; updated_by: string }): RequestLogSettings {
  return {
    enabled: Number(row.enabled) === 1,
    retentionDays: Number(row.retention_days),
    maxBodyBytes: Number(row.max_body_bytes),
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
