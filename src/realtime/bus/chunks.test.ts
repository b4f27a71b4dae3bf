// NOTIFY payloads stay under PostgreSQL's 8000-byte limit whatever the characters, and chunks
// join back into the exact message, in any order; broken or partial input never yields a message.
import { describe, expect, it } from 'vitest';
import { joinChunks, MAX_MESSAGE_BYTES, MAX_PAYLOAD, splitMessage } from './chunks.js';

describe('NOTIFY chunks', () => {
  const message = JSON.stringify({ t: 'changes:p:dev', m: { text: 'é€😀\u0000x"\\'.repeat(4_000) } });

  it('every chunk is under 8000 bytes, and they join back to the same JSON in any order', () => {
    const chunks = splitMessage(message, 'abc');
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(Buffer.byteLength(c, 'utf8')).toBeLessThan(8000);
    const joiner = joinChunks();
    const shuffled = [...chunks].reverse();
    const results = shuffled.map((c) => joiner.accept(c));
    expect(results.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(JSON.parse(results.at(-1)!)).toEqual(JSON.parse(message));
  });

  it('a small message goes as one payload, unchanged in meaning', () => {
    const small = JSON.stringify({ t: 'x', m: { a: 'é' } });
    const [only, ...rest] = splitMessage(small, 'id');
    expect(rest).toEqual([]);
    expect(Buffer.byteLength(only!, 'utf8')).toBeLessThanOrEqual(MAX_PAYLOAD);
    expect(JSON.parse(joinChunks().accept(only!)!)).toEqual(JSON.parse(small));
  });

  it('duplicates, bad headers and chunks of unfinished messages yield nothing', () => {
    const chunks = splitMessage(message, 'dup');
    const joiner = joinChunks();
    expect(joiner.accept(chunks[0]!)).toBeNull();
    expect(joiner.accept(chunks[0]!)).toBeNull();
    for (const bad of ['~', '~id~5~2~x', '~id~0~0~x', '~toolongidtoolongid~0~2~x', '~id~x~2~y']) expect(joiner.accept(bad)).toBeNull();
  });

  it('an unfinished message is forgotten after its time', () => {
    let now = 0;
    const joiner = joinChunks(() => now);
    const [first, second, ...rest] = splitMessage(message, 'late');
    expect(joiner.accept(first!)).toBeNull();
    now = 60_000;
    expect(joiner.accept(second!)).toBeNull();
    // The first chunk was dropped, so the rest never completes it.
    for (const c of rest) expect(joiner.accept(c)).toBeNull();
  });

  it('a header announcing more chunks than the largest message has is refused, and nothing is held for it', () => {
    const joiner = joinChunks();
    expect(joiner.accept('~big~0~999999~x')).toBeNull();
    expect(joiner.accept(`~big~0~${Math.ceil(MAX_MESSAGE_BYTES / 7_000)}~x`)).toBeNull();
    expect(joiner.pendingBytes).toBe(0);
    expect(() => splitMessage(JSON.stringify({ m: 'x'.repeat(MAX_MESSAGE_BYTES) }), 'huge')).toThrow(RangeError);
  });

  it('incomplete messages hold at most the byte cap: the oldest are dropped first', () => {
    const cap = 400_000; // about three of these messages
    const joiner = joinChunks(() => 0, cap);
    const messages = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => splitMessage(message, id));
    // Every message but its last chunk: far more than the cap arrives.
    for (const chunks of messages) for (const c of chunks.slice(0, -1)) expect(joiner.accept(c)).toBeNull();
    expect(joiner.pendingBytes).toBeLessThanOrEqual(cap);
    expect(joiner.pendingBytes).toBeGreaterThan(0);
    // The oldest was dropped: its last chunk completes nothing; the newest still completes.
    expect(joiner.accept(messages[0]!.at(-1)!)).toBeNull();
    expect(JSON.parse(joiner.accept(messages.at(-1)!.at(-1)!)!)).toEqual(JSON.parse(message));
  });
});
