// NOTIFY payloads must be shorter than 8000 bytes. A message is JSON with every non-ASCII
// character escaped (\uXXXX, still valid JSON), so its length in characters is its length in
// bytes and it can be cut anywhere. Small messages go as they are (they start with `{`); bigger
// ones as `~<id>~<index>~<count>~<piece>` chunks, joined by id on arrival.

/** Bytes of one payload at most (PostgreSQL's limit is 7999), leaving room for the chunk header. */
export const MAX_PAYLOAD = 7_900;
const HEADER_ROOM = 40;
/** Chunks of a message still incomplete after this are dropped (a sender that died mid-way). */
const INCOMPLETE_TTL_MS = 30_000;
/** Incomplete messages kept at most. */
const MAX_INCOMPLETE = 1_000;
/** A whole message at most: bigger ones are refused by the sender and never reassembled. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = MAX_PAYLOAD - HEADER_ROOM;
/** Chunks of one message at most, so a forged header cannot announce a million of them. */
const MAX_CHUNKS = Math.ceil(MAX_MESSAGE_BYTES / CHUNK_BYTES);
/**
 * Bytes held in incomplete messages at most (all of them together): over it the oldest are
 * dropped, so memory stays bounded whatever arrives on the channel (forged or lost chunks).
 */
export const MAX_PENDING_BYTES = 2 * MAX_MESSAGE_BYTES;

export function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function splitMessage(json: string, id: string): string[] {
  const text = asciiJson(json);
  if (text.length <= MAX_PAYLOAD) return [text];
  if (text.length > MAX_MESSAGE_BYTES) throw new RangeError(`realtime message of ${text.length} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
  const size = CHUNK_BYTES;
  const count = Math.ceil(text.length / size);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`~${id}~${i}~${count}~${text.slice(i * size, (i + 1) * size)}`);
  return out;
}

export interface ChunkAssembler {
  /** The whole message once its last chunk is in, else null. */
  accept(payload: string): string | null;
  /** Bytes held in incomplete messages (bounded by the cap). */
  readonly pendingBytes: number;
}

export function joinChunks(now: () => number = () => performance.now(), maxPendingBytes = MAX_PENDING_BYTES): ChunkAssembler {
  // Insertion order is age order: the oldest incomplete message is the first entry.
  const pending = new Map<string, { parts: Map<number, string>; count: number; bytes: number; since: number }>();
  let pendingBytes = 0;
  const drop = (id: string) => {
    const entry = pending.get(id);
    if (!entry) return;
    pendingBytes -= entry.bytes;
    pending.delete(id);
  };
  return {
    accept(payload) {
      if (!payload.startsWith('~')) return payload;
      const match = /^~([A-Za-z0-9_-]{1,16})~(\d{1,6})~(\d{1,6})~/.exec(payload);
      if (!match) return null;
      const [header, id, indexText, countText] = match;
      const index = Number(indexText);
      const count = Number(countText);
      if (count < 1 || count > MAX_CHUNKS || index >= count) return null;
      const t = now();
      for (const [key, entry] of pending) {
        if (t - entry.since <= INCOMPLETE_TTL_MS) break;
        drop(key);
      }
      let entry = pending.get(id!);
      if (!entry) {
        while (pending.size >= MAX_INCOMPLETE) drop(pending.keys().next().value!);
        pending.set(id!, (entry = { parts: new Map(), count, bytes: 0, since: t }));
      }
      if (entry.count !== count || entry.parts.has(index)) return null;
      const piece = payload.slice(header!.length);
      entry.parts.set(index, piece);
      entry.bytes += piece.length;
      pendingBytes += piece.length;
      if (entry.parts.size < count) {
        // Over the byte cap: the oldest incomplete messages go first (this one last).
        for (const key of pending.keys()) {
          if (pendingBytes <= maxPendingBytes) break;
          drop(key);
        }
        return null;
      }
      drop(id!);
      let whole = '';
      for (let i = 0; i < count; i++) whole += entry.parts.get(i)!;
      return whole;
    },
    get pendingBytes() {
      return pendingBytes;
    },
  };
}
