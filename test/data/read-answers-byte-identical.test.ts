// A read's body is written without JSON.stringify of row objects (issue 18): on SQLite the engine
// writes each row's JSON (json_object) for text, uuid, reference, timestamp, integer and boolean
// columns; otherwise per-column encoders write it from the stored values. Either way the bytes
// must be exactly JSON.stringify of the decoded rows: every code point of text, big integers,
// booleans and nulls, timestamps, json, numbers, masked columns, aliases, .single(), nulls stripped.
// The expected bodies are built here from the values written, not from the server's answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser, type TestUser } from '../harness/users.js';
import { applySchema, generousLimitsEnv } from './fixtures.js';

type Row = Record<string, unknown>;

const SCHEMA = {
  tables: {
    owners: { columns: { label: { type: 'text' } }, rules: { select: ['user'], insert: ['user'], update: ['self'], delete: ['self'] } },
    vals: {
      columns: {
        seq: { type: 'integer', required: true },
        t: { type: 'text' },
        u: { type: 'uuid' },
        r: { type: 'reference', table: 'owners', on_delete: 'set null' },
        ts: { type: 'timestamp' },
        i: { type: 'integer' },
        b: { type: 'boolean' },
        n: { type: 'number' },
        j: { type: 'json' },
        /** Read by its author only: NULL on every other caller's rows (masked in SQL). */
        s: { type: 'text', read: ['self'], write: ['self'] },
      },
      rules: { select: ['user'], insert: ['user'], update: ['self'], delete: ['self'] },
    },
  },
};

// Every code point but the surrogates (and NUL, which text refuses), in chunks: the engine's JSON
// escaping (control characters, quotes, backslashes, U+2028, astral planes) against JSON.stringify's.
function allCodePointTexts(): string[] {
  const out: string[] = [];
  let chunk = '';
  const add = (cp: number) => {
    chunk += String.fromCodePoint(cp);
    if (chunk.length >= 4000) { out.push(chunk); chunk = ''; }
  };
  for (let cp = 1; cp < 0xd800; cp++) add(cp);
  for (let cp = 0xe000; cp <= 0xffff; cp++) add(cp);
  for (const cp of [0x10000, 0x1f600, 0x1f9d1, 0x10ffff]) add(cp);
  out.push(chunk);
  return out;
}

describe.each(engines())('read answers are JSON.stringify of the decoded rows (%s)', (engine) => {
  let gh: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let ownerId: string;
  /** The rows as a client must get them (as alice, who wrote them), by seq. */
  const expected: Row[] = [];

  const as = (who: TestUser) => ({ apikey: gh.publishableKey, authorization: `Bearer ${who.accessToken}` });
  async function body(who: TestUser, query: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await gh.app.inject({ url: `/rest/v1/vals?${query}`, headers: { ...as(who), ...headers } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return res.body;
  }
  // On a difference, the 80 characters from the first one on: the bodies are ~200 kB.
  function expectSameBytes(actual: string, expected: string): void {
    if (actual === expected) return;
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    expect({ at: i, length: actual.length, from: actual.slice(i, i + 80) }).toEqual({ at: i, length: expected.length, from: expected.slice(i, i + 80) });
  }
  const pick = (row: Row, names: string[]) => Object.fromEntries(names.map((n) => [n, row[n]]));

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv() });
    await applySchema(gh, gh.secretKey, SCHEMA);
    [alice, bob] = await Promise.all([createTestUser(gh), createTestUser(gh)]);
    const owner = await gh.app.inject({ method: 'POST', url: '/rest/v1/owners?select=id', headers: { ...as(alice), prefer: 'return=representation' }, payload: { label: 'o' } });
    ownerId = owner.json()[0].id;
    const texts = allCodePointTexts();
    const inputs: Row[] = [
      // The edges of each type, and nulls in every column.
      { t: '', u: 'ABCDEF01-2345-4789-ABCD-EF0123456789', r: ownerId, ts: '2026-12-03T13:01:23.833Z', i: 9007199254740991, b: true, n: 0.30000000000000004, j: { a: [1, 'é', null, { b: '\u2028"\\' }], n: 1e21 }, s: 'mine "quoted"' },
      { t: 'plain', u: null, r: null, ts: '2026-01-02 03:04:05+02:00', i: -9007199254740991, b: false, n: 1e21, j: 'a string', s: null },
      { t: null, u: null, r: null, ts: null, i: null, b: null, n: null, j: null, s: null },
      { t: '\u0000'.slice(1) + '\u007f\u0080\u00ff\ud83d\ude00', ts: '1999-12-31T23:59:59.999999Z', i: 0, b: true, n: -0.5, j: [], s: '\n\t' },
      ...texts.map((t, k) => ({ t, i: k * 1000, b: k % 2 === 0, n: 5e-324 * (k + 1), j: { k }, s: t.slice(0, 10) })),
    ];
    for (const [seq, input] of inputs.entries()) {
      const res = await gh.app.inject({ method: 'POST', url: '/rest/v1/vals?select=id', headers: { ...as(alice), prefer: 'return=representation' }, payload: { seq, ...input } });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
      const decoded: Row = {
        seq, t: input.t ?? null, u: typeof input.u === 'string' ? input.u.toLowerCase() : null, r: input.r ?? null,
        ts: typeof input.ts === 'string' ? new Date(input.ts).toISOString() : null, i: input.i ?? null, b: input.b ?? null,
        n: input.n ?? null, j: input.j ?? null, s: input.s ?? null,
      };
      expected.push({ id: res.json()[0].id, ...decoded });
    }
  });
  afterAll(() => gh?.close());

  const TYPED = ['seq', 't', 'u', 'r', 'ts', 'i', 'b', 's'];

  it('text, uuid, reference, timestamp, integer and boolean columns (on SQLite: written by the engine)', async () => {
    expectSameBytes(await body(alice, `select=${TYPED.join(',')}&order=seq.asc`), JSON.stringify(expected.map((r) => pick(r, TYPED))));
  });

  it('every column, numbers and json included', async () => {
    const all = ['id', 'seq', 't', 'u', 'r', 'ts', 'i', 'b', 'n', 'j', 's'];
    expectSameBytes(await body(alice, `select=${all.join(',')}&order=seq.asc`), JSON.stringify(expected.map((r) => pick(r, all))));
  });

  it('another user gets the self-only column as null, in the same bytes', async () => {
    expectSameBytes(await body(bob, `select=${TYPED.join(',')}&order=seq.asc`), JSON.stringify(expected.map((r) => ({ ...pick(r, TYPED), s: null }))));
  });

  it('aliases, a column twice, and the alias order of the select', async () => {
    const want = expected.map((r) => ({ flag: r.b, x: r.t, seq: r.seq }));
    expectSameBytes(await body(alice, 'select=flag:b,x:t,seq&order=seq.asc'), JSON.stringify(want));
    // One alias twice is one key (JSON.stringify of an object: the last value at the first place).
    expectSameBytes(await body(alice, 'select=x:t,seq,x:i&order=seq.asc&limit=3'), JSON.stringify(expected.slice(0, 3).map((r) => ({ x: r.i, seq: r.seq }))));
  });

  it('nulls stripped, and one row as an object (.single())', async () => {
    const stripped = expected.slice(0, 4).map((r) => Object.fromEntries(Object.entries(pick(r, TYPED)).filter(([, v]) => v !== null)));
    expectSameBytes(await body(alice, `select=${TYPED.join(',')}&order=seq.asc&limit=4`, { accept: 'application/vnd.pgrst.array+json;nulls=stripped' }), JSON.stringify(stripped));
    const one = expected[0]!;
    expectSameBytes(await body(alice, `select=${TYPED.join(',')}&seq=eq.0`, { accept: 'application/vnd.pgrst.object+json' }), JSON.stringify(pick(one, TYPED)));
    expectSameBytes(await body(bob, `select=${TYPED.join(',')}&seq=eq.0`, { accept: 'application/vnd.pgrst.object+json' }), JSON.stringify({ ...pick(one, TYPED), s: null }));
  });

  it('an empty page is []', async () => {
    expectSameBytes(await body(alice, 'select=t,b&seq=eq.-1'), '[]');
  });
});
