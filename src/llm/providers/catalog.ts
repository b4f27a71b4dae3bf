import type { ProviderKind } from '../whitelist/index.js';

// The three built-in providers. Any other name is an OpenAI-compatible
// provider (Groq, Mistral, vLLM, Ollama…) and needs its own base URL.
export const BUILT_IN: Record<string, { kind: ProviderKind; baseUrl: string }> = {
  openai: { kind: 'openai', baseUrl: 'https://api.openai.com' },
  anthropic: { kind: 'anthropic', baseUrl: 'https://api.anthropic.com' },
  gemini: { kind: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com' },
};

export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** A provider in metrics labels: a built-in one by name; one a project configured is `custom` (its name is tenant data). */
export function providerLabel(name: string): string {
  return Object.hasOwn(BUILT_IN, name) ? name : 'custom';
}

export function isProviderKind(value: unknown): value is ProviderKind {
  return value === 'openai' || value === 'anthropic' || value === 'gemini';
}

/**
 * The header that carries the provider key, set by Gatehouse only (the
 * caller's own Authorization / x-api-key never go upstream).
 */
export function authHeaders(kind: ProviderKind, apiKey: string | null): Record<string, string> {
  if (apiKey === null) return {};
  switch (kind) {
    case 'openai':
      return { authorization: `Bearer ${apiKey}` };
    case 'anthropic':
      return { 'x-api-key': apiKey };
    case 'gemini':
      return { 'x-goog-api-key': apiKey };
  }
}

/**
 * A base URL is an origin plus an optional path prefix: no credentials,
 * query or fragment (they would be forwarded to, or hide, the real target).
 * Returns the problem, or null.
 */
export function checkBaseUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http or https';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return null;
}

export function splitBaseUrl(value: string): { origin: string; basePath: string } {
  const url = new URL(value);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}
