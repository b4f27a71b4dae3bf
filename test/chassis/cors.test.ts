import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../src/crypto/index.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';

describe.each(engines())('CORS allowlist per project environment on %s', (engine) => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp(engine);
    const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/environment/cors', headers: { apikey: gh.secretKey }, payload: { origins: ['https://app.example.com', 'http://localhost:*'] } });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await gh.close();
  });

  const preflight = (origin: string) =>
    gh.app.inject({ method: 'OPTIONS', url: '/admin/v1/project', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'apikey, content-type' } });

  it('answers a preflight from an allowed origin, echoing it (never *) and without credentials', async () => {
    const res = await preflight('https://app.example.com');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-allow-headers']).toBe('apikey, content-type');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toContain('Origin');
  });

  it('matches a port wildcard only on the port', async () => {
    expect((await preflight('http://localhost:5173')).statusCode).toBe(204);
    expect((await preflight('http://localhost.evil.com:5173')).statusCode).toBe(403);
    expect((await preflight('http://localhost:5173.evil.com')).statusCode).toBe(403);
  });

  it('refuses a preflight from an unknown origin', async () => {
    const res = await preflight('https://evil.example.net');
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('origin_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets an allowed page read the answer', async () => {
    const res = await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey, origin: 'https://app.example.com' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-expose-headers']).toContain('X-Request-Id');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses a browser request from an origin the key\'s environment does not allow', async () => {
    const other = await gh.createProject(`cors${engine}`);
    // Another project's environment allows this origin; ours (other's dev default) does not.
    const res = await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: other.secretKey, origin: 'https://app.example.com' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('origin_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    await gh.deps.events.flush();
    const events = await gh.deps.storage.db.selectFrom('security_events').selectAll().where('type', '=', 'origin_rejected').execute();
    expect(events.some((e) => e.project_id === other.project.id)).toBe(true);
  });

  it('requests without an Origin (servers, mobile apps) are not affected', async () => {
    expect((await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
  });

  it('refuses malformed allowlist entries', async () => {
    for (const origin of ['https://app.example.com/path', 'javascript:alert(1)', 'app.example.com', 'https://*.example.com']) {
      const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/environment/cors', headers: { apikey: gh.secretKey }, payload: { origins: [origin] } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('validation_failed');
    }
    const project = (await gh.app.inject({ url: '/admin/v1/project', headers: { apikey: gh.secretKey } })).json();
    expect(project.environments[0].cors_origins).toEqual(['https://app.example.com', 'http://localhost:*']);
  });
});

describe('CORS in production mode', () => {
  it('refuses `*` in an allowlist', async () => {
    const gh = await startTestApp('sqlite', {
      env: { GATEHOUSE_MODE: 'production', GATEHOUSE_MASTER_KEY: generateMasterKey(), GATEHOUSE_MAILER: 'smtp', GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:9', GATEHOUSE_PUBLIC_URL: 'https://api.example.com' },
    });
    try {
      const res = await gh.app.inject({ method: 'PUT', url: '/admin/v1/environment/cors', headers: { apikey: gh.secretKey }, payload: { origins: ['*'] } });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/not allowed in production/);
    } finally {
      await gh.close();
    }
  });
});
