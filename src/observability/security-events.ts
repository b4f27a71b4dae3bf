import type { Insertable, Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import { normaliseIp } from '../shared/ip.js';
import { isoNow, type Clock } from '../shared/clock.js';
import type { WriteBehind } from '../shared/write-behind.js';
import { createEventThrottle } from './event-throttle.js';

/** Things worth an operator's attention; stable names, used in queries and alerts. */
export type SecurityEventType =
  | 'api_key_rejected'
  | 'api_key_scope_denied'
  | 'secret_key_required'
  | 'origin_rejected'
  | 'malformed_request'
  | 'token_rejected'
  | 'sign_in_failed'
  | 'refresh_token_reused'
  | 'sign_up_rejected'
  | 'sign_in_backoff'
  | 'recovery_token_rejected'
  | 'email_change_rejected'
  | 'session_revoked'
  | 'signing_key_rotated'
  | 'rate_limited'
  | 'llm_endpoint_denied'
  | 'resource_access_denied'
  // The dashboard's operators (issue 17).
  | 'operator_sign_in_failed'
  | 'operator_setup_rejected'
  | 'csrf_rejected';

export interface SecurityEventInput {
  projectId?: string | null;
  environment?: string | null;
  ip?: string | null;
  requestId?: string | null;
  /** Must never contain a secret: reasons, ids, prefixes only. */
  details?: Record<string, unknown>;
  /**
   * Who the event is about, for the throttle of kinds an attacker can repeat at will (THROTTLED):
   * a server-resolved id, never client text. Default: the client address (IPv6 by /64).
   */
  subject?: string;
}

/**
 * Kinds a client can cause as fast as it can send requests: each is recorded (row and log line) at
 * most `burst` times a minute per subject, kind and project environment; the ones dropped are
 * counted in the next one recorded (`details.suppressed`). A few per minute keep a small incident
 * fully visible; a flood costs a handful of rows a minute, not one per request.
 */
const THROTTLED: Partial<Record<SecurityEventType, { burst: number }>> = {
  rate_limited: { burst: 1 },
  sign_in_failed: { burst: 5 },
  sign_in_backoff: { burst: 5 },
  sign_up_rejected: { burst: 5 },
  recovery_token_rejected: { burst: 5 },
  // What anyone can send without a credential: a flood of forged keys or tokens must not cost a row
  // and a log line each (that was most of a refused request's cost). One a second still shows an
  // incident as it happens.
  api_key_rejected: { burst: 60 },
  token_rejected: { burst: 60 },
  origin_rejected: { burst: 60 },
  malformed_request: { burst: 60 },
  operator_sign_in_failed: { burst: 5 },
  operator_setup_rejected: { burst: 5 },
  csrf_rejected: { burst: 60 },
};
const THROTTLE_INTERVAL_MS = 60_000;
const THROTTLE_MAX_KEYS = 10_000;
const DAY_MS = 24 * 3600_000;
/** Rows deleted per statement, so a long backlog is pruned without one huge transaction. */
const PRUNE_BATCH = 5_000;
/** Rows per INSERT (7 bound values each, far below either engine's limit); more start a flush at once. */
const WRITE_BATCH = 100;

export interface SecurityEvents {
  record(type: SecurityEventType, input: SecurityEventInput): void;
  list(projectId: string, environment: string, options?: { limit?: number; beforeId?: number; type?: string }): Promise<
    Array<{ id: number; type: string; ip: string | null; request_id: string | null; details: unknown; created_at: string }>
  >;
  /** Resolves when events recorded so far are stored (tests, shutdown). */
  flush(): Promise<void>;
  /** Deletes events older than the retention, as of the clock's now. Returns how many. */
  prune(): Promise<number>;
}

export interface SecurityEventsOptions {
  db: Kysely<Database>;
  logger: Logger;
  clock: Clock;
  /** Stores events off the request path, in batches. */
  writer: WriteBehind;
  /** Days an event is kept (securityEvents.retentionDays). */
  retentionDays: number;
}

function throttleSubject(input: SecurityEventInput): string {
  if (input.subject !== undefined) return input.subject;
  try {
    return input.ip ? `ip:${normaliseIp(input.ip)}` : 'none';
  } catch {
    return 'none';
  }
}

export function createSecurityEvents({ db, logger, clock, writer, retentionDays }: SecurityEventsOptions): SecurityEvents {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new TypeError('createSecurityEvents: retentionDays must be a positive integer');
  // Written off the request path: a flood of bad requests must not slow good ones.
  const pending = writer.buffer<Insertable<Database['security_events']>>({
    name: 'security events',
    metricsId: 'security_events',
    maxBatch: WRITE_BATCH,
    async write(batch) {
      const rows = [...batch.values()];
      for (let i = 0; i < rows.length; i += WRITE_BATCH) await db.insertInto('security_events').values(rows.slice(i, i + WRITE_BATCH)).execute();
    },
  });
  let sequence = 0;
  const throttle = createEventThrottle({ intervalMs: THROTTLE_INTERVAL_MS, maxKeys: THROTTLE_MAX_KEYS });
  let pruning: Promise<number> | null = null;
  return {
    record(type, given) {
      let input = given;
      const limit = THROTTLED[type];
      if (limit) {
        const key = `${type}|${input.projectId ?? ''}|${input.environment ?? ''}|${throttleSubject(input)}`;
        const admitted = throttle.admit(key, clock.nowMs(), limit.burst);
        if (!admitted) return;
        if (admitted.suppressed > 0) input = { ...input, details: { ...input.details, suppressed: admitted.suppressed } };
      }
      logger.warn({ security_event: type, project: input.projectId, environment: input.environment, ip: input.ip, request_id: input.requestId, details: input.details }, 'security event');
      pending.put(String(sequence++), {
        project_id: input.projectId ?? null,
        environment: input.environment ?? null,
        type,
        ip: input.ip ?? null,
        request_id: input.requestId ?? null,
        details: JSON.stringify(input.details ?? {}),
        created_at: isoNow(clock),
      });
    },
    async list(projectId, environment, options = {}) {
      // Readers (the admin API) see every event recorded before they asked.
      await pending.flush();
      let query = db
        .selectFrom('security_events')
        .select(['id', 'type', 'ip', 'request_id', 'details', 'created_at'])
        .where('project_id', '=', projectId)
        .where('environment', '=', environment)
        .orderBy('id', 'desc')
        .limit(Math.min(options.limit ?? 100, 1000));
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.type) query = query.where('type', '=', options.type);
      const rows = await query.execute();
      return rows.map((r) => ({ ...r, id: Number(r.id), details: JSON.parse(r.details) as unknown }));
    },
    flush: () => pending.flush(),
    prune() {
      // One prune at a time: a slow one must not be overlapped by the next tick.
      pruning ??= (async () => {
        const cutoff = new Date(clock.nowMs() - retentionDays * DAY_MS).toISOString();
        let deleted = 0;
        for (;;) {
          const batch = db.selectFrom('security_events').select('id').where('created_at', '<', cutoff).limit(PRUNE_BATCH);
          const result = await db.deleteFrom('security_events').where('id', 'in', batch).executeTakeFirst();
          const n = Number(result.numDeletedRows);
          deleted += n;
          if (n < PRUNE_BATCH) return deleted;
        }
      })().finally(() => {
        pruning = null;
      });
      return pruning;
    },
  };
}

/**
 * Prunes now and then every `intervalMs` (0: never), off the request path; stop() ends it. Started
 * and stopped by the deps, like every other timer, so a CLI run or a test leaves none behind.
 */
export function startSecurityEventPruning(events: Pick<SecurityEvents, 'prune'>, { intervalMs, logger }: { intervalMs: number; logger: Logger }): { stop(): Promise<void> } {
  if (intervalMs === 0) return { stop: () => Promise.resolve() };
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = events.prune()
      .then((deleted) => { if (deleted > 0) logger.info({ deleted }, 'security events past their retention pruned'); })
      .catch((error: unknown) => logger.error({ err: error }, 'security event prune failed'));
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
