import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';
import { KeyringError } from '../crypto/index.js';
import { startServer } from '../server.js';
import { addWhereOptions, configFrom, requireLocal, type GlobalOptions } from './context.js';
import { RemoteError } from './target/index.js';
import { CliUsageError } from './usage-error.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLimitCommands } from './commands/limits.js';
import { registerMasterKeyCommands } from './commands/master-key.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerSchemaCommands } from './commands/schema.js';
import { registerProviderCommands } from './commands/providers.js';
import { registerLlmCommands } from './commands/llm.js';
import { registerUserCommands } from './commands/users.js';
import { registerOperatorCommands } from './commands/operators.js';

/** The installed package's version: package.json sits two levels above this file in src/ and dist/ alike. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: a secure backend for apps and AI apps')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'JSON config file (env vars win over it)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showHelpAfterError();
  addWhereOptions(program);

  program
    .command('start')
    .description('run the server')
    .option('--host <host>', 'listen address (GATEHOUSE_HOST)')
    .option('--port <port>', 'listen port (GATEHOUSE_PORT)')
    .action(async (opts: { host?: string; port?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      // A GATEHOUSE_URL in the server's environment is the CLI's, not a request for remote mode.
      if (cmd.parent?.getOptionValueSource('url') === 'cli') requireLocal(cmd, 'start');
      const config = configFrom(global, { host: opts.host, port: opts.port });
      const server = await startServer(config, { print: (line) => process.stdout.write(`${line}\n`), interactive: process.stdout.isTTY === true });
      let signals = 0;
      const stop = (signal: string) => {
        signals += 1;
        // A second signal (Ctrl-C twice) means now: the deadline comes forward, the buffers are
        // still flushed (about 3 s at most). A third one exits without them.
        if (signals === 2) {
          server.deps.logger.warn({ signal }, 'second signal: cutting what is still open now');
          return server.hurry();
        }
        if (signals > 2) process.exit(1);
        server.deps.logger.info({ signal }, 'signal received');
        // Cutting what outlives the deadline is the designed stop (exit 0, so a supervisor does not
        // report a failure on every deploy); 1 means the buffers could not be flushed.
        server.shutdown(config.shutdownTimeoutMs).then((outcome) => process.exit(outcome === 'unflushed' ? 1 : 0), () => process.exit(1));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });

  registerProjectCommands(program);
  registerKeyCommands(program);
  registerLimitCommands(program);
  registerMasterKeyCommands(program);
  registerSchemaCommands(program);
  registerProviderCommands(program);
  registerLlmCommands(program);
  registerUserCommands(program);
  registerOperatorCommands(program);
  registerAuditCommands(program);
  registerBackupCommands(program);
  return program;
}

/** Exit codes: 0 ok, 1 failure, 2 usage or configuration error. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ConfigError || error instanceof CliUsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof RemoteError) {
      // The server's own words first, as the local mode prints them; then what finds it in its logs.
      process.stderr.write(`error: ${error.message}\n${error.trace ? `  ${error.trace}\n` : ''}`);
      return 1;
    }
    if (error instanceof GatehouseError || error instanceof KeyringError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
