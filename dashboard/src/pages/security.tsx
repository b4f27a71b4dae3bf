// Security events and the audit log: filters, paging, a live tail (polling: the admin API has no
// push channel, and one small GET every few seconds is cheap), and the audit chain's verdict.
import { useState } from 'preact/hooks';
import { useAdmin, type AuditEntry, type AuditVerdict, type SecurityEvent } from '../admin-api.js';
import { Button, Checkbox, ErrorText, Field, Form, Loading, Section, Select, formatDate } from '../ui/controls.js';
import { useInterval, useLoad } from '../ui/hooks.js';
import { Tabs } from '../ui/tabs.js';
import type { PageDefinition } from './registry.js';

// The kinds src/observability/security-events.ts records.
const EVENT_TYPES = [
  '', 'api_key_rejected', 'api_key_scope_denied', 'secret_key_required', 'origin_rejected', 'malformed_request', 'token_rejected',
  'sign_in_failed', 'refresh_token_reused', 'sign_up_rejected', 'sign_in_backoff', 'recovery_token_rejected', 'email_change_rejected',
  'session_revoked', 'signing_key_rotated', 'rate_limited', 'llm_endpoint_denied', 'resource_access_denied',
];
const PAGE = 50;
const TAIL_MS = 3000;

function details(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = JSON.stringify(value);
  return text === '{}' ? '' : text;
}

/** Newest-first pages of a log addressed by numeric id (`before`), with an optional live tail. */
function usePagedLog<T extends { id: number }>(load: (query: { before?: number; limit: number }, signal: AbortSignal) => Promise<T[]>, deps: unknown[]) {
  const [cursors, setCursors] = useState<number[]>([]);
  const [live, setLive] = useState(false);
  const before = cursors[cursors.length - 1];
  const page = useLoad((signal) => load({ before, limit: PAGE }, signal), [...deps, before]);
  // The tail only runs on the first page: older pages do not move.
  useInterval(() => page.reload(), TAIL_MS, live && before === undefined);
  return {
    page, live, setLive,
    older: () => { const last = page.data?.[page.data.length - 1]; if (last) setCursors([...cursors, last.id]); },
    newer: () => setCursors(cursors.slice(0, -1)),
    first: cursors.length === 0,
    reset: () => setCursors([]),
  };
}

function SecurityEvents() {
  const admin = useAdmin();
  const [type, setType] = useState('');
  const log = usePagedLog(
    (q, signal) => admin<{ events: SecurityEvent[] }>('GET', '/security-events', undefined, { signal, query: { ...q, type: type || undefined } }).then((r) => r.events),
    [type],
  );
  const { page } = log;
  return (
    <Section title="Security events" actions={<Checkbox label="Live tail" checked={log.live} onChecked={(v) => { log.setLive(v); if (v) log.reset(); }} />}>
      <div class="row">
        <Select label="Type" value={type} onValue={(v) => { setType(v); log.reset(); }} options={EVENT_TYPES.map((t) => ({ value: t, label: t || 'all types' }))} />
      </div>
      {page.loading && !page.data && <Loading what="events" />}
      <ErrorText error={page.error} />
      {page.data && (
        <>
          <div class="table-wrap" tabIndex={0} aria-live={log.live ? 'polite' : undefined}>
            <table>
              <thead><tr><th>When</th><th>Type</th><th>Address</th><th>Details</th><th>Request</th></tr></thead>
              <tbody>
                {page.data.map((e) => (
                  <tr key={e.id}>
                    <td>{formatDate(e.created_at)}</td><td><span class="tag">{e.type}</span></td><td>{e.ip ?? '—'}</td>
                    <td><code>{details(e.details)}</code></td><td><code>{e.request_id ?? ''}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.data.length === 0 && <p class="muted">No events.</p>}
          <div class="actions">
            <Button disabled={log.first} onClick={log.newer}>Newer</Button>
            <Button disabled={page.data.length < PAGE} onClick={log.older}>Older</Button>
          </div>
        </>
      )}
    </Section>
  );
}

function AuditLog() {
  const admin = useAdmin();
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState({ actor: '', action: '' });
  const log = usePagedLog(
    (q, signal) => admin<{ entries: AuditEntry[] }>('GET', '/audit-log', undefined, { signal, query: q }).then((r) => r.entries),
    [],
  );
  const { page } = log;
  // The API pages by id only; actor and action narrow the page shown.
  const rows = (page.data ?? []).filter((e) => (!applied.actor || e.actor.includes(applied.actor)) && (!applied.action || e.action.includes(applied.action)));
  return (
    <Section title="Audit log" actions={<Checkbox label="Live tail" checked={log.live} onChecked={(v) => { log.setLive(v); if (v) log.reset(); }} />}>
      <Form onSubmit={() => setApplied({ actor: actor.trim(), action: action.trim() })} label="Filter the audit log">
        <div class="row">
          <Field label="Actor contains" value={actor} onValue={setActor} placeholder="key:… user:… cli" />
          <Field label="Action contains" value={action} onValue={setAction} placeholder="key.create" />
          <Button type="submit">Filter</Button>
        </div>
      </Form>
      {page.loading && !page.data && <Loading what="the audit log" />}
      <ErrorText error={page.error} />
      {page.data && (
        <>
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead><tr><th class="num">Seq</th><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Details</th></tr></thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id}>
                    <td class="num">{e.seq ?? '—'}</td><td>{formatDate(e.created_at)}</td><td><code>{e.actor}</code></td>
                    <td>{e.action}</td><td><code>{e.target ?? ''}</code></td><td><code>{details(e.details)}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length === 0 && <p class="muted">No entries{applied.actor || applied.action ? ' match on this page' : ''}.</p>}
          <div class="actions">
            <Button disabled={log.first} onClick={log.newer}>Newer</Button>
            <Button disabled={page.data.length < PAGE} onClick={log.older}>Older</Button>
          </div>
        </>
      )}
    </Section>
  );
}

function AuditChain() {
  const admin = useAdmin();
  const verdict = useLoad((signal) => admin<AuditVerdict>('GET', '/audit/verify', undefined, { signal }), []);
  const head = useLoad((signal) => admin<{ chains: { environment: string | null; seq: number; hash: string | null }[] }>('GET', '/audit/head', undefined, { signal }), []);
  return (
    <Section title="Audit chain" actions={<Button busy={verdict.loading} busyText="Verifying…" onClick={() => { verdict.reload(); head.reload(); }}>Verify again</Button>}>
      <ErrorText error={verdict.error ?? head.error} />
      {verdict.data && (
        <div role="status" data-testid="audit-verdict">
          <p>{verdict.data.ok
            ? <span class="tag good">intact</span>
            : <span class="tag bad">broken</span>} {verdict.data.ok ? 'Every entry is in place and unchanged.' : 'An entry was changed, removed or reordered:'}</p>
          <ul>
            {verdict.data.chains.map((c) => (
              <li key={String(c.environment)}>
                {c.environment ?? 'project-wide'}: {c.entries} entries {c.ok ? 'checked' : <strong class="error">{c.problem?.message}</strong>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {head.data && (
        <>
          <h3>Head (keep a copy outside the database)</h3>
          <pre>{head.data.chains.map((c) => `${c.environment ?? 'project-wide'}  seq ${c.seq}  ${c.hash ?? '—'}`).join('\n')}</pre>
        </>
      )}
    </Section>
  );
}

function Security() {
  const [tab, setTab] = useState<'events' | 'audit'>('events');
  return (
    <>
      <h1>Security events & audit</h1>
      <Tabs label="Logs" tabs={[['events', 'Security events'], ['audit', 'Audit']]} value={tab} onChange={setTab} />
      {tab === 'events' ? <SecurityEvents /> : <><AuditChain /><AuditLog /></>}
    </>
  );
}

export const securityPage: PageDefinition = { path: '/security', title: 'Security & audit', nav: 'security', access: 'project', component: Security };
