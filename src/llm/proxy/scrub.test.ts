import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { scrubAccountIds, scrubbedErrorBody } from './scrub.js';

describe('provider error bodies', () => {
  it('organization and project ids are masked, everything else is kept', () => {
    const body = JSON.stringify({ error: { message: 'Rate limit reached for gpt-4 in organization org-AbC123 on tokens per min; project proj_xY9 and org-Z.', code: 'rate_limit_exceeded' } });
    const out = scrubAccountIds(body);
    expect(out).toBe(JSON.stringify({ error: { message: 'Rate limit reached for gpt-4 in organization org-*** on tokens per min; project proj_*** and org-***.', code: 'rate_limit_exceeded' } }));
    expect(JSON.parse(out)).toBeTruthy();
  });

  it('a body larger than the bound is refused as an upstream failure, not passed on unread', async () => {
    const big = Readable.from([Buffer.alloc(2048, 'a')]);
    await expect(scrubbedErrorBody(big, 'openai', null, 1024)).rejects.toSatisfy((e) => e instanceof GatehouseError && e.code === 'upstream_failed');
    const small = Readable.from([Buffer.from('{"error":{"message":"org-Secret1"}}')]);
    expect((await scrubbedErrorBody(small, 'openai', null)).toString()).toBe('{"error":{"message":"org-***"}}');
  });
});
