// Runs the `gatehouse` CLI in-process the way a person runs it from some directory, with exactly
// the environment given (no GATEHOUSE_*, DATABASE_URL or REDIS_URL of the test run leaks in):
//
//   await runCliIn({ cwd: appRepo }, ['keys', 'list', '-p', 'default']);
//   await runCliIn({ env: { GATEHOUSE_URL: gh.url, GATEHOUSE_SECRET_KEY: gh.secretKey } }, ['--json', 'keys', 'list']);
import { Readable } from 'node:stream';
import { vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliResult } from '../harness/cli.js';
import type { TestApp } from '../harness/app.js';

export interface CliRun {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
}

const OURS = /^(GATEHOUSE_|DATABASE_URL$|REDIS_URL$)/;

export async function runCliIn(run: CliRun, args: string[]): Promise<CliResult> {
  const saved = { ...process.env };
  const savedCwd = process.cwd();
  for (const name of Object.keys(process.env)) if (OURS.test(name)) delete process.env[name];
  process.env.GATEHOUSE_LOG_LEVEL = 'silent';
  for (const [name, value] of Object.entries(run.env ?? {})) if (value !== undefined) process.env[name] = value;
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const stdin = run.stdin === undefined ? null : vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([Buffer.from(run.stdin)]) as never);
  try {
    if (run.cwd) process.chdir(run.cwd);
    return { code: await runCli(args), out, err };
  } finally {
    process.chdir(savedCwd);
    stdout.mockRestore();
    stderr.mockRestore();
    stdin?.mockRestore();
    process.env = saved;
  }
}

/** The CLI in remote mode against a listening test app, with its secret key in GATEHOUSE_SECRET_KEY. */
export function runRemote(gh: Pick<TestApp, 'url' | 'secretKey'>, args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCliIn({ env: { GATEHOUSE_URL: gh.url, GATEHOUSE_SECRET_KEY: gh.secretKey, ...options.env }, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) }, args);
}
