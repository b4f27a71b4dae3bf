// Schema changes on both engines: plan, dry-run, apply, data kept across
// changes, data-losing changes only with the flag; the policy tester; the CLI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliOn } from '../harness/cli.js';
import { clockAt } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { generousLimitsEnv, TODO_SCHEMA } from './fixtures.js';

const clone = <T>(v: T): T => structuredClone(v);

describe.each(engines())('data schema (%s)', (engine) => {
  let gh: TestApp;
  // Real time plus what a test skips ahead: the schema cache ages on this clock.
  let shiftMs = 0;
  const clock = clockAt(() => Date.now() + shiftMs);
  const admin = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    gh.app.inject({ method, url: `/admin/v1${url}`, headers: { apikey: gh.secretKey }, ...(payload === undefined ? {} : { payload: payload as object }) });
  const rest = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    gh.app.inject({ method, url: `/rest/v1${url}`, headers: { apikey: gh.secretKey, prefer: 'return=representation' }, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    gh = await startTestApp(engine, { env: generousLimitsEnv(), clock });
  });
  afterAll(async () => gh?.close());

  it('a dry run prints the plan and creates nothing', async () => {
    const res = await admin('POST', '/schema/plan', { schema: TODO_SCHEMA });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ applied: false, destructive: false, problems: [] });
    expect(res.json().steps.map((s: { kind: string; table: string }) => `${s.kind}:${s.table}`)).toEqual(['create_table:lists', 'create_table:todos']);
    expect((await rest('GET', '/todos')).statusCode).toBe(404);
  });

  it('applies, keeps rows across additive changes, refuses data loss without the flag', async () => {
    expect((await admin('PUT', '/schema', { schema: TODO_SCHEMA })).json().applied).toBe(true);
    const inserted = await rest('POST', '/todos', { title: 'kept', note: 'n' });
    expect(inserted.statusCode).toBe(201);

    const added = clone(TODO_SCHEMA) as any;
    added.tables.todos.columns.tag = { type: 'text', required: true, default: 'none', unique: false };
    added.tables.todos.columns.code = { type: 'text', unique: true };
    const res = await admin('PUT', '/schema', { schema: added });
    expect(res.statusCode, res.body).toBe(200);
    const rows = (await rest('GET', '/todos?select=title,tag,code')).json();
    expect(rows).toEqual([{ title: 'kept', tag: 'none', code: null }]);

    // Unique holds in the database.
    expect((await rest('POST', '/todos', { title: 'a', code: 'X' })).statusCode).toBe(201);
    const dup = await rest('POST', '/todos', { title: 'b', code: 'X' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('23505');

    // Dropping a column loses data: refused without the flag, nothing changed.
    const dropped = clone(added);
    delete dropped.tables.todos.columns.note;
    const refused = await admin('PUT', '/schema', { schema: dropped });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toBe('schema_change_refused');
    expect((await rest('GET', '/todos?select=note&title=eq.kept')).json()).toEqual([{ note: 'n' }]);
    const allowed = await admin('PUT', '/schema', { schema: dropped, allow_data_loss: true });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await rest('GET', '/todos?select=note')).statusCode).toBe(400);
    expect((await rest('GET', '/todos?select=title&title=eq.kept')).json()).toEqual([{ title: 'kept' }]);

    // Changing a type drops the column's values: also behind the flag.
    const retyped = clone(dropped);
    retyped.tables.todos.columns.code = { type: 'integer' };
    expect((await admin('PUT', '/schema', { schema: retyped })).statusCode).toBe(409);
    expect((await admin('PUT', '/schema', { schema: retyped, allow_data_loss: true })).statusCode).toBe(200);
    expect((await rest('POST', '/todos', { title: 'c', code: 7 })).json()[0].code).toBe(7);

    // A new unique index over duplicate values is a 409, and the schema stays as it was.
    await rest('POST', '/todos', { title: 'c' });
    const uniqueTitles = clone(retyped);
    uniqueTitles.tables.todos.columns.title.unique = true;
    const conflict = await admin('PUT', '/schema', { schema: uniqueTitles });
    expect(conflict.statusCode).toBe(409);
    expect((await admin('GET', '/schema')).json().schema.tables.todos.columns.title.unique).toBeUndefined();
  });

  it('one table at a time: PUT creates, DELETE drops only with allow_data_loss', async () => {
    const created = await admin('PUT', '/tables/scratch', { columns: { body: { type: 'text' } } });
    expect(created.statusCode, created.body).toBe(200);
    expect((await rest('POST', '/scratch', { body: 'keep me' })).statusCode).toBe(201);
    const refused = await admin('DELETE', '/tables/scratch');
    expect(refused.statusCode).toBe(409);
    expect((await rest('GET', '/scratch?select=body')).json()).toEqual([{ body: 'keep me' }]);
    expect((await admin('DELETE', '/tables/scratch?allow_data_loss=true')).statusCode).toBe(200);
    expect((await rest('GET', '/scratch')).statusCode).toBe(404);
    expect((await admin('GET', '/tables')).json().tables.map((t: { name: string }) => t.name)).not.toContain('scratch');
  });

  it('refuses invalid schemas with every problem listed', async () => {
    const res = await admin('PUT', '/schema', {
      schema: {
        tables: {
          'Bad-Name': { columns: {} },
          t: {
            columns: {
              id: { type: 'text' }, x: { type: 'blob' }, y: { type: 'reference', table: 'nowhere' }, z: { type: 'integer', default: 'abc' },
              'w"; drop': { type: 'text' },
            },
            rules: { select: ['nosuch == 1'], upsert: ['admin'] },
          },
        },
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('schema_invalid');
    const paths = res.json().details.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['tables.Bad-Name', 'tables.t.columns.id', 'tables.t.columns.x.type', 'tables.t.columns.y.table', 'tables.t.columns.z.default']));
    const rules = await admin('PUT', '/tables/r', { columns: { a: { type: 'text' } }, rules: { select: ['a == 1 ||'], insert: ['nosuch == "x"'] } });
    expect(rules.statusCode).toBe(400);
    expect(rules.body).toContain('unknown column nosuch');
  });

  it('the policy tester says which rule decided', async () => {
    const test = (body: unknown) => admin('POST', '/policies/test', body);
    const own = await test({ table: 'todos', operation: 'update', caller: { group: 'user', user_id: 'usr_a' }, row: { created_by: 'usr_a', public: false } });
    expect(own.json()).toMatchObject({ decision: 'allow', checks: [{ operation: 'update', rule: 'self' }, { operation: 'select', rule: 'self' }] });
    const foreign = await test({ table: 'todos', operation: 'update', caller: { group: 'user', user_id: 'usr_b' }, row: { created_by: 'usr_a', public: true } });
    expect(foreign.json()).toMatchObject({ decision: 'deny', checks: [{ operation: 'update', decision: 'deny' }, { operation: 'select', rule: 'public == true' }] });
    const guest = await test({ table: 'todos', operation: 'select', caller: { group: 'guest' } });
    expect(guest.json()).toMatchObject({ decision: 'depends_on_row', checks: [{ rule: 'public == true' }] });
    expect(guest.json().columns.readable).not.toContain('note');
    const missing = await test({ table: 'nope', operation: 'select', caller: { group: 'guest' } });
    expect(missing.statusCode).toBe(404);
  });

  it('the CLI applies a schema file, with a dry run first, and tests policies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-schema-'));
    const file = join(dir, 'schema.json');
    writeFileSync(file, JSON.stringify({ tables: { notes: { columns: { body: { type: 'text' }, shared: { type: 'boolean', default: false } }, rules: { select: ['self', 'shared == true'], insert: ['user'] } } } }));
    const cli = (...args: string[]) => runCliOn(gh.config, args);
    const project = gh.project.id;
    const dry = await cli('schema', 'apply', file, '--project', project, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('create table notes');
    expect(dry.out).toContain('dry run');
    // Dry run: the other tables are still there, and notes is not.
    expect((await admin('GET', '/schema')).json().schema.tables.notes).toBeUndefined();
    const refused = await cli('schema', 'apply', file, '--project', project);
    expect(refused.code).toBe(1); // it would drop todos and lists
    const applied = await cli('--json', 'schema', 'apply', file, '--project', project, '--allow-data-loss');
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.out)).toMatchObject({ applied: true, destructive: true });
    shiftMs += 1000; // a second later the server's schema cache sees the CLI's change
    expect((await rest('GET', '/notes')).statusCode).toBe(200);
    const policy = await cli('--json', 'policy', 'test', 'notes', 'select', '--project', project, '--group', 'user', '--user', 'usr_x', '--row', '{"created_by":"usr_y","shared":true}');
    expect(policy.code).toBe(0);
    expect(JSON.parse(policy.out)).toMatchObject({ decision: 'allow', checks: [{ rule: 'shared == true', index: 1 }] });
  });
});
