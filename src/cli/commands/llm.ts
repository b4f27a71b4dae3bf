import type { Command } from 'commander';
import { MAX_BODY_BYTES_LIMIT, MAX_RETENTION_DAYS } from '../../llm/request-log/index.js';
import type { RequestLogJson } from '../target/index.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

function parseInteger(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

const describeSettings = (s: RequestLogJson) =>
  s.enabled
    ? `Request logging is on: bodies up to ${s.max_body_bytes} bytes, kept ${s.retention_days} days.`
    : 'Request logging is off: prompts and completions are not stored.';

/** `gatehouse llm request-log show|enable|disable`: the same setting as PUT /admin/v1/llm/request-log. */
export function registerLlmCommands(program: Command): void {
  const llm = program.command('llm').description('LLM proxy settings of a project environment');
  const log = llm.command('request-log').description('opt-in logging of proxied LLM requests (prompts and completions, stored encrypted)');

  const save = (cmd: Command, opts: Target, change: { enabled: boolean; retention_days?: number | undefined; max_body_bytes?: number | undefined }) =>
    inEnvironment(cmd, opts, async ({ target, output }) => {
      const settings = await target.requestLog.putSettings(change);
      output.result(settings, () => describeSettings(settings));
    });

  targetOptions(log.command('show'))
    .description('show whether requests are logged, for how long, and the body cap')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const settings = await target.requestLog.settings();
        output.result(settings, () => describeSettings(settings));
      });
    });

  targetOptions(log.command('enable'))
    .description('log every proxied request of this environment (applies to running servers within a second)')
    .requiredOption('--retention-days <days>', `days entries are kept (1 to ${MAX_RETENTION_DAYS})`)
    .option('--max-body-bytes <bytes>', `cap per stored body (0 to ${MAX_BODY_BYTES_LIMIT}; default 65536, 0 = metadata only)`)
    .action(async (opts: Target & { retentionDays: string; maxBodyBytes?: string }, cmd: Command) => {
      const retentionDays = parseInteger(opts.retentionDays, '--retention-days', 1, MAX_RETENTION_DAYS);
      const maxBodyBytes = parseInteger(opts.maxBodyBytes, '--max-body-bytes', 0, MAX_BODY_BYTES_LIMIT);
      await save(cmd, opts, { enabled: true, retention_days: retentionDays, max_body_bytes: maxBodyBytes });
    });

  targetOptions(log.command('disable'))
    .description('stop logging (stored entries stay until their retention ends or they are purged through the admin API)')
    .action(async (opts: Target, cmd: Command) => {
      await save(cmd, opts, { enabled: false });
    });
}
