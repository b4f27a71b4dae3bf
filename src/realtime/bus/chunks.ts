// NOTIFY payloads must be shorter than 8000 bytes. A message is JSON with every non-ASCII
// character escaped (\uXXXX, still valid JSON), so its length in characters is its length in
// bytes and it can be cut anywhere. Small messages go as they are (they start with `{`); bigger
// ones as `~<id>~<index>~<count>~<piece>` chunks, joined by id on arrival.

/** Bytes of one payload at most (PostgreSQL's limit is 7999), leaving room for the chunk header. */
export const MAX_PAYLOAD = 7_900;
const HEADER_ROOM = 40;
/** Chunks of a message still incomplete after this are dropped (a sender that died mid-way). */
const INCOMPLETE_TTL_MS = 30_000;
/** Incomplete messages kept at most: memory stays bounded whatever arrives. */
const MAX_INCOMPLETE = 1_000;

export function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function splitMessage(json: string, id: string): string[] {
  const text = asciiJson(json);
  if (text.length <= MAX_PAYLOAD) return [text];
  const size = MAX_PAYLOAD - HEADER_ROOM;
  const count = Math.ceil(text.length / size);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`~${id}~${i}~${count}~${text.slice(i * size, (i + 1) * size)}`);
  return out;
}

export interface ChunkAssembler {
  /** The whole message once its last chunk is in, else null. */
  accept(payload: string): string | null;
}

export function joinChunks(now: () => number = () => performance.now()): ChunkAssembler {
  const pending = new Map<string, { parts: Array<string | undefined>; got: number; since: number }>();
  return {
    accept(payload) {
      if (!payload.startsWith('~')) return payload;
      const match = /^~([A-Za-z0-9_-]{1,16})~(\d{1,6})~(\d{1,6})~/.exec(payload);
      if (!match) return null;
      const [header, id, indexText, countText] = match;
      const index = Number(indexText);
      const count = Number(countText);
      if (count < 1 || index >= count) return null;
      const t = now();
      for (const [key, entry] of pending) if (t - entry.since > INCOMPLETE_TTL_MS || pending.size > MAX_INCOMPLETE) pending.delete(key);
      let entry = pending.get(id!);
      if (!entry) pending.set(id!, (entry = { parts: new Array(count), got: 0, since: t }));
      if (entry.parts.length !== count || entry.parts[index] !== undefined) return null;
      entry.parts[index] = payload.slice(header!.length);
      entry.got++;
      if (entry.got < count) return null;
      pending.delete(id!);
      return entry.parts.join('');
    },
  };
}
