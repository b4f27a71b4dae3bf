import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { RealtimeBus } from '../changes/index.js';
import { PresenceTable, toMap, type PresenceMap, type PresenceMeta } from '../presence/presence.js';
import type { BroadcastBody } from './protocol.js';

// Broadcast and presence between the joined channels of every instance. Members on this instance
// are served directly; the others hear it over the bus (one topic for all channels: a channel
// name never becomes a Redis channel or a PostgreSQL NOTIFY identifier). Presence stays
// consistent across instances: an instance that starts serving a channel asks the others for
// their entries, every instance says it is alive every ALIVE_MS, and the entries of an instance
// not heard from for SILENT_MS (it crashed) are dropped with a presence_diff.

export const BUS_TOPIC = 'realtime_socket';
const ALIVE_MS = 5_000;
const SILENT_MS = 15_000;

export interface HubMember {
  /** `<project>:<environment>:<private|public>:<channel>`: who hears whom. */
  readonly scope: string;
  /** broadcast.self: whether the member hears its own broadcasts. */
  readonly self: boolean;
  /** `body` is one object per message, the same for every member: read it, never change it (its frames are shared). */
  onBroadcast(event: string, body: BroadcastBody): void;
  /** `diff` is one object per diff, the same for every member: read it, never change it (its frames are shared). */
  onPresenceDiff(diff: PresenceDiff): void;
}

/** One presence_diff payload. */
export interface PresenceDiff {
  readonly joins: PresenceMap;
  readonly leaves: PresenceMap;
}

type BusMessage =
  | { k: 'broadcast'; i: string; s: string; e: string; json?: unknown; b64?: string }
  | { k: 'join'; i: string; s: string; key: string; meta: PresenceMeta }
  | { k: 'leave'; i: string; s: string; ref: string }
  | { k: 'sync'; i: string; s: string }
  | { k: 'state'; i: string; s: string; entries: { key: string; meta: PresenceMeta }[] }
  | { k: 'alive'; i: string }
  | { k: 'bye'; i: string };

export interface Hub {
  add(member: HubMember): void;
  /** Removes the member and its presence. */
  remove(member: HubMember): void;
  broadcast(scope: string, event: string, body: BroadcastBody, from: HubMember | null): void;
  /** Tracks (or re-tracks) the member under `key`; Phoenix replaces a member's earlier meta. */
  track(member: HubMember, key: string, payload: Record<string, unknown>): void;
  untrack(member: HubMember): void;
  presenceState(scope: string): PresenceMap;
  start(): Promise<void>;
  close(): Promise<void>;
  readonly instance: string;
}

export function createHub({ bus, logger, clock }: { bus: RealtimeBus; logger: Logger; clock: Pick<Clock, 'nowMs'> }): Hub {
  const instance = randomUUID();
  const members = new Map<string, Set<HubMember>>();
  const tracked = new Map<HubMember, { key: string; ref: string }>();
  const presence = new PresenceTable();
  const lastSeen = new Map<string, number>();
  let unsubscribe: (() => Promise<void>) | null = null;
  let timer: NodeJS.Timeout | null = null;

  function publish(message: BusMessage): void {
    // Fire and forget: a bus outage loses cross-instance messages, never the local ones.
    bus.publish(BUS_TOPIC, message).catch((error: Error) => logger.warn({ err: error.message }, 'realtime: bus publish failed'));
  }

  function localMembers(scope: string): Iterable<HubMember> {
    return members.get(scope) ?? [];
  }

  // One member that fails (a socket that throws on send) must not cost the others their message.
  function each(scope: string, deliver: (member: HubMember) => void): void {
    for (const member of localMembers(scope)) {
      try {
        deliver(member);
      } catch (error) {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'realtime: delivery to a member failed');
      }
    }
  }

  function deliverBroadcast(scope: string, event: string, body: BroadcastBody, from: HubMember | null): void {
    each(scope, (member) => {
      if (member !== from || member.self) member.onBroadcast(event, body);
    });
  }

  function diff(scope: string, joins: PresenceMap, leaves: PresenceMap): void {
    const shared: PresenceDiff = { joins, leaves };
    each(scope, (member) => member.onPresenceDiff(shared));
  }

  function onMessage(raw: unknown): void {
    const message = raw as BusMessage;
    if (!message || typeof message !== 'object' || message.i === instance) return;
    lastSeen.set(message.i, clock.nowMs());
    switch (message.k) {
      case 'broadcast':
        if (members.has(message.s)) deliverBroadcast(message.s, message.e, message.b64 !== undefined ? { bytes: Buffer.from(message.b64, 'base64') } : { json: message.json }, null);
        return;
      case 'join':
        if (!members.has(message.s)) return;
        presence.add(message.s, message.key, message.meta, message.i);
        diff(message.s, toMap([{ key: message.key, meta: message.meta }]), {});
        return;
      case 'leave': {
        const removed = members.has(message.s) ? presence.remove(message.s, message.ref) : undefined;
        if (removed) diff(message.s, {}, toMap([removed]));
        return;
      }
      case 'sync': {
        const entries = presence.entriesOf(message.s, instance);
        if (entries.length > 0) publish({ k: 'state', i: instance, s: message.s, entries });
        return;
      }
      case 'state': {
        if (!members.has(message.s)) return;
        const known = new Set(presence.entriesOf(message.s).map((e) => e.meta.phx_ref));
        const fresh = message.entries.filter((e) => !known.has(e.meta.phx_ref));
        for (const entry of fresh) presence.add(message.s, entry.key, entry.meta, message.i);
        if (fresh.length > 0) diff(message.s, toMap(fresh), {});
        return;
      }
      case 'bye':
        dropInstance(message.i);
        return;
      default:
    }
  }

  function dropInstance(other: string): void {
    lastSeen.delete(other);
    for (const [scope, entries] of presence.removeInstance(other)) diff(scope, {}, toMap(entries));
  }

  function untrack(member: HubMember): void {
    const current = tracked.get(member);
    if (!current) return;
    tracked.delete(member);
    const removed = presence.remove(member.scope, current.ref);
    if (removed) diff(member.scope, {}, toMap([removed]));
    publish({ k: 'leave', i: instance, s: member.scope, ref: current.ref });
  }

  return {
    instance,
    async start() {
      unsubscribe = await bus.subscribe(BUS_TOPIC, onMessage);
      timer = setInterval(() => {
        if (members.size > 0) publish({ k: 'alive', i: instance });
        const now = clock.nowMs();
        for (const [other, seen] of lastSeen) if (now - seen > SILENT_MS) dropInstance(other);
      }, ALIVE_MS);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      if (tracked.size > 0) await bus.publish(BUS_TOPIC, { k: 'bye', i: instance } satisfies BusMessage).catch(() => {});
      await unsubscribe?.();
    },
    add(member) {
      let set = members.get(member.scope);
      if (!set) {
        members.set(member.scope, (set = new Set()));
        // First member here: the other instances send what they track in this channel.
        publish({ k: 'sync', i: instance, s: member.scope });
      }
      set.add(member);
    },
    remove(member) {
      untrack(member);
      const set = members.get(member.scope);
      if (!set) return;
      set.delete(member);
      if (set.size === 0) {
        members.delete(member.scope);
        presence.dropScope(member.scope);
      }
    },
    broadcast(scope, event, body, from) {
      deliverBroadcast(scope, event, body, from);
      publish('bytes' in body
        ? { k: 'broadcast', i: instance, s: scope, e: event, b64: body.bytes.toString('base64') }
        : { k: 'broadcast', i: instance, s: scope, e: event, json: body.json });
    },
    track(member, key, payload) {
      untrack(member);
      const meta: PresenceMeta = { ...payload, phx_ref: randomUUID() };
      tracked.set(member, { key, ref: meta.phx_ref });
      presence.add(member.scope, key, meta, instance);
      diff(member.scope, toMap([{ key, meta }]), {});
      publish({ k: 'join', i: instance, s: member.scope, key, meta });
    },
    untrack,
    presenceState(scope) {
      return presence.state(scope);
    },
  };
}
