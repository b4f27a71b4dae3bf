import { describe, expect, it } from 'vitest';
import { SharedFrames } from './shared-frames.js';

describe('shared frames', () => {
  const build = (payload: { text: string }, head: string) => `${head}${payload.text}`;

  it('builds a frame once per payload object and key, and hands out the same bytes after', () => {
    const frames = new SharedFrames<{ text: string }>();
    const payload = { text: 'row' };
    let builds = 0;
    const counted = (p: { text: string }, head: string) => { builds += 1; return build(p, head); };
    const first = frames.get(payload, 'h1:', counted, 'h1:');
    expect(frames.get(payload, 'h1:', counted, 'h1:')).toBe(first);
    expect(builds).toBe(1);
    expect(first.toString()).toBe('h1:row');
  });

  it('two payloads under one key (two masks of a row behind the same frame head) never share bytes', () => {
    const frames = new SharedFrames<{ text: string }>();
    const masked = { text: '{"id":1}' };
    const full = { text: '{"id":1,"note":"secret"}' };
    expect(frames.get(full, 'same', build, 'same').toString()).toBe('same{"id":1,"note":"secret"}');
    expect(frames.get(masked, 'same', build, 'same').toString()).toBe('same{"id":1}');
  });

  it('one payload under two keys (two sockets\' heads) gets two frames', () => {
    const frames = new SharedFrames<{ text: string }>();
    const payload = { text: 'x' };
    expect(frames.get(payload, 'a', build, '["1",').toString()).toBe('["1",x');
    expect(frames.get(payload, 'b', build, '["2",').toString()).toBe('["2",x');
  });

  it('keeps a Buffer a builder returns as it is (binary frames)', () => {
    const frames = new SharedFrames<{ bytes: Buffer }>();
    const body = { bytes: Buffer.from([4, 0, 0, 0, 0]) };
    expect(frames.get(body, 'k', (b) => b.bytes, null)).toBe(body.bytes);
  });
});
