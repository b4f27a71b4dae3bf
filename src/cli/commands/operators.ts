import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { GatehouseError } from '../../errors/index.js';
import { createOperations } from '../../operations/index.js';
import { isOperatorRole, type OperatorSummary } from '../../operators/index.js';
import { createOutput, type Output } from '../output.js';
import { table } from '../output.js';
import { findProject, requireLocal, withExistingDeps, type GlobalOptions } from '../context.js';
import type { Config } from '../../config/index.js';

/**
 * `gatehouse operators …`: the dashboard's operators, on the server's own storage only (no --url:
 * operators are who signs into the server, so only whoever holds its database adds the first).
 */
export function registerOperatorCommands(program: Command): void {
  const operators = program.command('operators').description('people who sign into the dashboard (/_/), and their role per project');

  operators.command('add <email>')
    .description('add an operator; the password comes from stdin (--password-stdin), never from the command line')
    .requiredOption('-r, --role <role>', 'owner, admin or viewer')
    .option('-p, --project <name-or-id...>', 'the project(s) the role is in (default: every project)')
    .option('--password-stdin', 'read the password from stdin (keeps it out of shell history)')
    .action(async (email: string, opts: { role: string; project?: string[]; passwordStdin?: boolean }, cmd: Command) => {
      if (!opts.passwordStdin) throw new Error('--password-stdin is required: a password on the command line would land in shell history');
      if (!isOperatorRole(opts.role)) throw new Error('--role must be owner, admin or viewer');
      const role = opts.role;
      const password = (await readStdin()).replace(/\r?\n$/, '');
      await local(cmd, 'operators add', async (deps, config, output) => {
        const projectIds = opts.project
          ? await Promise.all(opts.project.map(async (ref) => (await findProject(deps, ref, config)).id))
          : (await deps.projects.list()).map((p) => p.id);
        const created = await createOperations(deps).operators.add({ by: 'cli' }, { email, password, roles: projectIds.map((projectId) => ({ projectId, role })) });
        output.result(json(created), () => `Added operator ${created.id} (${created.email}), ${role} of ${created.roles.length} project(s).`);
      });
    });

  operators.command('list').description('list operators and their roles').action((_opts: unknown, cmd: Command) => local(cmd, 'operators list', async (deps, _config, output) => {
    const list = await createOperations(deps).operators.list({ by: 'cli' });
    const names = new Map((await deps.projects.list()).map((p) => [p.id, p.name]));
    output.result({ operators: list.map(json) }, () => table(list.map((o) => ({
      id: o.id, email: o.email, totp: o.totpEnabled ? 'on' : 'off', roles: o.roles.map((r) => `${names.get(r.projectId) ?? r.projectId}:${r.role}`).join(' ') || '(none)',
    })), ['id', 'email', 'totp', 'roles']));
  }));

  operators.command('role <operator> <role>')
    .description('set an operator\'s role (owner, admin, viewer, or none to take it away), by id or email')
    .requiredOption('-p, --project <name-or-id...>', 'the project(s)')
    .action((ref: string, role: string, opts: { project: string[] }, cmd: Command) => local(cmd, 'operators role', async (deps, config, output) => {
      if (role !== 'none' && !isOperatorRole(role)) throw new Error('role must be owner, admin, viewer or none');
      const target = await find(deps, ref);
      const projectIds = await Promise.all(opts.project.map(async (p) => (await findProject(deps, p, config)).id));
      const updated = await createOperations(deps).operators.setRoles({ by: 'cli' }, target.id, projectIds.map((projectId) => ({ projectId, role: role === 'none' ? null : role })));
      output.result(json(updated), () => `${updated.email}: ${role} in ${projectIds.length} project(s).`);
    }));

  operators.command('remove <operator>').description('remove an operator (by id or email); its sessions end at once').action((ref: string, _opts: unknown, cmd: Command) => local(cmd, 'operators remove', async (deps, _config, output) => {
    const target = await find(deps, ref);
    await createOperations(deps).operators.remove({ by: 'cli' }, target.id);
    output.result({ removed: target.id }, () => `Removed ${target.id} (${target.email}).`);
  }));

  operators.command('reset-totp <operator>').description('turn off an operator\'s second factor (lost authenticator); its sessions end').action((ref: string, _opts: unknown, cmd: Command) => local(cmd, 'operators reset-totp', async (deps, _config, output) => {
    const target = await find(deps, ref);
    await createOperations(deps).operators.resetTotp({ by: 'cli' }, target.id);
    output.result({ reset: target.id }, () => `Second factor of ${target.email} is off; it signs in with its password and can enroll again.`);
  }));
}

async function local(cmd: Command, what: string, fn: (deps: Deps, config: Readonly<Config>, output: Output) => Promise<void>): Promise<void> {
  requireLocal(cmd, what);
  const global = cmd.optsWithGlobals<GlobalOptions>();
  const output = createOutput(!!global.json);
  await withExistingDeps(global, (deps, config) => fn(deps, config, output));
}

async function find(deps: Deps, ref: string): Promise<OperatorSummary> {
  const found = ref.includes('@') ? await deps.operators.findByEmail(ref) : await deps.operators.get(ref);
  if (!found) throw new GatehouseError('not_found', { message: `No operator ${ref}.` });
  return found;
}

function json(o: OperatorSummary) {
  return { id: o.id, email: o.email, totp_enabled: o.totpEnabled, created_at: o.createdAt, roles: o.roles.map((r) => ({ project_id: r.projectId, role: r.role })) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
