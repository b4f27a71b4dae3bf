// API keys: create (the key is shown once, with a copy button), scopes, expiry, rotate with a
// grace period, revoke.
import { useState } from 'preact/hooks';
import { enc, useAdmin, type CreatedKey, type KeyRow } from '../admin-api.js';
import { useSession } from '../session.js';
import {
  Button, ConfirmButton, CopyButton, ErrorText, Field, Form, Loading, ReadOnlyNote, Section, Select, TextArea, formatDate, splitList,
} from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

/** The new key, once: it is not stored anywhere the dashboard can read it again. */
function ShownOnce({ created, onDone }: { created: CreatedKey; onDone(): void }) {
  return (
    <div class="notice" role="status" data-testid="new-key">
      <p><strong>Copy the key {created.name} now.</strong> It is shown once; Gatehouse keeps only its hash.</p>
      <p><code class="secret">{created.key}</code></p>
      <div class="actions">
        <CopyButton text={created.key} label="Copy key" />
        <Button onClick={onDone}>I have stored it</Button>
      </div>
    </div>
  );
}

function CreateKey({ onCreated }: { onCreated(key: CreatedKey): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [kind, setKind] = useState<'publishable' | 'secret'>('publishable');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [expires, setExpires] = useState('');
  const create = useAction(async () => {
    const list = splitList(scopes);
    const created = await admin<CreatedKey>('POST', '/keys', {
      kind, ...(name ? { name } : {}), scopes: list.length > 0 ? list : null,
      expires_at: expires ? new Date(expires).toISOString() : null,
    });
    setName('');
    setScopes('');
    setExpires('');
    onCreated(created);
  });
  return (
    <Section title="Create a key">
      <Form onSubmit={() => void create.run()} error={create.error} label="Create a key">
        <div class="row">
          <Select label="Kind" value={kind} onValue={(v) => setKind(v as 'publishable' | 'secret')} disabled={!canWrite} options={[
            { value: 'publishable', label: 'Publishable (ships in apps)' }, { value: 'secret', label: 'Secret (servers only)' },
          ]} />
          <Field label="Name" value={name} onValue={setName} maxLength={100} disabled={!canWrite} />
          <Field label="Expires (optional)" type="datetime-local" value={expires} onValue={setExpires} disabled={!canWrite} />
        </div>
        <TextArea label="Scopes (optional)" rows={3} value={scopes} onValue={setScopes} readOnly={!canWrite}
          hint="One per line or comma separated, e.g. data:todos:read, llm:openai, admin:keys. None: every scope of its kind." />
        <div class="actions"><Button type="submit" kind="primary" busy={create.busy} busyText="Creating…" disabled={!canWrite}>Create key</Button></div>
      </Form>
    </Section>
  );
}

function KeyActions({ row, onChanged, onCreated }: { row: KeyRow; onChanged(): void; onCreated(key: CreatedKey): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [grace, setGrace] = useState('86400');
  const revoke = useAction(async () => {
    await admin('POST', `/keys/${enc(row.id)}/revoke`);
    onChanged();
  });
  const rotate = useAction(async () => {
    const created = await admin<CreatedKey>('POST', `/keys/${enc(row.id)}/rotate`, undefined, { query: { grace_seconds: Number(grace) } });
    onCreated(created);
    onChanged();
  });
  const [rotating, setRotating] = useState(false);
  if (row.revoked_at) return <span class="muted">Revoked {formatDate(row.revoked_at)}</span>;
  return (
    <div class="actions">
      {rotating ? (
        <Form onSubmit={() => void rotate.run().then((ok) => ok && setRotating(false))} label={`Rotate ${row.name}`}>
          <Field label="Old key keeps working for (seconds)" type="number" min={0} value={grace} onValue={setGrace} autoFocus />
          <div class="actions">
            <Button type="submit" kind="primary" busy={rotate.busy} busyText="Rotating…">Rotate now</Button>
            <Button onClick={() => setRotating(false)}>Cancel</Button>
          </div>
        </Form>
      ) : <Button disabled={!canWrite} onClick={() => setRotating(true)}>Rotate…</Button>}
      <ConfirmButton label="Revoke" question={<>Revoke <strong>{row.name}</strong>? Apps using it stop working within a second.</>}
        confirmLabel="Yes, revoke" busy={revoke.busy} busyText="Revoking…" disabled={!canWrite} onConfirm={() => void revoke.run()} />
      <ErrorText error={revoke.error ?? rotate.error} />
    </div>
  );
}

function Keys() {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const keys = useLoad((signal) => admin<{ keys: KeyRow[] }>('GET', '/keys', undefined, { signal }), []);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  return (
    <>
      <h1>API keys</h1>
      <ReadOnlyNote canWrite={canWrite} />
      {created && <ShownOnce created={created} onDone={() => setCreated(null)} />}
      <CreateKey onCreated={(k) => { setCreated(k); keys.reload(); }} />
      <Section title="Keys">
        {keys.loading && !keys.data && <Loading what="keys" />}
        <ErrorText error={keys.error} />
        {keys.data && (
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead><tr><th>Name</th><th>Kind</th><th>Key</th><th>Scopes</th><th>Status</th><th>Last used</th><th>Expires</th><th>Actions</th></tr></thead>
              <tbody>
                {keys.data.keys.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>{k.kind}</td>
                    <td><code>{k.display}</code></td>
                    <td>{k.scopes ? k.scopes.map((s) => <span key={s} class="tag">{s}</span>) : <span class="muted">all</span>}</td>
                    <td><span class={k.status === 'active' ? 'tag good' : 'tag bad'}>{k.status}</span></td>
                    <td>{formatDate(k.last_used_at)}</td>
                    <td>{formatDate(k.expires_at)}</td>
                    <td><KeyActions row={k} onChanged={keys.reload} onCreated={setCreated} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {keys.data.keys.length === 0 && <p class="muted">No keys yet.</p>}
          </div>
        )}
      </Section>
    </>
  );
}

export const keysPage: PageDefinition = { path: '/keys', title: 'API keys', nav: 'project', access: 'project', component: Keys };
