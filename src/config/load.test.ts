import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const GOOD_KEY = 'q'.repeat(43);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has safe defaults for the embedded mode', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/app' });
    expect(config).toMatchObject({ mode: 'development', host: '127.0.0.1', port: 8080, dataDir: '/srv/app/.gatehouse', trustProxy: [] });
    expect(config.limits.jsonBodyBytes).toBe(10 * 1024 * 1024);
    expect(config.limits.anyBodyBytes).toBe(50 * 1024 * 1024);
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config) && Object.isFrozen(config.limits)).toBe(true);
  });

  it('reads GATEHOUSE_* variables, DATABASE_URL and REDIS_URL', () => {
    const config = loadConfig({
      env: {
        GATEHOUSE_PORT: '9090', GATEHOUSE_HOST: '0.0.0.0', DATABASE_URL: 'postgres://u@db/x', REDIS_URL: 'redis://r:6379',
        GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1', GATEHOUSE_MODE: 'development', PATH: '/bin',
      },
    });
    expect(config).toMatchObject({ port: 9090, host: '0.0.0.0', databaseUrl: 'postgres://u@db/x', redisUrl: 'redis://r:6379', trustProxy: ['10.0.0.0/8', '127.0.0.1'] });
  });

  it('a bad value stops the start naming the setting and what is expected', () => {
    const problems = problemsOf(() => loadConfig({ env: { GATEHOUSE_PORT: 'eighty', GATEHOUSE_MODE: 'staging', DATABASE_URL: 'mysql://x' } }));
    expect(problems.some((p) => p.startsWith('GATEHOUSE_PORT:') && /integer/i.test(p))).toBe(true);
    expect(problems.some((p) => p.startsWith('GATEHOUSE_MODE:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL:') && p.includes('postgres'))).toBe(true);
  });

  it('refuses an out-of-range port', () => {
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_PORT: '70000' } }))[0]).toMatch(/^GATEHOUSE_PORT:.*65535/);
  });

  it('refuses an unknown GATEHOUSE_ variable (a typo must not fall back to a default)', () => {
    const [problem] = problemsOf(() => loadConfig({ env: { GATEHOUSE_PROT: '9090' } }));
    expect(problem).toMatch(/^GATEHOUSE_PROT: unknown setting/);
  });

  it('an invalid choice lists the allowed values', () => {
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_MODE: 'prod' } }))).toEqual(['GATEHOUSE_MODE: expected one of "development", "production" (got "prod")']);
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_LOG_LEVEL: 'verbose' } }))[0]).toMatch(/^GATEHOUSE_LOG_LEVEL: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"/);
  });

  it('an unknown GATEHOUSE_ variable names the closest known one', () => {
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_LOG_LEVL: 'debug' } }))).toEqual(['GATEHOUSE_LOG_LEVL: unknown setting; did you mean GATEHOUSE_LOG_LEVEL?']);
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_PROT: '9090' } }))[0]).toMatch(/did you mean GATEHOUSE_PORT\?$/);
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_CONFGI: 'x.json' } }))[0]).toMatch(/did you mean GATEHOUSE_CONFIG\?$/);
    // Nothing near: no guess, and no list of every variable either.
    const [far] = problemsOf(() => loadConfig({ env: { GATEHOUSE_FROBNICATE_EVERYTHING: '1' } }));
    expect(far).toMatch(/^GATEHOUSE_FROBNICATE_EVERYTHING: unknown setting; see /);
    expect(far).not.toContain('GATEHOUSE_PORT');
  });

  it('a broken JSON config file names the line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    const file = join(dir, 'gatehouse.json');
    const at = (text: string) => {
      writeFileSync(file, text);
      return problemsOf(() => loadConfig({ env: {}, configFile: file }))[0];
    };
    expect(at('{\n  "port": 7000\n  "host": "x"\n}')).toBe(`config file ${file}: not valid JSON at line 3, column 3`);
    expect(at('{\n  "secureEmailChange": tru\n}')).toMatch(/line 2, column 27$/);
    expect(at('{ "port": 7000, }')).toMatch(/line 1, column 17$/);
    expect(at('{ "port": 7000')).toMatch(/line 1, column 15$/);
    expect(at('{ "host": "a\tb" }')).toMatch(/line 1, column 13$/);
  });

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf(() => loadConfig({ env: { GATEHOUSE_MASTER_KEY: 'short-secret-value' } }));
    expect(problems.join('\n')).toContain('GATEHOUSE_MASTER_KEY');
    expect(problems.join('\n')).not.toContain('short-secret-value');
  });

  it('merges a config file under the environment, and rejects unknown keys in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    const file = join(dir, 'gatehouse.json');
    writeFileSync(file, JSON.stringify({ port: 7000, host: '127.0.0.2', limits: { jsonMaxDepth: 10 } }));
    const config = loadConfig({ env: { GATEHOUSE_PORT: '7001' }, configFile: file });
    expect(config.port).toBe(7001);
    expect(config.host).toBe('127.0.0.2');
    expect(config.limits.jsonMaxDepth).toBe(10);
    writeFileSync(file, JSON.stringify({ prot: 7000 }));
    expect(problemsOf(() => loadConfig({ env: {}, configFile: file })).join()).toMatch(/prot|additional/i);
    writeFileSync(file, '{ not json');
    expect(problemsOf(() => loadConfig({ env: {}, configFile: file }))[0]).toMatch(/not valid JSON/);
    expect(problemsOf(() => loadConfig({ env: {}, configFile: join(dir, 'missing.json') }))[0]).toMatch(/cannot be read/);
  });

  describe('production mode refuses insecure settings', () => {
    // Production mail goes through SMTP (the outbox is refused, see below).
    const prod = { GATEHOUSE_MODE: 'production', GATEHOUSE_MAILER: 'smtp', GATEHOUSE_SMTP_URL: 'smtps://user:pass@mail.example.com', GATEHOUSE_PUBLIC_URL: 'https://api.example.com' };

    it('without a master key', () => {
      expect(problemsOf(() => loadConfig({ env: prod })).join()).toMatch(/GATEHOUSE_MASTER_KEY.*required in production/);
    });

    it('with the documentation example key', () => {
      expect(problemsOf(() => loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: '0'.repeat(64) } })).join()).toMatch(/example key/);
    });

    it('with CORS *', () => {
      expect(problemsOf(() => loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: GOOD_KEY, GATEHOUSE_CORS_DEV_ORIGINS: '*' } })).join()).toMatch(/CORS.*\*/);
    });

    it('on a public address with neither TLS nor a trusted proxy', () => {
      expect(problemsOf(() => loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: GOOD_KEY, GATEHOUSE_HOST: '0.0.0.0' } })).join()).toMatch(/TLS/);
      expect(loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: GOOD_KEY, GATEHOUSE_HOST: '0.0.0.0', GATEHOUSE_TRUST_PROXY: '10.0.0.1' } }).mode).toBe('production');
    });

    it('with the development mail outbox (the default mailer), which keeps live one-time codes', () => {
      const { GATEHOUSE_MAILER: _mailer, GATEHOUSE_SMTP_URL: _url, ...withoutSmtp } = prod;
      expect(problemsOf(() => loadConfig({ env: { ...withoutSmtp, GATEHOUSE_MASTER_KEY: GOOD_KEY } })).join()).toMatch(/GATEHOUSE_MAILER.*development only/);
      expect(problemsOf(() => loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: GOOD_KEY, GATEHOUSE_MAILER: 'outbox' } })).join()).toMatch(/GATEHOUSE_MAILER/);
      // Development keeps it, for minutes by default.
      expect(loadConfig({ env: {} }).identity).toMatchObject({ mailer: 'outbox', outboxRetentionSeconds: 600 });
      expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_OUTBOX_RETENTION_SECONDS: '0' } })).join()).toMatch(/GATEHOUSE_OUTBOX_RETENTION_SECONDS/);
    });

    it('without a public URL (links such as the Gemini upload URL are never built from a request header)', () => {
      const { GATEHOUSE_PUBLIC_URL: _, ...noUrl } = prod;
      expect(problemsOf(() => loadConfig({ env: { ...noUrl, GATEHOUSE_MASTER_KEY: GOOD_KEY } })).join()).toMatch(/GATEHOUSE_PUBLIC_URL: required in production/);
    });

    it('accepts a safe production config', () => {
      expect(loadConfig({ env: { ...prod, GATEHOUSE_MASTER_KEY: GOOD_KEY } }).mode).toBe('production');
    });
  });
});
