import { resolve } from 'node:path';
import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import { backupPostgres, backupSqlite, restorePostgres, restoreSqlite, type BackupSummary, type Contents } from '../../operations/index.js';
import { createOutput } from '../output.js';
import { configFrom, requireLocal, type GlobalOptions } from '../context.js';

const KEY_REMINDER = 'The master key is not in the backup: keep it apart from it (a secret manager, not the same disk or bucket); the backup cannot be decrypted without it.';

/** `--data-dir` and `--database-url` may also be global options: read either. */
interface RestoreOptions extends GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
  pgBin?: string;
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup <file>')
    .description('copy the database (data dir or DATABASE_URL) into <file> while the server keeps serving')
    .option('--pg-bin <dir>', 'directory of pg_dump and pg_restore (PostgreSQL; default: the PATH)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      // A backup is of the server's own storage: with GATEHOUSE_URL it would silently copy ./.gatehouse.
      requireLocal(cmd, 'backup');
      const global = cmd.optsWithGlobals<GlobalOptions & { pgBin?: string }>();
      const config = configFrom(global);
      const target = resolve(file);
      const summary = config.databaseUrl
        ? await backupPostgres(config.databaseUrl, target, { binDir: global.pgBin })
        : await backupSqlite(config.dataDir, target);
      createOutput(!!global.json).result(backupJson(summary), () => [
        `Backed up the ${summary.engine} database to ${summary.file} (${summary.bytes} bytes, migration ${summary.migration ?? '-'}).`,
        summary.masterKeyIds.length > 0
          ? `It needs the master key with id ${summary.masterKeyIds.join(' or ')} to decrypt what is encrypted in it.`
          : 'Nothing in it is encrypted yet.',
        KEY_REMINDER,
      ].join('\n'));
    });

  program
    .command('restore <file>')
    .description('restore a backup into an empty data dir (SQLite) or an empty database (PostgreSQL)')
    .option('--data-dir <dir>', 'the new, empty data dir (SQLite backups)')
    .option('--database-url <url>', 'the new, empty database (PostgreSQL backups)')
    .option('--pg-bin <dir>', 'directory of pg_dump and pg_restore (default: the PATH)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RestoreOptions>();
      // An explicit target only, never the configured one: a restore must not land on live data
      // because an environment variable was still set.
      if (!opts.dataDir === !opts.databaseUrl) {
        throw new GatehouseError('validation_failed', { message: 'Name the target: --data-dir <empty dir> for a SQLite backup, or --database-url <empty database> for a PostgreSQL one.' });
      }
      const source = resolve(file);
      const contents: Contents = opts.dataDir
        ? restoreSqlite(source, resolve(opts.dataDir))
        : await restorePostgres(source, opts.databaseUrl!, { binDir: opts.pgBin });
      const target = opts.dataDir ? resolve(opts.dataDir) : 'the database';
      createOutput(!!opts.json).result(
        { restored: source, into: opts.dataDir ? resolve(opts.dataDir) : 'database_url', migration: contents.migrations.at(-1) ?? null, master_key_ids: contents.masterKeyIds },
        () => [
          `Restored ${source} into ${target} (migration ${contents.migrations.at(-1) ?? '-'}).`,
          contents.masterKeyIds.length > 0
            ? `Start Gatehouse on it with the master key with id ${contents.masterKeyIds.join(' or ')} (GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE, or the old data dir's master.key copied in).`
            : 'Nothing in it is encrypted: any master key will do.',
        ].join('\n'),
      );
    });
}

function backupJson(summary: BackupSummary) {
  return { engine: summary.engine, file: summary.file, bytes: summary.bytes, migration: summary.migration, master_key_ids: summary.masterKeyIds };
}
