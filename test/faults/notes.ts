// A one-table schema and its writes, over HTTP to a Gatehouse child process (test/harness/gatehouse-process.ts).

export const NOTES_SCHEMA = {
  tables: {
    notes: {
      columns: { body: { type: 'text', required: true } },
      rules: { select: ['admin'], insert: ['admin'], update: ['admin'], delete: ['admin'] },
    },
  },
};

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export async function call(url: string, key: string, method: string, path: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { apikey: key, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

export async function applyNotesSchema(url: string, key: string): Promise<void> {
  const res = await call(url, key, 'PUT', '/admin/v1/schema', { schema: NOTES_SCHEMA });
  if (res.status !== 200) throw new Error(`schema: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A 201 carries the stored row (Prefer: return=representation). */
export function writeNote(url: string, key: string, body: string): Promise<Reply> {
  return call(url, key, 'POST', '/rest/v1/notes', { body }, { prefer: 'return=representation' });
}

export async function readNotes(url: string, key: string): Promise<Array<{ id: string; body: string }>> {
  const res = await call(url, key, 'GET', '/rest/v1/notes?select=id,body&limit=1000');
  if (res.status !== 200) throw new Error(`read: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs `count` tasks with at most `concurrency` at once; resolves to their results in order. */
export async function pooled<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }));
  return results;
}

/** Polls `probe` until it is true; resolves to the ms it took, or throws past boundMs. */
export async function within(boundMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < boundMs) {
    if (await probe().catch(() => false)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${boundMs} ms`);
}
