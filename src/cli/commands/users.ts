import type { Command } from 'commander';
import type { IssuerKind } from '../../identity/index.js';
import { table } from '../output.js';
import { inEnvironment, targetOptions as target, type TargetOptions as Target } from '../context.js';

/** `gatehouse users …` and `gatehouse auth …`: end users, sign-up mode, signing keys, external issuers. */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage end users of a project environment');

  target(users.command('list')).description('list users').action((opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
    const rows = await on.users.list(500);
    output.result({ users: rows }, () => table(rows.map((r) => ({ id: r.id, email: r.email || `(external ${r.external?.sub})`, role: r.role, created: r.created_at, 'last sign-in': r.last_sign_in_at })), ['id', 'email', 'role', 'created', 'last sign-in']));
  }));

  target(users.command('create'))
    .description('create a user; the password comes from stdin (--password-stdin), never from the command line')
    .requiredOption('--email <email>', 'email address')
    .option('--password-stdin', 'read the password from stdin (keeps it out of shell history)')
    .option('--admin', 'give the user the admin role')
    .action(async (opts: Target & { email: string; passwordStdin?: boolean; admin?: boolean }, cmd: Command) => {
      if (!opts.passwordStdin) throw new Error('--password-stdin is required: a password on the command line would land in shell history');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      await inEnvironment(cmd, opts, async ({ target: on, output }) => {
        const row = await on.users.create({ email: opts.email, password, role: opts.admin ? 'admin' : 'authenticated' });
        output.result(row, () => `Created ${row.id} (${row.email}, ${row.role}).`);
      });
    });

  target(users.command('set-role <user>'))
    .description('set a user\'s role (by id or email): admin or authenticated')
    .requiredOption('-r, --role <role>', 'admin or authenticated')
    .action((ref: string, opts: Target & { role: string }, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
      const user = await on.users.find(ref);
      const updated = await on.users.setRole(user.id, opts.role);
      output.result(updated, () => `${user.id} is now ${opts.role}.`);
    }));

  target(users.command('revoke-sessions <user>'))
    .description('sign a user out everywhere (by id or email)')
    .action((ref: string, opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
      const user = await on.users.find(ref);
      const revoked = await on.users.revokeSessions(user.id);
      output.result({ revoked }, () => `Revoked ${revoked} session(s) of ${user.id}.`);
    }));

  const auth = program.command('auth').description('auth settings of a project environment');

  target(auth.command('signup-mode <mode>')).description('open, invite or closed').action((mode: string, opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
    const set = await on.auth.setSignupMode(mode);
    output.result({ signup_mode: set }, () => `Sign-up mode: ${set}.`);
  }));

  target(auth.command('rotate-signing-key')).description('a new key signs; the old one verifies until its tokens expire').action((opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
    const rotated = await on.auth.rotateSigningKey();
    output.result(rotated, () => `Signing with ${rotated.kid}${rotated.previous ? ` (was ${rotated.previous})` : ''}.`);
  }));

  const issuers = auth.command('issuers').description('external token issuers');
  target(issuers.command('add'))
    .description('trust an issuer: --kind supabase|firebase|oidc')
    .requiredOption('-k, --kind <kind>', 'supabase, firebase or oidc')
    .option('--issuer <iss>', 'iss value (supabase, oidc)')
    .option('--firebase-project <id>', 'Firebase project id (firebase)')
    .option('--audience <aud>', 'expected aud (oidc; supabase defaults to authenticated)')
    .option('--jwks-url <url>', 'JWKS URL')
    .option('--hmac-secret-stdin', 'read a Supabase HS256 secret from stdin')
    .action((opts: Target & { kind: string; issuer?: string; firebaseProject?: string; audience?: string; jwksUrl?: string; hmacSecretStdin?: boolean }, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
      const hmac = opts.hmacSecretStdin ? (await readStdin()).trim() : undefined;
      const issuer = await on.auth.addIssuer({
        kind: opts.kind as IssuerKind, issuer: opts.issuer, firebase_project_id: opts.firebaseProject, audience: opts.audience, jwks_url: opts.jwksUrl, hmac_secret: hmac,
      });
      output.result(issuer, () => `Trusting ${issuer.issuer} as ${issuer.id}.`);
    }));
  target(issuers.command('list')).description('list trusted issuers').action((opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
    const list = await on.auth.issuers();
    output.result({ issuers: list }, () => table(list.map((i) => ({ id: i.id, kind: i.kind, issuer: i.issuer, audience: i.audience, keys: i.jwks_url ?? 'hmac secret' })), ['id', 'kind', 'issuer', 'audience', 'keys']));
  }));
  target(issuers.command('remove <id>')).description('stop trusting an issuer').action((id: string, opts: Target, cmd: Command) => inEnvironment(cmd, opts, async ({ target: on, output }) => {
    await on.auth.removeIssuer(id);
    output.result({ removed: id }, () => `Removed ${id}.`);
  }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
