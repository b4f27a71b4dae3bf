import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateDevMasterKey } from './dev-master-key.js';
import { generateMasterKey, parseMasterKey } from './master-key.js';

const posix = process.platform !== 'win32';

describe('loadOrCreateDevMasterKey', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-crypto-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it.runIf(posix)('creates the data dir (0700) and master.key (0600) on first run', () => {
    const dataDir = join(root, 'data', 'nested');
    const first = loadOrCreateDevMasterKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dataDir, 'master.key'));
    expect(first.key).toHaveLength(32);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    expect(parseMasterKey(readFileSync(first.path, 'utf8'))).toEqual(first.key);
  });

  it('reuses the same key on the next call', () => {
    const first = loadOrCreateDevMasterKey(root);
    const second = loadOrCreateDevMasterKey(root);
    expect(second.created).toBe(false);
    expect(second.path).toBe(first.path);
    expect(second.key).toEqual(first.key);
  });

  it.runIf(posix)('refuses a key file readable by group or others, telling the operator to chmod 600', () => {
    const path = join(root, 'master.key');
    const encoded = generateMasterKey();
    writeFileSync(path, encoded, { mode: 0o600 });
    chmodSync(path, 0o644);
    expect(() => loadOrCreateDevMasterKey(root)).toThrow(TypeError);
    expect(() => loadOrCreateDevMasterKey(root)).toThrow(/chmod 600/);
    expect(() => loadOrCreateDevMasterKey(root)).not.toThrow(encoded);
    chmodSync(path, 0o620); // group-writable: someone else could swap the key
    expect(() => loadOrCreateDevMasterKey(root)).toThrow(/chmod 600/);
    chmodSync(path, 0o600);
    expect(loadOrCreateDevMasterKey(root).key).toEqual(parseMasterKey(encoded));
  });

  it('refuses a corrupt key file without echoing its content', () => {
    const path = join(root, 'master.key');
    const content = 'not-a-key-but-maybe-a-secret';
    writeFileSync(path, content, { mode: 0o600 });
    let message = '';
    try {
      loadOrCreateDevMasterKey(root);
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      message = (error as Error).message;
    }
    expect(message).toContain('does not hold a valid master key');
    expect(message).not.toContain(content);
  });
});
