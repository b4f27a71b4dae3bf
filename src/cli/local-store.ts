import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { sqliteFilePath } from '../db/index.js';
import { CliUsageError } from './usage-error.js';

/** Where local mode looks, for messages; never the DATABASE_URL itself (it holds a password). */
export function describeStore(config: Readonly<Config>): string {
  return config.databaseUrl ? 'the PostgreSQL database of DATABASE_URL' : `the data dir ${config.dataDir}`;
}

const HOW_TO_POINT = 'Give the server\'s data dir with --data-dir <dir> (or GATEHOUSE_DATA_DIR), or reach a running server with --url <url> (or GATEHOUSE_URL) and its secret key in GATEHOUSE_SECRET_KEY.';

/**
 * Commands that act on existing data refuse to start where there is none, instead of creating an
 * empty data dir (and a fresh master key) wherever they were run: run from an app's repository,
 * that used to leave a stray .gatehouse/ behind and end in a confusing "no project".
 */
export function requireExistingStore(config: Readonly<Config>): void {
  if (!config.databaseUrl) {
    if (!existsSync(sqliteFilePath(config.dataDir))) throw new CliUsageError(`No Gatehouse data in ${config.dataDir} (no gatehouse.db there). ${HOW_TO_POINT}`);
    return;
  }
  // PostgreSQL holds the data, but without a configured master key the one that wraps it lives in
  // the data dir: generating a new one here would make the stored secrets unreadable.
  if (!config.masterKey && !config.masterKeyFile && !existsSync(join(config.dataDir, 'master.key'))) {
    throw new CliUsageError(`No master key in ${config.dataDir} for the database of DATABASE_URL (and no GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE). ${HOW_TO_POINT}`);
  }
}
