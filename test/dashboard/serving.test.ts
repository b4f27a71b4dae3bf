// The dashboard's page and assets under /_/: deep links answer the page, hashed assets are cached
// for a year, the CSP forbids every inline script and style, the operator API under /_/api is never
// answered with the page, an unbuilt server says what to do, and the first load stays small.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = join(ROOT, 'scripts', 'build-dashboard.mjs');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const FIRST_LOAD_BUDGET = 200 * 1024;

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The real build (the same script `npm run build` runs), into a folder of its own so the test never races dist/. */
function buildInto(out: string): void {
  execFileSync(process.execPath, [BUILD, '--out', out], { stdio: 'pipe', timeout: 120_000 });
}

/** The assets index.html loads: script src and stylesheet href. */
function referencedAssets(html: string): string[] {
  return [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"/g)].map((m) => m[1]!);
}

describe('dashboard serving, built', () => {
  let gh: TestApp;
  let built: string;
  let index: string;
  beforeAll(async () => {
    built = tempDir('gh-dash-');
    buildInto(built);
    index = readFileSync(join(built, 'index.html'), 'utf8');
    gh = await startTestApp('sqlite', { dashboardDir: built });
  }, 120_000);
  afterAll(() => gh?.close());

  it('answers index.html, never cached, for /_/ and every deep link, without a key', async () => {
    for (const url of ['/_/', '/_/keys', '/_/tables/todos', '/_/users/3f2a?tab=sessions', '/_/sign-in', '/_/setup']) {
      const res = await gh.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.body, url).toBe(index);
    }
    const bare = await gh.app.inject({ url: '/_' });
    expect(bare.statusCode).toBe(308);
    expect(bare.headers.location).toBe('/_/');
  });

  it('sends the exact dashboard CSP (not the server-wide one with unsafe-inline) on the page and its assets', async () => {
    const page = await gh.app.inject({ url: '/_/overview' });
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect(page.headers['x-frame-options']).toBe('DENY');
    for (const asset of referencedAssets(index)) {
      const res = await gh.app.inject({ url: asset });
      expect(res.headers['content-security-policy'], asset).toBe(CSP);
    }
  });

  it('index.html has no inline script, style, style attribute or event handler: all it loads is hashed files of its own', () => {
    const scripts = [...index.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/_\/assets\//);
      expect(body!.trim()).toBe('');
    }
    expect(index).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
    const assets = referencedAssets(index);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) expect(asset).toMatch(/^\/_\/assets\/[a-z]+-[A-Z0-9]{8}\.(js|css)$/);
  });

  it('serves hashed assets as immutable for a year, with their type, gzipped when the client accepts it', async () => {
    for (const asset of referencedAssets(index)) {
      const plain = await gh.app.inject({ url: asset });
      expect(plain.statusCode, asset).toBe(200);
      expect(plain.headers['cache-control'], asset).toBe('public, max-age=31536000, immutable');
      expect(plain.headers['content-type'], asset).toBe(asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(plain.rawPayload.equals(readFileSync(join(built, 'assets', asset.split('/').pop()!)))).toBe(true);
      const gzipped = await gh.app.inject({ url: asset, headers: { 'accept-encoding': 'gzip, br' } });
      expect(gzipped.headers['content-encoding'], asset).toBe('gzip');
      expect(gunzipSync(gzipped.rawPayload).equals(plain.rawPayload)).toBe(true);
    }
  });

  it('a changed source gives a new asset name (the hash is of the content)', () => {
    const again = tempDir('gh-dash-again-');
    buildInto(again);
    // Same sources, same names: a rebuild does not bust every cache.
    expect(readdirSync(join(again, 'assets')).sort()).toEqual(readdirSync(join(built, 'assets')).sort());
  }, 120_000);

  it('never swallows the operator API or a missing asset into the page: they answer a JSON 404', async () => {
    for (const url of ['/_/api/no-such-route', '/_/api', '/_/api/', '/_/assets/main-AAAAAAAA.js', '/_/assets/%2e%2e%2findex.html', '/_/assets/..%2f..%2fpackage.json']) {
      const res = await gh.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
      expect(res.json().error, url).toBe('route_not_found');
    }
    const post = await gh.app.inject({ method: 'POST', url: '/_/keys', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.headers['content-type']).toMatch(/^application\/json/);
  });

  it(`the first load (index.html + every asset it references, as gzip sent) is under ${FIRST_LOAD_BUDGET / 1024} KB`, async () => {
    let total = 0;
    const sizes: Record<string, number> = {};
    for (const url of ['/_/', ...referencedAssets(index)]) {
      const res = await gh.app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
      expect(res.statusCode, url).toBe(200);
      sizes[url] = res.rawPayload.length;
      total += res.rawPayload.length;
    }
    // Measured again without our server: the files in the build, gzipped at the default level.
    const fromDisk = readdirSync(join(built, 'assets')).reduce((sum, name) => sum + gzipSync(readFileSync(join(built, 'assets', name))).length, 0);
    process.stdout.write(`dashboard first load: ${JSON.stringify(sizes)} total ${total} B gzipped (files gzipped -6: ${fromDisk} B)\n`);
    expect(total).toBeGreaterThan(1000);
    expect(total).toBeLessThan(FIRST_LOAD_BUDGET);
    expect(fromDisk).toBeLessThan(FIRST_LOAD_BUDGET);
  });
});

describe('dashboard serving, not built', () => {
  let gh: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('gh-dash-none-');
    gh = await startTestApp('sqlite', { dashboardDir: dir });
  });
  afterAll(() => gh?.close());

  it('answers 503 with a page saying to run npm run build, on /_/ and deep links; assets 404', async () => {
    for (const url of ['/_/', '/_/keys']) {
      const res = await gh.app.inject({ url });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain('npm run build');
    }
    expect((await gh.app.inject({ url: '/_/assets/main-AAAAAAAA.js' })).statusCode).toBe(404);
    expect((await gh.app.inject({ url: '/_/api/x' })).statusCode).toBe(404);
  });

  it('picks up a build made after the server started, without a restart', async () => {
    buildInto(dir);
    const res = await gh.app.inject({ url: '/_/keys' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(readFileSync(join(dir, 'index.html'), 'utf8'));
  }, 120_000);
});

describe('dashboard sources keep to the CSP', () => {
  /** Every .ts/.tsx file under dashboard/src. */
  function sources(dir = join(ROOT, 'dashboard', 'src')): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
    });
  }

  it('no style attribute, inline HTML or eval: what the CSP would block at run time fails here first', () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/\sstyle=|dangerouslySetInnerHTML|innerHTML\s*=|\beval\(|new Function\(|setAttribute\(\s*['"]style/);
    }
  });
});

describe('npm start rebuilds the dashboard when its sources change', () => {
  it('build-if-changed builds dist/dashboard, skips when nothing changed, rebuilds after a dashboard edit', () => {
    const dir = tempDir('gh-dash-root-');
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'dashboard', 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const answer: number = 41;\n');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: [], skipLibCheck: true, outDir: 'dist', rootDir: 'src' } }));
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    writeFileSync(join(dir, 'dashboard', 'tsconfig.json'), JSON.stringify({ compilerOptions: { jsx: 'react-jsx', jsxImportSource: 'preact' } }));
    writeFileSync(join(dir, 'dashboard', 'src', 'main.tsx'), 'import { render } from "preact";\nrender(<p>one</p>, document.body);\n');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const build = () => execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs'), '--root', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const script = () => readdirSync(join(dir, 'dist', 'dashboard', 'assets')).find((n) => n.endsWith('.js'))!;

    expect(build()).toMatch(/dist\/dashboard built in/);
    const first = script();
    expect(readFileSync(join(dir, 'dist', 'dashboard', 'index.html'), 'utf8')).toContain(`/_/assets/${first}`);
    expect(build()).toBe('dist/ is up to date: build skipped\n');

    writeFileSync(join(dir, 'dashboard', 'src', 'main.tsx'), 'import { render } from "preact";\nrender(<p>two</p>, document.body);\n');
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, 'dashboard', 'src', 'main.tsx'), later, later);
    expect(build()).toMatch(/dist\/dashboard built in/);
    expect(script()).not.toBe(first);
    expect(readFileSync(join(dir, 'dist', 'dashboard', 'assets', script()), 'utf8')).toContain('two');
  }, 180_000);
});
