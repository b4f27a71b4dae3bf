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
const sessions = new Map<number, Pending>();
let nextId = 1;

function failAll(error: Error): void {
  worker = null;
  const failed = [...sessions.values()];
  sessions.clear();
  for (const session of failed) session.onError(error);
}

function started(): Worker {
  if (worker) return worker;
  // execArgv []: not the parent's loaders (tsx in development); the source above needs none.
  const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
  w.unref(); // never what keeps the process alive
  w.on('message', (m: { id: number; hashed?: number; hex?: string }) => {
    const session = sessions.get(m.id);
    if (!session) return;
    if (m.hex !== undefined) {
      sessions.delete(m.id);
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
  worker = w;
  return w;
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
  sessions.set(id, pending);
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
      if (digesting || !sessions.delete(id)) return;
      w.postMessage({ op: 'drop', id });
    },
  };
}

/** Sessions open now (tests: a failed upload leaves none behind). */
export function openHashSessions(): number {
  return sessions.size;
}
