import type { ResourceScope, ResourceStore } from '../ownership/index.js';
import type { EndpointMatch, ProviderKind } from '../whitelist/index.js';
import { usageFrom, type TokenUsage } from './extract.js';
import type { QuotaSubject } from './quota-store.js';
import type { UsageKey } from './usage-store.js';

// OpenAI Assistants runs and background responses are answered before they
// have run: their `usage` appears only once they settle, on a later GET, a
// list page, a cancel or a stream's last event. Each is counted once, when
// Gatehouse first sees it settled, against the user who created it; the
// resource's ownership row records that it was counted (`accounted_at`,
// claimed by compare-and-set), so polls, concurrent requests and other
// instances never count it again.

/** OpenAI objects whose usage arrives after the request that started them. */
const DEFERRED_OBJECTS = new Set(['thread.run', 'response']);
/** Statuses after which a run's or response's usage no longer changes. */
const SETTLED = new Set(['completed', 'incomplete', 'failed', 'cancelled', 'expired']);

type Doc = Record<string, unknown>;

export function isDeferred(doc: unknown): doc is Doc {
  return !!doc && typeof doc === 'object' && !Array.isArray(doc) && DEFERRED_OBJECTS.has(String((doc as Doc).object));
}

/** True once a run's or response's status is final (its usage, if any, no longer changes). */
export function hasSettled(doc: Doc): boolean {
  return SETTLED.has(String(doc.status));
}

/** A run or response that has settled with usage: its id and tokens; else null. */
export function settled(kind: ProviderKind, doc: Doc): { id: string; usage: TokenUsage } | null {
  if (typeof doc.id !== 'string' || doc.id === '' || !SETTLED.has(String(doc.status))) return null;
  if (!doc.usage || typeof doc.usage !== 'object') return null;
  const usage = usageFrom(kind, doc);
  return usage ? { id: doc.id, usage } : null;
}

/**
 * The id of the run or response a stream event carries, if it is settled
 * with usage (`thread.run.completed` is the run itself; `response.completed`
 * wraps it in `response`).
 */
export function settledId(kind: ProviderKind, event: unknown): string | null {
  if (kind !== 'openai' || !event || typeof event !== 'object') return null;
  const inner = (event as Doc).response ?? event;
  return isDeferred(inner) ? settled(kind, inner)?.id ?? null : null;
}

/**
 * Runs and responses in a JSON answer (the object itself, or a list page's
 * items), or null when it holds none: then the answer's usage, if any, is
 * the request's own, as for a chat completion.
 */
function deferredObjects(kind: ProviderKind, doc: unknown): Doc[] | null {
  if (kind !== 'openai' || !doc || typeof doc !== 'object') return null;
  if (isDeferred(doc)) return [doc];
  const data = (doc as Doc).data;
  if ((doc as Doc).object !== 'list' || !Array.isArray(data)) return null;
  const items = data.filter(isDeferred);
  return items.length > 0 ? items : null;
}

/**
 * GETs that answer a run, a list of runs or a response: read (not streamed
 * through) so that a settled one is counted. Decided from the pattern's path,
 * not a flag, so that admins' saved endpoint removals keep matching the defaults.
 */
export function answersDeferred(kind: ProviderKind, method: string, match: EndpointMatch): boolean {
  return kind === 'openai' && method === 'GET' && /(\/\{run\}|\/runs|\/\{response\})$/.test(match.pattern.path);
}

/** Where tokens go: the caller (the usual path), or the recorded owner of a settled resource. */
export interface DeferredAccounting {
  kind: ProviderKind;
  resources: ResourceStore;
  scope: ResourceScope;
  account(usage: TokenUsage | null): void;
  accountOwner(owner: string, usage: TokenUsage): void;
  track(work: Promise<unknown>): void;
}

/** Counts the usage in a JSON answer: the request's own, or that of runs and responses seen settled. */
export function accountAnswer(x: DeferredAccounting, usageFlag: boolean, doc: unknown): void {
  const objects = deferredObjects(x.kind, doc);
  if (!objects) {
    if (usageFlag) x.account(usageFrom(x.kind, doc));
    return;
  }
  const found = objects.map((o) => settled(x.kind, o)).filter((s) => s !== null);
  if (found.length === 0) {
    if (usageFlag) x.account(null); // started, not settled: counted later, when seen settled
    return;
  }
  x.track(chargeSettled(x, found));
}

async function chargeSettled(x: DeferredAccounting, found: ReadonlyArray<{ id: string; usage: TokenUsage }>): Promise<void> {
  // One query when everything on the page was counted already (the common poll).
  const pending = await x.resources.unaccounted(x.scope, found.map((s) => s.id));
  for (const s of found) {
    const owner = pending.get(s.id);
    // Not recorded: no row to dedupe on, so not counted (every poll would count it again).
    if (owner === undefined) continue;
    if (await x.resources.claimAccounting(x.scope, s.id)) x.accountOwner(owner, s.usage);
  }
}

/**
 * At the end of a stream. One that carried a settled run or response claims
 * it (a later GET must not count it again) and counts its usage only if no
 * one else did first; any other stream counts against the caller, as before.
 * `recorded()` settles once the stream's created resources are recorded (called only
 * for such a stream: a chat stream allocates nothing here).
 */
export function accountStream(x: DeferredAccounting, settledIds: readonly string[], usage: TokenUsage | null, recorded: () => Promise<unknown>): void {
  if (settledIds.length === 0 || !usage) {
    x.account(usage);
    return;
  }
  x.track(recorded().then(() => claimStream(x, [...new Set(settledIds)], usage)));
}

async function claimStream(x: DeferredAccounting, ids: string[], usage: TokenUsage): Promise<void> {
  const pending = await x.resources.unaccounted(x.scope, ids);
  let charged = false;
  for (const id of ids) {
    const owner = pending.get(id);
    if (owner === undefined || !(await x.resources.claimAccounting(x.scope, id))) continue;
    if (!charged) x.accountOwner(owner, usage);
    charged = true;
  }
  if (charged) return;
  // Nothing recorded to claim (say, the record failed): count it as the stream's, as before.
  if ((await x.resources.owners(x.scope, ids)).size === 0) x.account(usage);
}

/** Usage and quota keys of a resource owner (`user:<id>` or `key:<id>`), as the proxy builds them for callers. */
export function ownerCharge(scope: ResourceScope, owner: string): { usageKey: UsageKey; subject: QuotaSubject | null } {
  const user = owner.startsWith('user:') ? owner.slice(5) : null;
  return {
    usageKey: { projectId: scope.projectId, environment: scope.environment, provider: scope.provider, userId: user ?? owner },
    subject: user ? { projectId: scope.projectId, environment: scope.environment, userId: user } : null,
  };
}
