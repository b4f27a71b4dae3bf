// Fixes from the LLM proxy review: account paths reached through admin patterns with parameters,
// error shapes by provider kind, the CLI's --enable, the shown allowlist, the quota store down,
// and organization ids in provider error bodies.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliOn, useSeededDatabase } from '../harness/cli.js';
import { engines, redisUrl } from '../harness/engines.js';
import { FAKE_KEYS } from '../harness/fake-llm/index.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { assertNoSecrets, startLlmTest, type LlmTest, useLlmTest } from './setup.js';

const CHAT = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });

/** A raw call as alice (publishable key + her token), to see status, headers and the exact body. */
function asAlice(t: LlmTest, method: string, path: string, body?: string): Promise<Response> {
  return fetch(`${t.gh.url}${path}`, {
    method,
    headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
}

async function deniedEvents(t: LlmTest): Promise<Array<{ provider?: string; path?: string }>> {
  await t.gh.deps.events.flush();
  const rows = await t.gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', 'llm_endpoint_denied').execute();
  return rows.map((r) => JSON.parse(String(r.details)) as { provider?: string; path?: string });
}

describe.each(engines())('LLM review fixes (%s)', (engine) => {
  const t = useLlmTest(engine);

  it('an admin pattern with parameters never reaches an account endpoint: 403 on the actual path, nothing sent, event recorded', async () => {
    const put = await t.admin('PUT', '/admin/v1/providers/openai', { endpoints_add: ['GET /v1/{model}', 'GET /v1/{model}/{file}'] });
    expect(put.status).toBe(200);
    try {
      for (const path of ['/llm/openai/v1/organization', '/llm/openai/v1/organization/users', '/llm/openai/v1/projects/proj_1', '/llm/openai/v1/Admin_Api_Keys']) {
        const res = await asAlice(t, 'GET', path);
        expect(res.status, path).toBe(403);
        expect(await res.json(), path).toMatchObject({ error: { code: 'llm_endpoint_not_allowed', type: 'invalid_request_error' } });
      }
      // Not even the secret key (which needs no user) gets through.
      const secret = await fetch(`${t.gh.url}/llm/openai/v1/organization/users`, { headers: { apikey: t.gh.secretKey } });
      expect(secret.status).toBe(403);
      expect(t.fake.requests).toHaveLength(0);
      expect((await deniedEvents(t)).filter((e) => e.path?.toLowerCase().includes('organization') || e.path?.toLowerCase().includes('admin_api_keys') || e.path?.includes('projects')))
        .toHaveLength(5);
      // The pattern still opens what it was meant for.
      const ok = await asAlice(t, 'GET', '/llm/openai/v1/something');
      expect(ok.status).toBe(404); // the fake's own answer: the request went through
      expect(t.fake.requests).toHaveLength(1);
    } finally {
      await t.admin('PUT', '/admin/v1/providers/openai', { endpoints_add: [] });
    }
  });

  it('errors use the shape of the provider kind, not of the URL name; before resolution the URL decides', async () => {
    expect((await t.admin('PUT', '/admin/v1/providers/claude', { kind: 'anthropic', base_url: `${t.fake.url}/anthropic`, api_key: FAKE_KEYS.anthropic })).status).toBe(200);
    expect((await t.admin('PUT', '/admin/v1/providers/palm', { kind: 'gemini', base_url: `${t.fake.url}/gemini`, api_key: FAKE_KEYS.gemini })).status).toBe(200);

    const claude = await asAlice(t, 'POST', '/llm/claude/v1/complete', '{}');
    expect(claude.status).toBe(403);
    expect(await claude.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    // The Anthropic SDK reads it as its own error (here an ownership 404, thrown in the handler).
    await expect(t.anthropic(t.alice).withOptions({ baseURL: `${t.gh.url}/llm/claude` }).messages.batches.delete('msgbatch_not_hers'))
      .rejects.toMatchObject({ status: 404, error: { type: 'error', error: { type: 'not_found_error' } } });

    const palm = await asAlice(t, 'GET', '/llm/palm/v1beta/tunedModels');
    expect(palm.status).toBe(403);
    expect(await palm.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });

    // A quota refusal happens after resolution too, in the proxy handler.
    await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 0, tokens_per_month: null });
    try {
      const quota = await asAlice(t, 'POST', '/llm/claude/v1/messages', JSON.stringify({ model: 'c', max_tokens: 5, messages: [] }));
      expect(quota.status).toBe(429);
      expect(await quota.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    } finally {
      await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: null, tokens_per_month: null });
    }

    // No provider resolved: the URL's choice (OpenAI-compatible).
    const missing = await asAlice(t, 'GET', '/llm/nothere/v1/models');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found', type: 'invalid_request_error' } });
    expect(t.fake.requests).toHaveLength(0);
  });

  it('GET /admin/v1/providers/:name shows the allowlist the proxy enforces (spacing normalised)', async () => {
    const put = await t.admin('PUT', '/admin/v1/providers/openai', { endpoints_remove: ['POST    /v1/images/generations'], endpoints_add: ['GET   /v1/fine_tuning/jobs'] });
    expect(put.status).toBe(200);
    try {
      const shown = await t.admin('GET', '/admin/v1/providers/openai');
      expect(shown.status).toBe(200);
      const endpoints = shown.body.endpoints as string[];
      expect(endpoints.filter((e) => e.includes('/v1/images/generations'))).toEqual([]);
      expect(endpoints).toContain('GET /v1/fine_tuning/jobs');
      expect(endpoints).toContain('POST /v1/chat/completions usage');
      // The proxy agrees with what is shown.
      expect((await asAlice(t, 'POST', '/llm/openai/v1/images/generations', '{"prompt":"x"}')).status).toBe(403);
      expect(t.fake.requests).toHaveLength(0);
    } finally {
      await t.admin('PUT', '/admin/v1/providers/openai', { endpoints_remove: [], endpoints_add: [] });
    }
  });

  it('organization and project ids in a provider 4xx JSON body are masked; the rest passes as sent', async () => {
    t.fake.mode.orgRateLimit = true;
    const res = await asAlice(t, 'POST', '/llm/openai/v1/chat/completions', CHAT);
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('openai-organization')).toBeNull();
    const text = await res.text();
    expect(text).not.toContain('AbC123xyz');
    expect(text).not.toContain('Q7rT9kLm');
    const body = JSON.parse(text);
    expect(body).toEqual({
      error: {
        message: 'Rate limit reached for gpt-4 in organization org-*** on tokens per min (TPM): Limit 10000, Used 9990, Requested 50 (project proj_***). Please try again in 2s.',
        type: 'tokens', param: null, code: 'rate_limit_exceeded',
      },
    });
    // The SDK still sees OpenAI's error.
    await expect(t.openai(t.alice).chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(t.gh.logs.join('\n')).not.toContain('AbC123xyz');
  });
});

describe.each(engines())('gatehouse providers set --enable (%s)', (engine) => {
  const db = useSeededDatabase(engine, 'shop');

  const enabled = async () => JSON.parse((await runCliOn(db, ['--json', 'providers', 'list', '-p', 'shop'])).out).providers[0].enabled as boolean;

  it('a disabled provider can be enabled again; --enable with --disable is refused and changes nothing', async () => {
    expect((await runCliOn(db, ['providers', 'set', 'openai', '-p', 'shop', '--key-stdin'], { stdin: 'sk-cli-provider-key-9876543210\n' })).code).toBe(0);
    expect((await runCliOn(db, ['providers', 'set', 'openai', '-p', 'shop', '--disable'])).code).toBe(0);
    expect(await enabled()).toBe(false);
    const both = await runCliOn(db, ['providers', 'set', 'openai', '-p', 'shop', '--enable', '--disable']);
    expect(both.code).toBe(1);
    expect(both.err).toContain('--enable and --disable cannot be used together');
    expect(await enabled()).toBe(false);
    expect((await runCliOn(db, ['providers', 'set', 'openai', '-p', 'shop', '--enable'])).code).toBe(0);
    expect(await enabled()).toBe(true);
    // Neither flag leaves it as it is.
    expect((await runCliOn(db, ['providers', 'set', 'openai', '-p', 'shop', '--base-url', 'https://api.openai.com'])).code).toBe(0);
    expect(await enabled()).toBe(true);
  });
});

// The llm class fails closed by default, so the rate limiter would answer 503 before the quota is
// asked: here it fails open, to reach the quota check with Redis down.
const LLM_OPEN = {
  rateLimits: {
    classes: { llm: { failMode: 'open', tiers: { guest: [{ limit: 1000, windowMs: 60_000 }], user: [{ limit: 1000, windowMs: 60_000 }], admin: [{ limit: 1000, windowMs: 60_000 }] } } },
    address: { failMode: 'open', windows: [{ limit: 100_000, windowMs: 60_000 }] },
  },
};

describe.skipIf(!redisUrl()).each(engines())('token quota with its Redis down (%s)', (engine) => {
  let redis: RedisServer;
  let t: LlmTest;
  let configDir: string;
  beforeAll(async () => {
    redis = await startRedis();
    configDir = await mkdtemp(join(tmpdir(), 'gh-review-cfg-'));
    await writeFile(join(configDir, 'gatehouse.json'), JSON.stringify(LLM_OPEN));
    t = await startLlmTest(engine, { env: { REDIS_URL: redis.url, GATEHOUSE_CONFIG: join(configDir, 'gatehouse.json') } });
  }, 60_000);
  afterAll(async () => {
    assertNoSecrets(t);
    await t?.close();
    await redis?.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  it('a quota check that cannot reach Redis answers 503 service_unavailable with Retry-After: 1, and nothing goes upstream', async () => {
    expect((await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 1000, tokens_per_month: null })).status).toBe(200);
    expect((await asAlice(t, 'POST', '/llm/openai/v1/chat/completions', CHAT)).status).toBe(200);
    await t.gh.deps.llm.flush();
    t.fake.reset();

    await redis.stop();
    const res = await asAlice(t, 'POST', '/llm/openai/v1/chat/completions', CHAT);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: { code: 'service_unavailable', type: 'server_error' } });
    expect(t.fake.requests).toHaveLength(0);

    await redis.start();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await asAlice(t, 'POST', '/llm/openai/v1/chat/completions', CHAT)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  }, 30_000);
});
