// A misbehaving upstream that sends the request's credentials back: in an
// error body (JSON or text), a success body, an SSE stream (with the key split
// across two writes, so it crosses a chunk boundary), a binary download, or
// response headers. Tests assert the provider key never reaches the client.
import type { Ctx } from './server.js';

export type EchoMode = 'error-json' | 'error-text' | 'json' | 'sse' | 'download' | 'headers';

/** The credential header the proxy set (whichever the provider kind uses). */
function credential(ctx: Ctx): string {
  const h = ctx.req.headers;
  return String(h.authorization ?? h['x-api-key'] ?? h['x-goog-api-key'] ?? '');
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 15));

export async function echoCredentials(ctx: Ctx, mode: EchoMode): Promise<void> {
  const { res } = ctx;
  const secret = credential(ctx);
  const seen = { authorization: secret, headers: ctx.req.headers };
  switch (mode) {
    case 'error-json': {
      const text = JSON.stringify({ error: { message: `Invalid request; you sent Authorization: ${secret}`, type: 'invalid_request_error', code: null, echo: seen } });
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(text);
    }
    case 'error-text':
      res.writeHead(403, { 'content-type': 'text/html' });
      return void res.end(`<html><body>Forbidden. Headers: ${JSON.stringify(ctx.req.headers)}</body></html>`);
    case 'json': {
      const text = JSON.stringify({ id: 'chatcmpl-echo', object: 'chat.completion', model: 'gpt-fake', choices: [{ index: 0, message: { role: 'assistant', content: secret }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, echo: seen });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(text);
    }
    case 'sse':
    case 'download': {
      // The secret crosses a write boundary: its first half ends one chunk, the rest starts the next.
      const half = Math.floor(secret.length / 2);
      res.writeHead(200, { 'content-type': mode === 'sse' ? 'text/event-stream' : 'application/octet-stream' });
      res.write(`data: {"id":"chatcmpl-echo","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${secret.slice(0, half)}`);
      await pause();
      res.write(`${secret.slice(half)}"}}]}\n\n`);
      await pause();
      res.write(`data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${secret}"}}]}\n\n`);
      await pause();
      // A stream that ends inside the secret still shows its beginning.
      return void res.end(`data: [DONE]\n\n${secret.slice(0, secret.length - 2)}`);
    }
    case 'headers': {
      const text = JSON.stringify({ object: 'list', data: [] });
      res.writeHead(200, {
        'content-type': 'application/json', 'content-disposition': `attachment; filename="${secret}"`, 'cache-control': `private, ${secret}`,
        'retry-after': secret, 'x-goog-upload-status': secret, 'x-echo': secret,
      });
      return void res.end(text);
    }
  }
}
