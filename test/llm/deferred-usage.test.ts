// Runs and background responses report their tokens only once settled, on a
// later GET: each is counted once, against its creator, whoever polls it and
// however often (usage/deferred.ts, accounted_at on the ownership record).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountAnswer, type TokenUsage } from '../../src/llm/usage/index.js';
import { engines } from '../harness/engines.js';
import { createTestUser } from '../harness/users.js';
import { useLlmTest, type LlmTest } from './setup.js';

/** A model name of its own per test, so usage rows of one test never mix with another's. */
const modelName = () => `m-${randomUUID().slice(0, 8)}`;

async function usageOf(t: LlmTest, model: string): Promise<Array<{ user_id: string; requests: number; total_tokens: number }>> {
  await t.gh.deps.llm.flush();
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const res = await t.admin('GET', `/admin/v1/llm/usage?from=${from}&to=${to}`);
  expect(res.status).toBe(200);
  return (res.body.usage as Array<{ user_id: string; model: string; requests: number; total_tokens: number }>)
    .filter((r) => r.model === model)
    .map(({ user_id, requests, total_tokens }) => ({ user_id, requests, total_tokens }));
}

async function accountedAt(t: LlmTest, id: string): Promise<string | null | undefined> {
  const row = await t.gh.deps.storage.db.selectFrom('llm_resources').select('accounted_at').where('resource_id', '=', id).executeTakeFirst();
  return row?.accounted_at;
}

describe.each(engines())('deferred token usage of runs and background responses (%s)', (engine) => {
  const t = useLlmTest(engine);

  async function startRun(model: string) {
    const ai = t.openai(t.alice);
    const assistant = await ai.beta.assistants.create({ model: 'gpt-fake' });
    const thread = await ai.beta.threads.create();
    const run = await ai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, model });
    return { ai, thread, run };
  }

  it('a run polled twice counts its tokens once, against its creator', async () => {
    const model = modelName();
    const { ai, thread, run } = await startRun(model);
    expect(run.status).toBe('queued');
    expect(await usageOf(t, model)).toEqual([]);

    const first = await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(first).toMatchObject({ status: 'completed', usage: { total_tokens: 30 } });
    await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    await ai.beta.threads.runs.list(thread.id);
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
    expect(await accountedAt(t, run.id)).toEqual(expect.any(String));
  });

  it('a background response counts once, when first seen completed', async () => {
    const model = modelName();
    const ai = t.openai(t.alice);
    const queued = await ai.responses.create({ model, input: 'later', background: true });
    expect(queued).toMatchObject({ status: 'queued', usage: null });
    expect(await usageOf(t, model)).toEqual([]);

    expect(await ai.responses.retrieve(queued.id)).toMatchObject({ status: 'completed', usage: { total_tokens: 20 } });
    await ai.responses.retrieve(queued.id);
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 20 }]);
  });

  it('concurrent GETs of a settled run count it once', async () => {
    const model = modelName();
    const { ai, thread, run } = await startRun(model);
    const polls = await Promise.all(Array.from({ length: 6 }, () => ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })));
    expect(polls.every((p) => p.status === 'completed')).toBe(true);
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
  });

  it('the claim is a compare-and-set: of many concurrent claimers exactly one counts', async () => {
    const { run } = await startRun(modelName());
    const row = await t.gh.deps.storage.db.selectFrom('llm_resources').select(['project_id', 'environment', 'provider', 'owner'])
      .where('resource_id', '=', run.id).executeTakeFirstOrThrow();
    const scope = { projectId: row.project_id, environment: row.environment, provider: row.provider };
    const charged: Array<{ owner: string; usage: TokenUsage }> = [];
    const work: Array<Promise<unknown>> = [];
    const x = {
      kind: 'openai' as const, resources: t.gh.deps.llm.resources, scope,
      account: () => { throw new Error('a settled run is charged to its owner, not the caller'); },
      accountOwner: (owner: string, usage: TokenUsage) => charged.push({ owner, usage }),
      track: (p: Promise<unknown>) => work.push(p),
    };
    const settled = { ...run, status: 'completed', usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } };
    // All started in one tick: every one reads the row as not yet counted before any update runs.
    for (let i = 0; i < 8; i++) accountAnswer(x, false, settled);
    await Promise.all(work);
    expect(charged).toEqual([{ owner: row.owner, usage: expect.objectContaining({ total: 30 }) }]);
    const claims = await Promise.all(Array.from({ length: 5 }, () => t.gh.deps.llm.resources.claimAccounting(scope, run.id)));
    expect(claims).toEqual([false, false, false, false, false]);
  });

  it('a list page that first shows a run settled counts it; a later GET does not', async () => {
    const model = modelName();
    const { ai, thread, run } = await startRun(model);
    const page = await ai.beta.threads.runs.list(thread.id, { settle: true } as never);
    expect(page.data.find((r) => r.id === run.id)).toMatchObject({ status: 'completed' });
    await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
  });

  it('a cancel answer that carries usage counts it once', async () => {
    const model = modelName();
    const ai = t.openai(t.alice);
    const queued = await ai.responses.create({ model, input: 'stop me', background: true });
    expect(await ai.responses.cancel(queued.id)).toMatchObject({ status: 'cancelled', usage: { total_tokens: 20 } });
    await ai.responses.retrieve(queued.id);
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 20 }]);
  });

  it('a streamed run or response is counted from its stream and not again by a GET', async () => {
    const ai = t.openai(t.alice);
    const assistant = await ai.beta.assistants.create({ model: 'gpt-fake' });
    const thread = await ai.beta.threads.create();
    const runModel = modelName();
    let runId = '';
    for await (const event of await ai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, model: runModel, stream: true })) {
      if (event.event === 'thread.run.created') runId = event.data.id;
    }
    expect(runId).toMatch(/^run_/);
    await t.gh.deps.llm.flush();
    expect(await ai.beta.threads.runs.retrieve(runId, { thread_id: thread.id })).toMatchObject({ status: 'completed' });
    expect(await usageOf(t, runModel)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
    expect(await accountedAt(t, runId)).toEqual(expect.any(String));

    const responseModel = modelName();
    let responseId = '';
    for await (const event of await ai.responses.create({ model: responseModel, input: 'hi', stream: true })) {
      if (event.type === 'response.created') responseId = event.response.id;
    }
    await t.gh.deps.llm.flush();
    await ai.responses.retrieve(responseId);
    await ai.responses.retrieve(responseId);
    expect(await usageOf(t, responseModel)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 10 }]);
  });

  it('a secret-key GET of a user\'s run charges the user who created it, not the key', async () => {
    const model = modelName();
    const { thread, run } = await startRun(model);
    const res = await fetch(`${t.gh.url}/llm/openai/v1/threads/${thread.id}/runs/${run.id}`, { headers: { apikey: t.gh.secretKey, 'openai-beta': 'assistants=v2' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: run.id, status: 'completed' });
    expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
  });

  it('another user cannot poll a run, so cannot make it count against anyone', async () => {
    const model = modelName();
    const { thread, run } = await startRun(model);
    t.fake.reset();
    await expect(t.openai(t.bob).beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).rejects.toMatchObject({ status: 404 });
    expect(t.fake.requests).toHaveLength(0);
    expect(await usageOf(t, model)).toEqual([]);
    expect(await accountedAt(t, run.id)).toBeNull();
  });

  it('a user over the token quota through run usage gets 429 on the next request', async () => {
    const carol = await createTestUser(t.gh);
    const ai = t.openai(carol);
    const assistant = await ai.beta.assistants.create({ model: 'gpt-fake' });
    const thread = await ai.beta.threads.create();
    const run = await ai.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    expect((await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: 30, tokens_per_month: null })).status).toBe(200);
    try {
      // Creating the run cost nothing yet: carol is under quota until it is seen settled.
      expect(await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).toMatchObject({ status: 'completed' });
      await t.gh.deps.llm.flush();
      t.fake.reset();
      await expect(ai.chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'more' }] }))
        .rejects.toMatchObject({ status: 429, error: { code: 'token_quota_exceeded' } });
      expect(t.fake.requests).toHaveLength(0);
      const counters = await t.gh.deps.storage.db.selectFrom('llm_quota_counters').select(['period', 'tokens']).where('user_id', '=', carol.id).execute();
      expect(counters.map((c) => Number(c.tokens))).toEqual([30, 30]);
    } finally {
      await t.admin('PUT', '/admin/v1/llm/quotas', { tokens_per_day: null, tokens_per_month: null });
    }
  });

  describe('the sweep: runs and responses nobody fetches again', () => {
    const sweep = () => t.gh.deps.llm.sweepDeferred({ minAgeMs: 0 });
    const fetches = (path: RegExp) => t.fake.requests.filter((r) => r.method === 'GET' && path.test(r.url));

    it('a run read only through its thread\'s messages is counted by the sweep, once, against its creator', async () => {
      const model = modelName();
      const { ai, thread, run } = await startRun(model);
      await ai.beta.threads.messages.list(thread.id);
      expect(await usageOf(t, model)).toEqual([]);

      t.fake.reset();
      // Earlier tests may have left uncounted runs of their own: at least this one is counted.
      expect((await sweep()).counted).toBeGreaterThanOrEqual(1);
      // Fetched under its thread, with the provider's key, never a client's credential.
      const [fetched] = fetches(new RegExp(`/runs/${run.id}$`));
      expect(fetched?.url).toBe(`/openai/v1/threads/${thread.id}/runs/${run.id}`);
      expect(fetched?.headers.authorization).toMatch(/^Bearer sk-fake-openai/);
      expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);

      // Counted: neither the next sweep nor a client's GET counts it again.
      t.fake.reset();
      expect(await sweep()).toMatchObject({ counted: 0 });
      expect(fetches(new RegExp(`/runs/${run.id}$`))).toEqual([]);
      await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
    });

    it('a background response nobody retrieves is counted by the sweep', async () => {
      const model = modelName();
      const queued = await t.openai(t.alice).responses.create({ model, input: 'never polled', background: true });
      expect((await sweep()).counted).toBeGreaterThanOrEqual(1);
      expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 20 }]);
      expect(await accountedAt(t, queued.id)).toEqual(expect.any(String));
    });

    it('a run its client polled is not fetched by the sweep; one too young is left to its client', async () => {
      const model = modelName();
      const { ai, thread, run } = await startRun(model);
      await ai.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      const young = await startRun(modelName());
      t.fake.reset();
      await t.gh.deps.llm.sweepDeferred(); // default minimum age: a minute
      expect(fetches(/\/runs\//)).toEqual([]);
      await sweep();
      expect(fetches(new RegExp(`/runs/${run.id}$`))).toEqual([]);
      expect(fetches(new RegExp(`/runs/${young.run.id}$`))).toHaveLength(1);
      expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 1, total_tokens: 30 }]);
    });

    it('runs still in progress at the head of the list do not keep newer ones from being fetched', async () => {
      const model = modelName();
      const runs = [await startRun(model), await startRun(model), await startRun(model)];
      // The provider fails for now: every fetch stays pending.
      t.fake.reset();
      t.fake.mode = { failStatus: 500 };
      const pages: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const before = t.fake.requests.length;
        expect(await t.gh.deps.llm.sweepDeferred({ minAgeMs: 0, batch: 2 })).toMatchObject({ pending: expect.any(Number), counted: 0 });
        pages.push(t.fake.requests.slice(before).map((r) => r.url.split('/').pop()!));
      }
      // The second pass went on after the first instead of fetching the same two again.
      expect(pages[0]).toEqual([runs[0]!.run.id, runs[1]!.run.id]);
      expect(pages[1]).toEqual([runs[2]!.run.id]);
      t.fake.reset();
      // Wrapped around: every run is counted once the provider answers.
      await t.gh.deps.llm.sweepDeferred({ minAgeMs: 0, batch: 2 });
      await t.gh.deps.llm.sweepDeferred({ minAgeMs: 0, batch: 2 });
      expect(await usageOf(t, model)).toEqual([{ user_id: t.alice.id, requests: 3, total_tokens: 90 }]);
    });

    it('a response the provider no longer has is closed without a charge and not fetched again', async () => {
      const model = modelName();
      const queued = await t.openai(t.alice).responses.create({ model, input: 'deleted upstream', background: true });
      t.fake.forget(queued.id);
      expect((await sweep()).closed).toBeGreaterThanOrEqual(1);
      expect(await accountedAt(t, queued.id)).toEqual(expect.any(String));
      expect(await usageOf(t, model)).toEqual([]);
      t.fake.reset();
      await sweep();
      expect(fetches(new RegExp(queued.id))).toEqual([]);
    });
  });
});
