import type { ProviderKind } from '../whitelist/index.js';

// Token usage as each wire format reports it. Streams report it more than
// once (Anthropic: input in message_start, running output in message_delta;
// Gemini: a cumulative usageMetadata on every chunk), so readings are merged
// by taking the largest value of each counter.

export interface TokenUsage {
  input: number;
  output: number;
  total: number;
  model: string | null;
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/** Usage from one parsed JSON document (a whole response or one stream event), or null. */
export function usageFrom(kind: ProviderKind, doc: unknown): TokenUsage | null {
  if (!doc || typeof doc !== 'object') return null;
  // Gemini's streamGenerateContent without alt=sse answers one JSON array of chunks.
  if (Array.isArray(doc)) return doc.reduce<TokenUsage | null>((sum, item) => mergeUsage(sum, usageFrom(kind, item)), null);
  const o = doc as Record<string, any>;
  if (kind === 'gemini') {
    const u = o.usageMetadata;
    if (!u || typeof u !== 'object') return null;
    const input = n(u.promptTokenCount);
    const output = n(u.candidatesTokenCount) + n(u.thoughtsTokenCount);
    return { input, output, total: n(u.totalTokenCount) || input + output, model: typeof o.modelVersion === 'string' ? o.modelVersion : null };
  }
  // OpenAI responses stream: { type: 'response.completed', response: { usage, model } }; Anthropic: message_start.message.
  const inner = o.response && typeof o.response === 'object' ? o.response : o.message && typeof o.message === 'object' && kind === 'anthropic' ? o.message : o;
  const u = inner.usage ?? o.usage;
  if (!u || typeof u !== 'object') return null;
  const input = n(u.prompt_tokens) + n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens);
  const output = n(u.completion_tokens) + n(u.output_tokens);
  const model = typeof inner.model === 'string' ? inner.model : typeof o.model === 'string' ? o.model : null;
  return { input, output, total: Math.max(n(u.total_tokens), input + output), model };
}

export function mergeUsage(a: TokenUsage | null, b: TokenUsage | null): TokenUsage | null {
  if (!a) return b;
  if (!b) return a;
  const input = Math.max(a.input, b.input);
  const output = Math.max(a.output, b.output);
  return { input, output, total: Math.max(a.total, b.total, input + output), model: b.model ?? a.model };
}
