// Real Chromium for the dashboard's end-to-end tests: playwright-core driving Debian's
// /usr/bin/chromium (never a downloaded browser). One browser per test file, a fresh context per
// test; every console error and page error is collected, and `done()` fails the test on any.
//
//   const chromium = chromiumAvailable();               // false only locally without the package
//   describe.skipIf(!chromium)('…', () => {
//     let browser: Browser;
//     beforeAll(async () => { browser = await launchChromium(); });
//     afterAll(() => browser?.close());
//     it('…', async () => {
//       const tab = await openTab(browser, { width: 1280 });
//       await tab.page.goto(url);
//       …
//       await tab.done();                                 // throws on console/page errors
//     });
//   });
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');

/**
 * Whether the browser tests can run. Missing locally: skipped, with a loud line so nobody mistakes
 * the skip for a pass. Missing under CI=true: an error, since these tests must run in CI (.ci/run
 * installs the chromium package).
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} not found, and CI=true: the dashboard's browser tests must run in CI (apt-get install chromium)`);
  console.warn(`\n!!! ${CHROMIUM_PATH} not found: dashboard browser tests are SKIPPED (apt-get install chromium)\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

export interface RecordedResponse {
  url: string;
  status: number;
  body: string;
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors so far. */
  problems: string[];
  /** Every response the page received, with its body (text; binary bodies as ''). */
  responses(): Promise<RecordedResponse[]>;
  /** Fails on any console error or page error, then closes the context. */
  done(): Promise<void>;
}

export interface TabOptions {
  /** Viewport width (height follows: 800, or 844 for a phone width). */
  width?: number;
  /** Console errors the test causes on purpose (a refused request logs one): matched and not counted. */
  expectedErrors?: RegExp[];
}

export async function openTab(browser: Browser, options: TabOptions = {}): Promise<Tab> {
  const width = options.width ?? 1280;
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const expected = [...(options.expectedErrors ?? [])];
  // The dashboard names no icon yet, so Chromium asks for /favicon.ico and logs its 404: not a
  // page's fault, and the one error every tab would otherwise carry.
  expected.push(/status of 404 .*\/favicon\.ico\)$/);
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = `console error: ${message.text()} (${message.location().url})`;
    if (!expected.some((re) => re.test(text))) problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const pending: Array<Promise<RecordedResponse>> = [];
  page.on('response', (response) => {
    pending.push(response.text().then(
      (body) => ({ url: response.url(), status: response.status(), body }),
      () => ({ url: response.url(), status: response.status(), body: '' }),
    ));
  });
  return {
    context,
    page,
    problems,
    responses: () => Promise.all(pending),
    async done() {
      await context.close();
      if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
    },
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; html: string }>;
}

let axeText: string | null = null;
function axeSource(): string {
  axeText ??= readFileSync(AXE, 'utf8');
  return axeText;
}

/** axe-core's serious and critical violations on the page as it is now (empty: none). */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Not page.addScriptTag: it adds an inline <script>, which the dashboard's CSP (script-src 'self')
  // rightly refuses. An evaluation through the DevTools protocol is not page script, so CSP stays on.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource());
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
