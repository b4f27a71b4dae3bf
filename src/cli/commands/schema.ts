import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Operation } from '../../data/index.js';
import { GatehouseError } from '../../errors/index.js';
import { createOutput } from '../output.js';
import { inEnvironment, targetOptions as target, type TargetOptions as Target } from '../context.js';
import type { PlanJson } from '../target/index.js';

// `gatehouse schema apply <file>`: the schema file lives in the app's
// repository; apply prints the plan, and --dry-run stops there.

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatehouseError('validation_failed', { message: `cannot read ${file}: ${(error as Error).message}` });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatehouseError('validation_failed', { message: `${file} is not valid JSON` });
  }
}

function planText(result: PlanJson, dryRun: boolean): string {
  if (result.steps.length === 0) return 'The schema is up to date: nothing to do.';
  const lines = result.steps.map((s) => `  ${s.description}`);
  const head = dryRun ? 'Plan (dry run, nothing changed):' : 'Applied:';
  const tail = [
    ...result.problems.map((p) => `  cannot: ${p}`),
    ...(dryRun && result.destructive ? ['  (steps in capitals lose data: apply needs --allow-data-loss)'] : []),
  ];
  return [head, ...lines, ...tail].join('\n');
}

export function registerSchemaCommands(program: Command): void {
  const schema = program.command('schema').description('tables of the Data API');
  target(schema.command('apply <file>'))
    .description('make the environment\'s tables match a schema file (JSON)')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--allow-data-loss', 'allow dropping tables or columns and changing column types')
    .action(async (file: string, opts: Target & { dryRun?: boolean; allowDataLoss?: boolean }, cmd: Command) => {
      const document = readJsonFile(file);
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const result = await target.schema.apply(document, { dryRun: !!opts.dryRun, allowDataLoss: !!opts.allowDataLoss });
        output.result(
          { applied: result.applied, steps: result.steps.map((s) => s.description), destructive: result.destructive, problems: result.problems },
          () => planText(result, !!opts.dryRun),
        );
      });
    });

  target(schema.command('show'))
    .description('print the environment\'s schema as a schema file')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target }) => {
        // Always JSON: the output is a schema file.
        createOutput(true).result(await target.schema.document(), () => '');
      });
    });

  const policy = program.command('policy').description('row- and column-level rules');
  target(policy.command('test <table> <operation>'))
    .description('would this caller be allowed? (operation: select, insert, update, delete)')
    .option('-g, --group <group>', 'guest, user or admin', 'user')
    .option('-u, --user <id>', 'the caller\'s user id')
    .option('--role <role>', 'the caller\'s role claim')
    .option('--claims <json>', 'the caller\'s token claims, as JSON')
    .option('--row <json>', 'the row, as JSON (e.g. {"created_by":"usr_…","public":true})')
    .action(async (table: string, operation: string, opts: Target & { group: string; user?: string; role?: string; claims?: string; row?: string }, cmd: Command) => {
      if (!['guest', 'user', 'admin'].includes(opts.group)) throw new GatehouseError('validation_failed', { message: '--group must be guest, user or admin' });
      const parse = (text: string | undefined, name: string) => {
        if (text === undefined) return undefined;
        try { return JSON.parse(text) as Record<string, unknown>; } catch { throw new GatehouseError('validation_failed', { message: `${name} is not valid JSON` }); }
      };
      await inEnvironment(cmd, opts, async ({ target: on, output }) => {
        const result = await on.schema.testPolicy(table, {
          operation: operation as Operation,
          caller: { group: opts.group as 'guest' | 'user' | 'admin', user_id: opts.user ?? null, role: opts.role ?? null, claims: parse(opts.claims, '--claims') ?? {} },
          row: parse(opts.row, '--row') ?? null,
        });
        output.result(result, () => [
          `${result.decision.toUpperCase()}: ${result.reason}`,
          ...result.checks.map((c) => `  ${c.operation}: ${c.decision}${c.rule === null ? '' : ` (rule #${c.index}: ${c.rule})`}`),
          `  readable columns: ${result.columns.readable.join(', ')}${result.columns.self_readable.length ? `; own rows only: ${result.columns.self_readable.join(', ')}` : ''}`,
          `  writable columns: ${result.columns.writable.join(', ') || '(none)'}${result.columns.self_writable.length ? `; own rows only: ${result.columns.self_writable.join(', ')}` : ''}`,
        ].join('\n'));
      });
    });
}
