import { describe, expect, it } from 'vitest';
import { mergeUsage, SseEventScanner, usageFrom } from './index.js';
import { periodsAt } from './quotas.js';

/** Feeds the text in chunks of chunkSize bytes, as the proxy does with a provider's body. */
function scan(kind: 'openai' | 'anthropic' | 'gemini', text: string, chunkSize: number) {
  const created: unknown[] = [];
  const scanner = new SseEventScanner(kind, (doc) => created.push(doc));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.write(bytes.subarray(i, i + chunkSize));
  scanner.end();
  return { usage: scanner.findings.usage, created, seen: scanner.bytes };
}

const openaiStream = [
  'data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}],"usage":null}',
  'data: {"id":"c1","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}',
  'data: [DONE]',
].join('\n\n') + '\n\n';

describe('SSE usage scanner', () => {
  it.each([1, 7, 64, 10_000])('passes bytes unchanged and finds usage whatever the chunking (%i bytes)', (size) => {
    const r = scan('openai', openaiStream, size);
    expect(r.seen).toBe(Buffer.byteLength(openaiStream));
    expect(r.usage).toEqual({ input: 10, output: 5, total: 15, model: 'gpt-4o' });
  });

  it('decodes characters split across chunks', () => {
    const text = 'data: {"model":"modèle-✓","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n';
    expect((scan('openai', text, 1)).usage?.model).toBe('modèle-✓');
  });

  it('merges Anthropic message_start and message_delta usage', () => {
    const text = [
      'event: message_start\ndata: {"type":"message_start","message":{"model":"claude","usage":{"input_tokens":12,"output_tokens":1}}}',
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":6}}',
    ].join('\n\n') + '\n\n';
    expect((scan('anthropic', text, 5)).usage).toEqual({ input: 12, output: 6, total: 18, model: 'claude' });
  });

  it('reads Gemini usageMetadata with CRLF framing', () => {
    const text = 'data: {"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10}}\r\n\r\ndata: {"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":12},"modelVersion":"g"}\r\n\r\n';
    expect((scan('gemini', text, 3)).usage).toEqual({ input: 8, output: 4, total: 12, model: 'g' });
  });

  it('reports resources created by a stream (responses, runs)', () => {
    const text = 'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1","object":"response","usage":null}}\n\n';
    expect((scan('openai', text, 4)).created).toEqual([{ id: 'resp_1', object: 'response', usage: null }]);
  });

  it('does not hold an oversized event', () => {
    const huge = `data: {"x":"${'a'.repeat(1_200_000)}","usage":{"prompt_tokens":999}}\n\n${openaiStream}`;
    const r = scan('openai', huge, 65_536);
    expect(r.seen).toBe(Buffer.byteLength(huge));
    expect(r.usage?.input).toBe(10);
  });
});

describe('usage from whole responses', () => {
  it('reads each format', () => {
    expect(usageFrom('openai', { model: 'm', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })).toEqual({ input: 3, output: 2, total: 5, model: 'm' });
    expect(usageFrom('openai', { type: 'response.completed', response: { model: 'r', usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 } } })).toEqual({ input: 7, output: 3, total: 10, model: 'r' });
    expect(usageFrom('anthropic', { model: 'c', usage: { input_tokens: 5, output_tokens: 1, cache_read_input_tokens: 4 } })).toEqual({ input: 9, output: 1, total: 10, model: 'c' });
    expect(usageFrom('openai', { usage: { prompt_tokens: -5, completion_tokens: 'x' } })).toEqual({ input: 0, output: 0, total: 0, model: null });
    expect(mergeUsage(null, null)).toBeNull();
    const chunk = (n: number) => ({ usageMetadata: { promptTokenCount: 8, candidatesTokenCount: n, totalTokenCount: 8 + n } });
    expect(usageFrom('gemini', [chunk(2), chunk(5)])).toEqual({ input: 8, output: 5, total: 13, model: null });
  });

  it('quota periods are the UTC day and month', () => {
    const [day, month] = periodsAt(new Date('2026-02-28T23:59:30Z'));
    expect(day).toMatchObject({ key: 'day:2026-02-28', endsAt: new Date('2026-03-01T00:00:00Z') });
    expect(month).toMatchObject({ key: 'month:2026-02', endsAt: new Date('2026-03-01T00:00:00Z') });
  });
});
