import type { Command } from 'commander';
import { table } from '../output.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys of a project environment');

  targetOptions(keys.command('create'))
    .description('create a key (shown once)')
    .requiredOption('-k, --kind <kind>', 'publishable or secret')
    .option('-n, --name <name>', 'a label')
    .option('-s, --scope <scope>', 'narrow the key (repeatable), e.g. data:notes:read', collect)
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (opts: Target & { kind: string; name?: string; scope?: string[]; expires?: string }, cmd: Command) => {
      if (opts.kind !== 'publishable' && opts.kind !== 'secret') throw new Error('--kind must be publishable or secret');
      const kind = opts.kind;
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const created = await target.keys.create({ kind, name: opts.name, scopes: opts.scope ?? null, expires_at: opts.expires ?? null });
        output.result(created, () => `Created ${created.id}. The key, shown once:\n  ${created.key}`);
      });
    });

  targetOptions(keys.command('list'))
    .description('list keys (prefix and last characters only)')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const list = await target.keys.list();
        output.result({ keys: list }, () =>
          table(list.map((k) => ({ id: k.id, key: k.display, kind: k.kind, name: k.name, status: k.status, created: k.created_at, 'last used': k.last_used_at, expires: k.expires_at })),
            ['id', 'key', 'kind', 'name', 'status', 'created', 'last used', 'expires']));
      });
    });

  targetOptions(keys.command('revoke <id>'))
    .description('revoke a key now')
    .action(async (id: string, opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const revoked = await target.keys.revoke(id);
        output.result(revoked, () => `Revoked ${id}.`);
      });
    });

  targetOptions(keys.command('rotate <id>'))
    .description('issue a successor key; the old one works for the grace period')
    .option('-g, --grace <seconds>', 'grace period in seconds, at most 30 days (default from config, 24 h)')
    .action(async (id: string, opts: Target & { grace?: string }, cmd: Command) => {
      const grace = opts.grace === undefined ? undefined : Number(opts.grace);
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const rotated = await target.keys.rotate(id, grace);
        output.result(rotated, () => `Rotated ${id} → ${rotated.id}; the old key works until ${rotated.previous.expires_at}.\nThe new key, shown once:\n  ${rotated.key}`);
      });
    });
}
