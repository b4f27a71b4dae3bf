import type { Command } from 'commander';
import { MAX_BODY_BYTES_LIMIT, MAX_RETENTION_DAYS, type RequestLogSettings } from '../../llm/request-log/index.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

function parseInteger(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

const toJson = (s: RequestLogSettings) => ({
  enabled: s.enabled, retention_days: s.retentionDays, max_body_bytes: s.maxBodyBytes, updated_at: s.updatedAt, updated_by: s.updatedBy,
});

const describeSettings = (s: RequestLogSettings) =>
  s.enabled
    ? `Request logging is on: bodies up to ${s.maxBodyBytes} bytes, kept ${s.retentionDays} days.`
    : 'Request logging is off: prompts and completions are not stored.';

/** `gatehouse llm request-log show|enable|disable`: the same setting as PUT /admin/v1/llm/request-log. */
export function registerLlmCommands(program: Command): void {
  const llm = program.command('llm').description('LLM proxy settings of a project environment');
  const log = llm.command('request-log').description('opt-in logging of proxied LLM requests (prompts and completions, stored encrypted)');

  const save = (cmd: Command, opts: Target, change: { enabled: boolean; retentionDays?: number; maxBodyBytes?: number }) =>
    inEnvironment(cmd, opts, async ({ operations, acting, output }) => {
      const settings = await operations.requestLog.putSettings(acting, change);
      output.result(toJson(settings), () => describeSettings(settings));
    });

  targetOptions(log.command('show'))
    .description('show whether requests are logged, for how long, and the body cap')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ operations, acting, output }) => {
        const settings = await operations.requestLog.settings(acting);
        output.result(toJson(settings), () => describeSettings(settings));
      });
    });

  targetOptions(log.command('enable'))
    .description('log every proxied request of this environment (applies to running servers within a second)')
    .requiredOption('--retention-days <days>', `days entries are kept (1 to ${MAX_RETENTION_DAYS})`)
    .option('--max-body-bytes <bytes>', `cap per stored body (0 to ${MAX_BODY_BYTES_LIMIT}; default 65536, 0 = metadata only)`)
    .action(async (opts: Target & { retentionDays: string; maxBodyBytes?: string }, cmd: Command) => {
      const retentionDays = parseInteger(opts.retentionDays, '--retention-days', 1, MAX_RETENTION_DAYS);
      const maxBodyBytes = parseInteger(opts.maxBodyBytes, '--max-body-bytes', 0, MAX_BODY_BYTES_LIMIT);
      await save(cmd, opts, { enabled: true, retentionDays, maxBodyBytes });
    });

  targetOptions(log.command('disable'))
    .description('stop logging (stored entries stay until their retention ends or they are purged through the admin API)')
    .action(async (opts: Target, cmd: Command) => {
      await save(cmd, opts, { enabled: false });
    });
}
