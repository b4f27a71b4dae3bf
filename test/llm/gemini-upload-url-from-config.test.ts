import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { engines } from '../harness/engines.js';
import { startLlmTest, useLlmTest, type LlmTest } from './setup.js';

// Issue 11 item 13: the resumable upload URL Gatehouse hands out is where the
// client sends its next chunk, with its user's token. It is built from
// configuration only: a Host or X-Forwarded-Host header must never steer it.

const START = { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'content-type': 'application/json' };

/** A resumable start sent with raw headers (fetch does not let a caller set Host). */
function startUpload(t: LlmTest, headers: Record<string, string>): Promise<{ status: number; uploadUrl: string | undefined; body: string }> {
  const { hostname, port } = new URL(t.gh.url);
  const body = JSON.stringify({ file: { display_name: 'x.pdf' } });
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      hostname, port, method: 'POST', path: '/llm/gemini/upload/v1beta/files',
      headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, ...START, 'content-length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, uploadUrl: res.headers['x-goog-upload-url'] as string | undefined, body: text }));
    });
    req.on('error', reject).end(body);
  });
}

const SPOOFED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

describe.each(engines())('the Gemini upload URL comes from configuration, never from the request (%s)', (engine) => {
  describe('development without a public URL, behind a trusted proxy', () => {
    // Loopback is trusted, so Fastify itself would believe X-Forwarded-Host: the old code built the URL on it.
    const t = useLlmTest(engine, { env: { GATEHOUSE_TRUST_PROXY: '127.0.0.1' } });

    it('a spoofed Host or X-Forwarded-Host does not steer the upload URL: it is the listening address', async () => {
      const res = await startUpload(t, SPOOFED);
      expect(res.status).toBe(200);
      expect(res.uploadUrl).toMatch(new RegExp(`^${t.gh.url}/llm/gemini/upload/v1beta/files\\?upload_id=[A-Za-z0-9_-]+&upload_protocol=resumable$`));
      expect(res.uploadUrl).not.toContain('evil');
      // The URL it gives works: the session goes on there.
      const query = await fetch(res.uploadUrl!, { method: 'POST', headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, 'x-goog-upload-command': 'query' } });
      expect(query.status).toBe(200);
    });
  });

  describe('with GATEHOUSE_PUBLIC_URL', () => {
    const t = useLlmTest(engine, { env: { GATEHOUSE_PUBLIC_URL: 'https://api.example.com/gh', GATEHOUSE_TRUST_PROXY: '127.0.0.1' } });

    it('the upload URL is built on it whatever Host the request names', async () => {
      const res = await startUpload(t, SPOOFED);
      expect(res.status).toBe(200);
      expect(res.uploadUrl).toMatch(/^https:\/\/api\.example\.com\/gh\/llm\/gemini\/upload\/v1beta\/files\?upload_id=[^&]+&upload_protocol=resumable$/);
    });
  });

  it('development without a public URL and without a socket to name: a clear 503, not a guess from Host', async () => {
    const t = await startLlmTest(engine, { listen: false });
    try {
      const res = await t.gh.app.inject({
        method: 'POST', url: '/llm/gemini/upload/v1beta/files', payload: JSON.stringify({ file: {} }),
        headers: { apikey: t.gh.publishableKey, authorization: `Bearer ${t.alice.accessToken}`, ...START, ...SPOOFED },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 503, message: expect.stringContaining('GATEHOUSE_PUBLIC_URL') } });
      expect(res.headers['x-goog-upload-url']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('production needs a public URL', () => {
  it('refuses to load without GATEHOUSE_PUBLIC_URL', () => {
    const env = { GATEHOUSE_MODE: 'production', GATEHOUSE_MASTER_KEY: 'ab'.repeat(32), GATEHOUSE_MAILER: 'smtp', GATEHOUSE_SMTP_URL: 'smtps://user:pass@mail.example.com' };
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(/GATEHOUSE_PUBLIC_URL: required in production/);
    expect(loadConfig({ env: { ...env, GATEHOUSE_PUBLIC_URL: 'https://api.example.com' } }).publicUrl).toBe('https://api.example.com');
  });
});
