import type { Readable } from 'node:stream';
import { GatehouseError } from '../../errors/index.js';
import { readBounded } from './request-body.js';
import { maskSecret, type SecretNeedle } from './secret-mask.js';

// Provider error messages name the account behind the key: OpenAI's 429 reads
// "Rate limit reached for gpt-4 in organization org-AbC123 on tokens per min".
// The openai-organization header is dropped for the same reason (upstream.ts);
// here the ids are masked in 4xx JSON bodies, the only errors passed on as sent.

const ACCOUNT_IDS: Array<[RegExp, string]> = [
  [/org-[A-Za-z0-9]+/g, 'org-***'],
  [/proj_[A-Za-z0-9]+/g, 'proj_***'],
];

/** Error bodies are short; anything larger is not an error we pass on unread. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export function scrubAccountIds(text: string): string {
  return ACCOUNT_IDS.reduce((out, [pattern, mask]) => out.replace(pattern, mask), text);
}

/** Reads a provider's JSON error body (bounded) and masks the provider key and organization / project ids in it. */
export async function scrubbedErrorBody(body: Readable, provider: string, needle: SecretNeedle, maxBytes = MAX_ERROR_BODY_BYTES): Promise<Buffer> {
  let bytes: Buffer | null;
  try {
    bytes = await readBounded(body, maxBytes);
  } catch (error) {
    throw new GatehouseError('upstream_failed', { message: `The provider ${provider} broke the connection.`, cause: error });
  }
  if (bytes === null) throw new GatehouseError('upstream_failed', { message: `The provider ${provider} sent an error Gatehouse could not check.` });
  return Buffer.from(scrubAccountIds(maskSecret(bytes, needle).toString('utf8')), 'utf8');
}
