// GET / answers a small public HTML page linking the API reference, health and readiness, instead
// of a 404: nothing external to load, nothing the security headers' CSP would block, no secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

describe('home page', () => {
  let gh: TestApp;
  beforeAll(async () => {
    gh = await startTestApp('sqlite');
  });
  afterAll(() => gh?.close());

  it('serves HTML to a caller without any key, linking /docs, /health and /ready, each of which answers', async () => {
    const res = await gh.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/^<!doctype html>/);
    const links = [...res.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    expect(links).toEqual(expect.arrayContaining(['/docs', '/health', '/ready']));
    for (const link of links) {
      const followed = await gh.app.inject({ url: link });
      expect(followed.statusCode, link).toBeLessThan(400);
    }
  });

  it('loads nothing external and runs no script, so the CSP of every response allows all of it', async () => {
    const res = await gh.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self'");
    expect(res.body).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i);
    // Every link stays on this origin.
    expect(res.body).not.toMatch(/href="(?!\/)/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('reveals no project, key or setting', async () => {
    const res = await gh.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h1>Gatehouse</h1>');
    for (const secret of [gh.project.id, gh.secretKey, gh.publishableKey, gh.config.dataDir]) expect(res.body).not.toContain(secret);
  });
});
