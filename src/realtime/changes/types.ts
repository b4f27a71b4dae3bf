import type { Caller } from '../../access/index.js';
import type { Environment } from '../../tenancy/environments.js';

// The change feed's contract with the socket (src/realtime/socket/): a socket's joined channel
// subscribes one entry per `postgres_changes` binding and receives realtime-js's payload.

export type ChangeEvent = 'INSERT' | 'UPDATE' | 'DELETE' | '*';
export type ChangeType = Exclude<ChangeEvent, '*'>;

/** realtime-js `postgres_changes` data, with only the columns the subscriber may read. */
export interface ChangePayload {
  schema: 'public' | 'storage';
  table: string;
  commit_timestamp: string;
  type: ChangeType;
  columns: { name: string; type: string }[];
  /** The new row (INSERT, UPDATE); `{}` for DELETE. */
  record: Record<string, unknown>;
  /** The row before (UPDATE, DELETE); `{}` for INSERT. */
  old_record: Record<string, unknown>;
  errors: null;
}

/** Whose tables: the project environment the subscriber's key belongs to (as on Caller). */
export interface ChangeScope {
  readonly projectId: string;
  readonly environment: Environment;
}

/** One `postgres_changes` entry of one joined channel. */
export interface ChangeSubscriber {
  readonly environment: ChangeScope;
  /** The current caller: the socket swaps it when the client sends a new access_token. */
  caller(): Caller;
  /**
   * Must not throw or block: the socket queues (and bounds) what it sends. The payload object may
   * be shared with other subscribers who see the same columns: read it, never change it.
   */
  deliver(payload: ChangePayload): void;
}

export interface ChangeSpec {
  event: ChangeEvent;
  /** 'public' (the default): a Data API table; 'storage': table `objects`, the environment's storage objects. */
  schema?: 'public' | 'storage';
  table: string;
  /** realtime-js filter: `col=eq.v`, `neq`, `lt`, `lte`, `gt`, `gte`, `in.(a,b)`. */
  filter?: string;
}

export interface ChangeSubscription {
  unsubscribe(): void;
}

export interface ChangeFeed {
  /**
   * Validates table and filter for this caller; throws GatehouseError (the same one for a table
   * that does not exist and one the caller cannot read: no oracle).
   */
  subscribe(sub: ChangeSubscriber, spec: ChangeSpec): Promise<ChangeSubscription>;
  close(): Promise<void>;
}

/** Messages between instances: broadcast and presence for the socket, row changes for the feed. */
export interface RealtimeBus {
  /**
   * To every subscriber of the topic on every instance, this one included (at most once; none are
   * kept for later subscribers). `message` must be JSON; in process it is handed over as is, so
   * neither side may change it afterwards.
   */
  publish(topic: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is live; the returned function ends it. */
  subscribe(topic: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
