// Gemini wire format: generateContent, streamGenerateContent?alt=sse (usage
// metadata on every chunk), countTokens, models, files.
import { geminiFiles, handleGeminiUpload } from './gemini-upload.js';
import { FAKE_KEYS, sendEvents, sendJson, type Ctx } from './server.js';

export async function handleGemini(ctx: Ctx): Promise<void> {
  if (ctx.req.headers['x-goog-api-key'] !== FAKE_KEYS.gemini) {
    return sendJson(ctx.res, 400, { error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' } });
  }
  if (ctx.mode.failStatus) return sendJson(ctx.res, ctx.mode.failStatus, { error: { code: ctx.mode.failStatus, message: 'Internal error', status: 'INTERNAL' } });
  const { method: m, path: p } = ctx;
  let r: RegExpExecArray | null;
  const answer = (text: string, tokens: number) => ({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 8, candidatesTokenCount: tokens, totalTokenCount: 8 + tokens },
    modelVersion: 'gemini-fake',
  });
  if (m === 'POST' && (r = /^\/v1(beta)?\/models\/([^/:]+):generateContent$/.exec(p))) return sendJson(ctx.res, 200, answer('Hello.', 4));
  if (m === 'POST' && (r = /^\/v1(beta)?\/models\/([^/:]+):streamGenerateContent$/.exec(p))) {
    return sendEvents(ctx, [{ data: JSON.stringify(answer('Hel', 2)) }, { data: JSON.stringify(answer('lo.', 4)) }]);
  }
  if (m === 'POST' && /:countTokens$/.test(p)) return sendJson(ctx.res, 200, { totalTokens: 8 });
  if (m === 'GET' && /^\/v1(beta)?\/models$/.test(p)) return sendJson(ctx.res, 200, { models: [{ name: 'models/gemini-fake' }] });
  if (m === 'POST' && /^\/upload\/v1(beta)?\/files$/.test(p)) return handleGeminiUpload(ctx, FAKE_KEYS.gemini);
  const files = geminiFiles(FAKE_KEYS.gemini);
  if (m === 'GET' && /^\/v1(beta)?\/files$/.test(p)) {
    // Newest first, pageSize at a time; the page token encodes the last name, as opaque tokens may.
    let all = [...files.values()].reverse();
    const token = ctx.query.get('pageToken');
    if (token) all = all.slice(all.findIndex((f) => f.name === Buffer.from(token, 'base64url').toString()) + 1);
    const size = Number(ctx.query.get('pageSize') ?? 10);
    const page = all.slice(0, size);
    const next = all.length > size ? { nextPageToken: Buffer.from(page.at(-1)!.name).toString('base64url') } : {};
    return sendJson(ctx.res, 200, page.length === 0 ? {} : { files: page, ...next });
  }
  if ((r = /^\/v1(beta)?\/files\/([^/]+)$/.exec(p))) {
    const item = files.get(`files/${r[2]}`);
    if (!item) return sendJson(ctx.res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
    if (m === 'DELETE') {
      files.delete(item.name);
      return sendJson(ctx.res, 200, {});
    }
    return sendJson(ctx.res, 200, item);
  }
  sendJson(ctx.res, 404, { error: { code: 404, message: `fake: no route ${m} ${p}`, status: 'NOT_FOUND' } });
}
