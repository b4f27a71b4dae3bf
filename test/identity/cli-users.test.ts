// `gatehouse users …` / `gatehouse auth …` act on the same database as the server (issue #3 §8).
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/index.js';
import { createDeps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/index.js';
import { createProjectWithDevKeys } from '../../src/tenancy/index.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';

async function cli(db: FreshDatabase, args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  process.env.GATEHOUSE_DATA_DIR = db.dataDir;
  process.env.GATEHOUSE_LOG_LEVEL = 'silent';
  if (db.databaseUrl) process.env.DATABASE_URL = db.databaseUrl;
  else delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const savedStdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  if (stdin !== undefined) Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(stdin)]), configurable: true });
  try {
    return { code: await runCli(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    Object.defineProperty(process, 'stdin', savedStdin);
    process.env = saved;
  }
}

describe.each(engines())('gatehouse users / auth (%s)', (engine) => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabaseUrl(engine);
    const deps = await createDeps(loadConfig({ env: { GATEHOUSE_DATA_DIR: db.dataDir, ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}) } }), { logger: createLogger({ level: 'silent' }) });
    try {
      await createProjectWithDevKeys(deps, 'shop', 'test');
    } finally {
      await deps.close();
    }
  });
  afterEach(() => db.cleanup());

  it('creates a user from stdin, makes them admin, lists and signs them out', async () => {
    const created = await cli(db, ['--json', 'users', 'create', '-p', 'shop', '--email', 'Boss@Example.test', '--password-stdin'], 'a long cli passphrase\n');
    expect(created.code, created.err).toBe(0);
    const user = JSON.parse(created.out);
    expect(user).toMatchObject({ email: 'boss@example.test', role: 'authenticated' });
    expect(created.out + created.err).not.toContain('a long cli passphrase');
    expect((await cli(db, ['users', 'set-role', 'boss@example.test', '-p', 'shop', '-r', 'admin'])).code).toBe(0);
    const list = JSON.parse((await cli(db, ['--json', 'users', 'list', '-p', 'shop'])).out);
    expect(list.users).toEqual([expect.objectContaining({ id: user.id, role: 'admin' })]);
    expect(JSON.parse((await cli(db, ['--json', 'users', 'revoke-sessions', user.id, '-p', 'shop'])).out)).toEqual({ revoked: 0 });
    // Other environments do not see the user.
    expect(JSON.parse((await cli(db, ['--json', 'users', 'list', '-p', 'shop', '-e', 'prod'])).out).users).toEqual([]);
  });

  it('refuses a password on the command line and bad roles', async () => {
    const noStdin = await cli(db, ['users', 'create', '-p', 'shop', '--email', 'x@example.test']);
    expect(noStdin.code).toBe(1);
    expect(noStdin.err).toContain('--password-stdin');
    const badRole = await cli(db, ['users', 'set-role', 'x@example.test', '-p', 'shop', '-r', 'root']);
    expect(badRole.code).toBe(1);
  });

  it('sets the sign-up mode, rotates the signing key, manages issuers', async () => {
    expect((await cli(db, ['auth', 'signup-mode', 'invite', '-p', 'shop'])).code).toBe(0);
    expect((await cli(db, ['auth', 'signup-mode', 'sometimes', '-p', 'shop'])).code).toBe(1);
    const rotated = JSON.parse((await cli(db, ['--json', 'auth', 'rotate-signing-key', '-p', 'shop'])).out);
    expect(rotated.kid).toMatch(/^sk_/);
    const added = await cli(db, ['--json', 'auth', 'issuers', 'add', '-p', 'shop', '-k', 'supabase', '--issuer', 'https://abc.supabase.co/auth/v1', '--hmac-secret-stdin'], 'super-secret-jwt-token-with-at-least-32-characters-long\n');
    expect(added.code, added.err).toBe(0);
    expect(added.out).not.toContain('super-secret');
    const id = JSON.parse(added.out).id as string;
    expect(JSON.parse((await cli(db, ['--json', 'auth', 'issuers', 'list', '-p', 'shop'])).out).issuers).toHaveLength(1);
    expect((await cli(db, ['auth', 'issuers', 'remove', id, '-p', 'shop'])).code).toBe(0);
    expect(JSON.parse((await cli(db, ['--json', 'auth', 'issuers', 'list', '-p', 'shop'])).out).issuers).toHaveLength(0);
  });
});
