// Presence of one instance's view of the cluster: per channel scope, who is tracked under which
// key, with one meta per tracking (Phoenix's `phx_ref`). realtime-js merges `presence_state`
// (the whole map, sent at join) and `presence_diff` (joins and leaves) into its own state.

export interface PresenceMeta {
  phx_ref: string;
  [field: string]: unknown;
}

/** Phoenix's wire shape: key → { metas }. */
export type PresenceMap = Record<string, { metas: PresenceMeta[] }>;

interface Entry {
  key: string;
  meta: PresenceMeta;
  instance: string;
}

/** The tracked entries of every scope this instance serves, by scope then phx_ref. */
export class PresenceTable {
  private readonly scopes = new Map<string, Map<string, Entry>>();

  add(scope: string, key: string, meta: PresenceMeta, instance: string): void {
    let entries = this.scopes.get(scope);
    if (!entries) this.scopes.set(scope, (entries = new Map()));
    entries.set(meta.phx_ref, { key, meta, instance });
  }

  /** The removed entry, or undefined when it was not there. */
  remove(scope: string, phxRef: string): { key: string; meta: PresenceMeta } | undefined {
    const entries = this.scopes.get(scope);
    const entry = entries?.get(phxRef);
    if (!entries || !entry) return undefined;
    entries.delete(phxRef);
    if (entries.size === 0) this.scopes.delete(scope);
    return entry;
  }

  /** Every entry an instance held, removed (it stopped or went silent), by scope. */
  removeInstance(instance: string): Map<string, { key: string; meta: PresenceMeta }[]> {
    const removed = new Map<string, { key: string; meta: PresenceMeta }[]>();
    for (const [scope, entries] of this.scopes) {
      for (const [ref, entry] of entries) {
        if (entry.instance !== instance) continue;
        entries.delete(ref);
        const list = removed.get(scope) ?? [];
        list.push(entry);
        removed.set(scope, list);
      }
      if (entries.size === 0) this.scopes.delete(scope);
    }
    return removed;
  }

  dropScope(scope: string): void {
    this.scopes.delete(scope);
  }

  entriesOf(scope: string, instance?: string): { key: string; meta: PresenceMeta }[] {
    const out: { key: string; meta: PresenceMeta }[] = [];
    for (const entry of this.scopes.get(scope)?.values() ?? []) if (instance === undefined || entry.instance === instance) out.push(entry);
    return out;
  }

  state(scope: string): PresenceMap {
    return toMap(this.entriesOf(scope));
  }
}

export function toMap(entries: readonly { key: string; meta: PresenceMeta }[]): PresenceMap {
  const map: PresenceMap = {};
  for (const { key, meta } of entries) (map[key] ??= { metas: [] }).metas.push(meta);
  return map;
}
