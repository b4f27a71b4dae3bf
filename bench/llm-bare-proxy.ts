// The floor both LLM benches measure Gatehouse against (bench/llm.ts, bench/llm-streams.ts): a
// minimal undici proxy that sets the provider key and pipes bytes both ways, with no checks. One
// definition, so the two benches' "bare" baselines cannot drift apart. Not a section of its own.
import { createServer } from 'node:http';
import { Pool } from 'undici';

export interface BareProxyOptions {
  /** The upstream origin, `http://127.0.0.1:port`. */
  upstream: string;
  /** The provider key sent upstream as a Bearer token. */
  key: string;
  /** undici pool size: one request per connection (pipelining 1), as Gatehouse's pool. */
  connections: number;
  /** Milliseconds of silence allowed between two body chunks (undici's default otherwise). */
  bodyTimeoutMs?: number;
}

/** Listens on 127.0.0.1 and resolves with its URL. */
export async function startBareProxy(options: BareProxyOptions): Promise<string> {
  const pool = new Pool(options.upstream, {
    connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000,
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeout: options.bodyTimeoutMs }),
  });
  const server = createServer(async (req, res) => {
    try {
      const up = await pool.request({
        path: req.url ?? '/', method: req.method as 'POST',
        headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json'), authorization: `Bearer ${options.key}` },
        body: req,
      });
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? '') });
      up.body.pipe(res);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
