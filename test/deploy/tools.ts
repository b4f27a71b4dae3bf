// The real tools that check deploy/ (promtool, nginx, systemd-analyze, openssl). A test skips a
// tool only where it is absent and this is not CI: .ci/run installs them, so in CI a missing
// tool fails the test that needs it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from '../harness/net.js';

export { freePort } from '../harness/net.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');

const inCi = Boolean(process.env.CI);

/** The tool's path, or null. sbin too: nginx lives in /usr/sbin, outside a normal user's PATH. */
export function findTool(name: string): string | null {
  return findOnPath(name, ['/usr/sbin', '/sbin']);
}

/** Whether tests needing `name` should be skipped: absent, and not in CI. */
export function skipWithout(name: string): boolean {
  return findTool(name) === null && !inCi;
}

export function tool(name: string): string {
  const path = findTool(name);
  if (path === null) throw new Error(`${name} is not installed; .ci/run installs it (Debian package ${name === 'promtool' ? 'prometheus' : name === 'systemd-analyze' ? 'systemd' : name})`);
  return path;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to its end; never throws on a non-zero exit (the test asserts the code and says why). */
export function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
