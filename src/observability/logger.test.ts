import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createLogger, wantsPrettyLogs } from './logger.js';

function capture(): { stream: Writable; text(): string } {
  let out = '';
  const stream = new Writable({ write(chunk, _enc, done) { out += String(chunk); done(); } });
  return { stream, text: () => out };
}

describe('log format', () => {
  it('is pretty only for a terminal in development unless forced', () => {
    expect(wantsPrettyLogs({ format: 'auto', mode: 'development', isTTY: true })).toBe(true);
    expect(wantsPrettyLogs({ format: 'auto', mode: 'development', isTTY: false })).toBe(false);
    expect(wantsPrettyLogs({ format: 'auto', mode: 'development', isTTY: undefined })).toBe(false);
    // `docker run -t` gives a container a TTY whose output is still collected: production stays JSON.
    expect(wantsPrettyLogs({ format: 'auto', mode: 'production', isTTY: true })).toBe(false);
    expect(wantsPrettyLogs({ format: 'json', mode: 'development', isTTY: true })).toBe(false);
    expect(wantsPrettyLogs({ format: 'pretty', mode: 'production', isTTY: false })).toBe(true);
  });

  it('GATEHOUSE_LOG_FORMAT accepts auto, json and pretty, and names them when given anything else', () => {
    expect(loadConfig({ env: {} }).logFormat).toBe('auto');
    expect(loadConfig({ env: { GATEHOUSE_LOG_FORMAT: 'pretty' } }).logFormat).toBe('pretty');
    expect(() => loadConfig({ env: { GATEHOUSE_LOG_FORMAT: 'yaml' } })).toThrow(/GATEHOUSE_LOG_FORMAT.*"auto", "json", "pretty"/);
  });

  it('a pretty line is redacted exactly like the JSON line', () => {
    const secret = 'sk_dev_abc_SECRETSECRETSECRET';
    const out = capture();
    const logger = createLogger({ level: 'info', pretty: true, colorize: false, destination: out.stream as never });
    logger.info({ req: { method: 'GET', url: `/rest/v1/todos?apikey=${secret}`, headers: { apikey: secret } }, body: { password: 'hunter2', api_key: secret } }, 'incoming request');
    const text = out.text();
    expect(text).toContain('incoming request');
    expect(text.trimStart().startsWith('{')).toBe(false);
    expect(text).toContain('[Redacted]');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('hunter2');
  });

  it('redacts operator passwords and one-time codes in a body, but keeps an error\'s code', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream as never });
    logger.info({ body: { currentPassword: 'old-hunter2', newPassword: 'new-hunter2', totp: '123456', code: '654321' }, err: { code: 'validation_failed' } }, 'account change');
    const line = JSON.parse(out.text());
    expect(line.body).toEqual({ currentPassword: '[Redacted]', newPassword: '[Redacted]', totp: '[Redacted]', code: '[Redacted]' });
    expect(line.err.code).toBe('validation_failed');
  });

  it('secret query parameters are redacted however their names are percent-encoded (as Fastify decodes them)', () => {
    const secret = 'sb_secret_SECRETSECRETSECRET';
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream as never });
    for (const url of [`/r?%61pikey=${secret}`, `/r?x=1&API%5FKEY=${secret}`, `/r?ap%69key=${secret}&ok=1`, `/r?%E0%A4%A=${secret}`, `/r?access%5ftoken=${secret}#f`]) {
      logger.info({ req: { method: 'GET', url, headers: {} } }, 'incoming request');
    }
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { req: { url: string } });
    expect(lines).toHaveLength(5);
    expect(out.text()).not.toContain(secret);
    expect(lines[1]!.req.url).toBe('/r?x=1&API%5FKEY=[Redacted]');
    expect(lines[2]!.req.url).toBe('/r?ap%69key=[Redacted]&ok=1');
  });

  it('without pretty, every line is one JSON object', () => {
    const out = capture();
    createLogger({ level: 'info', destination: out.stream as never }).info({ n: 1 }, 'hello');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'hello', n: 1 });
  });
});
