// LLM: providers (the key is write-only: only its last four characters come back), endpoint
// allow/deny lists, per-user token quotas, usage per user and model, and the request log.
import { useState } from 'preact/hooks';
import { enc, useAdmin, type ProviderRow, type RequestLogEntry, type RequestLogSettings, type UsageRow } from '../admin-api.js';
import { useSession } from '../session.js';
import { BarChart } from '../ui/charts.js';
import {
  Button, Checkbox, ConfirmButton, ErrorText, Field, Form, Loading, Notice, ReadOnlyNote, Section, Select, TextArea, formatDate, splitList,
} from '../ui/controls.js';
import { useAction, useLoad } from '../ui/hooks.js';
import { Tabs } from '../ui/tabs.js';
import type { PageDefinition } from './registry.js';

function ProviderForm({ existing, onSaved }: { existing: ProviderRow | null; onSaved(): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const [name, setName] = useState(existing?.name ?? '');
  const [kind, setKind] = useState<string>(existing?.kind ?? 'openai');
  const [baseUrl, setBaseUrl] = useState(existing?.base_url ?? '');
  const [apiKey, setApiKey] = useState('');
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [add, setAdd] = useState((existing?.endpoints_add ?? []).join('\n'));
  const [remove, setRemove] = useState((existing?.endpoints_remove ?? []).join('\n'));
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    await admin('PUT', `/providers/${enc(name.trim())}`, {
      ...(existing ? {} : { kind }),
      ...(baseUrl.trim() && baseUrl.trim() !== existing?.base_url ? { base_url: baseUrl.trim() } : {}),
      ...(apiKey ? { api_key: apiKey } : {}),
      enabled, endpoints_add: splitList(add), endpoints_remove: splitList(remove),
    });
    // The key leaves the page as soon as it is sent.
    setApiKey('');
    setSaved(true);
    onSaved();
  });
  const removeKey = useAction(async () => {
    await admin('PUT', `/providers/${enc(name)}`, { api_key: null });
    onSaved();
  });
  return (
    <Form onSubmit={() => void save.run()} error={save.error} label={existing ? `Provider ${existing.name}` : 'Add a provider'}>
      <div class="row">
        {!existing && <Field label="Name" required pattern="[a-z][a-z0-9-]{0,31}" value={name} onValue={setName} disabled={!canWrite}
          hint="openai, anthropic and gemini are the known ones; any other name is OpenAI-compatible and needs a base URL." />}
        {!existing && <Select label="Wire format" value={kind} onValue={setKind} disabled={!canWrite} options={['openai', 'anthropic', 'gemini']} />}
        <Field label="Base URL" type="url" value={baseUrl} onValue={setBaseUrl} disabled={!canWrite} placeholder="https://…"
          hint="A new base URL drops the stored key unless you give the key again." />
      </div>
      <div class="row">
        <Field label={existing?.has_key ? `API key (stored, ends in ${existing.key_last_four ?? '····'}; type to replace)` : 'API key'}
          type="password" autoComplete="off" value={apiKey} onValue={setApiKey} disabled={!canWrite}
          hint="Write-only: stored encrypted, never shown again." />
      </div>
      <Checkbox label="Enabled" checked={enabled} onChecked={setEnabled} disabled={!canWrite} />
      <div class="row">
        <TextArea label="Allow these endpoints too" rows={3} value={add} onValue={setAdd} readOnly={!canWrite}
          hint='One pattern per line, e.g. POST /v1/threads/{thread}/runs usage' />
        <TextArea label="Deny these default endpoints" rows={3} value={remove} onValue={setRemove} readOnly={!canWrite} hint="One pattern per line." />
      </div>
      {existing?.endpoints && <details><summary>Endpoints allowed now ({existing.endpoints.length})</summary><pre>{existing.endpoints.join('\n')}</pre></details>}
      <div class="actions">
        <Button type="submit" kind="primary" busy={save.busy} busyText="Saving…" disabled={!canWrite}>{existing ? 'Save' : 'Add provider'}</Button>
        {existing?.has_key && (
          <ConfirmButton label="Remove key" question="Calls through this provider fail until a key is set again." confirmLabel="Yes, remove key"
            busy={removeKey.busy} busyText="Removing…" disabled={!canWrite} onConfirm={() => void removeKey.run()} />
        )}
      </div>
      <ErrorText error={removeKey.error} />
      {saved && <Notice>Saved.</Notice>}
    </Form>
  );
}

function ProviderCard({ row, onChanged }: { row: ProviderRow; onChanged(): void }) {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const detail = useLoad((signal) => admin<ProviderRow>('GET', `/providers/${enc(row.name)}`, undefined, { signal }), [row.name, row.updated_at]);
  const remove = useAction(async () => {
    await admin('DELETE', `/providers/${enc(row.name)}`);
    onChanged();
  });
  return (
    <Section title={`${row.name} (${row.kind})`} actions={
      <ConfirmButton label={`Remove ${row.name}`} question="Remove the provider and its key?" confirmLabel="Yes, remove"
        busy={remove.busy} busyText="Removing…" disabled={!canWrite} onConfirm={() => void remove.run()} />
    }>
      <p>
        <span class={row.enabled ? 'tag good' : 'tag bad'}>{row.enabled ? 'enabled' : 'disabled'}</span>
        {row.has_key ? <span class="tag">key ····{row.key_last_four}</span> : <span class="tag bad">no key</span>}
        <code>{row.base_url}</code>
      </p>
      <ErrorText error={remove.error ?? detail.error} />
      <ProviderForm key={row.updated_at} existing={detail.data ?? row} onSaved={onChanged} />
    </Section>
  );
}

function Providers() {
  const admin = useAdmin();
  const providers = useLoad((signal) => admin<{ providers: ProviderRow[] }>('GET', '/providers', undefined, { signal }), []);
  const [adding, setAdding] = useState(0);
  return (
    <>
      {providers.loading && !providers.data && <Loading what="providers" />}
      <ErrorText error={providers.error} />
      {providers.data?.providers.map((p) => <ProviderCard key={p.name} row={p} onChanged={providers.reload} />)}
      <Section title="Add a provider">
        <ProviderForm key={adding} existing={null} onSaved={() => { setAdding(adding + 1); providers.reload(); }} />
      </Section>
    </>
  );
}

function Quotas() {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const quotas = useLoad((signal) => admin<{ tokens_per_day: number | null; tokens_per_month: number | null }>('GET', '/llm/quotas', undefined, { signal }), []);
  const [day, setDay] = useState<string | null>(null);
  const [month, setMonth] = useState<string | null>(null);
  const save = useAction(async () => {
    const value = (v: string | null, current: number | null) => (v === null ? current : v.trim() === '' ? null : Number(v));
    await admin('PUT', '/llm/quotas', { tokens_per_day: value(day, quotas.data?.tokens_per_day ?? null), tokens_per_month: value(month, quotas.data?.tokens_per_month ?? null) });
    setDay(null);
    setMonth(null);
    quotas.reload();
  });
  if (!quotas.data) return <Section title="Quotas per user">{quotas.loading ? <Loading what="quotas" /> : <ErrorText error={quotas.error} />}</Section>;
  return (
    <Section title="Quotas per user">
      <Form onSubmit={() => void save.run()} error={save.error} label="Token quotas">
        <div class="row">
          <Field label="Tokens per day (UTC)" type="number" min={0} value={day ?? String(quotas.data.tokens_per_day ?? '')} onValue={setDay} disabled={!canWrite} hint="Empty: no limit." />
          <Field label="Tokens per month (UTC)" type="number" min={0} value={month ?? String(quotas.data.tokens_per_month ?? '')} onValue={setMonth} disabled={!canWrite} hint="Empty: no limit." />
          <Button type="submit" kind="primary" busy={save.busy} busyText="Saving…" disabled={!canWrite}>Save quotas</Button>
        </div>
      </Form>
    </Section>
  );
}

function Usage() {
  const admin = useAdmin();
  const [days, setDays] = useState('7');
  const usage = useLoad((signal) => {
    const to = new Date();
    const from = new Date(to.getTime() - Number(days) * 86_400_000);
    return admin<{ usage: UsageRow[] }>('GET', '/llm/usage', undefined, { signal, query: { from: from.toISOString(), to: to.toISOString() } });
  }, [days]);
  const sum = (key: (r: UsageRow) => string) => {
    const totals = new Map<string, number>();
    for (const r of usage.data?.usage ?? []) totals.set(key(r), (totals.get(key(r)) ?? 0) + r.total_tokens);
    return [...totals].map(([label, value]) => ({ label, value }));
  };
  return (
    <Section title="Usage" actions={<Select label="Period" value={days} onValue={setDays} options={[
      { value: '1', label: 'Last day' }, { value: '7', label: 'Last 7 days' }, { value: '30', label: 'Last 30 days' },
    ]} />}>
      {usage.loading && !usage.data && <Loading what="usage" />}
      <ErrorText error={usage.error} />
      {usage.data && (
        <div class="grid">
          <BarChart title="Tokens per user" bars={sum((r) => r.user_id)} />
          <BarChart title="Tokens per model" bars={sum((r) => `${r.provider}/${r.model}`)} />
        </div>
      )}
    </Section>
  );
}

function RequestLog() {
  const admin = useAdmin();
  const { canWrite } = useSession();
  const settings = useLoad((signal) => admin<RequestLogSettings>('GET', '/llm/request-log', undefined, { signal }), []);
  const [retention, setRetention] = useState<string | null>(null);
  const [userFilter, setUserFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before[before.length - 1];
  const entries = useLoad((signal) => admin<{ entries: RequestLogEntry[]; next_before: string | null }>('GET', '/llm/request-log/entries', undefined, {
    signal, query: { user_id: applied || undefined, limit: 20, before: cursor },
  }), [applied, cursor]);
  const toggle = useAction(async (enabled: boolean) => {
    await admin('PUT', '/llm/request-log', { enabled, ...(enabled ? { retention_days: Number(retention ?? settings.data?.retention_days ?? 30) || 30 } : {}) });
    settings.reload();
  });
  const purge = useAction(async () => {
    await admin('DELETE', '/llm/request-log/entries', undefined, { query: { user_id: applied || undefined } });
    entries.reload();
  });
  return (
    <Section title="Request log">
      <ErrorText error={settings.error} />
      {settings.data && (
        <div class="row">
          <p>Logging of prompts and completions is <strong>{settings.data.enabled ? 'on' : 'off'}</strong>
            {settings.data.enabled && ` (kept ${settings.data.retention_days} days)`}.</p>
          {!settings.data.enabled && <Field label="Keep for (days)" type="number" min={1} value={retention ?? String(settings.data.retention_days || 30)} onValue={setRetention} disabled={!canWrite} />}
          <Button busy={toggle.busy} busyText="Saving…" disabled={!canWrite} onClick={() => void toggle.run(!settings.data!.enabled)}>
            {settings.data.enabled ? 'Turn logging off' : 'Turn logging on'}
          </Button>
        </div>
      )}
      <ErrorText error={toggle.error} />
      <Form onSubmit={() => { setApplied(userFilter.trim()); setBefore([]); }} label="Filter the request log">
        <div class="row">
          <Field label="User id or key:<id>" value={userFilter} onValue={setUserFilter} />
          <Button type="submit">Filter</Button>
          <ConfirmButton label={applied ? 'Delete this user\'s entries' : 'Delete all entries'} question="Logged prompts and completions are deleted for good."
            confirmLabel="Yes, delete" busy={purge.busy} busyText="Deleting…" disabled={!canWrite} onConfirm={() => void purge.run()} />
        </div>
      </Form>
      <ErrorText error={entries.error ?? purge.error} />
      {entries.loading && !entries.data && <Loading what="entries" />}
      {entries.data && (
        <>
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead><tr><th>When</th><th>User</th><th>Request</th><th>Model</th><th class="num">Tokens</th><th class="num">Status</th><th class="num">ms</th><th>Bodies</th></tr></thead>
              <tbody>
                {entries.data.entries.map((e) => (
                  <tr key={e.id}>
                    <td>{formatDate(e.created_at)}</td><td><code>{e.user_id}</code></td><td>{e.provider} {e.method} {e.path}</td>
                    <td>{e.model ?? '—'}</td><td class="num">{e.total_tokens ?? '—'}</td><td class="num">{e.status}</td><td class="num">{e.duration_ms}</td>
                    <td>{e.bodies_unreadable ? <span class="tag bad">unreadable</span> : (
                      <details><summary>Show{e.truncated ? ' (cut)' : ''}</summary>
                        <h4>Request</h4><pre>{e.request_body ?? '—'}</pre><h4>Response</h4><pre>{e.response_body ?? '—'}</pre>
                      </details>
                    )}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {entries.data.entries.length === 0 && <p class="muted">No logged requests.</p>}
          <div class="actions">
            <Button disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>Newer</Button>
            <Button disabled={!entries.data.next_before} onClick={() => setBefore([...before, entries.data!.next_before!])}>Older</Button>
          </div>
        </>
      )}
    </Section>
  );
}

function Llm() {
  const { canWrite } = useSession();
  const [tab, setTab] = useState<'providers' | 'quotas' | 'usage' | 'log'>('providers');
  const tabs = [['providers', 'Providers'], ['quotas', 'Quotas'], ['usage', 'Usage'], ['log', 'Request log']] as const;
  return (
    <>
      <h1>LLM</h1>
      <ReadOnlyNote canWrite={canWrite} />
      <Tabs label="LLM" tabs={tabs} value={tab} onChange={setTab} />
      {tab === 'providers' && <Providers />}
      {tab === 'quotas' && <Quotas />}
      {tab === 'usage' && <Usage />}
      {tab === 'log' && <RequestLog />}
    </>
  );
}

export const llmPage: PageDefinition = { path: '/llm', title: 'LLM', nav: 'ai', access: 'project', component: Llm };
