import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeBinary, decodeText, encodeBinaryBroadcast, encodeChangeFrame, encodeText, FrameError } from './protocol.js';

// The frames against realtime-js's own serializer: what it encodes we decode, what we encode it decodes.
// realtime-js does not export its serializer; its CommonJS build is read directly.
const { default: Serializer } = createRequire(import.meta.url)('@supabase/realtime-js/dist/main/lib/serializer.js') as { default: new () => unknown };
const serializer = new Serializer() as {
  encode(msg: unknown, cb: (out: string | ArrayBuffer) => void): void;
  decode(raw: unknown, cb: (msg: Record<string, unknown>) => void): void;
};
const encode = (msg: unknown) => new Promise<string | ArrayBuffer>((resolve) => serializer.encode(msg, resolve));
const decode = (raw: unknown) => new Promise<Record<string, unknown>>((resolve) => serializer.decode(raw, resolve));

describe('realtime frames', () => {
  it('decodes realtime-js binary broadcast pushes, JSON and raw', async () => {
    const json = await encode({ join_ref: '1', ref: '2', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'move', payload: { x: 1 } } });
    expect(decodeBinary(Buffer.from(json as ArrayBuffer))).toEqual({ joinRef: '1', ref: '2', topic: 'realtime:room', event: 'move', body: { json: { x: 1 } } });
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    const raw = await encode({ join_ref: '1', ref: '3', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'b', payload: bytes } });
    expect(decodeBinary(Buffer.from(raw as ArrayBuffer)).body).toEqual({ bytes: Buffer.from([1, 2, 3]) });
  });

  it('refuses truncated or unknown binary frames and malformed text frames', () => {
    expect(() => decodeBinary(Buffer.from([3, 5, 0, 0, 0, 0, 1]))).toThrow(FrameError);
    expect(() => decodeBinary(Buffer.from([4, 0, 0, 0, 0, 0, 1]))).toThrow(FrameError);
    expect(() => decodeText('[1,2,3]', '2.0.0')).toThrow(FrameError);
    expect(() => decodeText('[null,null,"t","e",[]]', '2.0.0')).toThrow(FrameError);
    expect(() => decodeText('[null,null,"t","e",{}]', '1.0.0')).toThrow(FrameError);
    expect(() => decodeText(`[null,null,"${'t'.repeat(256)}","e",{}]`, '2.0.0')).toThrow(FrameError);
  });

  it('what we send, realtime-js reads: broadcasts with bytes, and change frames equal to the generic encoding', async () => {
    const frame = encodeBinaryBroadcast('realtime:room', 'b', Buffer.from([9, 8]));
    const decoded = await decode(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength));
    expect(decoded).toMatchObject({ topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'b' } });
    expect(new Uint8Array((decoded.payload as { payload: ArrayBuffer }).payload)).toEqual(new Uint8Array([9, 8]));
    const data = { schema: 'public', table: 't', record: { a: 'x"y' } };
    for (const vsn of ['1.0.0', '2.0.0'] as const) {
      expect(encodeChangeFrame(vsn, '7', 'realtime:room', 3, JSON.stringify(data))).toBe(encodeText(vsn, '7', null, 'realtime:room', 'postgres_changes', { ids: [3], data }));
    }
  });

  it('non-ASCII topics and events survive the binary path (UTF-8 both ways); lengths count bytes', async () => {
    // A UTF-8 push (the protocol's encoding), built by hand: kind 3, five lengths, JSON encoding.
    const fields = ['1', '2', 'realtime:café-☕', 'ñandú', ''].map((f) => Buffer.from(f, 'utf8'));
    const push = Buffer.concat([Buffer.from([3, ...fields.map((f) => f.length), 1]), ...fields, Buffer.from('{"x":"é"}')]);
    expect(decodeBinary(push)).toMatchObject({ topic: 'realtime:café-☕', event: 'ñandú', body: { json: { x: 'é' } } });
    // realtime-js 2.x writes one byte per character: Latin-1 topics still arrive intact.
    const fromClient = await encode({ join_ref: '1', ref: '2', topic: 'realtime:café', event: 'broadcast', payload: { type: 'broadcast', event: 'señal', payload: { x: 'é' } } });
    expect(decodeBinary(Buffer.from(fromClient as ArrayBuffer))).toMatchObject({ topic: 'realtime:café', event: 'señal', body: { json: { x: 'é' } } });
    const frame = encodeBinaryBroadcast('realtime:café-☕', 'ñandú', Buffer.from([1]));
    expect(await decode(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength))).toMatchObject({ topic: 'realtime:café-☕', payload: { event: 'ñandú' } });
    // 100 characters, 300 bytes: over the one-byte length field, so refused on arrival, not when sent back.
    expect(() => decodeText(`[null,null,"${'☕'.repeat(100)}","e",{}]`, '2.0.0')).toThrow(FrameError);
    expect(() => decodeText(`[null,null,"t","${'☕'.repeat(100)}",{}]`, '2.0.0')).toThrow(FrameError);
  });
});
