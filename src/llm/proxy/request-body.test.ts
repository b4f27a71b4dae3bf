import { describe, expect, it } from 'vitest';
import { effectiveEndpoints, matchEndpoint } from '../whitelist/index.js';
import { parseJsonBody, withStreamUsage } from './request-body.js';

const limits = { maxDepth: 64, maxKeys: 10_000 };
const chat = matchEndpoint(effectiveEndpoints('openai', { add: [], remove: [] }), 'POST', '/v1/chat/completions')!;
const anthropic = matchEndpoint(effectiveEndpoints('anthropic', { add: [], remove: [] }), 'POST', '/v1/messages')!;
const body = (text: string) => parseJsonBody(Buffer.from(text), limits);

describe('withStreamUsage', () => {
  it('asks an OpenAI stream for usage by appending the member, keeping every original byte before it', () => {
    const text = '{"model":"gpt","messages":[{"role":"user","content":"}{ \\"x\\""}],"stream":true}\n  ';
    const out = withStreamUsage('openai', chat, body(text));
    expect(out.subarray(0, text.trimEnd().length - 1).toString()).toBe(text.trimEnd().slice(0, -1));
    expect(JSON.parse(out.toString())).toEqual({ ...JSON.parse(text), stream_options: { include_usage: true } });
  });

  it('turns include_usage on when the caller sent stream_options without it, keeping its other options', () => {
    const out = withStreamUsage('openai', chat, body('{"model":"gpt","stream":true,"stream_options":{"include_usage":false,"x":1}}'));
    expect(JSON.parse(out.toString())).toEqual({ model: 'gpt', stream: true, stream_options: { include_usage: true, x: 1 } });
  });

  it('leaves the bytes alone when there is nothing to add', () => {
    for (const text of ['{"model":"gpt","stream":false}', '{"model":"gpt","stream":true,"stream_options":{"include_usage":true}}', '{"model":"gpt"}']) {
      const parsed = body(text);
      expect(withStreamUsage('openai', chat, parsed)).toBe(parsed.bytes);
    }
    const claude = body('{"model":"claude","stream":true}');
    expect(withStreamUsage('anthropic', anthropic, claude)).toBe(claude.bytes);
  });
});
