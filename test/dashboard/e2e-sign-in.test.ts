// The dashboard in real Chromium: first-run setup through the printed link, sign-in with a wrong
// password (said in plain words), two-step sign-in (TOTP) with a replayed code refused, sign-out;
// every page checked with axe-core at 1280 and 390 px, with no console or page error.
import { TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, openTab } from '../harness/browser.js';
import { checkPage, PASSWORD, startDashboardServer, type DashboardServer } from './e2e-fixture.js';

const OWNER = 'owner@example.com';
/** A refused request logs "Failed to load resource" in Chromium's console: expected where the test causes one. */
const REFUSED = (status: number) => new RegExp(`status of ${status}`);
/** Signed out, the page asks /_/api/me who is signed in, and the contract answers 401. */
const SIGNED_OUT_PROBE = /status of 401 .*\/_\/api\/me\)$/;

describe.skipIf(!chromiumAvailable())('dashboard e2e: setup and sign-in (Chromium)', () => {
  let browser: Browser;
  let server: DashboardServer;

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startDashboardServer()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const code = (secret: string, atMs: number) => new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: atMs });

  it('first run: the printed setup link creates the owner and signs in; the link works once', async () => {
    const tab = await openTab(browser, { expectedErrors: [SIGNED_OUT_PROBE] });
    const { page } = tab;
    await page.goto(server.setupLink);
    await expect.poll(() => page.getByLabel('Setup token').inputValue()).toMatch(/.{20,}/);
    await checkPage(page, 'setup');
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create owner' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(new URL(page.url()).hash).toBe('');
    await expect.poll(() => page.locator('.who').textContent()).toBe(OWNER);
    await checkPage(page, 'overview');
    await tab.done();

    // Used: the setup page now says so, and the API refuses the token.
    const again = await openTab(browser, { expectedErrors: [SIGNED_OUT_PROBE] });
    await again.page.goto(server.setupLink);
    await again.page.getByRole('heading', { name: 'Setup is done' }).waitFor();
    await again.done();
    const token = new URLSearchParams(new URL(server.setupLink).hash.slice(1)).get('token');
    const res = await fetch(`${server.url}/_/api/setup`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ token, email: 'second@example.com', password: PASSWORD }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('sign-in: a wrong password is said in plain words; the right one signs in', async () => {
    const tab = await openTab(browser, { expectedErrors: [REFUSED(401)] });
    const { page } = tab;
    await page.goto(`${server.url}/_/sign-in`);
    await checkPage(page, 'sign-in');
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or password is not right.').waitFor();
    expect(await page.getByRole('alert').first().textContent()).toContain('The email or password is not right.');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter'); // forms submit on Enter
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await tab.done();
  });

  it('two-step sign-in: enrol on the account page, then the code is asked for; a replayed code is refused', async () => {
    const tab = await openTab(browser, { expectedErrors: [REFUSED(401)] });
    const { page } = tab;
    await page.goto(`${server.url}/_/sign-in`);
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    await page.goto(`${server.url}/_/account`);
    await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    await checkPage(page, 'account');
    // Turning it on asks for the password: a stolen cookie alone cannot enrol a second factor.
    await page.getByRole('form', { name: 'Turn on two-step sign-in' }).getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Turn on' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    const now = Date.now();
    const used = code(secret, now);
    await page.getByLabel('Authenticator code').fill(used);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Turn off' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
    await page.getByLabel('Email').fill(OWNER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Authenticator code').waitFor();
    await checkPage(page, 'sign-in-code');
    // The code that turned it on was used: refused within its window.
    await page.getByLabel('Authenticator code').fill(used);
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByText('That code is not right.').waitFor();
    // The next step's code (accepted one step either side of now) signs in.
    await page.getByLabel('Authenticator code').fill(code(secret, now + 30_000));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await tab.done();
  });
});
