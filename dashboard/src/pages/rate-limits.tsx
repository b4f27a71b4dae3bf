// Rate limits: the policy in force per route class and tier, this environment's changes to it,
// per-user and per-key overrides, and the latest 429s (rate_limited security events).
import { useState } from 'preact/hooks';
import { enc, useAdmin, type LimitWindow, type LimitsView, type SecurityEvent } from '../admin-api.js';
import { useSession } from '../session.js';
import {
  Button, ConfirmButton, ErrorText, Field, Form, Loading, Notice, ReadOnlyNote, Section, Select, formatDate,
} from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import { parseWindows, windowsText } from '../limit-windows.js';
import type { PageDefinition } from './registry.js';

const CLASSES = ['auth', 'llm', 'data_read', 'data_write', 'admin', 'storage', 'default'];
const TIERS = ['guest', 'user', 'admin'] as const;

function duration(ms: number): string {
  const s = ms / 1000;
  if (s % 86_400 === 0) return `${s / 86_400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

function Effective({ view }: { view: LimitsView }) {
  return (
    <Section title="In force">
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead><tr><th>Route class</th><th>Store down</th>{TIERS.map((t) => <th key={t}>{t}</th>)}<th>Changed here</th></tr></thead>
          <tbody>
            {Object.entries(view.effective.classes).map(([name, policy]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>{policy.failMode === 'open' ? 'let through' : 'refuse (503)'}</td>
                {TIERS.map((t) => <td key={t}>{policy.tiers[t].map((w) => `${w.limit} per ${duration(w.windowMs)}`).join(', ')}</td>)}
                <td>{view.policy?.[name] ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function PolicyEditor({ view, onSaved }: { view: LimitsView; onSaved(next: LimitsView): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [routeClass, setRouteClass] = useState('llm');
  const current = view.effective.classes[routeClass];
  const [failMode, setFailMode] = useState<string | null>(null);
  const [tiers, setTiers] = useState<Record<string, string>>({});
  const save = useAction(async () => {
    const patch = { ...(view.policy ?? {}) };
    const tierPatch: Record<string, LimitWindow[]> = {};
    for (const t of TIERS) if (tiers[t] !== undefined) tierPatch[t] = parseWindows(tiers[t]!);
    patch[routeClass] = {
      ...(patch[routeClass] ?? {}),
      ...(failMode ? { failMode: failMode as 'open' | 'closed' } : {}),
      ...(Object.keys(tierPatch).length > 0 ? { tiers: { ...(patch[routeClass]?.tiers ?? {}), ...tierPatch } } : {}),
    };
    onSaved(await admin<LimitsView>('PUT', '/limits/policy', patch));
    setTiers({});
    setFailMode(null);
  });
  const reset = useAction(async () => onSaved(await admin<LimitsView>('DELETE', '/limits/policy')));
  return (
    <Section title="Change the policy of this environment">
      <Form onSubmit={() => void save.run()} error={save.error} label="Change the policy">
        <div class="row">
          <Select label="Route class" value={routeClass} onValue={(v) => { setRouteClass(v); setTiers({}); setFailMode(null); }} options={CLASSES} />
          <Select label="When the counter store is down" value={failMode ?? current?.failMode ?? 'closed'} onValue={setFailMode} disabled={!canWrite}
            options={[{ value: 'open', label: 'let requests through' }, { value: 'closed', label: 'refuse (503)' }]} />
        </div>
        <div class="row">
          {TIERS.map((t) => (
            <Field key={`${routeClass}-${t}`} label={`${t} windows`} value={tiers[t] ?? windowsText(current?.tiers[t])} disabled={!canWrite}
              onValue={(v) => setTiers({ ...tiers, [t]: v })} hint="requests/seconds, comma separated, e.g. 100/60s, 1000/3600s" />
          ))}
        </div>
        <div class="actions">
          <Button type="submit" kind="primary" busy={save.busy} busyText="Saving…" disabled={!canWrite}>Save {routeClass}</Button>
          <ConfirmButton kind="secondary" label="Back to the config file policy" question="Drop every change of this environment?" confirmLabel="Yes, drop them"
            busy={reset.busy} busyText="Resetting…" disabled={!canWrite || !view.policy} onConfirm={() => void reset.run()} />
        </div>
        <ErrorText error={reset.error} />
      </Form>
    </Section>
  );
}

function Overrides({ view, onChanged }: { view: LimitsView; onChanged(): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [subject, setSubject] = useState('');
  const [routeClass, setRouteClass] = useState('llm');
  const [windows, setWindows] = useState('');
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    const existing = view.overrides.find((o) => o.subject === subject.trim())?.limits ?? {};
    await admin('PUT', `/limits/overrides/${enc(subject.trim())}`, { ...existing, [routeClass]: parseWindows(windows) });
    setSaved(true);
    onChanged();
  });
  const remove = useAction(async (s: string) => {
    await admin('DELETE', `/limits/overrides/${enc(s)}`);
    onChanged();
  });
  return (
    <Section title="Overrides">
      {view.overrides.length === 0 ? <p class="muted">No overrides: every caller has its tier's limits.</p> : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead><tr><th>Subject</th><th>Limits</th><th>Changed</th><th><span class="muted">Action</span></th></tr></thead>
            <tbody>
              {view.overrides.map((o) => (
                <tr key={o.subject}>
                  <td><code>{o.subject}</code></td>
                  <td>{Object.entries(o.limits).map(([c, w]) => <div key={c}>{c}: {windowsText(w)}</div>)}</td>
                  <td>{formatDate(o.updated_at)} by {o.updated_by}</td>
                  <td><Button disabled={!canWrite} busy={remove.busy} busyText="Removing…" onClick={() => void remove.run(o.subject)} aria-label={`Remove override of ${o.subject}`}>Remove</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorText error={remove.error} />
      <Form onSubmit={() => void save.run()} error={save.error} label="Set an override">
        <div class="row">
          <Field label="User or key" required value={subject} onValue={setSubject} placeholder="user:usr_… or key:key_…" disabled={!canWrite} />
          <Select label="Route class" value={routeClass} onValue={setRouteClass} options={CLASSES} disabled={!canWrite} />
          <Field label="Windows" required value={windows} onValue={setWindows} placeholder="500/60s" disabled={!canWrite} hint="requests/seconds, comma separated" />
          <Button type="submit" kind="primary" busy={save.busy} busyText="Saving…" disabled={!canWrite}>Set override</Button>
        </div>
      </Form>
      {saved && <Notice>Override saved: it applies within a second on every instance.</Notice>}
    </Section>
  );
}

function Recent429s() {
  const admin = useAdmin();
  const events = useLoad((signal) => admin<{ events: SecurityEvent[] }>('GET', '/security-events', undefined, { signal, query: { type: 'rate_limited', limit: 50 } }), []);
  return (
    <Section title="Recent 429s" actions={<Button onClick={events.reload} busy={events.loading} busyText="Loading…">Refresh</Button>}>
      <ErrorText error={events.error} />
      {events.data && (events.data.events.length === 0 ? <p class="muted">No request was limited recently.</p> : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead><tr><th>When</th><th>Route class</th><th>Subject</th><th>Route</th><th>Address</th></tr></thead>
            <tbody>
              {events.data.events.map((e) => {
                const d = (e.details ?? {}) as Record<string, unknown>;
                return (
                  <tr key={e.id}>
                    <td>{formatDate(e.created_at)}</td><td>{String(d.route_class ?? '—')}</td><td><code>{String(d.subject ?? '—')}</code></td>
                    <td>{String(d.route ?? '—')}</td><td>{e.ip ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </Section>
  );
}

function RateLimits() {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const view = useLoad((signal) => admin<LimitsView>('GET', '/limits', undefined, { signal }), []);
  const [latest, setLatest] = useState<LimitsView | null>(null);
  const shown = latest ?? view.data;
  return (
    <>
      <h1>Rate limits</h1>
      <ReadOnlyNote canWrite={canWrite} />
      {view.loading && !shown && <Loading what="rate limits" />}
      <ErrorText error={view.error} />
      {shown && (
        <>
          <Effective view={shown} />
          <PolicyEditor view={shown} onSaved={setLatest} />
          <Overrides view={shown} onChanged={() => { setLatest(null); view.reload(); }} />
        </>
      )}
      <Recent429s />
    </>
  );
}

export const rateLimitsPage: PageDefinition = { path: '/rate-limits', title: 'Rate limits', nav: 'security', access: 'project', component: RateLimits };
