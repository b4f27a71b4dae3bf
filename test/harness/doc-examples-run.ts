// Runs one example block of the docs the way a reader would: TypeScript through tsx from a file
// inside the repository (so `@supabase/supabase-js`, `openai`, `jose` resolve from its
// node_modules), shell through `bash -euo pipefail`. Each block is a process of its own, in a
// process group that a timeout ends whole.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocBlock } from './doc-examples.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./doc-examples-preload.ts', import.meta.url));

// Before every shell example: curl fails on an HTTP error (as supabase-js examples do through the
// preload), so an example whose request Gatehouse refuses cannot pass by printing the refusal.
// `npx gatehouse` from inside the repository runs its bin/gatehouse.js; calling that directly spares
// npm's own start-up, a second or more per command.
const BASH_PRELUDE = [
  'curl() { command curl --silent --show-error --fail-with-body "$@"; }',
  'npx() { if [ "${1:-}" = gatehouse ]; then shift; gatehouse "$@"; else command npx "$@"; fi; }',
  '',
].join('\n');

export interface BlockResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * A directory inside the repository where one markdown file's examples run, with a `bin/` that
 * puts the `gatehouse` command on PATH, as `npm i -g` would for a reader.
 */
export function exampleWorkDir(base: string, file: string): string {
  const dir = join(base, file.replace(/[^\w.-]+/g, '_'));
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const shim = join(dir, 'bin', 'gatehouse');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'gatehouse.js')}" "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

export function runBlock(block: DocBlock, options: { workDir: string; env: Record<string, string>; timeoutMs: number }): Promise<BlockResult> {
  const { workDir, env, timeoutMs } = options;
  const name = `line-${block.line}`;
  let command: string[];
  if (block.action.kind === 'ts') {
    const path = join(workDir, `${name}.ts`);
    writeFileSync(path, block.code);
    command = [process.execPath, '--import', 'tsx', '--import', PRELOAD, path];
  } else if (block.action.kind === 'bash') {
    const path = join(workDir, `${name}.sh`);
    writeFileSync(path, BASH_PRELUDE + block.code);
    command = ['bash', '-euo', 'pipefail', path];
  } else {
    throw new TypeError(`runBlock: ${block.file}:${block.line} is not a runnable block (${block.action.kind})`);
  }
  const childEnv = { ...env, PATH: `${join(workDir, 'bin')}:${env.PATH ?? ''}` };
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: workDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Where a file= block goes: the same working directory, so `schema apply schema.json` finds it. */
export function writeExampleFile(block: DocBlock, workDir: string): void {
  if (block.action.kind !== 'file') throw new TypeError(`writeExampleFile: ${block.file}:${block.line} has no file=`);
  writeFileSync(join(workDir, block.action.name), block.code);
}
