import { GatehouseError } from '../../errors/index.js';
import type { EndpointMatch, ProviderKind } from '../whitelist/index.js';
import { bodyReferences, createdResources, listItems, paramCheck, type Reference } from './resource-kinds.js';
import type { ResourceScope, ResourceStore } from './store.js';

/** Whose resources a request may touch. A secret key (server-side admin) is not limited. */
export interface Owner {
  /** `user:<id>` or `key:<id>`; recorded on what the request creates. */
  id: string;
  enforced: boolean;
}

export interface Denial {
  kind: string;
  where: 'path' | 'body' | 'query';
  /** `unreadable`: a reference Gatehouse could not normalise (a Gemini file URI): refused like an unknown id. */
  reason: 'not_recorded' | 'other_owner' | 'unreadable';
}

/**
 * Checks every id the request names, in its path or body, against the
 * records, with one query. Someone else's resource and an unknown one get the
 * same 404, so ids cannot be probed (docs/api.md: never reveal another user's resource).
 */
export async function authorizeResources(
  store: ResourceStore, scope: ResourceScope, owner: Owner, match: EndpointMatch, body: unknown, query = '',
): Promise<Denial | null> {
  if (!owner.enforced) return null;
  const checks: Array<Reference & { where: Denial['where']; nested: boolean }> = [];
  let ownedParent = false;
  for (const { name, value } of match.params) {
    const check = paramCheck(name, ownedParent);
    if (check === 'free') continue;
    checks.push({ kind: name, id: value, where: 'path', nested: check === 'nested' });
    if (check === 'owned') ownedParent = true;
  }
  // A list's cursor names an item to page from: anyone else's would tell whether it exists.
  if (query !== '' && match.pattern.flags.has('list')) {
    const params = new URLSearchParams(query);
    for (const name of LIST_CURSORS) for (const id of params.getAll(name)) checks.push({ kind: 'list_cursor', id, where: 'query', nested: false });
  }
  for (const ref of bodyReferences(body)) {
    if (ref.unreadable) return { kind: ref.kind, where: 'body', reason: 'unreadable' };
    checks.push({ ...ref, where: 'body', nested: false });
  }
  if (checks.length === 0) return null;
  const owners = await store.owners(scope, checks.map((c) => c.id));
  for (const check of checks) {
    const recorded = owners.get(check.id);
    if (recorded === owner.id) continue;
    if (recorded === undefined && check.nested) continue;
    return { kind: check.kind, where: check.where, reason: recorded === undefined ? 'not_recorded' : 'other_owner' };
  }
  return null;
}

/** Query parameters of OpenAI (`after`, `before`) and Anthropic (`after_id`, `before_id`) lists that name an item. */
const LIST_CURSORS = ['after', 'before', 'after_id', 'before_id'];

export function notFound(denial: Denial): GatehouseError {
  const what = denial.kind.replace(/_/g, ' ');
  return new GatehouseError('not_found', {
    message: denial.where === 'path' ? `No such ${what}.` : `A ${what} referenced in the request ${denial.where} does not exist.`,
  });
}

/** After a successful response: record what it created, forget what it deleted. */
export async function recordOutcome(
  store: ResourceStore, scope: ResourceScope, owner: Owner, kind: ProviderKind, match: EndpointMatch, method: string, body: unknown,
): Promise<void> {
  if (method === 'DELETE') {
    const last = match.params[match.params.length - 1];
    if (last && !match.pattern.flags.has('detach') && paramCheck(last.name, true) !== 'free') await store.remove(scope, owner.id, last.value);
    return;
  }
  const created = createdResources(kind, body);
  if (created.length === 0) return;
  // A GET of one's own batch may reveal its output files: give them to the owner.
  // On any other non-POST, only those follow-on ids are recorded, never the object itself.
  await store.record(scope, owner.id, method === 'POST' ? created : created.slice(1));
}

/**
 * List endpoints show only the caller's resources. We filter the provider's
 * own page rather than answering from our records: the page stays fresh
 * (status, names, sizes) at the cost of one query, whereas answering from
 * records would need one upstream call per item. The trade-off: a page can
 * come back shorter than `limit`, even empty.
 *
 * The page's cursors are the caller's too: `first_id` / `last_id` name the
 * first and last items kept (the provider's named someone else's resource
 * whenever that one was filtered out), and the next page is asked for after
 * the caller's own last item (as the SDKs do), which the request check allows.
 * An empty page has no such item, so it says `has_more: false` rather than send
 * a client round a loop. Gemini's `nextPageToken` is Google's opaque cursor and
 * may encode the last file's name: it is passed on only when that file is the
 * caller's.
 */
export async function filterList(
  store: ResourceStore, scope: ResourceScope, owner: Owner, kind: ProviderKind, body: unknown,
): Promise<unknown> {
  if (!owner.enforced) return body;
  const list = listItems(kind, body);
  if (!list) return { ...(body as object), data: [] };
  const owners = await store.owners(scope, list.items.map((i) => i.id).filter(Boolean));
  const kept = list.items.filter((i) => owners.get(i.id) === owner.id);
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>), [list.key]: kept.map((i) => i.item) };
  if ('first_id' in out) out.first_id = kept[0]?.id ?? null;
  if ('last_id' in out) out.last_id = kept.at(-1)?.id ?? null;
  if ('has_more' in out && kept.length === 0) out.has_more = false;
  const lastIsOwn = list.items.length > 0 && kept.at(-1) === list.items.at(-1);
  if ('nextPageToken' in out && !lastIsOwn) delete out.nextPageToken;
  return out;
}
