// Every TypeScript and shell example in README.md and docs/ runs, as written, against one real
// Gatehouse (the built `gatehouse start`, a fresh data dir, development mode) with the fake LLM
// upstream behind its providers. An example that stops working fails here, naming its file and
// line. The convention examples follow is in docs/contributing.md ("Examples run in CI").
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { blocksOf, extractBlocks, type DocBlock } from '../harness/doc-examples.js';
import { exampleWorkDir, runBlock, writeExampleFile } from '../harness/doc-examples-run.js';
import { FAKE_KEYS, startFakeLlm, type FakeLlm } from '../harness/fake-llm/index.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Fewer than this many blocks run means examples were skipped wholesale: the test must not pass by running nothing. */
const MIN_BLOCKS_RUN = 14;
// Generous: CI machines are shared, and one block may run several CLI commands.
const BLOCK_TIMEOUT_MS = 60_000;

const blocks = blocksOf(ROOT);
const byFile = new Map<string, DocBlock[]>();
for (const block of blocks) byFile.set(block.file, [...(byFile.get(block.file) ?? []), block]);
const runnable = (b: DocBlock) => b.action.kind === 'ts' || b.action.kind === 'bash';

describe('the examples convention', () => {
  const actions = (markdown: string) => extractBlocks(markdown, 'x.md').map((b) => b.action.kind);

  it('runs ts and shell, writes file= blocks, shows text, and skips what is tagged no-run', () => {
    const md = [
      '```ts', 'a', '```', '```bash', 'b', '```', '```json file=schema.json', '{}', '```', '```text', 'out', '```',
      '```bash no-run', 'c', '```', '<!-- no-run: needs a real provider -->', '', '```ts', 'd', '```',
    ].join('\n');
    expect(actions(md)).toEqual(['ts', 'bash', 'file', 'show', 'no-run', 'no-run']);
  });

  it('refuses a fence without a language, an unknown one, and an untagged shell block that changes the machine', () => {
    for (const md of ['```\nx\n```', '```ruby\nx\n```', '```bash\nnpm ci && npm start\n```', '```sh\nsudo apt-get install x\n```', '```bash\nnpm test\n```']) {
      expect(actions(md), md).toEqual(['unclassified']);
    }
    expect(actions('```bash no-run\nnpm ci && npm start\n```')).toEqual(['no-run']);
  });

  it('the variables examples read do not stop a server or the CLI from starting', () => {
    const env = { GATEHOUSE_URL: 'http://127.0.0.1:8080', GATEHOUSE_PUBLISHABLE_KEY: 'pk_dev_x', GATEHOUSE_SECRET_KEY: 'sk_dev_x' };
    expect(() => loadConfig({ env })).not.toThrow();
    expect(() => loadConfig({ env: { GATEHOUSE_SECRET_KY: 'x' } })).toThrow(/unknown setting/);
  });
});

describe('examples in README.md and docs/', () => {
  it('every fenced block is run, written as a file, shown, or tagged no-run', () => {
    const unclassified = blocks.flatMap((b) => (b.action.kind === 'unclassified' ? [`${b.file}:${b.line} \`\`\`${b.info}: ${b.action.problem}`] : []));
    expect(unclassified).toEqual([]);
    expect(blocks.filter(runnable).length).toBeGreaterThanOrEqual(MIN_BLOCKS_RUN);
  });

  describe('run against a real Gatehouse', () => {
    let gh: GatehouseProcess;
    let fake: FakeLlm;
    let dataDir: string;
    let workBase: string;
    const env: Record<string, string> = {};
    let ran = 0;

    beforeAll(async () => {
      // What `npm start` does: the examples' `npx gatehouse` runs the built CLI.
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs')], { stdio: 'ignore', timeout: 180_000 });
      fake = await startFakeLlm();
      dataDir = mkdtempSync(join(tmpdir(), 'gh-docs-'));
      // Every example comes from one address, at machine speed: the `auth` class's 10 a minute per
      // address (sign-up, sign-in, refresh, recovery, verify) would refuse the pages' sign-ins.
      const window = [{ limit: 1_000, windowMs: 60_000 }];
      const configFile = join(dataDir, 'docs-test-config.json');
      writeFileSync(configFile, JSON.stringify({ rateLimits: { classes: { auth: { failMode: 'closed', tiers: { guest: window, user: window, admin: window } } } } }));
      gh = await spawnGatehouse({ dataDir, fromDist: true, env: { GATEHOUSE_CONFIG: configFile } });
      const publishable = /publishable \(client side\): (\S+)/.exec(gh.output())?.[1];
      if (!publishable || !gh.secretKey) throw new Error(`no first-run keys in:\n${gh.output()}`);
      Object.assign(env, {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        GATEHOUSE_URL: gh.url,
        GATEHOUSE_PUBLISHABLE_KEY: publishable,
        GATEHOUSE_SECRET_KEY: gh.secretKey,
        // The CLI examples work on the server's own database.
        GATEHOUSE_DATA_DIR: dataDir,
        OPENAI_API_KEY: FAKE_KEYS.openai,
        ANTHROPIC_API_KEY: FAKE_KEYS.anthropic,
        GEMINI_API_KEY: FAKE_KEYS.gemini,
        GROQ_API_KEY: 'gsk_docs_example_0123456789',
      });
      const admin = (method: string, path: string, body: unknown) => fetch(`${gh.url}${path}`, {
        method, headers: { apikey: gh.secretKey!, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      for (const [name, key] of Object.entries(FAKE_KEYS)) {
        const res = await admin('PUT', `/admin/v1/providers/${name}`, { base_url: `${fake.url}/${name}`, api_key: key });
        if (res.status !== 200) throw new Error(`provider ${name}: ${res.status} ${await res.text()}`);
      }
      // One signed-in user for examples that need a token: ACCESS_TOKEN and USER_ID.
      const signUp = await fetch(`${gh.url}/auth/v1/signup`, {
        method: 'POST', headers: { apikey: publishable, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'reader@example.com', password: 'docs reader passphrase' }),
      });
      const session = (await signUp.json()) as { access_token?: string; user?: { id: string } };
      if (!session.access_token || !session.user) throw new Error(`sign-up: ${signUp.status} ${JSON.stringify(session)}`);
      env.ACCESS_TOKEN = session.access_token;
      env.USER_ID = session.user.id;
      workBase = join(ROOT, '.doc-examples', `run-${process.pid}`);
      mkdirSync(workBase, { recursive: true });
    }, 240_000);

    afterAll(async () => {
      if (gh?.alive()) {
        gh.kill('SIGKILL');
        await gh.exited;
      }
      await fake?.close();
      if (workBase) rmSync(workBase, { recursive: true, force: true });
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('an example that Gatehouse refuses fails, in TypeScript and in the shell', async () => {
      const workDir = exampleWorkDir(workBase, 'refusals');
      const refused = (info: string, code: string): DocBlock => ({ file: 'refusals.md', line: 1, info, code, action: extractBlocks(`\`\`\`${info}\nx\n\`\`\``, 'x')[0]!.action });
      // No key: 401. supabase-js-style code that ignores the answer must still fail.
      const ts = await runBlock(refused('ts', "await fetch(`${process.env.GATEHOUSE_URL}/admin/v1/project`);\n"), { workDir, env, timeoutMs: BLOCK_TIMEOUT_MS });
      expect(ts.code).not.toBe(0);
      expect(ts.stderr).toMatch(/Gatehouse refused GET \/admin\/v1\/project: 401/);
      const sh = await runBlock(refused('bash', 'curl "$GATEHOUSE_URL/admin/v1/project"\n'), { workDir, env, timeoutMs: BLOCK_TIMEOUT_MS });
      expect(sh.code).not.toBe(0);
      // The honest forms of both pass.
      const ok = await runBlock(refused('bash', 'curl "$GATEHOUSE_URL/admin/v1/project" -H "apikey: $GATEHOUSE_SECRET_KEY"\n'), { workDir, env, timeoutMs: BLOCK_TIMEOUT_MS });
      expect(ok.code, ok.stderr).toBe(0);
    }, 3 * BLOCK_TIMEOUT_MS);

    for (const [file, fileBlocks] of byFile) {
      if (!fileBlocks.some(runnable)) continue;
      // A file's blocks run in order, in one working directory: a later block may use what an
      // earlier one made (a project, a file= block such as schema.json).
      describe(file, () => {
        let workDir: string;
        beforeAll(() => {
          workDir = exampleWorkDir(workBase, file);
        });
        for (const block of fileBlocks) {
          if (block.action.kind === 'file') {
            it(`${file}:${block.line} is written as ${block.action.name}`, () => writeExampleFile(block, workDir));
          }
          if (!runnable(block)) continue;
          it(`${file}:${block.line} (${block.info}) runs`, async () => {
            const result = await runBlock(block, { workDir, env, timeoutMs: BLOCK_TIMEOUT_MS });
            ran++;
            const verdict = result.timedOut ? `timed out after ${BLOCK_TIMEOUT_MS} ms` : `exited ${result.code}`;
            expect(result.code, `${file}:${block.line} ${verdict}\n--- stderr\n${result.stderr.slice(-4000)}\n--- stdout\n${result.stdout.slice(-2000)}`).toBe(0);
          }, BLOCK_TIMEOUT_MS + 5_000);
        }
      });
    }

    it(`ran at least ${MIN_BLOCKS_RUN} examples`, () => {
      expect(ran).toBeGreaterThanOrEqual(MIN_BLOCKS_RUN);
    });
  });
});
