import { Option, type Command } from 'commander';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  /** Local mode: the server's data dir (else GATEHOUSE_DATA_DIR, else ./.gatehouse). */
  dataDir?: string;
  /** Remote mode: a running server (--url or GATEHOUSE_URL). */
  url?: string;
  secretKeyFile?: string;
  allowHttp?: boolean;
}

/** The options every command takes: where to act (the server's storage, or a running server). */
export function addWhereOptions(program: Command): Command {
  return program
    .option('--data-dir <dir>', 'the server\'s data dir (GATEHOUSE_DATA_DIR; default ./.gatehouse)')
    .addOption(new Option('--url <url>', 'act on a running server through its admin API, with the secret key in GATEHOUSE_SECRET_KEY').env('GATEHOUSE_URL'))
    .option('--secret-key-file <path>', 'with --url: read the secret key from this file instead of GATEHOUSE_SECRET_KEY')
    .option('--allow-http', 'with --url: allow plain http to another machine (the key crosses the network unencrypted)');
}

