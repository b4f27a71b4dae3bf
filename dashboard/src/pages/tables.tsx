// Tables: the schema as a form and as JSON, the plan (what would change) before anything is
// applied, data loss refused unless confirmed; the rows as a given caller would see them; and the
// policy tester, which names the rule that decided.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { enc, useAdmin, type ColumnSpec, type Plan, type PolicyResult, type SchemaDoc, type TableSpec, type ViewAs } from '../admin-api.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import {
  Button, Checkbox, ErrorText, Field, Form, Loading, Notice, ReadOnlyNote, Section, Select, TextArea, splitList,
} from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import { Tabs } from '../ui/tabs.js';
import type { PageDefinition } from './registry.js';

const TYPES = ['text', 'integer', 'number', 'boolean', 'timestamp', 'json', 'uuid', 'reference'];
const OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;
const NAME = /^[a-z][a-z0-9_]{0,47}$/;

/** The plan of a change: every step, data loss marked, and the confirmation it needs. */
function PlanView({ plan }: { plan: Plan }) {
  return (
    <div class="plan" data-testid="plan">
      <h3>{plan.applied ? 'Applied' : 'Plan'}: {plan.steps.length === 0 ? 'nothing to change' : `${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}`}</h3>
      <ul>
        {plan.steps.map((s, i) => (
          <li key={i} class={/drop|retype|type/.test(s.kind) ? 'diff-drop' : 'diff-add'}>{s.description}</li>
        ))}
      </ul>
      {plan.problems.length > 0 && <pre class="error">{JSON.stringify(plan.problems, null, 2)}</pre>}
      {plan.destructive && !plan.applied && <p class="error">This change loses data. It is applied only if you confirm it below.</p>}
    </div>
  );
}

/** Review, then apply: a dry run first; a destructive plan needs the box ticked. */
function ApplyFlow({ dryRun, apply, onApplied, label, reviewLabel = 'Review changes' }: {
  dryRun(): Promise<Plan>; apply(allowDataLoss: boolean): Promise<Plan>; onApplied(plan: Plan): void; label: string; reviewLabel?: string;
}) {
  const { canWrite } = useSession();
  const [plan, setPlan] = useState<Plan | null>(null);
  const [accept, setAccept] = useState(false);
  const review = useAction(async () => {
    setAccept(false);
    setPlan(await dryRun());
  });
  const commit = useAction(async () => {
    const applied = await apply(accept);
    setPlan(null);
    onApplied(applied);
  });
  return (
    <div class="apply">
      <div class="actions">
        <Button busy={review.busy} busyText="Planning…" disabled={!canWrite} onClick={() => void review.run()}>{reviewLabel}</Button>
        {plan && plan.steps.length > 0 && (
          <Button kind={plan.destructive ? 'danger' : 'primary'} busy={commit.busy} busyText="Applying…"
            disabled={!canWrite || (plan.destructive && !accept)} onClick={() => void commit.run()}>{label}</Button>
        )}
      </div>
      <ErrorText error={review.error ?? commit.error} />
      {plan && <PlanView plan={plan} />}
      {plan?.destructive && <Checkbox label="I understand: the data listed in red is deleted for good" checked={accept} onChecked={setAccept} />}
    </div>
  );
}

function ColumnRow({ name, spec, onChange, onRemove, readOnly }: {
  name: string; spec: ColumnSpec; onChange(spec: ColumnSpec): void; onRemove(): void; readOnly: boolean;
}) {
  return (
    <fieldset>
      <legend>Column {name}</legend>
      <div class="row">
        <Select label="Type" value={spec.type} onValue={(type) => onChange({ ...spec, type })} options={TYPES} disabled={readOnly} />
        {spec.type === 'reference' && <Field label="References table" value={spec.table ?? ''} onValue={(table) => onChange({ ...spec, table })} disabled={readOnly} />}
        <Field label="Readable by (optional)" value={(spec.read ?? []).join(', ')} disabled={readOnly}
          onValue={(v) => { const { read: _r, ...rest } = spec; onChange(v.trim() ? { ...rest, read: splitList(v) } : rest); }} />
        <Field label="Writable by (optional)" value={(spec.write ?? []).join(', ')} disabled={readOnly}
          onValue={(v) => { const { write: _w, ...rest } = spec; onChange(v.trim() ? { ...rest, write: splitList(v) } : rest); }} />
      </div>
      <div class="actions">
        <Checkbox label="Required" checked={Boolean(spec.required)} disabled={readOnly} onChecked={(required) => onChange({ ...spec, required })} />
        <Checkbox label="Unique" checked={Boolean(spec.unique)} disabled={readOnly} onChecked={(unique) => onChange({ ...spec, unique })} />
        <Button onClick={onRemove} disabled={readOnly} aria-label={`Remove column ${name}`}>Remove column</Button>
      </div>
    </fieldset>
  );
}

/** The table as a form: columns and rules. Anything else (defaults, lengths) is in the JSON tab. */
function SchemaForm({ spec, onChange, readOnly }: { spec: TableSpec; onChange(spec: TableSpec): void; readOnly: boolean }) {
  const [newColumn, setNewColumn] = useState('');
  const [error, setError] = useState<string | null>(null);
  const columns = spec.columns ?? {};
  const add = () => {
    if (!NAME.test(newColumn)) return setError('A column name starts with a lowercase letter and has only a-z, 0-9 and _ (at most 48).');
    if (columns[newColumn]) return setError(`There is already a column ${newColumn}.`);
    setError(null);
    onChange({ ...spec, columns: { ...columns, [newColumn]: { type: 'text' } } });
    setNewColumn('');
  };
  return (
    <div class="form">
      {Object.entries(columns).map(([name, col]) => (
        <ColumnRow key={name} name={name} spec={col} readOnly={readOnly}
          onChange={(next) => onChange({ ...spec, columns: { ...columns, [name]: next } })}
          onRemove={() => { const { [name]: _gone, ...rest } = columns; onChange({ ...spec, columns: rest }); }} />
      ))}
      <Form onSubmit={add} error={error} label="Add a column">
        <div class="row">
          <Field label="New column name" value={newColumn} onValue={setNewColumn} disabled={readOnly} />
          <Button type="submit" disabled={readOnly}>Add column</Button>
        </div>
      </Form>
      <fieldset>
        <legend>Rules (who may, per operation)</legend>
        <div class="row">
          {OPERATIONS.map((op) => (
            <Field key={op} label={op} value={(spec.rules?.[op] ?? []).join(', ')} disabled={readOnly}
              hint="e.g. admin, self, user, guest, public == true"
              onValue={(v) => onChange({ ...spec, rules: { ...(spec.rules ?? {}), [op]: splitList(v) } })} />
          ))}
        </div>
      </fieldset>
    </div>
  );
}

function SchemaEditor({ name, original, onApplied }: { name: string; original: TableSpec | null; onApplied(): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [spec, setSpec] = useState<TableSpec>(original ?? { columns: {}, rules: { select: ['admin'], insert: ['admin'], update: ['admin'], delete: ['admin'] } });
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [json, setJson] = useState(() => JSON.stringify(spec, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [done, setDone] = useState<Plan | null>(null);
  useEffect(() => {
    if (mode === 'form') setJson(JSON.stringify(spec, null, 2));
  }, [spec, mode]);
  const onJson = (text: string) => {
    setJson(text);
    try {
      setSpec(JSON.parse(text) as TableSpec);
      setJsonError(null);
    } catch (e) {
      setJsonError(`Not valid JSON: ${(e as Error).message}`);
    }
  };
  const put = (query: Record<string, boolean>) => admin<Plan>('PUT', `/tables/${enc(name)}`, spec, { query });
  return (
    <Section title={original ? `Schema of ${name}` : `New table ${name}`}>
      <Tabs label="Schema view" tabs={[['form', 'Form'], ['json', 'JSON']]} value={mode} onChange={setMode} />
      <div role="tabpanel">
        {mode === 'form'
          ? <SchemaForm spec={spec} onChange={setSpec} readOnly={!canWrite} />
          : <><TextArea label={`Table ${name} as JSON`} rows={16} value={json} onValue={onJson} readOnly={!canWrite}
              hint="The same document as in schema.json under tables.<name> (docs/data-api.md)." /><ErrorText error={jsonError} /></>}
      </div>
      {!jsonError && (
        <ApplyFlow label="Apply" dryRun={() => put({ dry_run: true })} apply={(allow) => put({ allow_data_loss: allow })}
          onApplied={(plan) => { setDone(plan); onApplied(); }} />
      )}
      {done && <Notice>Applied: {done.steps.map((s) => s.description).join('; ') || 'no change'}.</Notice>}
    </Section>
  );
}

function DropTable({ name }: { name: string }) {
  const admin = useAdmin();
  return (
    <Section title="Drop table">
      <p>Dropping <strong>{name}</strong> deletes the table and every row in it.</p>
      <ApplyFlow label={`Drop ${name}`} reviewLabel={`Review dropping ${name}`}
        dryRun={() => admin<Plan>('DELETE', `/tables/${enc(name)}`, undefined, { query: { dry_run: true } })}
        apply={(allow) => admin<Plan>('DELETE', `/tables/${enc(name)}`, undefined, { query: { allow_data_loss: allow } })}
        onApplied={() => navigate('/tables')} />
    </Section>
  );
}

function CallerFields({ kind, setKind, userId, setUserId, groups }: {
  kind: string; setKind(v: string): void; userId: string; setUserId(v: string): void; groups: readonly string[];
}) {
  return (
    <div class="row">
      <Select label="As" value={kind} onValue={setKind} options={groups} />
      {kind === 'user' && <Field label="User id" required value={userId} onValue={setUserId} placeholder="usr_…" />}
    </div>
  );
}

function RowsBrowser({ name }: { name: string }) {
  const admin = useAdmin();
  // A viewer may look as a user or a guest, not as an admin (the server refuses it that view).
  const canWrite = useSession().canWrite;
  const [kind, setKind] = useState(canWrite ? 'admin' : 'guest');
  const [userId, setUserId] = useState('');
  const [select, setSelect] = useState('*');
  const [filter, setFilter] = useState('');
  const [order, setOrder] = useState('');
  const [limit, setLimit] = useState('50');
  const [result, setResult] = useState<{ rows: Record<string, unknown>[]; columns: string[] } | null>(null);
  const load = useAction(async () => {
    const as: ViewAs = kind === 'user' ? { kind: 'user', userId: userId.trim() } : kind === 'guest' ? { kind: 'guest' } : { kind: 'admin' };
    setResult(await admin('POST', `/tables/${enc(name)}/rows/view-as`, {
      as, ...(select.trim() && select.trim() !== '*' ? { select: select.trim() } : {}),
      ...(filter.trim() ? { filter: filter.trim() } : {}), ...(order.trim() ? { order: order.trim() } : {}), limit: Number(limit) || 50,
    }));
  });
  const columns = result ? (result.columns.length > 0 ? result.columns : Object.keys(result.rows[0] ?? {})) : [];
  return (
    <Section title="Rows">
      <p class="muted">The rows and columns the Data API would answer this caller: rules and column permissions applied.</p>
      <Form onSubmit={() => void load.run()} error={load.error} label="View rows as">
        <CallerFields kind={kind} setKind={setKind} userId={userId} setUserId={setUserId} groups={canWrite ? ['admin', 'user', 'guest'] : ['user', 'guest']} />
        <div class="row">
          <Field label="Columns" value={select} onValue={setSelect} hint="As in select=, e.g. id,title" />
          <Field label="Filter" value={filter} onValue={setFilter} hint="As in the query string, e.g. done=eq.false" />
          <Field label="Order" value={order} onValue={setOrder} hint="As in order=, e.g. created_at.desc" />
          <Field label="Limit" type="number" min={1} max={1000} value={limit} onValue={setLimit} />
        </div>
        <div class="actions"><Button type="submit" kind="primary" busy={load.busy} busyText="Loading rows…">Show rows</Button></div>
      </Form>
      {result && (
        <div class="table-wrap" tabIndex={0} data-testid="rows">
          <p class="muted">{result.rows.length} row{result.rows.length === 1 ? '' : 's'}</p>
          <table>
            <thead><tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>
              {result.rows.map((row, i) => (
                <tr key={i}>{columns.map((c) => <td key={c}>{cell(row[c])}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function PolicyTester({ name }: { name: string }) {
  const admin = useAdmin();
  const [operation, setOperation] = useState<string>('select');
  const [kind, setKind] = useState('user');
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState('');
  const [row, setRow] = useState('');
  const [result, setResult] = useState<PolicyResult | null>(null);
  const test = useAction(async () => {
    let parsedRow: Record<string, unknown> | null = null;
    if (row.trim()) {
      try {
        parsedRow = JSON.parse(row) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`The row is not valid JSON: ${(e as Error).message}`);
      }
    }
    setResult(await admin<PolicyResult>('POST', '/policies/test', {
      table: name, operation,
      caller: { group: kind, ...(kind === 'user' && userId.trim() ? { user_id: userId.trim() } : {}), ...(role.trim() ? { role: role.trim() } : {}) },
      row: parsedRow,
    }));
  });
  return (
    <Section title="Policy tester">
      <Form onSubmit={() => void test.run()} error={test.error} label="Test a policy">
        <div class="row">
          <Select label="Operation" value={operation} onValue={setOperation} options={OPERATIONS} />
          <Select label="Caller" value={kind} onValue={setKind} options={['guest', 'user', 'admin']} />
          {kind === 'user' && <Field label="Caller user id" value={userId} onValue={setUserId} placeholder="usr_…" />}
          <Field label="Caller role (optional)" value={role} onValue={setRole} />
        </div>
        <TextArea label="Row (JSON, optional)" rows={4} value={row} onValue={setRow} hint='e.g. {"owner_id": "usr_…", "public": true}. Without a row, row rules answer "depends on the row".' />
        <div class="actions"><Button type="submit" kind="primary" busy={test.busy} busyText="Testing…">Test</Button></div>
      </Form>
      {result && (
        <div data-testid="policy-result" role="status">
          <p><span class={result.decision === 'allow' ? 'tag good' : 'tag bad'}>{result.decision}</span> {result.reason}</p>
          <table>
            <thead><tr><th>Operation</th><th>Decision</th><th>Deciding rule</th></tr></thead>
            <tbody>
              {result.checks.map((c, i) => (
                <tr key={i}><td>{c.operation}</td><td>{c.decision}</td><td>{c.rule ? <code>{c.rule}</code> : <span class="muted">no rule allows</span>}</td></tr>
              ))}
            </tbody>
          </table>
          <p class="muted">Readable columns: {result.columns.readable.join(', ') || 'none'} · writable: {result.columns.writable.join(', ') || 'none'}</p>
        </div>
      )}
    </Section>
  );
}

function TableView({ name, schema, reload }: { name: string; schema: SchemaDoc; reload(): void }) {
  const original = schema.tables[name] ?? null;
  const [tab, setTab] = useState<'schema' | 'rows' | 'policy'>('schema');
  const { canWrite } = useSession();
  return (
    <>
      <p><Link to="/tables">← All tables</Link></p>
      <h1>{original ? `Table ${name}` : `New table ${name}`}</h1>
      <ReadOnlyNote canWrite={canWrite} />
      {original && (
        <Tabs label="Table" tabs={[['schema', 'Schema'], ['rows', 'Rows'], ['policy', 'Policy tester']]} value={tab} onChange={setTab} />
      )}
      {(!original || tab === 'schema') && <><SchemaEditor key={name} name={name} original={original} onApplied={reload} />{original && <DropTable name={name} />}</>}
      {original && tab === 'rows' && <RowsBrowser name={name} />}
      {original && tab === 'policy' && <PolicyTester name={name} />}
    </>
  );
}

function WholeSchema({ schema, reload }: { schema: SchemaDoc; reload(): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const initial = useMemo(() => JSON.stringify(schema, null, 2), [schema]);
  const [text, setText] = useState(initial);
  const parse = (): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`The schema is not valid JSON: ${(e as Error).message}`);
    }
  };
  return (
    <Section title="Whole schema (JSON)">
      <TextArea label="Schema document" rows={14} value={text} onValue={setText} readOnly={!canWrite}
        hint="Tables missing here are dropped (with confirmation). The format of schema.json: docs/data-api.md." />
      <ApplyFlow label="Apply schema" reviewLabel="Review schema changes"
        dryRun={async () => admin<Plan>('POST', '/schema/plan', { schema: parse() })}
        apply={async (allow) => admin<Plan>('PUT', '/schema', { schema: parse(), allow_data_loss: allow })}
        onApplied={reload} />
    </Section>
  );
}

function Tables({ path }: { path: string }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const schema = useLoad((signal) => admin<{ schema: SchemaDoc }>('GET', '/schema', undefined, { signal }), []);
  const [newName, setNewName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const name = path.startsWith('/tables/') ? decodeURIComponent(path.slice('/tables/'.length)) : '';
  if (schema.loading && !schema.data) return <Loading what="tables" />;
  if (!schema.data) return <ErrorText error={schema.error} />;
  if (name) return <TableView key={name} name={name} schema={schema.data.schema} reload={schema.reload} />;
  const tables = Object.entries(schema.data.schema.tables);
  return (
    <>
      <h1>Tables</h1>
      <ReadOnlyNote canWrite={canWrite} />
      <Section title="Tables">
        {tables.length === 0 ? <p class="muted">No tables yet.</p> : (
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead><tr><th>Name</th><th>Columns</th><th>Read rule</th></tr></thead>
              <tbody>
                {tables.map(([t, spec]) => (
                  <tr key={t}>
                    <td><Link to={`/tables/${t}`}>{t}</Link></td>
                    <td>{Object.keys(spec.columns ?? {}).join(', ')}</td>
                    <td>{(spec.rules?.select ?? []).map((r) => <code key={r} class="tag">{r}</code>)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Form label="New table" error={nameError} onSubmit={() => {
          if (!NAME.test(newName)) return setNameError('A table name starts with a lowercase letter and has only a-z, 0-9 and _ (at most 48).');
          setNameError(null);
          navigate(`/tables/${newName}`);
        }}>
          <div class="row">
            <Field label="New table name" value={newName} onValue={setNewName} disabled={!canWrite} />
            <Button type="submit" disabled={!canWrite}>Design table</Button>
          </div>
        </Form>
      </Section>
      <WholeSchema schema={schema.data.schema} reload={schema.reload} />
    </>
  );
}

export const tablesPage: PageDefinition = { path: '/tables/*', title: 'Tables', nav: 'data', access: 'project', component: Tables };
