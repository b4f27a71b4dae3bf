import type { Command } from 'commander';
import { createProjectWithDevKeys } from '../../operations/create-project.js';
import { createOutput, table } from '../output.js';
import { requireLocal, withDeps, withExistingDeps, type GlobalOptions } from '../context.js';

export function registerProjectCommands(program: Command): void {
  program
    .command('init')
    .description('create a project with a publishable and a secret dev key (shown once)')
    .option('--name <name>', 'project name', 'default')
    .action(async (opts: { name: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      // init, projects create and start may make a data dir: that is how one begins.
      requireLocal(cmd, 'init');
      await withDeps(global, async (deps) => {
        const created = await createProjectWithDevKeys(deps, opts.name, 'cli');
        createOutput(!!global.json).result(
          { project: created.project.name, project_id: created.project.id, environment: 'dev', publishable_key: created.publishableKey, secret_key: created.secretKey },
          () => [
            `Created project "${created.project.name}" (${created.project.id}). Dev keys, shown once:`,
            `  publishable: ${created.publishableKey}`,
            `  secret:      ${created.secretKey}`,
          ].join('\n'),
        );
      });
    });

  const projects = program.command('projects').description('manage projects');
  projects
    .command('create <name>')
    .description('create a project (environments dev, staging, prod) with dev keys')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      // Like init, it makes a project, so it may begin a data dir.
      requireLocal(cmd, 'projects create');
      await withDeps(global, async (deps) => {
        const created = await createProjectWithDevKeys(deps, name, 'cli');
        createOutput(!!global.json).result(
          { project: created.project.name, project_id: created.project.id, environment: 'dev', publishable_key: created.publishableKey, secret_key: created.secretKey },
          () => `Created project "${name}" (${created.project.id}).\n  publishable: ${created.publishableKey}\n  secret:      ${created.secretKey}`,
        );
      });
    });
  projects
    .command('list')
    .description('list projects')
    .action(async (_opts: unknown, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      requireLocal(cmd, 'projects list');
      await withExistingDeps(global, async (deps) => {
        const list = await deps.projects.list();
        createOutput(!!global.json).result(
          { projects: list.map((p) => ({ id: p.id, name: p.name, created_at: p.createdAt })) },
          () => table(list.map((p) => ({ id: p.id, name: p.name, created: p.createdAt })), ['id', 'name', 'created']),
        );
      });
    });
}
