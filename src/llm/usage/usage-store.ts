import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { WriteBehind } from '../../shared/write-behind.js';
import type { TokenUsage } from './extract.js';

export interface UsageKey {
  projectId: string;
  environment: string;
  userId: string;
  provider: string;
}

interface Pending { key: UsageKey; model: string; hour: string; requests: number; input: number; output: number; total: number }

/**
 * Usage per user, model and hour. Writes are aggregated in memory and stored
 * by the background writer, so a burst of requests costs one upsert per
 * user/model/hour instead of one per request. Only counts are stored: never
 * prompts, completions or tokens' text.
 */
export function createUsageRecorder({ db, writer }: { db: Kysely<Database>; writer: WriteBehind }) {
  const pending = writer.buffer<Pending>({ name: 'LLM usage', metricsId: 'usage', write });

  async function write(batch: ReadonlyMap<string, Pending>): Promise<void> {
    for (const p of batch.values()) {
      await db.insertInto('llm_usage').values({
        project_id: p.key.projectId, environment: p.key.environment, user_id: p.key.userId, provider: p.key.provider,
        model: p.model, hour: p.hour, requests: p.requests, input_tokens: p.input, output_tokens: p.output, total_tokens: p.total,
      }).onConflict((oc) => oc.columns(['project_id', 'environment', 'user_id', 'provider', 'model', 'hour']).doUpdateSet({
        requests: sql`llm_usage.requests + ${p.requests}`,
        input_tokens: sql`llm_usage.input_tokens + ${p.input}`,
        output_tokens: sql`llm_usage.output_tokens + ${p.output}`,
        total_tokens: sql`llm_usage.total_tokens + ${p.total}`,
      })).execute();
    }
  }

  return {
    add(key: UsageKey, usage: TokenUsage, at: Date): void {
      const model = (usage.model ?? 'unknown').slice(0, 200);
      const hourMs = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
      // NUL cannot occur in any of the parts, so the joined key is unambiguous.
      const id = `${key.projectId}\u0000${key.environment}\u0000${key.userId}\u0000${key.provider}\u0000${model}\u0000${hourMs}`;
      const existing = pending.get(id);
      if (existing) {
        existing.requests += 1;
        existing.input += usage.input;
        existing.output += usage.output;
        existing.total += usage.total;
        return;
      }
      pending.put(id, { key, model, hour: new Date(hourMs).toISOString(), requests: 1, input: usage.input, output: usage.output, total: usage.total });
    },
    /** Resolves once usage added so far is stored. */
    flush: (): Promise<void> => pending.flush(),
    /** Total tokens per stored hour in [from, to) (ISO), summed over users and models: the dashboard's chart. At most one row per hour. */
    async tokensPerHour(projectId: string, environment: string, options: { from: string; to: string }): Promise<Array<{ hour: string; tokens: number }>> {
      const rows = await db.selectFrom('llm_usage').select(['hour', (e) => e.fn.sum<number>('total_tokens').as('tokens')])
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where('hour', '>=', options.from).where('hour', '<', options.to)
        .groupBy('hour').execute();
      return rows.map((r) => ({ hour: r.hour, tokens: Number(r.tokens) }));
    },
    async report(projectId: string, environment: string, options: { from: string; to: string; userId?: string }) {
      let q = db.selectFrom('llm_usage').selectAll()
        .where('project_id', '=', projectId).where('environment', '=', environment)
        .where('hour', '>=', options.from).where('hour', '<', options.to);
      if (options.userId) q = q.where('user_id', '=', options.userId);
      const rows = await q.orderBy('hour').limit(10_000).execute();
      return rows.map((r) => ({
        user_id: r.user_id, provider: r.provider, model: r.model, hour: r.hour, requests: Number(r.requests),
        input_tokens: Number(r.input_tokens), output_tokens: Number(r.output_tokens), total_tokens: Number(r.total_tokens),
      }));
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
