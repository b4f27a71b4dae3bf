// With REDIS_URL, token quotas count in Redis (the limiter's quota counter) instead of SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../harness/engines.js';
import { assertNoSecrets, startLlmTest, type LlmTest } from './setup.js';

const url = redisUrl();

describe.skipIf(!url)('token quotas on Redis', () => {
  let t: LlmTest;
  beforeAll(async () => {
    t = await startLlmTest('sqlite', { env: { REDIS_URL: url! } });
  });
  afterAll(async () => {
    assertNoSecrets(t);
    await t.close();
  });

  it('a user past the daily quota gets 429 and nothing reaches upstream; no SQL counter is written', async () => {
    expect(t.gh.deps.rateLimits.storeKind).toBe('redis');
    await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 10, tokens_per_month: null });
    await t.openai(t.alice).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    await t.gh.deps.llm.flush();
    t.fake.reset();
    await expect(t.openai(t.alice).chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({ status: 429, error: { code: 'token_quota_exceeded' } });
    expect(t.fake.requests).toHaveLength(0);
    expect(await t.gh.deps.storage.db.selectFrom('llm_quota_counters').selectAll().execute()).toEqual([]);
    await t.openai(t.bob).chat.completions.create({ model: 'm', messages: [] });
  });
});
