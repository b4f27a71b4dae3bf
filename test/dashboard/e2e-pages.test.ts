// The dashboard's pages in real Chromium, against a real `gatehouse start`: create an API key and
// use it; apply a schema change after reviewing its plan; view a table's rows as user A, user B
// and a guest and get exactly what the Data API gives each; every page checked (axe-core, 1280
// and 390 px, no console or page error) and photographed for docs/dashboard.md.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, openTab } from '../harness/browser.js';
import { checkPage, setUpOwner, startDashboardServer, useSession, type DashboardServer, type OperatorSession } from './e2e-fixture.js';

const NOTES_SCHEMA = {
  tables: {
    notes: {
      columns: { title: { type: 'text', required: true }, public: { type: 'boolean', default: false } },
      rules: { select: ['admin', 'self', 'public == true'], insert: ['user', 'admin'], update: ['self'], delete: ['self', 'admin'] },
    },
  },
};

interface EndUser { id: string; token: string }

describe.skipIf(!chromiumAvailable())('dashboard e2e: pages (Chromium)', () => {
  let browser: Browser;
  let server: DashboardServer;
  let owner: OperatorSession;

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startDashboardServer()]);
    owner = await setUpOwner(server, 'owner@example.com');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function ownerTab(path: string) {
    const tab = await openTab(browser);
    await useSession(tab.context, server, owner);
    await tab.page.goto(`${server.url}${path}`);
    await tab.page.getByRole('heading', { level: 1 }).first().waitFor();
    return tab;
  }

  it('API keys: a key created on the page is shown once and works with fetch', async () => {
    const tab = await ownerTab('/_/keys');
    const { page } = tab;
    await checkPage(page, 'keys');
    await page.getByLabel('Kind').selectOption('secret');
    await page.getByLabel('Name', { exact: true }).fill('e2e app');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByTestId('new-key');
    await shown.waitFor();
    const key = (await shown.locator('code').textContent())!.trim();
    expect(key).toMatch(/^sk_/);
    const works = await fetch(`${server.url}/admin/v1/project`, { headers: { apikey: key } });
    expect(works.status).toBe(200);
    const typo = await fetch(`${server.url}/admin/v1/project`, { headers: { apikey: `${key.slice(0, -1)}x` } });
    expect(typo.status).toBe(401);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(key);
    await tab.done();
  });

  it('tables: a schema change is reviewed as a plan, then applied', async () => {
    const tab = await ownerTab('/_/tables');
    const { page } = tab;
    await page.getByLabel('Schema document').fill(JSON.stringify(NOTES_SCHEMA, null, 2));
    await page.getByRole('button', { name: 'Review schema changes' }).click();
    const plan = page.getByTestId('plan');
    await plan.waitFor();
    expect(await plan.innerText()).toMatch(/Plan: \d+ steps?/);
    expect(await plan.innerText()).toContain('notes');
    const before = await (await fetch(`${server.url}/admin/v1/tables`, { headers: { apikey: server.secretKey } })).text();
    expect(before).not.toContain('notes'); // reviewing changed nothing
    await checkPage(page, 'tables-plan');
    await page.getByRole('button', { name: 'Apply schema' }).click();
    await page.getByRole('link', { name: 'notes' }).waitFor();
    const after = await (await fetch(`${server.url}/admin/v1/tables`, { headers: { apikey: server.secretKey } })).text();
    expect(after).toContain('notes');
    await checkPage(page, 'tables');
    await tab.done();
  });

  it('rows "view as": user A, user B and a guest see exactly what the Data API gives them', async () => {
    const signUp = async (email: string): Promise<EndUser> => {
      const res = await fetch(`${server.url}/auth/v1/signup`, {
        method: 'POST', headers: { apikey: server.publishableKey, 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'a strong password 123' }),
      });
      const body = await res.json() as { access_token: string; user: { id: string } };
      return { id: body.user.id, token: body.access_token };
    };
    const headers = (u?: EndUser) => ({ apikey: server.publishableKey, 'content-type': 'application/json', ...(u ? { authorization: `Bearer ${u.token}` } : {}) });
    const [a, b] = [await signUp('a@example.com'), await signUp('b@example.com')];
    for (const [u, row] of [[a, { title: 'a private' }], [a, { title: 'a public', public: true }], [b, { title: 'b private' }]] as const) {
      expect((await fetch(`${server.url}/rest/v1/notes`, { method: 'POST', headers: headers(u), body: JSON.stringify(row) })).status).toBe(201);
    }
    const restTitles = async (u?: EndUser) => ((await (await fetch(`${server.url}/rest/v1/notes?select=title`, { headers: headers(u) })).json()) as Array<{ title: string }>).map((r) => r.title).sort();

    const tab = await ownerTab('/_/tables/notes');
    const { page } = tab;
    await page.getByRole('tab', { name: 'Rows' }).click();
    const viewAs = async (as: 'user' | 'guest', userId?: string): Promise<string[]> => {
      await page.getByLabel('As', { exact: true }).selectOption(as);
      if (userId) await page.getByLabel('User id').fill(userId);
      await page.getByLabel('Columns').fill('title');
      await page.getByRole('button', { name: 'Show rows' }).click();
      const rows = page.getByTestId('rows');
      await rows.waitFor();
      await page.getByRole('button', { name: 'Show rows' }).and(page.locator(':not([disabled])')).waitFor();
      return (await rows.locator('tbody tr td').allInnerTexts()).sort();
    };
    const seen = { a: await viewAs('user', a.id), b: await viewAs('user', b.id), guest: await viewAs('guest') };
    await checkPage(page, 'rows-view-as');
    expect(seen).toEqual({ a: await restTitles(a), b: await restTitles(b), guest: await restTitles() });
    expect(seen.a).toEqual(['a private', 'a public']);
    expect(seen.b).toEqual(['a public', 'b private']);
    expect(seen.guest).toEqual(['a public']);
    await tab.done();
  });

  it('the other pages: users, operators, overview charts', async () => {
    for (const [path, name] of [['/_/users', 'users'], ['/_/operators', 'operators'], ['/_/', 'overview']] as const) {
      const tab = await ownerTab(path);
      await checkPage(tab.page, name);
      await tab.done();
    }
  });
});
