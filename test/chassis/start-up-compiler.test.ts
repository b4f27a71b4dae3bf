// Issue 18, idle memory: `gatehouse start` keeps V8's optimizing compiler off until the server is
// ready, then turns it back on (src/shared/start-up-compiler.ts). Seen from outside through V8's
// own trace (--trace-opt prints "[marking <function> for optimization ...]" to stdout): nothing is
// marked before the ready line, request handlers are once requests make them hot; with the
// operator's own --turbofan the pause is skipped, and the trace shows start-up's optimizations.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MARKED = /\[marking .* for optimization/g;
const READY = '"msg":"gatehouse ready"';

async function withServer(nodeFlags: string[], use: (gh: GatehouseProcess) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-compiler-'));
  try {
    const gh = await spawnGatehouse({ dataDir, fromDist: true, nodeFlags });
    try {
      await use(gh);
    } finally {
      gh.kill('SIGTERM');
      await gh.exited;
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const markedBeforeReady = (output: string) => output.slice(0, output.indexOf(READY)).match(MARKED)?.length ?? 0;

describe('the optimizing compiler during and after start-up (built server)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs')], { stdio: 'ignore', timeout: 180_000 });
  }, 200_000);

  it('optimizes nothing while it starts, and request handlers once the server is ready', async () => {
    await withServer(['--trace-opt'], async (gh) => {
      expect(markedBeforeReady(gh.output())).toBe(0);
      // Requests until V8 marks something hot (a few hundred do; the bound only ends a broken run).
      let requests = 0;
      while ((gh.output().match(MARKED)?.length ?? 0) === 0 && requests < 5_000) {
        expect((await fetch(`${gh.url}/health`)).status).toBe(200);
        requests++;
      }
      expect(gh.output().match(MARKED)?.length ?? 0).toBeGreaterThan(0);
    });
  }, 90_000);

  it("leaves the compiler alone when the operator's own flags name it (the trace does see start-up's optimizations)", async () => {
    await withServer(['--trace-opt', '--turbofan'], async (gh) => {
      expect(markedBeforeReady(gh.output())).toBeGreaterThan(0);
    });
  }, 60_000);
});
