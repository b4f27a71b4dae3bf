import type { Command } from 'commander';
import { toKeyJson } from '../../admin/keys.js';
import { createOutput, table } from '../output.js';
import { findProject, parseEnvironment, withDeps, type GlobalOptions } from '../context.js';

interface KeyTarget { project: string; env: string }

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys of a project environment');
  const target = (c: Command) =>
    c.requiredOption('-p, --project <name-or-id>', 'project').option('-e, --env <env>', 'environment: dev, staging or prod', 'dev');

  target(keys.command('create'))
    .description('create a key (shown once)')
    .requiredOption('-k, --kind <kind>', 'publishable or secret')
    .option('-n, --name <name>', 'a label')
    .option('-s, --scope <scope>', 'narrow the key (repeatable), e.g. data:notes:read', collect)
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (opts: KeyTarget & { kind: string; name?: string; scope?: string[]; expires?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.kind !== 'publishable' && opts.kind !== 'secret') throw new Error('--kind must be publishable or secret');
      await withDeps(global, async (deps) => {
        const project = await findProject(deps, opts.project);
        const environment = parseEnvironment(opts.env);
        const created = await deps.apiKeys.create({
          projectId: project.id, environment, kind: opts.kind as 'publishable' | 'secret', name: opts.name,
          scopes: opts.scope ?? null, expiresAt: opts.expires ?? null, createdBy: 'cli',
        });
        await deps.audit.write({ projectId: project.id, environment, actor: 'cli', action: 'api_key.create', target: created.summary.id });
        createOutput(!!global.json).result({ key: created.key, ...toKeyJson(created.summary) }, () => `Created ${created.summary.id}. The key, shown once:\n  ${created.key}`);
      });
    });

  target(keys.command('list'))
    .description('list keys (prefix and last characters only)')
    .action(async (opts: KeyTarget, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      await withDeps(global, async (deps) => {
        const project = await findProject(deps, opts.project);
        const list = await deps.apiKeys.list(project.id, parseEnvironment(opts.env));
        createOutput(!!global.json).result({ keys: list.map(toKeyJson) }, () =>
          table(list.map((k) => ({ id: k.id, key: k.display, kind: k.kind, name: k.name, status: k.status, created: k.createdAt, 'last used': k.lastUsedAt, expires: k.expiresAt })),
            ['id', 'key', 'kind', 'name', 'status', 'created', 'last used', 'expires']));
      });
    });

  target(keys.command('revoke <id>'))
    .description('revoke a key now')
    .action(async (id: string, opts: KeyTarget, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      await withDeps(global, async (deps) => {
        const project = await findProject(deps, opts.project);
        const environment = parseEnvironment(opts.env);
        const revoked = await deps.apiKeys.revoke(project.id, environment, id);
        await deps.audit.write({ projectId: project.id, environment, actor: 'cli', action: 'api_key.revoke', target: id });
        createOutput(!!global.json).result(toKeyJson(revoked), () => `Revoked ${id}.`);
      });
    });

  target(keys.command('rotate <id>'))
    .description('issue a successor key; the old one works for the grace period')
    .option('-g, --grace <seconds>', 'grace period in seconds (default from config, 24 h)')
    .action(async (id: string, opts: KeyTarget & { grace?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const grace = opts.grace === undefined ? undefined : Number(opts.grace);
      if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw new Error('--grace must be a whole number of seconds');
      await withDeps(global, async (deps) => {
        const project = await findProject(deps, opts.project);
        const environment = parseEnvironment(opts.env);
        const rotated = await deps.apiKeys.rotate(project.id, environment, id, grace, 'cli');
        await deps.audit.write({ projectId: project.id, environment, actor: 'cli', action: 'api_key.rotate', target: id, details: { successor: rotated.summary.id } });
        createOutput(!!global.json).result(
          { key: rotated.key, ...toKeyJson(rotated.summary), previous: toKeyJson(rotated.previous) },
          () => `Rotated ${id} → ${rotated.summary.id}; the old key works until ${rotated.previous.expiresAt}.\nThe new key, shown once:\n  ${rotated.key}`,
        );
      });
    });
}
