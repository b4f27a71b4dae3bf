// Bookkeeping leaves the request path through the one background writer that the deps start and
// stop: whatever is still buffered when the server shuts down reaches the database.
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../harness/app.js';
import { engines, freshDatabaseUrl } from '../harness/engines.js';

describe.each(engines())('the background writer (%s)', (engine) => {
  it('security events and LLM usage still buffered at shutdown are stored by close(), without a flush', async () => {
    const database = await freshDatabaseUrl(engine);
    try {
      const first = await startTestApp(engine, { database });
      const refused = await first.app.inject({ url: '/admin/v1/project', headers: { apikey: 'sk_dev_not-a-real-key' } });
      expect(refused.statusCode).toBe(401);
      first.deps.llm.usage.add(
        { projectId: first.project.id, environment: 'dev', userId: 'usr_buffered', provider: 'openai' },
        { input: 1, output: 2, total: 3, model: 'm' },
        first.deps.clock.now(),
      );
      await first.close();

      const second = await startTestApp(engine, { database });
      try {
        const db = second.deps.storage.db;
        expect(await db.selectFrom('security_events').select('type').where('type', '=', 'api_key_rejected').execute()).not.toHaveLength(0);
        const usage = await db.selectFrom('llm_usage').select(['user_id', 'total_tokens']).where('user_id', '=', 'usr_buffered').execute();
        expect(usage.map((u) => [u.user_id, Number(u.total_tokens)])).toEqual([['usr_buffered', 3]]);
      } finally {
        await second.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});
