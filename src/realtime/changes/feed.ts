import type { Logger } from 'pino';
import { GatehouseError } from '../../errors/index.js';
import { isOwnRow } from '../../access/index.js';
import { authContextOf, unknownTable, type RowChange, type TableModel } from '../../data/index.js';
import type { ObjectReadAccess } from '../../storage/index.js';
import { SerialQueue } from '../../shared/serial-queue.js';
import { asChangeMessage, changesTopic, STORAGE_OBJECTS, type ChangeMessage } from './message.js';
import { CommitOrder } from './order.js';
import type {
  ChangeEvent, ChangeFeed, ChangePayload, ChangeScope, ChangeSpec, ChangeSubscriber, ChangeType, RealtimeBus,
} from './types.js';
import { canSelect, hasSelfColumns, mask, mayEverSelect, viewOf, type View } from './view.js';
import { parseRowFilter, passesFilter, type RowFilter } from './filter.js';
import { kindOf, typeOfKind } from './kinds.js';
import { answerObject, bucketsOf, objectChanges, OBJECTS_FILTER_MODEL } from './objects.js';

// Row changes from the bus to each subscriber of this instance. The instance listens to a project
// environment's topic while it has a subscriber there; each table's changes are put back in commit
// order, then every subscriber of the table gets what the Data API would have answered it at that
// moment: the rules and column permissions of its current caller, evaluated in memory on the row.
//
// UPDATE, per subscriber: it sees the new row → UPDATE (old_record: the old row if it could see it,
// else {}); it saw the old row but not the new one → a DELETE-shaped event with only the primary key
// in old_record (to subscriptions of DELETE or *), never a new value; neither → nothing.
//
// Storage objects (schema storage, table objects; objects.ts) share the topic, the commit order and
// these UPDATE semantics; who sees an object is storage's own answer (its read access), in memory.

export interface ChangeFeedOptions {
  /** The environment's current tables (the Data API's schema cache). */
  tables(projectId: string, environment: string): Promise<ReadonlyMap<string, TableModel>>;
  /** Who may select which storage object (storage's own answer); absent: no storage.objects changes. */
  objects?: ObjectReadAccess;
  bus: RealtimeBus;
  logger: Logger;
  /** ms a change waits for an earlier one that has not arrived before it goes out anyway. */
  gapWaitMs?: number;
  /** Messages of one project environment waiting at most (default MAX_PENDING_PER_SCOPE). */
  maxPending?: number;
}

const EVENTS: readonly ChangeEvent[] = ['INSERT', 'UPDATE', 'DELETE', '*'];

interface Entry {
  sub: ChangeSubscriber;
  event: ChangeEvent;
  /** A table's name, or STORAGE_OBJECTS. */
  table: string;
  filter: string | undefined;
  view: View | null;
  /** storage.objects: the filter, parsed once (every column is readable, whoever the caller). */
  objectFilter: RowFilter | null;
}

interface ScopeState {
  scope: ChangeScope;
  byTable: Map<string, Set<Entry>>;
  size: number;
  /** Resolves when the bus delivers this topic; to its unsubscribe. */
  listening: Promise<() => Promise<void>>;
  orders: Map<string, CommitOrder<ChangeMessage>>;
  /** Messages are handled one after the other (the table lookup is async), at most maxPending waiting. */
  queue: SerialQueue;
}

/**
 * Messages of one project environment waiting for their turn at most. A table lookup that hangs
 * (a stuck database) would otherwise let the chain grow with every write; over this, new changes
 * are dropped and logged (subscribers miss them, as they would during a bus outage).
 */
export const MAX_PENDING_PER_SCOPE = 10_000;

const keyOf = (scope: ChangeScope) => `${scope.projectId}\u0000${scope.environment}`;

function wants(entry: Entry, type: ChangeType): boolean {
  return entry.event === '*' || entry.event === type;
}

export function createChangeFeed({ tables, objects, bus, logger, gapWaitMs = 1_000, maxPending = MAX_PENDING_PER_SCOPE }: ChangeFeedOptions): ChangeFeed {
  const scopes = new Map<string, ScopeState>();
  let closed = false;

  function currentView(entry: Entry, table: TableModel): View | null {
    const caller = entry.sub.caller();
    let view = entry.view;
    if (!view || view.caller !== caller || view.table !== table) view = entry.view = viewOf(caller, table, entry.filter);
    // A caller swapped for another project's, a key narrowed away from the table, a filter column gone: nothing.
    if (caller.projectId !== entry.sub.environment.projectId || caller.environment !== entry.sub.environment.environment) return null;
    if (!view.scoped || view.filter === 'refused') return null;
    return view;
  }

  function payload(view: View, message: ChangeMessage, type: ChangeType, record: Record<string, unknown>, old: Record<string, unknown>): ChangePayload {
    return {
      schema: 'public', table: message.table, commit_timestamp: message.commitTimestamp, type,
      columns: view.meta, record, old_record: old, errors: null,
    };
  }

  /** One change's fan-out: what was worked out once and is shared by the subscribers it fits. */
  interface Round {
    message: ChangeMessage;
    change: RowChange;
    /** The select rules' verdicts on the new and old row, by rule identity (view.ts). */
    verdicts: Map<string, Verdicts>;
    /** Payloads by column view (signature), then by shape (slotOf). */
    payloads: Map<string, Array<ChangePayload | undefined>>;
  }
  interface Verdicts { newSeen: boolean; oldSeen: boolean }

  function verdictsOf(view: View, change: RowChange): Verdicts {
    const { record, old } = change;
    return {
      newSeen: record !== null && change.type !== 'DELETE' && canSelect(view, record),
      oldSeen: old !== null && change.type !== 'INSERT' && canSelect(view, old),
    };
  }

  const KINDS = { insert: 0, update: 1, delete: 2, gone: 3 } as const;

  /** One payload per (kind of answer, column view, ownership): ten thousand subscribers of a few kinds share a few objects. */
  function answer(entry: Entry, view: View, round: Round): ChangePayload | null {
    const { change, message } = round;
    const filter = view.filter as Exclude<View['filter'], 'refused'>;
    const { record, old } = change;
    let verdicts: Verdicts | undefined;
    if (view.ruleIdentity === null) verdicts = verdictsOf(view, change);
    else if ((verdicts = round.verdicts.get(view.ruleIdentity)) === undefined) round.verdicts.set(view.ruleIdentity, (verdicts = verdictsOf(view, change)));
    const { newSeen, oldSeen } = verdicts;
    const kind = kindOf(change.type, newSeen, oldSeen);
    if (kind === null) return null;
    const type = typeOfKind(kind);
    if (!wants(entry, type)) return null;
    const selfCols = hasSelfColumns(view);
    const uid = view.auth.uid;
    const ownNew = selfCols && record !== null && isOwnRow(record, uid);
    const ownOld = selfCols && old !== null && isOwnRow(old, uid);
    // The filter sees the row the event is about, as the caller may read it.
    const subject = kind === 'insert' || kind === 'update' ? record! : old!;
    // Everything the payload depends on besides the row: the column view, the kind, whose rows, whether the old row was seen.
    let shapes = round.payloads.get(view.signature);
    if (shapes === undefined) round.payloads.set(view.signature, (shapes = []));
    const slot = KINDS[kind] * 8 + (ownNew ? 4 : 0) + (ownOld ? 2 : 0) + (oldSeen ? 1 : 0);
    let out = shapes[slot];
    if (out === undefined) {
      if (kind === 'gone') out = payload(view, message, 'DELETE', {}, { id: old!.id });
      else if (kind === 'delete') out = payload(view, message, 'DELETE', {}, mask(view, old!));
      else out = payload(view, message, type, mask(view, record!), kind === 'update' && oldSeen ? mask(view, old!) : {});
      shapes[slot] = out;
    }
    if (filter && !passesFilter(filter, kind === 'gone' ? mask(view, subject) : kind === 'delete' ? out.old_record : out.record)) return null;
    return out;
  }

  function dispatch(state: ScopeState, message: ChangeMessage, table: TableModel): void {
    const entries = state.byTable.get(message.table);
    if (!entries) return;
    for (const change of message.changes) {
      const round: Round = { message, change, verdicts: new Map(), payloads: new Map() };
      for (const entry of entries) {
        const view = currentView(entry, table);
        if (!view) continue;
        const out = answer(entry, view, round);
        if (!out) continue;
        try {
          entry.sub.deliver(out);
        } catch (error) {
          logger.error({ err: error }, 'realtime: a subscriber threw on delivery');
        }
      }
    }
  }

  /** Storage objects: the buckets' rules read once per message (cached), then decided in memory per subscriber. */
  async function dispatchObjects(state: ScopeState, message: ChangeMessage): Promise<void> {
    const entries = state.byTable.get(STORAGE_OBJECTS);
    if (!entries || !objects) return;
    const changes = objectChanges(message.changes);
    const check = await objects.forBuckets(state.scope.projectId, state.scope.environment, bucketsOf(changes));
    for (const change of changes) {
      const memo = new Map<string, ChangePayload>();
      for (const entry of entries) {
        const out = answerObject({ caller: entry.sub.caller(), event: entry.event, filter: entry.objectFilter }, check, message.commitTimestamp, change, memo);
        if (!out) continue;
        try {
          entry.sub.deliver(out);
        } catch (error) {
          logger.error({ err: error }, 'realtime: a subscriber threw on delivery');
        }
      }
    }
  }

  function handle(state: ScopeState, message: ChangeMessage): void {
    const queued = state.queue.push(async () => {
      if (!state.byTable.has(message.table)) return;
      if (message.table === STORAGE_OBJECTS) return dispatchObjects(state, message);
      const current = await tables(state.scope.projectId, state.scope.environment);
      const table = current.get(message.table);
      if (table) dispatch(state, message, table);
    });
    if (!queued) logger.warn({ table: message.table, pending: state.queue.pending }, 'realtime: too many changes waiting; this one is dropped');
  }

  function receive(state: ScopeState, raw: unknown): void {
    const message = asChangeMessage(raw);
    if (!message) return;
    if (!state.byTable.has(message.table)) return;
    let order = state.orders.get(message.table);
    if (!order) state.orders.set(message.table, (order = new CommitOrder((m) => handle(state, m), gapWaitMs)));
    order.accept(message);
  }

  function release(state: ScopeState): void {
    if (state.size > 0) return;
    scopes.delete(keyOf(state.scope));
    for (const order of state.orders.values()) order.close();
    state.listening.then((stop) => stop()).catch(() => undefined);
  }

  return {
    async subscribe(sub, spec: ChangeSpec) {
      if (closed) throw new GatehouseError('service_unavailable');
      if (!EVENTS.includes(spec.event)) {
        throw new GatehouseError('validation_failed', { message: 'event must be one of INSERT, UPDATE, DELETE, *', details: { parameter: 'event' } });
      }
      const caller = sub.caller();
      const scope: ChangeScope = { projectId: sub.environment.projectId, environment: sub.environment.environment };
      if (typeof spec.table !== 'string') throw unknownTable('');
      // Unknown, outside the caller's key scopes, or no select rule that could ever let it read: one error for all three.
      if (caller.projectId !== scope.projectId || caller.environment !== scope.environment) throw unknownTable(spec.table);
      let entry: Entry;
      if (spec.schema === 'storage') {
        // storage.objects exists in every environment; what each object shows is decided per change.
        if (spec.table !== 'objects' || !objects) throw unknownTable(spec.table);
        const objectFilter = spec.filter ? parseRowFilter(spec.filter, OBJECTS_FILTER_MODEL, authContextOf(caller)) : null;
        entry = { sub, event: spec.event, table: STORAGE_OBJECTS, filter: spec.filter || undefined, view: null, objectFilter };
      } else {
        const table = (await tables(scope.projectId, scope.environment)).get(spec.table);
        if (!table) throw unknownTable(spec.table);
        const view = viewOf(caller, table, undefined);
        if (!view.scoped || !mayEverSelect(view)) throw unknownTable(spec.table);
        // The filter's own errors (syntax, unknown or unreadable column, bad value) only once the table is known readable.
        if (spec.filter !== undefined && spec.filter !== '') {
          parseRowFilter(spec.filter, table, view.auth);
        }
        entry = { sub, event: spec.event, table: spec.table, filter: spec.filter || undefined, view: null, objectFilter: null };
      }
      const key = keyOf(scope);
      let state = scopes.get(key);
      if (!state) {
        const fresh: ScopeState = { scope, byTable: new Map(), size: 0, orders: new Map(), queue: new SerialQueue(maxPending, (error: unknown) => logger.warn({ err: error }, 'realtime: a change could not be delivered')), listening: null as never };
        fresh.listening = bus.subscribe(changesTopic(scope.projectId, scope.environment), (m) => receive(fresh, m));
        scopes.set(key, (state = fresh));
      }
      let set = state.byTable.get(entry.table);
      if (!set) state.byTable.set(entry.table, (set = new Set()));
      set.add(entry);
      state.size++;
      const owner = state;
      let done = false;
      const unsubscribe = () => {
        if (done) return;
        done = true;
        const entries = owner.byTable.get(entry.table);
        entries?.delete(entry);
        if (entries && entries.size === 0) {
          owner.byTable.delete(entry.table);
          owner.orders.get(entry.table)?.close();
          owner.orders.delete(entry.table);
        }
        owner.size--;
        release(owner);
      };
      try {
        await owner.listening;
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return { unsubscribe };
    },
    async close() {
      closed = true;
      const all = [...scopes.values()];
      scopes.clear();
      for (const state of all) {
        for (const order of state.orders.values()) order.close();
        await state.listening.then((stop) => stop()).catch(() => undefined);
      }
    },
  };
}
