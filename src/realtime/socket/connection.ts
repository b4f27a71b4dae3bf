import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ApiKeyRejected, createCaller, LOOKS_LIKE_KEY, TokenRejected, type Caller, type CallerKey } from '../../access/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { Clock } from '../../shared/clock.js';
import { SerialQueue } from '../../shared/serial-queue.js';
import type { ChangeEvent, ChangeFeed, ChangePayload, ChangeSubscription } from '../changes/index.js';
import { channelRefusal, channelScope, MAX_CHANNEL_NAME } from '../channels/access.js';
import type { ChannelAction } from '../channels/rules.js';
import type { ChannelSettingsService } from '../channels/settings.js';
import type { Hub, HubMember, PresenceDiff } from './hub.js';
import type { SocketLimits } from './limits.js';
import {
  changeFrameParts, decodeBinary, decodeText, encodeBinaryBroadcast, encodeText, fitsField, FrameError, isObject,
  type BroadcastBody, type ChangeFrameParts, type Frame, type Vsn,
} from './protocol.js';
import { SharedFrames } from './shared-frames.js';

// One WebSocket: Phoenix's channel protocol as realtime-js speaks it. Frames are handled one after
// the other (a join finishes before the next frame is looked at), so a client never sees its own
// messages reordered; the rate limit is counted on arrival, before anything queues.

export interface ConnectionDeps {
  feed: ChangeFeed | null;
  hub: Hub;
  settings: ChannelSettingsService;
  /** The connection's API key checked again (the identify stage's verifier and cache); ApiKeyRejected when it no longer works. */
  verifyKey(key: string): Promise<CallerKey>;
  /** The caller of a user token presented on this connection's key (identity's verifier); TokenRejected when it is not valid. */
  verifyUser(base: Caller, token: string): Promise<Caller>;
  /** A refused token, for the security events. */
  onTokenRejected(base: Caller, reason: string): void;
  limits: SocketLimits;
  registry: ConnectionRegistry;
  clock: Clock;
  logger: Logger;
}

/** Who holds which sockets on this instance: the per-user limit. */
export class ConnectionRegistry {
  readonly open = new Set<Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  readonly byAddress = new Map<string, number>();

  /** Whether `connection` may carry `userId`'s token (it already does, or the user has room). */
  claimUser(connection: Connection, userId: string, limit: number): boolean {
    let set = this.byUser.get(userId);
    if (set?.has(connection)) return true;
    if ((set?.size ?? 0) >= limit) return false;
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(connection);
    return true;
  }

  releaseUser(connection: Connection, userId: string): void {
    const set = this.byUser.get(userId);
    set?.delete(connection);
    if (set?.size === 0) this.byUser.delete(userId);
  }
}

const CHANGE_EVENTS = new Set<ChangeEvent>(['INSERT', 'UPDATE', 'DELETE', '*']);
const TOPIC_PREFIX = 'realtime:';
const SLOW_CONSUMER_GRACE_MS = 1_000;
/** Frames received and not yet handled at most (a join waits on the database): over it the socket is closed. */
export const MAX_PENDING_FRAMES = 64;

interface ChangeBinding { id: number; event: ChangeEvent; schema: string; table: string; filter?: string }

interface Channel {
  topic: string;
  name: string;
  private: boolean;
  joinRef: string | null;
  caller: Caller;
  presenceEnabled: boolean;
  presenceKey: string;
  member: HubMember;
  bindings: ChangeBinding[];
  subscriptions: ChangeSubscription[];
  expiry: NodeJS.Timeout | null;
}

class Refusal extends Error {}

export class Connection {
  private readonly channels = new Map<string, Channel>();
  private readonly users = new Map<string, number>();
  private readonly queue = new SerialQueue(MAX_PENDING_FRAMES, (error: unknown) => this.deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'realtime: frame handling failed'));
  private windowStart = 0;
  private windowCount = 0;
  private nextBindingId = 1;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly vsn: Vsn,
    /** The upgrade's caller; replaced by the recheck, so a narrowed key's new scopes apply to open sockets. */
    private base: Caller,
    /** The upgrade's API key and its `Authorization: Bearer` user token, if any, for the recheck. */
    private readonly credentials: { key: string; bearer: string | undefined },
    readonly address: string,
    private readonly deps: ConnectionDeps,
  ) {
    if (base.user && credentials.bearer !== undefined) tokens.set(base, credentials.bearer);
    socket.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Closes the socket (shutdown, slow consumer, flood); `dispose` runs once it is closed. */
  close(code: number, reason: string): void {
    if (this.socket.readyState >= this.socket.CLOSING) return;
    this.socket.close(code, reason);
    // A client that never answers the close frame is cut.
    setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (!this.admit()) return;
    let frame: Frame | null = null;
    let binary: ReturnType<typeof decodeBinary> | null = null;
    try {
      if (isBinary) {
        if (this.vsn !== '2.0.0') throw new FrameError('binary frames need vsn 2.0.0');
        binary = decodeBinary(data);
      } else {
        frame = decodeText(data.toString('utf8'), this.vsn);
      }
    } catch (error) {
      if (!(error instanceof FrameError)) {
        // Thrown inside a ws listener it would take the process down: this socket ends instead.
        this.deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'realtime: frame decoding failed');
        this.close(1011, 'internal error');
        return;
      }
      // No topic to answer on: the error goes to the `phoenix` topic, the socket stays.
      this.send(encodeText(this.vsn, null, null, 'phoenix', 'phx_error', { reason: `malformed frame: ${error.message}` }));
      return;
    }
    // Bounded: a client that sends faster than its frames are handled (within the rate limit, with
    // slow joins) is closed rather than queued without end.
    const queued = this.queue.push(() => (binary ? this.onBroadcast(binary.topic, binary.joinRef, binary.ref, binary.event, binary.body) : this.handle(frame!)));
    if (!queued) this.close(1008, 'too many pending frames');
  }

  /** Per-connection fixed one-second window: over the limit a frame is refused, over twice it the socket is closed. */
  private admit(): boolean {
    const now = this.deps.clock.nowMs();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount += 1;
    const limit = this.deps.limits.eventsPerSecond;
    if (this.windowCount <= limit) return true;
    if (this.windowCount > 2 * limit) this.close(1008, 'too many events');
    else if (this.windowCount === limit + 1) this.send(encodeText(this.vsn, null, null, 'phoenix', 'phx_error', { reason: 'rate limit exceeded: events are dropped' }));
    return false;
  }

  private async handle(frame: Frame): Promise<void> {
    const { topic, event } = frame;
    if (topic === 'phoenix') {
      if (event === 'heartbeat') return this.reply(frame, 'ok', {});
      return this.reply(frame, 'error', { reason: 'unknown event' });
    }
    if (event === 'phx_join') return this.join(frame);
    const channel = this.channels.get(topic);
    if (!channel) return this.reply(frame, 'error', { reason: 'unmatched topic' });
    switch (event) {
      case 'phx_leave':
        this.leave(channel);
        return this.reply(frame, 'ok', {});
      case 'access_token':
        return this.refreshToken(channel, frame);
      case 'broadcast': {
        const payload = frame.payload;
        if (typeof payload.event !== 'string' || payload.event.length === 0 || !fitsField(payload.event)) {
          return this.reply(frame, 'error', { reason: 'broadcast needs an event name of 1 to 255 bytes' });
        }
        return this.onBroadcast(topic, frame.joinRef, frame.ref, payload.event, { json: payload.payload ?? null });
      }
      case 'presence':
        return this.onPresence(channel, frame);
      default:
        return this.reply(frame, 'error', { reason: 'unknown event' });
    }
  }

  private async join(frame: Frame): Promise<void> {
    const { topic, payload } = frame;
    try {
      if (!topic.startsWith(TOPIC_PREFIX) || topic.length === TOPIC_PREFIX.length || topic.length > TOPIC_PREFIX.length + MAX_CHANNEL_NAME) {
        throw new Refusal(`a topic is realtime:<channel>, the channel 1 to ${MAX_CHANNEL_NAME} characters`);
      }
      const name = topic.slice(TOPIC_PREFIX.length);
      const existing = this.channels.get(topic);
      // A second join of a topic replaces the first (Phoenix's duplicate join).
      if (existing) this.leave(existing);
      if (this.channels.size >= this.deps.limits.channelsPerConnection) throw new Refusal(`too many channels on this connection (at most ${this.deps.limits.channelsPerConnection})`);
      const config = payload.config ?? {};
      if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Refusal('config must be an object');
      const { private: isPrivate = false, broadcast = {}, presence = {}, postgres_changes: changes = [] } = config as Record<string, unknown>;
      if (typeof isPrivate !== 'boolean') throw new Refusal('config.private must be a boolean');
      if (!isObject(broadcast) || !isObject(presence)) throw new Refusal('config.broadcast and config.presence must be objects');
      if (!Array.isArray(changes) || changes.length > this.deps.limits.changesPerJoin) throw new Refusal(`config.postgres_changes must be a list of at most ${this.deps.limits.changesPerJoin}`);
      const caller = await this.callerFor(payload.access_token);
      await this.authorize(caller, name, isPrivate, 'join');
      if (caller.user && !this.claimUser(caller.user.id)) throw new Refusal('too many connections for this user');
      const presenceKey = typeof presence.key === 'string' && presence.key.length > 0 && presence.key.length <= 255 ? presence.key : randomUUID();
      const channel: Channel = {
        topic, name, private: isPrivate, joinRef: frame.joinRef, caller, presenceEnabled: presence.enabled === true, presenceKey,
        bindings: [], subscriptions: [], expiry: null,
        member: this.memberFor(topic, channelScope(caller, name, isPrivate), broadcast.self === true, frame.joinRef),
      };
      // channel.member reads channel state lazily (presenceEnabled, tracked); set before the hub sees it.
      try {
        // Subscribed before the reply: a change made after the client saw "subscribed" is delivered.
        for (const entry of changes) channel.bindings.push(await this.subscribeChange(channel, entry));
      } catch (error) {
        for (const subscription of channel.subscriptions) subscription.unsubscribe();
        if (caller.user) this.releaseUser(caller.user.id);
        throw error;
      }
      this.channels.set(topic, channel);
      this.deps.hub.add(channel.member);
      this.watchExpiry(channel);
      this.reply(frame, 'ok', { postgres_changes: channel.bindings.map(({ id, event, schema, table, filter }) => ({ id, event, schema, table, ...(filter === undefined ? {} : { filter }) })) });
      if (channel.bindings.length > 0) {
        this.push(channel, 'system', { status: 'ok', message: 'Subscribed to PostgreSQL', extension: 'postgres_changes', channel: name });
      }
      if (channel.presenceEnabled) this.push(channel, 'presence_state', this.deps.hub.presenceState(channel.member.scope));
    } catch (error) {
      this.reply(frame, 'error', { reason: reasonOf(error, this.deps.logger) });
    }
  }

  private async subscribeChange(channel: Channel, entry: unknown): Promise<ChangeBinding> {
    if (!isObject(entry)) throw new Refusal('each postgres_changes entry is { event, schema, table, filter }');
    const { event, schema = 'public', table, filter } = entry;
    if (typeof event !== 'string' || !CHANGE_EVENTS.has(event as ChangeEvent)) throw new Refusal('postgres_changes event must be INSERT, UPDATE, DELETE or *');
    // Data API tables in public; storage objects as storage.objects. Anything else as before.
    if (schema !== 'public' && !(schema === 'storage' && table === 'objects')) throw new Refusal('postgres_changes schema must be public');
    if (typeof table !== 'string' || table.length === 0 || table === '*') throw new Refusal('postgres_changes needs a table');
    if (filter !== undefined && filter !== null && typeof filter !== 'string') throw new Refusal('postgres_changes filter must be a string');
    if (!this.deps.feed) throw new Refusal('postgres_changes is not available on this server');
    const id = this.nextBindingId++;
    const parts = changeFrameParts(this.vsn, channel.joinRef, channel.topic, id);
    const subscription = await this.deps.feed.subscribe({
      environment: { projectId: channel.caller.projectId, environment: channel.caller.environment },
      caller: () => channel.caller,
      deliver: (data: ChangePayload) => this.send(changeFrames.get(data, parts.head, changeFrame, parts)),
    }, { event: event as ChangeEvent, schema, table, ...(typeof filter === 'string' ? { filter } : {}) });
    channel.subscriptions.push(subscription);
    return { id, event: event as ChangeEvent, schema, table, ...(typeof filter === 'string' ? { filter } : {}) };
  }

  private memberFor(topic: string, scope: string, self: boolean, joinRef: string | null): HubMember {
    const connection = this;
    const { vsn } = this;
    // Every per-socket part of these frames (shared-frames.ts): the version and topic, and for a diff the join_ref.
    const broadcastKey = `${vsn}\u0000${topic}\u0000`;
    const diffKey = `${vsn}\u0000${topic}\u0000${JSON.stringify(joinRef)}`;
    return {
      scope,
      self,
      onBroadcast(event: string, body: BroadcastBody) {
        // realtime-js 1.0.0 has no binary frames: such a client does not get byte payloads.
        if ('bytes' in body && vsn !== '2.0.0') return;
        connection.send(broadcastFrames.get(body, broadcastKey + event, broadcastFrame, { vsn, topic, event }), 'bytes' in body ? BINARY : TEXT);
      },
      onPresenceDiff(diff: PresenceDiff) {
        const channel = connection.channels.get(topic);
        if (channel?.presenceEnabled) connection.send(diffFrames.get(diff, diffKey, diffFrame, { vsn, topic, joinRef }));
      },
    };
  }

  private async onBroadcast(topic: string, joinRef: string | null, ref: string | null, event: string, body: BroadcastBody): Promise<void> {
    const frame = { joinRef, ref, topic, event: 'broadcast', payload: {} };
    const channel = this.channels.get(topic);
    if (!channel) return this.reply(frame, 'error', { reason: 'unmatched topic' });
    if ('json' in body && !serializable(body.json)) return this.reply(frame, 'error', { reason: 'broadcast payload cannot be sent as JSON' });
    try {
      await this.authorize(channel.caller, channel.name, channel.private, 'send');
    } catch (error) {
      return this.reply(frame, 'error', { reason: reasonOf(error, this.deps.logger) });
    }
    this.deps.hub.broadcast(channel.member.scope, event, body, channel.member);
    if (ref !== null) this.reply(frame, 'ok', {});
  }

  private async onPresence(channel: Channel, frame: Frame): Promise<void> {
    const { event, payload } = frame.payload;
    try {
      if (event === 'untrack') {
        this.deps.hub.untrack(channel.member);
        return this.reply(frame, 'ok', {});
      }
      if (event !== 'track') throw new Refusal('presence event must be track or untrack');
      if (!isObject(payload)) throw new Refusal('presence payload must be an object');
      if (!serializable(payload)) throw new Refusal('presence payload cannot be sent as JSON');
      await this.authorize(channel.caller, channel.name, channel.private, 'track');
      // Tracking shows this client in the channel's presence even when it did not ask for the state.
      channel.presenceEnabled = true;
      this.deps.hub.track(channel.member, channel.presenceKey, payload);
      this.reply(frame, 'ok', {});
    } catch (error) {
      this.reply(frame, 'error', { reason: reasonOf(error, this.deps.logger) });
    }
  }

  private async refreshToken(channel: Channel, frame: Frame): Promise<void> {
    try {
      const caller = await this.callerFor(frame.payload.access_token);
      // The new caller must still be allowed in: a token for another user re-runs the join rule.
      await this.authorize(caller, channel.name, channel.private, 'join');
      // A slot is claimed only for a new user (a refresh of the same user's token holds the one it has).
      const previousId = channel.caller.user?.id;
      const nextId = caller.user?.id;
      if (nextId !== undefined && nextId !== previousId && !this.claimUser(nextId)) throw new Refusal('too many connections for this user');
      channel.caller = caller;
      if (previousId !== undefined && previousId !== nextId) this.releaseUser(previousId);
      this.watchExpiry(channel);
      if (frame.ref !== null) this.reply(frame, 'ok', {});
    } catch (error) {
      this.endChannel(channel, reasonOf(error, this.deps.logger));
    }
  }

  /**
   * Re-verifies the connection's API key and every channel's user token: a revoked or expired key
   * closes the socket, a narrowed key's scopes apply from now on, a revoked session or a changed
   * rule ends the channel. `verifyKey`: the round's shared verifier (routes.ts), else the connection's own.
   */
  async recheck(verifyKey: (key: string) => Promise<CallerKey> = this.deps.verifyKey): Promise<void> {
    if (this.closed) return;
    const previousBase = this.base;
    let key: CallerKey;
    try {
      key = await verifyKey(this.credentials.key);
    } catch (error) {
      if (!(error instanceof ApiKeyRejected)) {
        this.deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'realtime: key recheck failed');
        return;
      }
      this.close(1008, 'api key no longer valid');
      this.dispose();
      return;
    }
    let baseRefusal: unknown = null;
    // The same verified key (the verifier's cache hands out one object per verification) keeps the
    // same caller: the change feed then keeps each subscription's worked-out view.
    this.base = previousBase.user === null && previousBase.key === key ? previousBase : createCaller(key, null);
    try {
      // A user from the upgrade's Authorization header: verified again on the fresh key.
      if (previousBase.user) this.base = await this.callerFor(tokenOf(previousBase));
    } catch (error) {
      // The upgrade's user is gone: the channels that rode on it end below; later joins are guests.
      baseRefusal = error;
    }
    for (const channel of [...this.channels.values()]) {
      try {
        // The same verifier and messages as a join (an expired token says so, a revoked one is invalid).
        if (channel.caller === previousBase) {
          if (baseRefusal !== null) throw baseRefusal;
          channel.caller = this.base;
        } else if (channel.caller.user) {
          const before = channel.caller;
          const fresh = await this.callerFor(tokenOf(before));
          // An access_token refresh that landed meanwhile wins over the token checked here.
          if (channel.caller !== before) continue;
          channel.caller = fresh;
        } else {
          if (channel.caller.key !== key) channel.caller = createCaller(key, null);
        }
        await this.authorize(channel.caller, channel.name, channel.private, 'join');
      } catch (error) {
        if (this.channels.get(channel.topic) === channel) this.endChannel(channel, reasonOf(error, this.deps.logger));
      }
    }
  }

  private watchExpiry(channel: Channel): void {
    if (channel.expiry) clearTimeout(channel.expiry);
    channel.expiry = null;
    const exp = channel.caller.user?.claims.exp;
    if (typeof exp !== 'number') return;
    const ms = Math.max(0, exp * 1000 - this.deps.clock.nowMs());
    // setTimeout holds at most ~24.8 days; a token living longer is caught by the periodic recheck.
    if (ms > 2 ** 31 - 1) return;
    channel.expiry = setTimeout(() => {
      if (this.channels.get(channel.topic) === channel) this.endChannel(channel, 'Token has expired');
    }, ms);
    channel.expiry.unref();
  }

  /** A `system` error, then the channel is closed (realtime-js reports CLOSED, and does not rejoin). */
  private endChannel(channel: Channel, message: string): void {
    this.push(channel, 'system', { status: 'error', message, extension: 'system', channel: channel.name });
    this.send(encodeText(this.vsn, channel.joinRef, channel.joinRef, channel.topic, 'phx_close', {}));
    this.leave(channel);
  }

  private async callerFor(token: unknown): Promise<Caller> {
    // supabase-js sends its API key as the token when nobody is signed in: the connection's key decides.
    if (token === undefined || token === null || (typeof token === 'string' && LOOKS_LIKE_KEY.test(token))) return this.base;
    if (typeof token !== 'string' || token.length > 16_384) throw new Refusal('access_token must be a string');
    try {
      const caller = await this.deps.verifyUser(this.base, token);
      tokens.set(caller, token);
      return caller;
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      this.deps.onTokenRejected(this.base, error.reason);
      throw new Refusal(error.reason === 'expired' ? 'Token has expired' : 'Invalid token');
    }
  }

  private async authorize(caller: Caller, name: string, isPrivate: boolean, action: ChannelAction): Promise<void> {
    const refusal = channelRefusal(await this.deps.settings.get(caller.projectId, caller.environment), caller, name, isPrivate, action);
    if (refusal === 'public_channels_disabled') throw new Refusal('Unauthorized: public channels are disabled for this environment; join with config.private');
    if (refusal === 'rule') throw new Refusal(`Unauthorized: you may not ${action} on this channel`);
  }

  private claimUser(userId: string): boolean {
    const count = this.users.get(userId) ?? 0;
    if (count === 0 && !this.deps.registry.claimUser(this, userId, this.deps.limits.connectionsPerUser)) return false;
    this.users.set(userId, count + 1);
    return true;
  }

  private releaseUser(userId: string): void {
    const count = (this.users.get(userId) ?? 1) - 1;
    if (count > 0) {
      this.users.set(userId, count);
      return;
    }
    this.users.delete(userId);
    this.deps.registry.releaseUser(this, userId);
  }

  private leave(channel: Channel): void {
    if (this.channels.get(channel.topic) !== channel) return;
    this.channels.delete(channel.topic);
    if (channel.expiry) clearTimeout(channel.expiry);
    for (const subscription of channel.subscriptions) subscription.unsubscribe();
    this.deps.hub.remove(channel.member);
    if (channel.caller.user) this.releaseUser(channel.caller.user.id);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.channels.values()]) this.leave(channel);
    this.deps.registry.open.delete(this);
    const left = (this.deps.registry.byAddress.get(this.address) ?? 1) - 1;
    if (left > 0) this.deps.registry.byAddress.set(this.address, left);
    else this.deps.registry.byAddress.delete(this.address);
  }

  private push(channel: Channel, event: string, payload: unknown): void {
    this.send(encodeText(this.vsn, channel.joinRef, null, channel.topic, event, payload));
  }

  private reply(frame: Pick<Frame, 'joinRef' | 'ref' | 'topic'>, status: 'ok' | 'error', response: Record<string, unknown>): void {
    this.send(encodeText(this.vsn, frame.joinRef, frame.ref, frame.topic, 'phx_reply', { status, response }));
  }

  /** Bounded: a client that does not read what it is sent is disconnected, never buffered without end. */
  send(data: string | Buffer, kind: typeof TEXT | typeof BINARY = TEXT): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.deps.limits.sendQueueBytes) {
      this.close(1008, 'slow consumer');
      this.dispose();
      return;
    }
    this.socket.send(data, kind);
  }
}

// A text frame even when its text comes as bytes (a shared frame): realtime-js reads binary frames as its binary protocol.
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

// The frames of one fan-out, encoded once per distinct frame (shared-frames.ts). A change frame is
// named by its binding's head (version, join_ref, topic, binding id; the tail follows from the
// version), a broadcast by version, topic and event, a presence diff by version, topic and join_ref.
const changeFrames = new SharedFrames<ChangePayload>();
const broadcastFrames = new SharedFrames<BroadcastBody>();
const diffFrames = new SharedFrames<PresenceDiff>();

/**
 * A change's `data` as JSON, once per payload object: the feed hands every subscriber with the
 * same view of a row the same object, so a fan-out to thousands stringifies the row a few times,
 * not once per socket (nor once per distinct join_ref).
 */
const changeJson = new WeakMap<ChangePayload, string>();

function changeFrame(data: ChangePayload, { head, tail }: ChangeFrameParts): string {
  let json = changeJson.get(data);
  if (json === undefined) changeJson.set(data, (json = JSON.stringify(data)));
  return head + json + tail;
}

function broadcastFrame(body: BroadcastBody, { vsn, topic, event }: { vsn: Vsn; topic: string; event: string }): string | Buffer {
  if ('bytes' in body) return encodeBinaryBroadcast(topic, event, body.bytes);
  return encodeText(vsn, null, null, topic, 'broadcast', { type: 'broadcast', event, payload: body.json });
}

function diffFrame(diff: PresenceDiff, { vsn, topic, joinRef }: { vsn: Vsn; topic: string; joinRef: string | null }): string {
  return encodeText(vsn, joinRef, null, topic, 'presence_diff', { joins: diff.joins, leaves: diff.leaves });
}

/** The token each verified caller came from, for the periodic recheck; weak, so it goes with the caller. */
const tokens = new WeakMap<Caller, string>();

function tokenOf(caller: Caller): string {
  return tokens.get(caller) ?? '';
}

/**
 * Checked once on arrival: every member stringifies the payload again, and one that cannot be
 * (nested past the stack) must be refused here, not fail in the middle of a fan-out.
 */
function serializable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/** What a refused frame tells the client: our refusals and clean errors say why; anything else is logged, not shown. */
function reasonOf(error: unknown, logger: Logger): string {
  if (error instanceof Refusal) return error.message;
  if (error instanceof GatehouseError) return error.message;
  logger.error({ err: error instanceof Error ? error.message : String(error) }, 'realtime: unexpected error');
  return 'internal error';
}
