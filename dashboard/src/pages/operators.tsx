// Operators (owners only): who may use this dashboard, and their role in each project the
// signed-in owner owns. The server decides again on every change.
import { useState } from 'preact/hooks';
import { operatorApi, type OperatorRow, type ProjectAccess } from '../operator-api.js';
import { useSession } from '../session.js';
import { Button, ConfirmButton, ErrorText, Field, Form, Loading, Notice, Section, Select, formatDate } from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

const ROLE_OPTIONS = [
  { value: '', label: 'no access' },
  { value: 'viewer', label: 'viewer (read only)' },
  { value: 'admin', label: 'admin' },
  { value: 'owner', label: 'owner (also manages operators)' },
];

function RoleEditor({ operator, owned, onSaved }: { operator: OperatorRow; owned: ProjectAccess[]; onSaved(): void }) {
  const current = (projectId: string) => operator.roles.find((r) => r.projectId === projectId)?.role ?? '';
  const [roles, setRoles] = useState<Record<string, string>>(() => Object.fromEntries(owned.map((p) => [p.id, current(p.id)])));
  const save = useAction(async () => {
    const changes = owned.filter((p) => roles[p.id] !== current(p.id)).map((p) => ({ projectId: p.id, role: roles[p.id] || null }));
    if (changes.length > 0) await operatorApi.setOperatorRoles(operator.id, changes);
    onSaved();
  });
  return (
    <Form onSubmit={() => void save.run()} error={save.error} label={`Roles of ${operator.email}`}>
      <div class="row">
        {owned.map((p) => (
          <Select key={p.id} label={`Role in ${p.name}`} value={roles[p.id] ?? ''} options={ROLE_OPTIONS}
            onValue={(v) => setRoles({ ...roles, [p.id]: v })} />
        ))}
        <Button type="submit" kind="primary" busy={save.busy} busyText="Saving…">Save roles</Button>
      </div>
    </Form>
  );
}

function AddOperator({ owned, onAdded }: { owned: ProjectAccess[]; onAdded(): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [projectId, setProjectId] = useState(owned[0]?.id ?? '');
  const [role, setRole] = useState('viewer');
  const [added, setAdded] = useState<string | null>(null);
  const add = useAction(async () => {
    const created = await operatorApi.createOperator({ email, password, roles: [{ projectId, role }] });
    setAdded(created.email);
    setEmail('');
    setPassword('');
    onAdded();
  });
  return (
    <Section title="Add an operator">
      <Form onSubmit={() => void add.run()} error={add.error} label="Add an operator">
        <div class="row">
          <Field label="Email" type="email" required autoComplete="off" value={email} onValue={setEmail} />
          <Field label="First password" type="password" required autoComplete="new-password" minLength={12} value={password} onValue={setPassword}
            hint="Give it to them over a channel you trust; they sign in with it." />
        </div>
        <div class="row">
          <Select label="Project" value={projectId} onValue={setProjectId} options={owned.map((p) => ({ value: p.id, label: p.name }))} />
          <Select label="Role" value={role} onValue={setRole} options={ROLE_OPTIONS.slice(1)} />
        </div>
        <div class="actions"><Button type="submit" kind="primary" busy={add.busy} busyText="Adding…">Add operator</Button></div>
      </Form>
      {added && <Notice>{added} can now sign in.</Notice>}
    </Section>
  );
}

function Operators() {
  const session = useSession();
  const owned = (session.me?.projects ?? []).filter((p) => p.role === 'owner');
  const list = useLoad(() => operatorApi.listOperators(), []);
  const remove = useAction(async (id: string) => {
    await operatorApi.deleteOperator(id);
    list.reload();
  });
  const projectName = (id: string) => session.me?.projects.find((p) => p.id === id)?.name ?? id;
  return (
    <>
      <h1>Operators</h1>
      {list.loading && !list.data && <Loading what="operators" />}
      <ErrorText error={list.error ?? remove.error} />
      {list.data?.operators.map((o) => (
        <Section key={o.id} title={o.email} actions={o.id !== session.me?.operator.id && (
          <ConfirmButton label={`Remove ${o.email}`} question="They are signed out and lose every role." confirmLabel="Yes, remove"
            busy={remove.busy} busyText="Removing…" onConfirm={() => void remove.run(o.id)} />
        )}>
          <p class="muted">
            Added {formatDate(o.createdAt)} · two-step sign-in {o.totpEnabled ? 'on' : 'off'} ·{' '}
            {o.roles.map((r) => `${projectName(r.projectId)}: ${r.role}`).join(', ') || 'no role'}
          </p>
          {o.id === session.me?.operator.id
            ? <p class="muted">This is you: another owner changes your roles.</p>
            : <RoleEditor key={o.roles.map((r) => r.projectId + r.role).join()} operator={o} owned={owned} onSaved={list.reload} />}
        </Section>
      ))}
      <AddOperator owned={owned} onAdded={list.reload} />
    </>
  );
}

export const operatorsPage: PageDefinition = { path: '/operators', title: 'Operators', nav: 'account', access: 'owner', component: Operators };
