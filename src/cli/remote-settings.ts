import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseServerUrl } from './target/index.js';
import type { GlobalOptions } from './global-options.js';
import { CliUsageError } from './usage-error.js';

export interface RemoteSettings {
  url: URL;
  secretKey: string;
}

const KEY_SOURCES = 'GATEHOUSE_SECRET_KEY or a file named by --secret-key-file';

function rootOf(cmd: Command): Command {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new CliUsageError(`cannot read --secret-key-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Remote mode, when --url or GATEHOUSE_URL names a server; null for local mode. A data dir named
 * explicitly (--data-dir, or GATEHOUSE_DATA_DIR in the environment) means local mode even with
 * GATEHOUSE_URL set: a shell that serves Gatehouse and runs its clients holds both, and the
 * server's own storage is the nearer, more specific choice. --url and --data-dir as flags at once
 * are refused. The secret key never comes from argv (every user of the machine sees it in `ps`),
 * and no message ever quotes it. Like main.ts, the command line's entry reads its own environment.
 */
export function wantsRemote(global: GlobalOptions, cmd: Command, env: NodeJS.ProcessEnv = process.env): boolean {
  if (global.url === undefined) return false;
  const urlFlag = rootOf(cmd).getOptionValueSource('url') === 'cli';
  if (global.dataDir !== undefined) {
    if (urlFlag) throw new CliUsageError('Give --data-dir (the server\'s storage) or --url (a running server), not both.');
    return false;
  }
  return urlFlag || !env.GATEHOUSE_DATA_DIR;
}

export function remoteSettings(global: GlobalOptions, cmd: Command, env: NodeJS.ProcessEnv = process.env): RemoteSettings | null {
  if (!wantsRemote(global, cmd, env) || global.url === undefined) return null;
  const url = parseServerUrl(global.url, !!global.allowHttp);
  const secretKey = global.secretKeyFile !== undefined ? readKeyFile(global.secretKeyFile) : (env.GATEHOUSE_SECRET_KEY ?? '').trim();
  if (secretKey === '') throw new CliUsageError(`--url needs the server's secret key (sk_…) in ${KEY_SOURCES}; never on the command line, where \`ps\` shows it.`);
  if (secretKey.startsWith('pk_')) {
    throw new CliUsageError('The key given is a publishable key (pk_…): it cannot use the admin API. Give a secret key (sk_…) of the project environment.');
  }
  if (!/^[\x21-\x7e]+$/.test(secretKey)) throw new CliUsageError(`The key in ${KEY_SOURCES} has spaces or other characters no Gatehouse key has.`);
  return { url, secretKey };
}
