// Users: search by email, details, sessions (revoke one or all), role, delete (saying what goes
// with the user), invite. /_/users/<id> opens one user directly.
import { useState } from 'preact/hooks';
import { enc, useAdmin, type SessionRow, type UserRow } from '../admin-api.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import {
  Button, ConfirmButton, ErrorText, Field, Form, Loading, Notice, ReadOnlyNote, Section, Select, formatDate,
} from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

const PAGE_SIZE = 50;

function Invite() {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [email, setEmail] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const invite = useAction(async () => {
    const answer = await admin<{ email: string }>('POST', '/users/invites', { email });
    setDone(answer.email);
    setEmail('');
  });
  return (
    <Section title="Invite">
      <Form onSubmit={() => void invite.run()} error={invite.error} label="Invite a user">
        <div class="row">
          <Field label="Email to invite" type="email" required value={email} onValue={setEmail} disabled={!canWrite}
            hint="Lets this address sign up while sign-up is by invite only." />
          <Button type="submit" kind="primary" busy={invite.busy} busyText="Inviting…" disabled={!canWrite}>Invite</Button>
        </div>
      </Form>
      {done && <Notice>{done} may now sign up.</Notice>}
    </Section>
  );
}

function UserList() {
  const admin = useAdmin();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const users = useLoad((signal) => admin<{ users: UserRow[] }>('GET', '/users', undefined, {
    signal, query: { email: query || undefined, limit: PAGE_SIZE, offset },
  }), [query, offset]);
  return (
    <>
      <Section title="Find users">
        <Form onSubmit={() => { setQuery(search.trim()); setOffset(0); }} label="Search users">
          <div class="row">
            <Field label="Email" type="search" value={search} onValue={setSearch} placeholder="someone@example.com" />
            <Button type="submit" kind="primary">Search</Button>
          </div>
        </Form>
      </Section>
      <Section title="Users">
        {users.loading && <Loading what="users" />}
        <ErrorText error={users.error} />
        {users.data && (
          <>
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead><tr><th>Email</th><th>Role</th><th>Created</th><th>Last sign-in</th></tr></thead>
                <tbody>
                  {users.data.users.map((u) => (
                    <tr key={u.id}>
                      <td><Link to={`/users/${u.id}`}>{u.email}</Link></td>
                      <td>{u.role}</td>
                      <td>{formatDate(u.created_at)}</td>
                      <td>{formatDate(u.last_sign_in_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {users.data.users.length === 0 && <p class="muted">No user matches.</p>}
            <div class="actions">
              <Button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Previous page</Button>
              <Button disabled={users.data.users.length < PAGE_SIZE} onClick={() => setOffset(offset + PAGE_SIZE)}>Next page</Button>
            </div>
          </>
        )}
      </Section>
      <Invite />
    </>
  );
}

function Sessions({ userId }: { userId: string }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const sessions = useLoad((signal) => admin<{ sessions: SessionRow[] }>('GET', `/users/${enc(userId)}/sessions`, undefined, { signal }), [userId]);
  const revokeOne = useAction(async (id: string) => {
    await admin('POST', `/sessions/${enc(id)}/revoke`);
    sessions.reload();
  });
  const revokeAll = useAction(async () => {
    await admin('POST', `/users/${enc(userId)}/sessions/revoke`);
    sessions.reload();
  });
  const live = sessions.data?.sessions.filter((s) => !s.revoked_at) ?? [];
  return (
    <Section title="Sessions" actions={
      <ConfirmButton label="Revoke all sessions" question="Sign this user out everywhere?" confirmLabel="Yes, revoke all"
        busy={revokeAll.busy} busyText="Revoking…" disabled={!canWrite || live.length === 0} onConfirm={() => void revokeAll.run()} />
    }>
      {sessions.loading && !sessions.data && <Loading what="sessions" />}
      <ErrorText error={sessions.error ?? revokeAll.error ?? revokeOne.error} />
      {sessions.data && (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead><tr><th>Started</th><th>Last refresh</th><th>Address</th><th>Client</th><th>Status</th><th><span class="muted">Action</span></th></tr></thead>
            <tbody>
              {sessions.data.sessions.map((s) => (
                <tr key={s.id}>
                  <td>{formatDate(s.created_at)}</td>
                  <td>{formatDate(s.refreshed_at)}</td>
                  <td>{s.ip ?? '—'}</td>
                  <td>{s.user_agent ?? '—'}</td>
                  <td>{s.revoked_at ? `revoked (${s.revoked_reason ?? 'by an admin'})` : 'active'}</td>
                  <td>{!s.revoked_at && (
                    <Button disabled={!canWrite} busy={revokeOne.busy} busyText="Revoking…" onClick={() => void revokeOne.run(s.id)}
                      aria-label={`Revoke session started ${formatDate(s.created_at)}`}>Revoke</Button>
                  )}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {sessions.data.sessions.length === 0 && <p class="muted">No sessions.</p>}
        </div>
      )}
    </Section>
  );
}

function UserDetails({ userId }: { userId: string }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const user = useLoad((signal) => admin<UserRow>('GET', `/users/${enc(userId)}`, undefined, { signal }), [userId]);
  const [role, setRole] = useState<string | null>(null);
  const saveRole = useAction(async () => {
    await admin('PATCH', `/users/${enc(userId)}`, { role });
    setRole(null);
    user.reload();
  });
  const remove = useAction(async () => {
    await admin('DELETE', `/users/${enc(userId)}`);
    navigate('/users');
  });
  if (user.loading && !user.data) return <Loading what="the user" />;
  if (!user.data) return <><p><Link to="/users">← All users</Link></p><ErrorText error={user.error} /></>;
  const u = user.data;
  return (
    <>
      <p><Link to="/users">← All users</Link></p>
      <h1>{u.email}</h1>
      <ReadOnlyNote canWrite={canWrite} />
      <Section title="Details">
        <dl class="details">
          <dt>Id</dt><dd><code>{u.id}</code></dd>
          <dt>Created</dt><dd>{formatDate(u.created_at)}</dd>
          <dt>Email confirmed</dt><dd>{formatDate(u.email_confirmed_at)}</dd>
          <dt>Last sign-in</dt><dd>{formatDate(u.last_sign_in_at)}</dd>
          {u.external && <><dt>Signs in through</dt><dd>{u.external.issuer_id} ({u.external.sub})</dd></>}
        </dl>
        <h3>Metadata</h3>
        <pre>{JSON.stringify({ app_metadata: u.app_metadata, user_metadata: u.user_metadata }, null, 2)}</pre>
      </Section>
      <Section title="Role">
        <Form onSubmit={() => void saveRole.run()} error={saveRole.error} label="Change role">
          <div class="row">
            <Select label="Role" value={role ?? u.role} onValue={setRole} disabled={!canWrite} options={[
              { value: 'authenticated', label: 'authenticated (a signed-in user)' }, { value: 'admin', label: 'admin (passes admin rules)' },
            ]} />
            <Button type="submit" kind="primary" busy={saveRole.busy} busyText="Saving…" disabled={!canWrite || role === null || role === u.role}>Save role</Button>
          </div>
        </Form>
      </Section>
      <Sessions userId={userId} />
      <Section title="Delete">
        <p>Deleting <strong>{u.email}</strong>:</p>
        <ul>
          <li>removes the account and every one of its sessions (it is signed out everywhere);</li>
          <li>deletes its logged LLM prompts and completions;</li>
          <li>deletes or keeps the files it owns in Storage, as the storage setting for deleted users says;</li>
          <li>leaves the rows it owns in your tables where they are.</li>
        </ul>
        <p>The deletion is written to the audit log. It cannot be undone.</p>
        <ConfirmButton label="Delete user" question={<>Delete <strong>{u.email}</strong> for good?</>} confirmLabel="Yes, delete"
          busy={remove.busy} busyText="Deleting…" disabled={!canWrite} onConfirm={() => void remove.run()} />
        <ErrorText error={remove.error} />
      </Section>
    </>
  );
}

function Users({ path }: { path: string }) {
  const id = path.startsWith('/users/') ? decodeURIComponent(path.slice('/users/'.length)) : '';
  if (id) return <UserDetails key={id} userId={id} />;
  return <><h1>Users</h1><UserList /></>;
}

export const usersPage: PageDefinition = { path: '/users/*', title: 'Users', nav: 'project', access: 'project', component: Users };
