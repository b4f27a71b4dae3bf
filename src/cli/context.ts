import type { Command } from 'commander';
import type { GlobalOptions } from './global-options.js';
import { loadConfig, type Config } from '../config/index.js';
import { createDeps, type Deps } from '../deps.js';
import { createLogger } from '../observability/index.js';
import { GatehouseError } from '../errors/index.js';
import { createOperations, OPERATOR, type ActionContext } from '../operations/index.js';
import { isEnvironment, type Environment, type Project } from '../tenancy/index.js';
import { createOutput, type Output } from './output.js';
import { describeStore, requireExistingStore } from './local-store.js';
import { remoteSettings, wantsRemote } from './remote-settings.js';
import { createAdminClient, localTarget, remoteTarget, type AdminClient, type AdminTarget } from './target/index.js';
import { CliUsageError } from './usage-error.js';

export type { GlobalOptions } from './global-options.js';
export { addWhereOptions } from './global-options.js';

export function configFrom(options: GlobalOptions, overrides: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({ configFile: options.config, overrides: { dataDir: options.dataDir, ...overrides } });
}

/** Commands that work on the server's own storage only (init, projects, master-key) refuse --url. */
export function requireLocal(cmd: Command, what: string): void {
  if (wantsRemote(cmd.optsWithGlobals<GlobalOptions>(), cmd)) {
    throw new CliUsageError(`${what} works on the server's own storage (its data dir or DATABASE_URL), not through --url or GATEHOUSE_URL: run it where the server's data is.`);
  }
}

/**
 * Local mode works on the same data dir or DATABASE_URL as the server, directly through the
 * services (not over HTTP), so it also works before the first start. Its logs go to stderr at
 * warn level, keeping stdout clean for --json.
 */
export async function withDeps<T>(options: GlobalOptions, fn: (deps: Deps) => Promise<T>, config: Readonly<Config> = configFrom(options)): Promise<T> {
  const logger = createLogger({ level: config.logLevel === 'silent' ? 'silent' : 'warn', destination: process.stderr });
  const deps = await createDeps(config, { logger });
  try {
    return await fn(deps);
  } finally {
    await deps.close();
  }
}

/** withDeps for commands that need data that is already there: they never create a data dir. */
export async function withExistingDeps<T>(options: GlobalOptions, fn: (deps: Deps, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  requireExistingStore(config);
  return withDeps(options, (deps) => fn(deps, config), config);
}

export async function findProject(deps: Deps, ref: string, config: Readonly<Config>): Promise<Project> {
  const project = (await deps.projects.get(ref)) ?? (await deps.projects.findByName(ref));
  if (!project) throw new GatehouseError('not_found', { message: `No project with id or name "${ref}" in ${describeStore(config)}.` });
  return project;
}

export function parseEnvironment(value: string): Environment {
  if (!isEnvironment(value)) throw new GatehouseError('validation_failed', { message: `--env must be dev, staging or prod (got ${value}).` });
  return value;
}

/** `-p/--project` and `-e/--env`: the project environment a command acts on. */
export interface TargetOptions {
  project?: string;
  env?: string;
}

export function targetOptions(command: Command): Command {
  return command
    .option('-p, --project <name-or-id>', 'project (required locally; with --url, checked against the secret key\'s)')
    .option('-e, --env <env>', 'environment: dev, staging or prod (locally default dev; with --url, the secret key\'s)');
}

export interface EnvironmentContext {
  /** The same acts as the admin API, local or remote: the CLI only parses and prints. */
  target: AdminTarget;
  output: Output;
}

/**
 * A secret key acts on its own project environment only; a -p or -e that names another is
 * refused rather than silently ignored, so nobody changes prod believing it is dev.
 */
async function checkRemoteProject(client: AdminClient, opts: TargetOptions): Promise<void> {
  if (opts.project === undefined && opts.env === undefined) return;
  const project = await client.call<{ id: string; name: string; environment: string }>('GET', '/project');
  if (opts.project !== undefined && opts.project !== project.id && opts.project !== project.name) {
    throw new CliUsageError(`The secret key belongs to project "${project.name}" (${project.id}), not "${opts.project}": a key acts on its own project only.`);
  }
  if (opts.env !== undefined && opts.env !== project.environment) {
    throw new CliUsageError(`The secret key belongs to the ${project.environment} environment, not ${opts.env}: use a secret key of ${opts.env}.`);
  }
}

/** Runs a command's work on the project environment it names: the server's storage, or a running server (--url). */
export async function inEnvironment(cmd: Command, opts: TargetOptions, fn: (ctx: EnvironmentContext) => Promise<void>): Promise<void> {
  const global = cmd.optsWithGlobals<GlobalOptions>();
  const output = createOutput(!!global.json);
  if (opts.env !== undefined) parseEnvironment(opts.env);
  const remote = remoteSettings(global, cmd);
  if (remote) {
    const client = createAdminClient(remote);
    try {
      await checkRemoteProject(client, opts);
      await fn({ target: remoteTarget(client), output });
    } finally {
      await client.close();
    }
    return;
  }
  if (opts.project === undefined) throw new CliUsageError('Give the project with -p/--project <name-or-id> (or reach a running server with --url).');
  const ref = opts.project;
  await withExistingDeps(global, async (deps, config) => {
    const project = await findProject(deps, ref, config);
    const acting: ActionContext = { principal: OPERATOR, projectId: project.id, environment: parseEnvironment(opts.env ?? 'dev') };
    await fn({ target: localTarget(createOperations(deps), acting), output });
  });
}
