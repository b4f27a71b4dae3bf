import { Worker } from 'node:worker_threads';

// SHA-256 of upload bodies on one worker thread, so that hashing (about 1 ms of CPU per MiB even
// with SHA instructions: the largest share of a small upload's time in the server's own thread)
// runs beside the upload instead of in it: while the main thread reads the socket and writes the
// file, and, for the last bytes, while the file and its folder are fsynced. Node has no hash that
// runs off the main thread (crypto.subtle.digest hashes before it returns, measured), hence this.
//
// One session per upload: bytes go over in copied batches (the copy's memory is handed over, not
// copied again), in order; `digest` answers once every byte before it is hashed. The worker holds
// at most MAX_IN_FLIGHT_BYTES of one session that it has not hashed yet: past that, `room()` makes
// the upload wait, so a starved worker slows uploads down instead of filling memory.

/** Bytes a session may have sent that the worker has not hashed yet. */
export const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

// Plain CommonJS, evaluated: no file of its own to find in the build or the bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
    hash.update(m.bytes);
    parentPort.postMessage({ id: m.id, hashed: m.bytes.byteLength });
  } else if (m.op === 'digest') {
    const hash = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

interface Pending {
  inFlight: number;
  onRoom: (() => void) | null;
  onDigest: ((hex: string) => void) | null;
  onError: (error: Error) => void;
}

export interface HashSession {
  /** Hands `bytes` to the worker with their whole ArrayBuffer (moved, not copied): the caller must own it. */
  update(bytes: Uint8Array): void;
  /** null when the worker may take more now; else a promise that resolves when it may. */
  room(): Promise<void> | null;
  /** The hex SHA-256 of everything updated. Ends the session. */
  digest(): Promise<string>;
  /** Ends the session without a digest (an upload that failed); nothing once digest() was called. */
  drop(): void;
}

let worker: Worker | null = null;
/** Resolves when the worker runs (a new one after a failure). */
let online: Promise<void> | null = null;
let isOnline = false;
const sessions = new Map<number, Pending>();
let nextId = 1;

/** Open sessions keep the process alive (a digest is awaited); none, and the idle worker does not. */
function track(id: number, pending: Pending | null): void {
  const before = sessions.size;
  if (pending) sessions.set(id, pending);
  else sessions.delete(id);
  if (before === 0 && sessions.size > 0) worker?.ref();
  if (before > 0 && sessions.size === 0) worker?.unref();
}

function failAll(error: Error): void {
  worker = null;
  online = null;
  isOnline = false;
  const failed = [...sessions.values()];
  sessions.clear();
  for (const session of failed) session.onError(error);
}

function started(): Worker {
  if (worker) return worker;
  // execArgv []: not the parent's loaders (tsx in development); the source above needs none.
  const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
  w.on('message', (m: { id: number; hashed?: number; hex?: string }) => {
    const session = sessions.get(m.id);
    if (!session) return;
    if (m.hex !== undefined) {
      track(m.id, null);
      session.onDigest?.(m.hex);
      return;
    }
    session.inFlight -= m.hashed ?? 0;
    if (session.onRoom && session.inFlight <= MAX_IN_FLIGHT_BYTES) {
      const resume = session.onRoom;
      session.onRoom = null;
      resume();
    }
  });
  w.on('error', (error) => failAll(error));
  w.on('exit', () => { if (worker === w) failAll(new Error('storage: the hash worker stopped')); });
  online = new Promise<void>((resolve) => w.once('online', () => { if (worker === w) isOnline = true; resolve(); }));
  w.unref(); // only while a session is open does it keep the process alive (see track)
  worker = w;
  return w;
}

/**
 * Whether the worker runs and takes sessions; starts it if not. Until it does (it takes 0.1-0.2 s,
 * the first uploads after a start), callers hash in their own thread: no upload waits for it.
 */
export function hashWorkerReady(): boolean {
  started();
  return isOnline;
}

/** Resolves once the worker runs (tests). */
export function hashWorkerStarted(): Promise<void> {
  started();
  return online!;
}

export function openHashSession(): HashSession {
  const w = started();
  const id = nextId++;
  let failure: Error | null = null;
  let digesting = false;
  let rejectRoom: ((error: Error) => void) | null = null;
  let rejectDigest: ((error: Error) => void) | null = null;
  const pending: Pending = {
    inFlight: 0, onRoom: null, onDigest: null,
    onError: (error) => { failure = error; rejectRoom?.(error); rejectDigest?.(error); },
  };
  track(id, pending);
  return {
    update(bytes) {
      if (failure) return;
      pending.inFlight += bytes.byteLength;
      w.postMessage({ op: 'update', id, bytes }, [bytes.buffer as ArrayBuffer]);
    },
    room() {
      if (failure) return Promise.reject(failure);
      if (pending.inFlight <= MAX_IN_FLIGHT_BYTES) return null;
      return new Promise<void>((resolve, reject) => { pending.onRoom = resolve; rejectRoom = reject; });
    },
    digest() {
      if (failure) return Promise.reject(failure);
      digesting = true;
      return new Promise<string>((resolve, reject) => {
        pending.onDigest = resolve;
        rejectDigest = reject;
        w.postMessage({ op: 'digest', id });
      });
    },
    drop() {
      if (digesting || !sessions.has(id)) return;
      track(id, null);
      w.postMessage({ op: 'drop', id });
    },
  };
}

/** Sessions open now (tests: a failed upload leaves none behind). */
export function openHashSessions(): number {
  return sessions.size;
}
