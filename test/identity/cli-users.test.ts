// `gatehouse users …` / `gatehouse auth …` act on the same database as the server (issue #3 §8).
import { describe, expect, it } from 'vitest';
import { runCliOn, useSeededDatabase, type CliTarget } from '../harness/cli.js';
import { engines } from '../harness/engines.js';

const cli = (db: CliTarget, args: string[], stdin?: string) => runCliOn(db, args, { stdin });

describe.each(engines())('gatehouse users / auth (%s)', (engine) => {
  const db = useSeededDatabase(engine, 'shop');

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
