import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import { ROUTE_CLASSES, TIERS, type LimitsConfig, type RouteClass, type Tier, type Window } from '../../limits/index.js';
import { table } from '../output.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `10/60s`, `50/1h`, `100/m`: limit per window. */
export function parseWindow(text: string): Window {
  const match = /^(\d+)\/(\d*)(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new GatehouseError('validation_failed', { message: `--window must look like 10/60s, 50/1h or 100/m (got ${text.slice(0, 40)}).` });
  const count = match[2] === '' ? 1 : Number(match[2]);
  return { limit: Number(match[1]), windowMs: count * UNIT_MS[match[3] as keyof typeof UNIT_MS] };
}

function formatWindows(windows: readonly Window[]): string {
  return windows.map((w) => `${w.limit}/${w.windowMs / 1000}s`).join(' + ');
}

function parseClass(value: string): RouteClass {
  if (!(ROUTE_CLASSES as readonly string[]).includes(value)) throw new GatehouseError('validation_failed', { message: `--class must be one of ${ROUTE_CLASSES.join(', ')}.` });
  return value as RouteClass;
}

function parseTiers(values: string[] | undefined): Tier[] {
  if (!values || values.length === 0) return [...TIERS];
  for (const v of values) if (!(TIERS as readonly string[]).includes(v)) throw new GatehouseError('validation_failed', { message: `--tier must be one of ${TIERS.join(', ')}.` });
  return values as Tier[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function describe(effective: LimitsConfig): string {
  const rows = ROUTE_CLASSES.map((rc) => {
    const c = effective.classes[rc];
    return { class: rc, 'on outage': `fail ${c.failMode}`, guest: formatWindows(c.tiers.guest), user: formatWindows(c.tiers.user), admin: formatWindows(c.tiers.admin) };
  });
  const overrides = Object.entries(effective.overrides).map(([subject, o]) => ({
    subject, limits: Object.entries(o).map(([rc, w]) => `${rc}: ${formatWindows(w as Window[])}`).join('; '),
  }));
  return `${table(rows, ['class', 'on outage', 'guest', 'user', 'admin'])}\n\nOverrides:\n${table(overrides, ['subject', 'limits'])}`;
}

export function registerLimitCommands(program: Command): void {
  const limits = program.command('limits').description('rate limits of a project environment (applied by running servers within a second)');

  targetOptions(limits.command('show'))
    .description('the limits in force, per class and tier, and the overrides')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const { effective, policy } = await target.limits.view();
        output.result({ effective, policy }, () => describe(effective));
      });
    });

  targetOptions(limits.command('set'))
    .description('change one class for this environment, e.g. --class llm --tier user --window 10/1m --window 50/1h')
    .requiredOption('--class <class>', `route class: ${ROUTE_CLASSES.join(', ')}`)
    .option('--tier <tier>', 'tier to change (repeatable; default all): guest, user, admin', collect)
    .option('-w, --window <limit/period>', 'a window, e.g. 10/1m (repeatable; all must hold)', collect)
    .option('--fail-mode <mode>', 'when Redis is down: open (let through) or closed (503)')
    .action(async (opts: Target & { class: string; tier?: string[]; window?: string[]; failMode?: string }, cmd: Command) => {
      const rc = parseClass(opts.class);
      const tiers = parseTiers(opts.tier);
      const windows = opts.window?.map(parseWindow);
      if (opts.failMode !== undefined && opts.failMode !== 'open' && opts.failMode !== 'closed') throw new GatehouseError('validation_failed', { message: '--fail-mode must be open or closed.' });
      if (!windows && !opts.failMode) throw new GatehouseError('validation_failed', { message: 'Give --window and/or --fail-mode.' });
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const { effective, policy } = await target.limits.changeClass(rc, { tiers, windows, failMode: opts.failMode as 'open' | 'closed' | undefined });
        output.result({ effective, policy }, () => describe(effective));
      });
    });

  targetOptions(limits.command('reset'))
    .description('drop this environment\'s changes (of one class, or all): the config file policy applies')
    .option('--class <class>', 'only this route class')
    .action(async (opts: Target & { class?: string }, cmd: Command) => {
      const rc = opts.class === undefined ? undefined : parseClass(opts.class);
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const effective = await target.limits.clearPolicy(rc);
        output.result({ effective }, () => describe(effective));
      });
    });

  const override = limits.command('override').description('per-user (user:<id>) and per-key (key:<id>) limits');

  targetOptions(override.command('list'))
    .description('list overrides')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const list = await target.limits.overrides();
        output.result({ overrides: list }, () =>
          table(list.map((o) => ({ subject: o.subject, limits: Object.entries(o.limits).map(([rc, w]) => `${rc}: ${formatWindows(w as Window[])}`).join('; '), updated: o.updated_at, by: o.updated_by })),
            ['subject', 'limits', 'updated', 'by']));
      });
    });

  targetOptions(override.command('set <subject>'))
    .description('set the windows of one subject for a class, e.g. user:usr_x --class llm --window 100/1m')
    .requiredOption('--class <class>', `route class: ${ROUTE_CLASSES.join(', ')}`)
    .requiredOption('-w, --window <limit/period>', 'a window (repeatable)', collect)
    .action(async (subject: string, opts: Target & { class: string; window: string[] }, cmd: Command) => {
      const rc = parseClass(opts.class);
      const windows = opts.window.map(parseWindow);
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const entry = await target.limits.changeOverrideClass(subject, rc, windows);
        output.result(entry, () => `Override for ${subject}: ${rc} ${formatWindows(windows)}.`);
      });
    });

  targetOptions(override.command('remove <subject>'))
    .description('remove an override')
    .action(async (subject: string, opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        await target.limits.removeOverride(subject);
        output.result({ removed: subject }, () => `Removed the override of ${subject}.`);
      });
    });
}
