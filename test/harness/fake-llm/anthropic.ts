// Anthropic wire format: messages (JSON + SSE with usage in message_start
// and message_delta), count_tokens, models, files (multipart).
import { fakeId, FAKE_KEYS, readMultipart, sendEvents, sendJson, type Ctx } from './server.js';

const files = new Map<string, any>();

export async function handleAnthropic(ctx: Ctx): Promise<void> {
  if (ctx.req.headers['x-api-key'] !== FAKE_KEYS.anthropic) {
    return sendJson(ctx.res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  }
  if (ctx.mode.failStatus) return sendJson(ctx.res, ctx.mode.failStatus, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } });
  const { method: m, path: p } = ctx;
  let r: RegExpExecArray | null;
  if (m === 'POST' && p === '/v1/messages') {
    const model = ctx.json?.model ?? 'claude-fake';
    const id = fakeId('msg_');
    const message = { id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'Hello from the fake.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 6 } };
    if (!ctx.json?.stream) return sendJson(ctx.res, 200, message);
    const n = ctx.mode.streamChunks ?? 2;
    const deltas = Array.from({ length: n }, (_, i) => ({ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `word${i} ` } }) }));
    return sendEvents(ctx, [
      { event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }) },
      { event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
      ...deltas,
      { event: 'content_block_stop', data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
      { event: 'message_delta', data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } }) },
      { event: 'message_stop', data: JSON.stringify({ type: 'message_stop' }) },
    ]);
  }
  if (m === 'POST' && p === '/v1/messages/count_tokens') return sendJson(ctx.res, 200, { input_tokens: 12 });
  if (m === 'GET' && p === '/v1/models') return sendJson(ctx.res, 200, { data: [{ id: 'claude-fake', type: 'model', display_name: 'Fake', created_at: '2025-01-01T00:00:00Z' }], has_more: false, first_id: 'claude-fake', last_id: 'claude-fake' });
  if (m === 'POST' && p === '/v1/files') {
    const file = readMultipart(ctx).get('file');
    if (!file) return sendJson(ctx.res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'file missing' } });
    const item = { id: fakeId('file_'), type: 'file', filename: file.filename, mime_type: file.contentType ?? 'application/octet-stream', size_bytes: file.data.length, created_at: new Date().toISOString(), downloadable: false };
    files.set(item.id, item);
    return sendJson(ctx.res, 200, item);
  }
  if (m === 'GET' && p === '/v1/files') {
    const data = [...files.values()].reverse();
    return sendJson(ctx.res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  }
  if ((r = /^\/v1\/files\/([^/]+)$/.exec(p))) {
    const item = files.get(r[1]!);
    if (!item) return sendJson(ctx.res, 404, { type: 'error', error: { type: 'not_found_error', message: 'File not found' } });
    if (m === 'DELETE') {
      files.delete(item.id);
      return sendJson(ctx.res, 200, { id: item.id, type: 'file_deleted' });
    }
    return sendJson(ctx.res, 200, item);
  }
  sendJson(ctx.res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${m} ${p}` } });
}
