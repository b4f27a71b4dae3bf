import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/index.js';
import { createDeps, type Deps } from '../deps.js';
import { createLogger } from '../observability/index.js';
import { GatehouseError } from '../errors/index.js';
import { createOperations, OPERATOR, type ActionContext, type Operations } from '../operations/index.js';
import { isEnvironment, type Environment, type Project } from '../tenancy/index.js';
import { createOutput, type Output } from './output.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function configFrom(options: GlobalOptions, overrides: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({ configFile: options.config, overrides });
}

/**
 * The CLI works on the same data dir or DATABASE_URL as the server, directly
 * through the services (not over HTTP), so it also works before the first start.
 * Its logs go to stderr at warn level, keeping stdout clean for --json.
 */
export async function withDeps<T>(options: GlobalOptions, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const logger = createLogger({ level: config.logLevel === 'silent' ? 'silent' : 'warn', destination: process.stderr });
  const deps = await createDeps(config, { logger });
  try {
    return await fn(deps);
  } finally {
    await deps.close();
  }
}

export async function findProject(deps: Deps, ref: string): Promise<Project> {
  const project = (await deps.projects.get(ref)) ?? (await deps.projects.findByName(ref));
  if (!project) throw new GatehouseError('not_found', { message: `No project with id or name "${ref}".` });
  return project;
}

export function parseEnvironment(value: string): Environment {
  if (!isEnvironment(value)) throw new GatehouseError('validation_failed', { message: `--env must be dev, staging or prod (got ${value}).` });
  return value;
}

/** `-p/--project` and `-e/--env`: the project environment a command acts on. */
export interface TargetOptions {
  project: string;
  env: string;
}

export function targetOptions(command: Command): Command {
  return command.requiredOption('-p, --project <name-or-id>', 'project').option('-e, --env <env>', 'environment: dev, staging or prod', 'dev');
}

export interface EnvironmentContext {
  /** The same actions as the admin API: the CLI only parses and prints. */
  operations: Operations;
  /** The operator (full power) acting on the project environment of `-p`/`-e`. */
  acting: ActionContext;
  output: Output;
}

/** Runs a command's work on the project environment its `-p`/`-e` name, with the services open meanwhile. */
export async function inEnvironment(cmd: Command, opts: TargetOptions, fn: (ctx: EnvironmentContext) => Promise<void>): Promise<void> {
  const global = cmd.optsWithGlobals<GlobalOptions>();
  await withDeps(global, async (deps) => {
    const project = await findProject(deps, opts.project);
    const acting: ActionContext = { principal: OPERATOR, projectId: project.id, environment: parseEnvironment(opts.env) };
    await fn({ operations: createOperations(deps), acting, output: createOutput(!!global.json) });
  });
}
