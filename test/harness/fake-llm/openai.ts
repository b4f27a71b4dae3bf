// OpenAI wire format: chat (JSON + SSE with include_usage), responses,
// embeddings, models, files (multipart), assistants, threads, messages, runs,
// vector stores, batches, and one admin endpoint that must never be reached.
// Runs and background responses answer queued without usage and complete, with
// usage, on the next GET (or a run list with ?settle=true; cancel: cancelled).
import { fakeId, FAKE_KEYS, readMultipart, sendEvents, sendJson, type Ctx } from './server.js';

const now = () => Math.floor(Date.now() / 1000);
const store = new Map<string, any>();
const fileBytes = new Map<string, Buffer>();
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
/** What a run costs once it has run (runs and background responses report usage only when settled). */
const runUsage = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 };
const backgroundUsage = { input_tokens: 12, output_tokens: 8, total_tokens: 20 };

function notFound(ctx: Ctx, id: string) {
  sendJson(ctx.res, 404, { error: { message: `No such object: ${id}`, type: 'invalid_request_error', param: 'id', code: null } });
}

function list(ctx: Ctx, items: any[]) {
  const limit = Number(ctx.query.get('limit') ?? 20);
  // Cursors as OpenAI reads them: items after (or before) the named one, which must exist.
  const cursor = ctx.query.get('after') ?? ctx.query.get('before');
  const at = cursor === null ? -1 : items.findIndex((i) => i.id === cursor);
  if (cursor !== null && at === -1) return notFound(ctx, cursor);
  if (cursor !== null) items = ctx.query.has('after') ? items.slice(at + 1) : items.slice(Math.max(0, at - limit), at);
  const page = items.slice(0, limit);
  sendJson(ctx.res, 200, { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: items.length > limit });
}

function create(ctx: Ctx, prefix: string, object: string, fields: Record<string, unknown>) {
  const item = { id: fakeId(prefix), object, created_at: now(), ...fields };
  store.set(item.id, item);
  sendJson(ctx.res, 200, item);
  return item;
}

function crud(ctx: Ctx, id: string, object: string): void {
  const item = store.get(id);
  if (!item || item.object !== object) return notFound(ctx, id);
  if (ctx.method === 'GET') return sendJson(ctx.res, 200, item);
  if (ctx.method === 'POST') {
    Object.assign(item, ctx.json ?? {});
    return sendJson(ctx.res, 200, item);
  }
  if (ctx.method === 'DELETE') {
    store.delete(id);
    return sendJson(ctx.res, 200, { id, object: `${object}.deleted`, deleted: true });
  }
  sendJson(ctx.res, 405, { error: { message: 'method' } });
}

async function chat(ctx: Ctx) {
  const model = ctx.json?.model ?? 'gpt-fake';
  const id = fakeId('chatcmpl-');
  if (!ctx.json?.stream) {
    return sendJson(ctx.res, 200, {
      id, object: 'chat.completion', created: now(), model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake.' }, finish_reason: 'stop', logprobs: null }],
      usage,
    });
  }
  const chunk = (delta: object, finish: string | null = null) =>
    JSON.stringify({ id, object: 'chat.completion.chunk', created: now(), model, choices: [{ index: 0, delta, finish_reason: finish }], ...(ctx.json.stream_options?.include_usage ? { usage: null } : {}) });
  const n = ctx.mode.streamChunks ?? 3;
  const events = [{ data: chunk({ role: 'assistant', content: '' }) }];
  for (let i = 0; i < n; i++) events.push({ data: chunk({ content: `word${i} ` }) });
  events.push({ data: chunk({}, 'stop') });
  if (ctx.json.stream_options?.include_usage) events.push({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created: now(), model, choices: [], usage }) });
  events.push({ data: '[DONE]' });
  await sendEvents(ctx, events);
}

async function responses(ctx: Ctx) {
  const prev = ctx.json?.previous_response_id;
  if (prev && !store.has(prev)) return notFound(ctx, prev);
  const item = { id: fakeId('resp_'), object: 'response', created_at: now(), model: ctx.json?.model ?? 'gpt-fake', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] }], usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 } as object | null };
  store.set(item.id, item);
  // Background mode (not streamed): queued without usage, completed on the next GET.
  if (ctx.json?.background && !ctx.json?.stream) {
    Object.assign(item, { status: 'queued', output: [], usage: null, background: true });
    return sendJson(ctx.res, 200, item);
  }
  if (!ctx.json?.stream) return sendJson(ctx.res, 200, item);
  await sendEvents(ctx, [
    { event: 'response.created', data: JSON.stringify({ type: 'response.created', response: { ...item, status: 'in_progress', usage: null } }) },
    { event: 'response.output_text.delta', data: JSON.stringify({ type: 'response.output_text.delta', delta: 'Hi.' }) },
    { event: 'response.completed', data: JSON.stringify({ type: 'response.completed', response: item }) },
  ]);
}

/** A new run is queued, without usage, as OpenAI answers it; it completes on the next GET (settle). */
function run(ctx: Ctx, threadId: string) {
  const item = { id: fakeId('run_'), object: 'thread.run', created_at: now(), thread_id: threadId, assistant_id: ctx.json?.assistant_id, model: ctx.json?.model ?? 'gpt-run-fake', status: 'queued', usage: null as object | null };
  store.set(item.id, item);
  return item;
}

function settle(item: any, status = 'completed'): void {
  if (!['queued', 'in_progress'].includes(item.status)) return;
  item.status = status;
  item.usage = item.object === 'response' ? backgroundUsage : runUsage;
  if (item.object === 'response' && status === 'completed') item.output = [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Later.' }] }];
}

/** Answers a new run as JSON, or (stream: true) as the events of its whole life, usage in the last. */
async function answerRun(ctx: Ctx, item: any, thread?: object) {
  if (!ctx.json?.stream) return sendJson(ctx.res, 200, item);
  const events: Array<{ event?: string; data: string }> = [];
  if (thread) events.push({ event: 'thread.created', data: JSON.stringify(thread) });
  events.push({ event: 'thread.run.created', data: JSON.stringify(item) });
  events.push({ event: 'thread.run.in_progress', data: JSON.stringify({ ...item, status: 'in_progress' }) });
  settle(item);
  events.push({ event: 'thread.run.completed', data: JSON.stringify(item) });
  events.push({ event: 'done', data: '[DONE]' });
  await sendEvents(ctx, events);
}

/** Deletes an object as if the provider had expired it (the next GET is 404). */
export function forgetOpenAiObject(id: string): void {
  store.delete(id);
}

/** GET settles a queued run or background response; cancel settles it as cancelled (usage so far). */
function deferred(ctx: Ctx, id: string, object: string, cancel: boolean): void {
  const item = store.get(id);
  if (!item || item.object !== object) return notFound(ctx, id);
  if (cancel && ctx.method === 'POST') settle(item, 'cancelled');
  else if (ctx.method === 'GET') settle(item);
  return crud(ctx, id, object);
}

export async function handleOpenAi(ctx: Ctx): Promise<void> {
  if (ctx.req.headers.authorization !== `Bearer ${FAKE_KEYS.openai}`) {
    return sendJson(ctx.res, 401, { error: { message: 'Incorrect API key provided: sk-fak***6789.', type: 'invalid_request_error', code: 'invalid_api_key' } });
  }
  if (ctx.mode.failStatus) return sendJson(ctx.res, ctx.mode.failStatus, { error: { message: 'The server had an error', type: 'server_error' } });
  if (ctx.mode.orgRateLimit) {
    return sendJson(ctx.res, 429, {
      error: {
        message: 'Rate limit reached for gpt-4 in organization org-AbC123xyz on tokens per min (TPM): Limit 10000, Used 9990, Requested 50 (project proj_Q7rT9kLm). Please try again in 2s.',
        type: 'tokens', param: null, code: 'rate_limit_exceeded',
      },
    });
  }
  const { method: m, path: p } = ctx;
  let r: RegExpExecArray | null;
  if (m === 'POST' && p === '/v1/chat/completions') return chat(ctx);
  if (m === 'POST' && p === '/v1/responses') return responses(ctx);
  if ((r = /^\/v1\/responses\/([^/]+)(\/cancel)?$/.exec(p))) return deferred(ctx, r[1]!, 'response', r[2] !== undefined);
  if (m === 'POST' && p === '/v1/embeddings') return sendJson(ctx.res, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'emb-fake', usage: { prompt_tokens: 4, total_tokens: 4 } });
  if (m === 'GET' && p === '/v1/models') return sendJson(ctx.res, 200, { object: 'list', data: [{ id: 'gpt-fake', object: 'model', created: 0, owned_by: 'fake' }] });
  if (p.startsWith('/v1/organization')) return sendJson(ctx.res, 200, { object: 'list', data: [{ id: 'user-admin', email: 'owner@example.com' }] });
  // Image edits take a multipart form (image files) or JSON (images: [{ file_id } | { image_url }]).
  if (m === 'POST' && p === '/v1/images/edits') return sendJson(ctx.res, 200, { created: now(), data: [{ b64_json: Buffer.from('png').toString('base64') }] });
  if (m === 'POST' && p === '/v1/audio/transcriptions') return sendJson(ctx.res, 200, { text: `heard ${readMultipart(ctx).get('file')?.data.length ?? 0} bytes` });

  if (m === 'POST' && p === '/v1/files') {
    const parts = readMultipart(ctx);
    const file = parts.get('file');
    if (!file) return sendJson(ctx.res, 400, { error: { message: 'file missing' } });
    const item = create(ctx, 'file-', 'file', { bytes: file.data.length, filename: file.filename, purpose: parts.get('purpose')?.data.toString() ?? 'assistants', status: 'processed' });
    fileBytes.set(item.id, file.data);
    return;
  }
  if (m === 'GET' && p === '/v1/files') return list(ctx, [...store.values()].filter((i) => i.object === 'file').reverse());
  if ((r = /^\/v1\/files\/([^/]+)\/content$/.exec(p))) {
    const bytes = fileBytes.get(r[1]!);
    if (!bytes) return notFound(ctx, r[1]!);
    ctx.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    return void ctx.res.end(bytes);
  }
  if ((r = /^\/v1\/files\/([^/]+)$/.exec(p))) return crud(ctx, r[1]!, 'file');

  if (m === 'POST' && p === '/v1/assistants') return void create(ctx, 'asst_', 'assistant', { model: ctx.json?.model, tool_resources: ctx.json?.tool_resources ?? {} });
  if (m === 'GET' && p === '/v1/assistants') return list(ctx, [...store.values()].filter((i) => i.object === 'assistant').reverse());
  if ((r = /^\/v1\/assistants\/([^/]+)$/.exec(p))) return crud(ctx, r[1]!, 'assistant');

  if (m === 'POST' && p === '/v1/threads') return void create(ctx, 'thread_', 'thread', { metadata: ctx.json?.metadata ?? {} });
  if (m === 'POST' && p === '/v1/threads/runs') {
    const thread = { id: fakeId('thread_'), object: 'thread', created_at: now() };
    store.set(thread.id, thread);
    return answerRun(ctx, run(ctx, thread.id), thread);
  }
  if ((r = /^\/v1\/threads\/([^/]+)\/messages$/.exec(p))) {
    if (!store.has(r[1]!)) return notFound(ctx, r[1]!);
    if (m === 'POST') return void create(ctx, 'msg_', 'thread.message', { thread_id: r[1], role: ctx.json?.role, content: [{ type: 'text', text: { value: ctx.json?.content, annotations: [] } }] });
    return list(ctx, [...store.values()].filter((i) => i.object === 'thread.message' && i.thread_id === r![1]));
  }
  if ((r = /^\/v1\/threads\/([^/]+)\/messages\/([^/]+)$/.exec(p))) return crud(ctx, r[2]!, 'thread.message');
  if ((r = /^\/v1\/threads\/([^/]+)\/runs$/.exec(p))) {
    if (!store.has(r[1]!)) return notFound(ctx, r[1]!);
    if (m === 'POST') return answerRun(ctx, run(ctx, r[1]!));
    const runs = [...store.values()].filter((i) => i.object === 'thread.run' && i.thread_id === r![1]);
    if (ctx.query.get('settle') === 'true') runs.forEach((i) => settle(i)); // a list page that is the first to show them settled
    return list(ctx, runs);
  }
  if ((r = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)(\/cancel)?$/.exec(p))) return deferred(ctx, r[2]!, 'thread.run', r[3] !== undefined);
  if ((r = /^\/v1\/threads\/([^/]+)$/.exec(p))) return crud(ctx, r[1]!, 'thread');

  if (m === 'POST' && p === '/v1/vector_stores') return void create(ctx, 'vs_', 'vector_store', { name: ctx.json?.name, file_counts: { total: (ctx.json?.file_ids ?? []).length } });
  if (m === 'GET' && p === '/v1/vector_stores') return list(ctx, [...store.values()].filter((i) => i.object === 'vector_store').reverse());
  if ((r = /^\/v1\/vector_stores\/([^/]+)\/files$/.exec(p))) {
    if (m === 'POST') return sendJson(ctx.res, 200, { id: ctx.json?.file_id, object: 'vector_store.file', vector_store_id: r[1], status: 'completed' });
    return list(ctx, []);
  }
  if ((r = /^\/v1\/vector_stores\/([^/]+)$/.exec(p))) return crud(ctx, r[1]!, 'vector_store');

  if (m === 'POST' && p === '/v1/batches') return void create(ctx, 'batch_', 'batch', { input_file_id: ctx.json?.input_file_id, status: 'completed', output_file_id: fakeId('file-out') });
  if ((r = /^\/v1\/batches\/([^/]+)$/.exec(p))) return crud(ctx, r[1]!, 'batch');
  sendJson(ctx.res, 404, { error: { message: `fake: no route ${m} ${p}`, type: 'invalid_request_error' } });
}
