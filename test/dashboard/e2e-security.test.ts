// The dashboard's security in real Chromium, against a real `gatehouse start`:
//   - a viewer is refused by the server on every changing route, called from the page with the
//     viewer's own cookie and CSRF token (the routes come from /openapi.json, so new ones are covered);
//   - a page on another origin posting to Gatehouse with the owner's cookie is refused;
//   - a provider key set from the page never comes back: not in the DOM, not in any response;
//   - a rate limit changed from the page makes the Data API answer 429, and the 429 shows up;
//   - every change is in the audit log under the operator who made it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, openTab } from '../harness/browser.js';
import {
  addOperator, checkPage, setUpOwner, startDashboardServer, useSession, type DashboardServer, type OperatorSession,
} from './e2e-fixture.js';

interface Answer { status: number; text: string }

/** A call the way the dashboard makes it: from the page, same-origin cookie, CSRF token, project headers. */
async function fromPage(page: Page, server: DashboardServer, method: string, path: string, body?: unknown): Promise<Answer> {
  return page.evaluate(async ({ method, path, body, project }) => {
    const me = await fetch('/_/api/me', { credentials: 'same-origin' });
    const csrf = me.ok ? ((await me.json()) as { csrfToken: string }).csrfToken : '';
    const res = await fetch(path, {
      method, credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, 'x-gatehouse-project': project, 'x-gatehouse-environment': 'dev' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  }, { method, path, body, project: server.projectId });
}

const REFUSED = /status of 40[0-9]/;

describe.skipIf(!chromiumAvailable())('dashboard e2e: security (Chromium)', () => {
  let browser: Browser;
  let server: DashboardServer;
  let owner: OperatorSession;
  let viewer: OperatorSession;

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startDashboardServer()]);
    owner = await setUpOwner(server, 'owner@example.com');
    viewer = await addOperator(server, owner, 'viewer@example.com', 'viewer');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signedInTab(session: OperatorSession, path = '/_/') {
    const tab = await openTab(browser, { expectedErrors: [REFUSED] });
    await useSession(tab.context, server, session);
    await tab.page.goto(`${server.url}${path}`);
    await tab.page.getByRole('heading', { level: 1 }).first().waitFor();
    return tab;
  }

  it('a viewer is refused by the server on every changing route, though its own page sends cookie and CSRF token', async () => {
    const spec = await (await fetch(`${server.url}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    const changes: Array<{ method: string; path: string }> = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      if (!path.startsWith('/admin/v1/')) continue;
      for (const method of Object.keys(methods)) {
        // view-as is a POST that only reads (route config readOnly): checked on its own below.
        if (path.endsWith('/rows/view-as')) continue;
        if (['post', 'put', 'patch', 'delete'].includes(method)) changes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') });
      }
    }
    expect(changes.length).toBeGreaterThan(25);
    const tab = await signedInTab(viewer);
    const readable = await fromPage(tab.page, server, 'GET', '/admin/v1/keys');
    expect(readable.status).toBe(200); // a viewer reads
    const allowed: string[] = [];
    for (const { method, path } of changes) {
      const answer = await fromPage(tab.page, server, method, path, {});
      if (answer.status !== 403) allowed.push(`${method} ${path} → ${answer.status} ${answer.text.slice(0, 120)}`);
    }
    // The admin view of view-as reads past every rule: refused to a viewer (user and guest views are reads).
    const asAdmin = await fromPage(tab.page, server, 'POST', '/admin/v1/tables/x/rows/view-as', { as: { kind: 'admin' } });
    if (asAdmin.status !== 403) allowed.push(`view-as admin → ${asAdmin.status} ${asAdmin.text.slice(0, 120)}`);
    // Managing operators (owner only), with bodies and ids that would work for an owner.
    const ownerId = owner.operatorId;
    const operatorChanges: Array<[string, string, unknown]> = [
      ['POST', '/_/api/operators', { email: 'new@example.com', password: 'a long enough password', roles: [{ projectId: server.projectId, role: 'owner' }] }],
      ['PUT', `/_/api/operators/${viewer.operatorId}`, { roles: [{ projectId: server.projectId, role: 'owner' }] }],
      ['PUT', `/_/api/operators/${ownerId}`, { roles: [{ projectId: server.projectId, role: null }] }],
      ['DELETE', `/_/api/operators/${ownerId}`, undefined],
    ];
    // 404 is a refusal too: an operator of projects the viewer does not own is not even named to it.
    for (const [method, path, body] of operatorChanges) {
      const answer = await fromPage(tab.page, server, method, path, body);
      if (answer.status !== 403 && answer.status !== 404) allowed.push(`${method} ${path} → ${answer.status} ${answer.text.slice(0, 120)}`);
    }
    expect(allowed).toEqual([]);
    const ownerMe = await (await fetch(`${server.url}/_/api/me`, { headers: { cookie: owner.cookie } })).json() as { projects: Array<{ role: string }> };
    expect(ownerMe.projects.map((p) => p.role)).toEqual(['owner']);
    const viewerMe = await (await fetch(`${server.url}/_/api/me`, { headers: { cookie: viewer.cookie } })).json() as { projects: Array<{ role: string }> };
    expect(viewerMe.projects.map((p) => p.role)).toEqual(['viewer']);
    expect(await (await fetch(`${server.url}/_/api/operators`, { headers: { cookie: owner.cookie } })).text()).not.toContain('new@example.com');
    // The same page call as the owner goes through: the refusal is the viewer's role, not the call.
    const ownerTab = await signedInTab(owner);
    expect((await fromPage(ownerTab.page, server, 'POST', '/admin/v1/keys', { kind: 'publishable', name: 'owner made' })).status).toBe(201);
    await ownerTab.done();
    const audit = await fromPage(tab.page, server, 'GET', '/admin/v1/audit-log?limit=1000');
    expect(audit.text).not.toContain(`operator:${viewer.operatorId}`);
    await tab.done();
  });

  it('a page on another origin cannot act with the owner\'s cookie', async () => {
    // Another port on the same host: the same *site*, so the SameSite=Strict cookie does go along.
    // Only the Origin check and the CSRF token stand in the way, which is what this tests.
    const target = server.url;
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><title>elsewhere</title><body>
        <form id="f" method="POST" action="${target}/_/api/operators" enctype="text/plain">
          <input name='{"email":"evil@example.com","password":"evil password 123","roles":[],"x":"' value='"}'>
        </form>
        <script>
          fetch(${JSON.stringify(`${target}/_/api/sign-out`)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
            .then(() => fetch(${JSON.stringify(`${target}/admin/v1/keys`)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"kind":"secret"}' }))
            .finally(() => document.getElementById('f').submit());
        </script></body></html>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    try {
      const tab = await openTab(browser, { expectedErrors: [REFUSED] });
      await useSession(tab.context, server, owner);
      const refused = new Map<string, number>();
      tab.page.on('response', (r) => {
        if (r.url().startsWith(target)) refused.set(`${r.request().method()} ${new URL(r.url()).pathname}`, r.status());
      });
      await tab.page.goto(evilUrl);
      await tab.page.waitForURL(`${target}/_/api/operators`);
      expect(Object.fromEntries(refused)).toEqual({
        'POST /_/api/sign-out': 403, 'POST /admin/v1/keys': 403, 'POST /_/api/operators': 403,
      });
      await tab.done();
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
    // Nothing happened: the owner is still signed in, no operator was added, no key made.
    const me = await fetch(`${server.url}/_/api/me`, { headers: { cookie: owner.cookie } });
    expect(me.status).toBe(200);
    const operators = await (await fetch(`${server.url}/_/api/operators`, { headers: { cookie: owner.cookie } })).text();
    expect(operators).not.toContain('evil@example.com');
    const keys = await (await fetch(`${server.url}/admin/v1/keys`, { headers: { apikey: server.secretKey } })).json() as { keys: Array<{ kind: string }> };
    expect(keys.keys.filter((k) => k.kind === 'secret')).toHaveLength(1);
  });

  it('a provider key set from the page never comes back: not in the DOM, not in any response the page received', async () => {
    const providerKey = `sk-e2e-${'k'.repeat(24)}-never-shown-4f2a`;
    const tab = await signedInTab(owner);
    const set = await fromPage(tab.page, server, 'PUT', '/admin/v1/providers/openai', { api_key: providerKey });
    expect(set.status).toBe(200);
    expect(set.text).not.toContain(providerKey);
    expect(set.text).toContain(providerKey.slice(-4)); // its last four tell keys apart
    await tab.page.goto(`${server.url}/_/llm`);
    await tab.page.getByRole('heading', { level: 1 }).first().waitFor();
    await tab.page.waitForLoadState('networkidle');
    await checkPage(tab.page, 'llm');
    expect(await tab.page.content()).not.toContain(providerKey);
    const responses = await tab.responses();
    expect(responses.some((r) => r.url.includes('/admin/v1/providers'))).toBe(true);
    expect(responses.filter((r) => r.body.includes(providerKey)).map((r) => r.url)).toEqual([]);
    await tab.done();
  });

  it('a rate limit changed from the page makes the Data API answer 429, and the 429 is listed; each change is audited under the operator', async () => {
    const read = () => fetch(`${server.url}/rest/v1/anything`, { headers: { apikey: server.publishableKey } }).then((r) => r.status);
    const before = [await read(), await read(), await read()];
    expect(before).not.toContain(429);
    const tab = await signedInTab(owner);
    const changed = await fromPage(tab.page, server, 'PUT', '/admin/v1/limits/policy', { data_read: { tiers: { guest: [{ limit: 2, windowMs: 60_000 }] } } });
    expect(changed.status, changed.text).toBe(200);
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push(await read());
    expect(after).toContain(429);
    await tab.page.goto(`${server.url}/_/rate-limits`);
    await tab.page.getByRole('heading', { level: 1 }).first().waitFor();
    await checkPage(tab.page, 'rate-limits');
    const events = await fromPage(tab.page, server, 'GET', '/admin/v1/security-events?type=rate_limited');
    expect((JSON.parse(events.text) as { events: unknown[] }).events.length).toBeGreaterThan(0);

    const audit = JSON.parse((await fromPage(tab.page, server, 'GET', '/admin/v1/audit-log?limit=100')).text) as { entries: Array<{ actor: string; action: string }> };
    const mine = audit.entries.filter((e) => e.actor === `operator:${owner.operatorId}`).map((e) => e.action);
    expect(mine).toEqual(expect.arrayContaining(['rate_limits.policy.set', 'llm_provider.put', 'api_key.create']));
    await tab.page.goto(`${server.url}/_/security`);
    await tab.page.getByRole('heading', { level: 1 }).first().waitFor();
    await checkPage(tab.page, 'security');
    // Its audit tab lists the change, under the operator's id.
    await tab.page.getByRole('tab', { name: 'Audit' }).click();
    await expect.poll(() => tab.page.locator('main').innerText(), { timeout: 15_000 }).toContain('rate_limits.policy.set');
    expect(await tab.page.locator('main').innerText()).toContain(`operator:${owner.operatorId}`);
    await checkPage(tab.page, 'audit');
    await tab.done();
  }, 90_000);
});
