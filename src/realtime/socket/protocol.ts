// Phoenix channel frames as realtime-js 2.x sends and reads them.
//   vsn 1.0.0: text frames, JSON objects { join_ref, ref, topic, event, payload }
//   vsn 2.0.0: text frames, JSON arrays [join_ref, ref, topic, event, payload], and binary frames
//              for user broadcasts (realtime-js lib/serializer.ts):
//     client → server, kind 3 (user broadcast push):
//       u8 kind, u8 join_ref len, u8 ref len, u8 topic len, u8 event len, u8 metadata len,
//       u8 encoding (0 binary, 1 JSON), join_ref, ref, topic, event, metadata, payload
//     server → client, kind 4 (user broadcast):
//       u8 kind, u8 topic len, u8 event len, u8 metadata len, u8 encoding, topic, event, metadata, payload
// Hand-written: the format is a few fixed fields, and no maintained server-side library speaks it.

import { isUtf8 } from 'node:buffer';

export type Vsn = '1.0.0' | '2.0.0';

export interface Frame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

/** A user broadcast's body: parsed JSON, or raw bytes (binary encoding). */
export type BroadcastBody = { json: unknown } | { bytes: Buffer };

export interface BinaryBroadcast {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  body: BroadcastBody;
}

export class FrameError extends Error {}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;
const ENCODING_BINARY = 0;
const ENCODING_JSON = 1;
const MAX_FIELD = 255;

function refOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && fitsField(value)) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new FrameError('join_ref and ref must be strings');
}

/** Whether `text` fits a one-byte length field of the binary frames (UTF-8 bytes, not characters). */
export function fitsField(text: string): boolean {
  return text.length <= MAX_FIELD && Buffer.byteLength(text, 'utf8') <= MAX_FIELD;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A text frame of either version; FrameError when it is not one. */
export function decodeText(text: string, vsn: Vsn): Frame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FrameError('the frame is not JSON');
  }
  let joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown;
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5) throw new FrameError('a frame is [join_ref, ref, topic, event, payload]');
    [joinRef, ref, topic, event, payload] = parsed;
  } else {
    if (!isObject(parsed)) throw new FrameError('a frame is { topic, event, payload, ref }');
    ({ join_ref: joinRef, ref, topic, event, payload } = parsed);
  }
  // Bytes, not characters: a topic or event goes back out in a binary frame's one-byte length field.
  if (typeof topic !== 'string' || topic.length < 1 || !fitsField(topic)) throw new FrameError('topic must be a string of 1 to 255 bytes');
  if (typeof event !== 'string' || event.length < 1 || !fitsField(event)) throw new FrameError('event must be a string of 1 to 255 bytes');
  if (payload !== undefined && !isObject(payload)) throw new FrameError('payload must be an object');
  return { joinRef: refOf(joinRef), ref: refOf(ref), topic, event, payload: (payload as Record<string, unknown> | undefined) ?? {} };
}

/** A binary frame (v2 only): a user broadcast push. */
export function decodeBinary(data: Buffer): BinaryBroadcast {
  if (data.length < 7 || data[0] !== KIND_USER_BROADCAST_PUSH) throw new FrameError('unknown binary frame');
  const lengths = [data[1]!, data[2]!, data[3]!, data[4]!, data[5]!];
  const encoding = data[6]!;
  let offset = 7;
  const [joinRef, ref, topic, event, metadata] = lengths.map((length) => {
    if (offset + length > data.length) throw new FrameError('binary frame shorter than its header says');
    // UTF-8, as the protocol and realtime-js's decoder have it. realtime-js 2.x's encoder writes
    // each character's code as one byte, so bytes that are not UTF-8 are read as Latin-1: the
    // topics and events it can express (up to U+00FF) still match what its text frames joined.
    const bytes = data.subarray(offset, offset + length);
    const field = bytes.toString(isUtf8(bytes) ? 'utf8' : 'latin1');
    offset += length;
    return field;
  }) as [string, string, string, string, string];
  if (topic.length === 0 || event.length === 0) throw new FrameError('binary frame without topic or event');
  // Metadata (allowed payload keys realtime-js copies) is not relayed: nothing of ours reads it.
  void metadata;
  const rest = data.subarray(offset);
  let body: BroadcastBody;
  if (encoding === ENCODING_JSON) {
    try {
      body = { json: JSON.parse(rest.toString('utf8')) };
    } catch {
      throw new FrameError('binary frame payload is not JSON');
    }
  } else if (encoding === ENCODING_BINARY) {
    body = { bytes: Buffer.from(rest) };
  } else {
    throw new FrameError('unknown payload encoding');
  }
  return { joinRef: joinRef || null, ref: ref || null, topic, event, body };
}

/** One outgoing message as a text frame of the connection's version. */
export function encodeText(vsn: Vsn, joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): string {
  return vsn === '2.0.0'
    ? JSON.stringify([joinRef, ref, topic, event, payload])
    : JSON.stringify({ join_ref: joinRef, ref, topic, event, payload });
}

/** A user broadcast with a binary body, as realtime-js 2.x decodes it (kind 4). */
export function encodeBinaryBroadcast(topic: string, event: string, bytes: Buffer): Buffer {
  const topicBytes = Buffer.from(topic, 'utf8');
  const eventBytes = Buffer.from(event, 'utf8');
  if (topicBytes.length > MAX_FIELD || eventBytes.length > MAX_FIELD) throw new FrameError('topic or event too long');
  const header = Buffer.from([KIND_USER_BROADCAST, topicBytes.length, eventBytes.length, 0, ENCODING_BINARY]);
  return Buffer.concat([header, topicBytes, eventBytes, bytes]);
}

/** What one `postgres_changes` binding writes around a change's `data` JSON: fixed for the binding's life. */
export interface ChangeFrameParts {
  /** Everything before `data`; it holds the version, join_ref, topic and binding id, so it names the frame shape. */
  head: string;
  tail: string;
}

export function changeFrameParts(vsn: Vsn, joinRef: string | null, topic: string, id: number): ChangeFrameParts {
  const payloadHead = `{"ids":[${id}],"data":`;
  return vsn === '2.0.0'
    ? { head: `[${JSON.stringify(joinRef)},null,${JSON.stringify(topic)},"postgres_changes",${payloadHead}`, tail: '}]' }
    : { head: `{"join_ref":${JSON.stringify(joinRef)},"ref":null,"topic":${JSON.stringify(topic)},"event":"postgres_changes","payload":${payloadHead}`, tail: '}}' };
}

/**
 * A `postgres_changes` frame around `dataJson` (already JSON): the same text as encodeText would
 * make, with only the frame's own fields (join_ref, topic, id) written per socket.
 */
export function encodeChangeFrame(vsn: Vsn, joinRef: string | null, topic: string, id: number, dataJson: string): string {
  const { head, tail } = changeFrameParts(vsn, joinRef, topic, id);
  return head + dataJson + tail;
}
