import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The data dir holds the whole database (users' password hashes, sealed provider keys, sessions)
// and in development the master key: nobody but the service account may read any of it. Files
// are created 0600 (umask can only narrow that), and a data dir from an earlier version, whose
// database and WAL were created 0644, is tightened every time it is opened.

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates the dir (0700), or tightens an existing one and every file directly in it (0600). */
export function secureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  chmodSync(dataDir, DIR_MODE);
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    // Regular files only: a symlink's target may be anything, anywhere.
    if (!entry.isFile()) continue;
    const path = join(dataDir, entry.name);
    if ((lstatSync(path).mode & 0o777) !== FILE_MODE) chmodSync(path, FILE_MODE);
  }
}

/**
 * Creates `file` empty with mode 0600 if it does not exist, so that the database (and the -wal and
 * -shm files SQLite creates with the database's mode) never exist with a wider mode. Returns it.
 */
export function createPrivateFile(file: string): string {
  closeSync(openSync(file, 'a', FILE_MODE));
  return file;
}
