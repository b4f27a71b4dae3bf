import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateMasterKey, masterKeyId, parseMasterKey } from '../../crypto/index.js';
import { createOutput } from '../output.js';
import { configFrom, requireLocal, withExistingDeps, type GlobalOptions } from '../context.js';
import { requireExistingStore } from '../local-store.js';

export function registerMasterKeyCommands(program: Command): void {
  const masterKey = program.command('master-key').description('the key that wraps every data key');

  masterKey
    .command('generate')
    .description('print a new random master key (32 bytes, base64url)')
    .action((_opts: unknown, cmd: Command) => {
      const key = generateMasterKey();
      createOutput(!!cmd.optsWithGlobals<GlobalOptions>().json).result({ master_key: key, id: masterKeyId(parseMasterKey(key)) }, () => key);
    });

  masterKey
    .command('rotate')
    .description('re-wrap every data key under a new master key; encrypted data stays readable')
    .option('--new-key-file <path>', 'read the new key from this file (default: generate one)')
    .action(async (opts: { newKeyFile?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      requireLocal(cmd, 'master-key rotate');
      const config = configFrom(global);
      // Checked before the new key file is staged: nothing is written where there is no data.
      requireExistingStore(config);
      const newKeyText = opts.newKeyFile ? readFileSync(opts.newKeyFile, 'utf8').trim() : generateMasterKey();
      const newKey = parseMasterKey(newKeyText);
      // Where the current key lives decides where the new one goes. A key file
      // (configured or the dev one) is replaced atomically: the new key is
      // written beside it first, so a crash mid-rotation never loses the key
      // that now wraps the data.
      const keyFile = config.masterKey ? null : (config.masterKeyFile ?? join(config.dataDir, 'master.key'));
      const staged = keyFile ? `${keyFile}.new` : null;
      if (keyFile && !existsSync(keyFile)) throw new Error(`no master key file at ${keyFile}`);
      if (staged) writeFileSync(staged, `${newKeyText}\n`, { mode: 0o600 });
      try {
        const result = await withExistingDeps(global, async (deps) => {
          const before = deps.keyring.masterKeyId;
          const { rewrapped } = await deps.keyring.rotateMasterKey(newKey);
          return { rewrapped, from: before, to: deps.keyring.masterKeyId };
        });
        if (keyFile && staged) renameSync(staged, keyFile);
        createOutput(!!global.json).result(
          { rewrapped: result.rewrapped, previous_key_id: result.from, key_id: result.to, key_file: keyFile, ...(keyFile ? {} : { master_key: newKeyText }) },
          () => keyFile
            ? `Re-wrapped ${result.rewrapped} data keys under ${result.to}; the new key is in ${keyFile}. Restart the servers.`
            : [
                `Re-wrapped ${result.rewrapped} data keys under ${result.to}. The new master key, shown once:`,
                `  ${newKeyText}`,
                'Set it as GATEHOUSE_MASTER_KEY on every instance (keep the old one in GATEHOUSE_MASTER_KEY_PREVIOUS until all have restarted).',
              ].join('\n'),
        );
      } catch (error) {
        if (staged) rmSync(staged, { force: true });
        throw error;
      }
    });
}
