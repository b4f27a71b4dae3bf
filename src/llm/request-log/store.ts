import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { LlmRequestLogTable } from './tables.js';

export type RequestLogRow = LlmRequestLogTable;

export interface PageQuery {
  limit: number;
  /** Only ids lower than this (an entry id, or the id prefix of a moment). */
  beforeId?: string;
  /** Only entries created at or after this ISO time (retention applies on read too). */
  since: string;
  userId?: string;
}

// Rows per INSERT: 17 columns × 50 stays far below SQLite's and PostgreSQL's bound-parameter limits.
const CHUNK = 50;

/** The llm_request_log table; knows SQL, not HTTP or crypto. */
export function createRequestLogStore(db: Kysely<Database>) {
  return {
    /** Inserts a batch; a failing chunk is retried row by row so one bad row (its environment just deleted) loses only itself. */
    async insert(rows: RequestLogRow[], onRowError: (error: unknown) => void): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        try {
          await db.insertInto('llm_request_log').values(chunk).execute();
        } catch (error) {
          if (chunk.length === 1) {
            onRowError(error);
            continue;
          }
          for (const row of chunk) {
            try {
              await db.insertInto('llm_request_log').values(row).execute();
            } catch (rowError) {
              onRowError(rowError);
            }
          }
        }
      }
    },

    async page(projectId: string, environment: string, q: PageQuery): Promise<RequestLogRow[]> {
      let query = db.selectFrom('llm_request_log').selectAll()
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where('created_at', '>=', q.since);
      if (q.userId !== undefined) query = query.where('user_id', '=', q.userId);
      if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
      return query.orderBy('id', 'desc').limit(q.limit).execute();
    },

    async purge(projectId: string, environment: string, userId?: string): Promise<number> {
      let query = db.deleteFrom('llm_request_log').where('project_id', '=', projectId).where('environment', '=', environment);
      if (userId !== undefined) query = query.where('user_id', '=', userId);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteOlderThan(projectId: string, environment: string, cutoff: string): Promise<number> {
      const result = await db.deleteFrom('llm_request_log')
        .where('project_id', '=', projectId).where('environment', '=', environment).where('created_at', '<', cutoff)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type RequestLogStore = ReturnType<typeof createRequestLogStore>;
