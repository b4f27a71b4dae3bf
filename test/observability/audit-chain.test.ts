// The audit log is a hash chain per project environment: an entry changed, removed, reordered or
// slipped in through the database (not through Gatehouse) is named by `gatehouse audit verify` and
// GET /admin/v1/audit/verify, the first one precisely. Each test tampers with the real database
// the way a writer with database access would, then asks both front ends.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntryHash } from '../../src/observability/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { runCliOn } from '../harness/cli.js';
import { engines } from '../harness/engines.js';

describe.each(engines())('audit chain (%s)', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine);
  });
  afterAll(async () => { await gh?.close(); });

  /** A fresh project (its own chains) with `n` entries in its dev chain, made over HTTP. */
  async function projectWithEntries(n: number) {
    const made = await gh.createProject(`p${Math.random().toString(36).slice(2, 10)}`);
    for (let i = 0; i < n; i++) {
      const res = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: made.secretKey }, payload: { kind: 'publishable', name: `k${i}` } });
      expect(res.statusCode).toBe(201);
    }
    const projectId = made.project.id;
    const verifyHttp = async () => {
      const res = await gh.app.inject({ url: '/admin/v1/audit/verify', headers: { apikey: made.secretKey } });
      expect(res.statusCode).toBe(200);
      return res.json() as { ok: boolean; chains: Array<{ environment: string | null; ok: boolean; entries: number; head: { seq: number; hash: string } | null; problem: { kind: string; seq: number | null; id: number | null; message: string } | null }> };
    };
    const verifyCli = () => runCliOn(gh.config, ['audit', 'verify', '-p', projectId]);
    const rows = () => gh.deps.storage.db.selectFrom('audit_log').selectAll().where('project_id', '=', projectId).where('environment', '=', 'dev').orderBy('seq').execute();
    return { ...made, projectId, verifyHttp, verifyCli, rows };
  }

  const db = () => gh.deps.storage.db;

  it('an untouched chain verifies through both front ends, seqs 1..n with each prev_hash the hash before', async () => {
    const p = await projectWithEntries(4);
    const rows = await p.rows();
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    const verdict = await p.verifyHttp();
    expect(verdict.ok).toBe(true);
    expect(verdict.chains).toEqual([
      { environment: 'dev', ok: true, entries: 4, head: { seq: 4, hash: rows[3]!.hash }, problem: null },
      { environment: null, ok: true, entries: 1, head: expect.objectContaining({ seq: 1 }), problem: null },
    ]);
    const cli = await p.verifyCli();
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toContain(`dev: ok, 4 entries, head seq 4 ${rows[3]!.hash}`);
    expect(cli.out).toContain('project: ok, 1 entries');
  });

  it('an entry edited in the database is named: changed at its seq', async () => {
    const p = await projectWithEntries(5);
    const third = (await p.rows())[2]!;
    await db().updateTable('audit_log').set({ details: '{"kind":"secret","scopes":null}' }).where('id', '=', third.id).execute();
    const verdict = await p.verifyHttp();
    expect(verdict.ok).toBe(false);
    expect(verdict.chains[0]!.problem).toMatchObject({ kind: 'changed', seq: 3, id: Number(third.id) });
    expect(verdict.chains[0]!.entries).toBe(2);
    expect(verdict.chains[1]!.ok).toBe(true);
    const cli = await p.verifyCli();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`dev: BROKEN at seq 3 (changed): entry seq 3 (id ${third.id}) was changed`);
    expect(cli.err).toBe('error: the audit log does not verify\n');
  });

  it('an edit of any hashed field shows, the actor and the time included', async () => {
    const p = await projectWithEntries(3);
    const [first, second] = await p.rows();
    await db().updateTable('audit_log').set({ actor: 'cli' }).where('id', '=', second!.id).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'changed', seq: 2 });
    await db().updateTable('audit_log').set({ actor: second!.actor }).where('id', '=', second!.id).execute();
    expect((await p.verifyHttp()).ok).toBe(true);
    await db().updateTable('audit_log').set({ created_at: '2020-01-01T00:00:00.000Z' }).where('id', '=', first!.id).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'changed', seq: 1 });
  });

  it('a deleted entry is named: removed at its seq', async () => {
    const p = await projectWithEntries(5);
    const third = (await p.rows())[2]!;
    await db().deleteFrom('audit_log').where('id', '=', third.id).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'removed', seq: 3, message: 'entry seq 3 is missing' });
    const cli = await p.verifyCli();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('dev: BROKEN at seq 3 (removed): entry seq 3 is missing');
  });

  it('a deleted entry with the later seqs renumbered to close the gap is still named at its seq', async () => {
    const p = await projectWithEntries(5);
    const rows = await p.rows();
    await db().deleteFrom('audit_log').where('id', '=', rows[2]!.id).execute();
    for (const row of rows.slice(3)) await db().updateTable('audit_log').set({ seq: Number(row.seq) - 1 }).where('id', '=', row.id).execute();
    await db().updateTable('audit_chain_heads').set({ seq: 4 }).where('project_id', '=', p.projectId).where('environment', '=', 'dev').execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'reordered', seq: 3, id: Number(rows[3]!.id) });
  });

  it('two entries swapped (their seqs exchanged) are named: reordered at the first', async () => {
    const p = await projectWithEntries(5);
    const rows = await p.rows();
    const [a, b] = [rows[2]!, rows[3]!];
    // Through a free seq: the unique (project, environment, seq) index refuses a twin even for a moment.
    await db().updateTable('audit_log').set({ seq: -1 }).where('id', '=', a.id).execute();
    await db().updateTable('audit_log').set({ seq: 3 }).where('id', '=', b.id).execute();
    await db().updateTable('audit_log').set({ seq: 4 }).where('id', '=', a.id).execute();
    const problem = (await p.verifyHttp()).chains[0]!.problem;
    expect(problem).toMatchObject({ kind: 'reordered', seq: 3, id: Number(b.id) });
    expect(problem!.message).toBe(`entry seq 3 (id ${b.id}) does not follow entry seq 2: it was written after entry seq 4`);
    const cli = await p.verifyCli();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('dev: BROKEN at seq 3 (reordered)');
  });

  it('the newest entries cut off the end are named: removed, from the seq after the last left', async () => {
    const p = await projectWithEntries(5);
    const rows = await p.rows();
    await db().deleteFrom('audit_log').where('id', 'in', [rows[3]!.id, rows[4]!.id]).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'removed', seq: 4 });
    expect((await p.verifyCli()).out).toContain('dev: BROKEN at seq 4 (removed): entries seq 4 to 5 are missing: the head records seq 5');
  });

  it('a chain whose head row was deleted is named: head_mismatch', async () => {
    const p = await projectWithEntries(2);
    await db().deleteFrom('audit_chain_heads').where('project_id', '=', p.projectId).where('environment', '=', 'dev').execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'head_mismatch', seq: 2, message: 'the chain has 2 entries but no head: the head row was deleted' });
  });

  it('a tail rewritten with recomputed hashes and head verifies, but no longer matches a head kept elsewhere', async () => {
    const p = await projectWithEntries(3);
    const kept = (await runCliOn(gh.config, ['--json', 'audit', 'head', '-p', p.projectId])).out;
    // Rewrite entry 2 and everything after it the way a writer who knows the scheme would.
    const rows = await p.rows();
    let prev = rows[0]!.hash!;
    for (const row of rows.slice(1)) {
      const fields = { ...row, seq: Number(row.seq), prev_hash: prev, target: row.seq === rows[1]!.seq ? 'key_innocent' : row.target };
      const hash = auditEntryHash(fields);
      await db().updateTable('audit_log').set({ target: fields.target, prev_hash: prev, hash }).where('id', '=', row.id).execute();
      prev = hash;
    }
    await db().updateTable('audit_chain_heads').set({ hash: prev }).where('project_id', '=', p.projectId).where('environment', '=', 'dev').execute();
    expect((await p.verifyHttp()).ok).toBe(true);
    const now = (await runCliOn(gh.config, ['--json', 'audit', 'head', '-p', p.projectId])).out;
    expect(JSON.parse(now).chains[0]).toMatchObject({ seq: 3 });
    expect(JSON.parse(now).chains[0].hash).not.toBe(JSON.parse(kept).chains[0].hash);
  });

  it('an entry slipped in without Gatehouse is named: inserted, whether without a seq or as a twin', async () => {
    const p = await projectWithEntries(2);
    const forged = { project_id: p.projectId, environment: 'dev', actor: 'cli', action: 'api_key.revoke', target: 'key_x', details: '{}', created_at: new Date().toISOString() };
    await db().insertInto('audit_log').values(forged).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'inserted', seq: null });
    await db().deleteFrom('audit_log').where('target', '=', 'key_x').execute();
    // Past the head, hashed correctly by someone who knows the scheme but not the head table.
    const last = (await p.rows())[1]!;
    const third = { ...forged, seq: 3, prev_hash: last.hash! };
    await db().insertInto('audit_log').values({ ...third, hash: auditEntryHash(third) }).execute();
    expect((await p.verifyHttp()).chains[0]!.problem).toMatchObject({ kind: 'inserted', seq: 3 });
  });

  it('export streams every entry as JSON lines, and each hash recomputes from its line alone', async () => {
    const p = await projectWithEntries(3);
    const res = await gh.app.inject({ url: '/admin/v1/audit/export', headers: { apikey: p.secretKey } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.environment, l.seq, l.action])).toEqual([
      ['dev', 1, 'api_key.create'], ['dev', 2, 'api_key.create'], ['dev', 3, 'api_key.create'], [null, 1, 'project.create'],
    ]);
    // An independent recomputation: JCS-style canonical JSON (sorted keys, no whitespace) of the fields.
    const canonical = (v: unknown): string => v === null || typeof v !== 'object' ? JSON.stringify(v)
      : Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
        : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
    for (const l of lines) {
      const { id: _id, hash, ...fields } = l;
      expect(createHash('sha256').update(canonical({ v: 1, ...fields })).digest('hex')).toBe(hash);
    }
    const cli = await runCliOn(gh.config, ['audit', 'export', '-p', p.projectId]);
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toBe(res.body);
    const head = await runCliOn(gh.config, ['--json', 'audit', 'head', '-p', p.projectId]);
    expect(JSON.parse(head.out)).toEqual({ chains: [{ environment: 'dev', seq: 3, hash: lines[2]!.hash }, { environment: null, seq: 1, hash: lines[3]!.hash }] });
  });

  it('verify, head and export need the admin:logs scope; another project sees only its own chains', async () => {
    const p = await projectWithEntries(1);
    const scoped = await gh.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: p.secretKey }, payload: { kind: 'secret', scopes: ['admin:keys'] } });
    const key = (scoped.json() as { key: string }).key;
    for (const url of ['/admin/v1/audit/verify', '/admin/v1/audit/head', '/admin/v1/audit/export']) {
      const res = await gh.app.inject({ url, headers: { apikey: key } });
      expect(res.statusCode, url).toBe(403);
      expect(res.json()).toMatchObject({ error: 'insufficient_scope' });
      const pub = await gh.app.inject({ url, headers: { apikey: p.publishableKey } });
      expect(pub.statusCode, url).toBe(403);
    }
    const other = await gh.app.inject({ url: '/admin/v1/audit/export', headers: { apikey: gh.secretKey } });
    expect(other.body).not.toContain(p.projectId);
  });

  it('two instances on one database appending at once leave one gapless chain that verifies', async () => {
    const second = await startTestApp(engine, { database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir } });
    try {
      const p = await projectWithEntries(0);
      const create = (app: TestApp['app'], i: number) => app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { apikey: p.secretKey }, payload: { kind: 'publishable', name: `c${i}` } });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i % 2 ? second.app : gh.app, i)));
      expect(results.map((r) => r.statusCode)).toEqual(Array(40).fill(201));
      expect((await p.rows()).map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const verdict = await p.verifyHttp();
      expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
      expect(verdict.chains[0]!.entries).toBe(40);
    } finally {
      await second.close();
    }
  });
});
