import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMasterKey, parseMasterKey } from './master-key.js';

export interface DevMasterKey {
  key: Buffer;
  path: string;
  /** True when this call generated the file (log it: the operator must back it up). */
  created: boolean;
}

const FILE_NAME = 'master.key';

/**
 * For development and single-node installs without a configured master key:
 * reads `<dataDir>/master.key`, creating it on first run. Losing this file
 * loses every secret encrypted under it, so production should configure the
 * key explicitly and keep it outside the data directory (and its backups).
 *
 * Synchronous on purpose: it runs once at start-up, before anything listens.
 */
export function loadOrCreateDevMasterKey(dataDir: string): DevMasterKey {
  if (typeof dataDir !== 'string' || dataDir === '') {
    throw new TypeError('loadOrCreateDevMasterKey: dataDir must be a non-empty path');
  }
  const path = join(dataDir, FILE_NAME);
  // 0700: the directory holds the key; mode only applies to directories
  // created here, an existing directory is left as the operator set it.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const encoded = generateMasterKey();
  try {
    // 'wx' fails with EEXIST instead of overwriting, so two processes starting
    // at once cannot each write a different key and keep the one that lost.
    // Mode 0600 is applied at creation (umask can only narrow it), so the key
    // is never briefly readable by others.
    writeFileSync(path, `${encoded}\n`, { flag: 'wx', mode: 0o600 });
    return { key: parseMasterKey(encoded), path, created: true };
  } catch (error) {
    if (!isErrnoCode(error, 'EEXIST')) throw error;
  }
  return { key: readMasterKeyFile(path), path, created: false };
}

function readMasterKeyFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    // fstat on the opened descriptor, not stat on the path, so the checked
    // file is the one read even if the path is swapped in between.
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new TypeError(`${path} must be a regular file holding the master key`);
    // POSIX modes only; Windows reports synthetic bits and relies on ACLs.
    // Any group/other bit is refused, write included: a group-writable key
    // file lets another user substitute a key they know.
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
      throw new TypeError(
        `${path} is accessible by group or others (mode ${mode}); restrict it with: chmod 600 ${path}`,
      );
    }
    const text = readFileSync(fd, 'utf8');
    try {
      return parseMasterKey(text);
    } catch (error) {
      // parseMasterKey never echoes the value, so its message is safe to keep.
      const reason = error instanceof Error ? error.message : 'invalid content';
      throw new TypeError(`${path} does not hold a valid master key: ${reason}`);
    }
  } finally {
    closeSync(fd);
  }
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
