import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import { normalizeEmail, SIGNUP_MODES, toUserJson, type IssuerKind, type SignupMode, type UserRow } from '../../identity/index.js';
import type { Deps } from '../../deps.js';
import { createOutput, table } from '../output.js';
import { findProject, parseEnvironment, withDeps, type GlobalOptions } from '../context.js';

interface Target { project: string; env: string }

const target = (c: Command) =>
  c.requiredOption('-p, --project <name-or-id>', 'project').option('-e, --env <env>', 'environment: dev, staging or prod', 'dev');

async function scopeOf(deps: Deps, opts: Target) {
  const project = await findProject(deps, opts.project);
  return { projectId: project.id, environment: parseEnvironment(opts.env) };
}

/** A user by id (usr_…) or email. */
async function findUser(deps: Deps, scope: { projectId: string; environment: string }, ref: string): Promise<UserRow> {
  const row = ref.startsWith('usr_')
    ? await deps.identity.users.byId(scope.projectId, scope.environment, ref)
    : await deps.identity.users.byEmail(scope.projectId, scope.environment, normalizeEmail(ref));
  if (!row) throw new GatehouseError('not_found', { message: `No user "${ref}" in this project environment.` });
  return row;
}

function run(cmd: Command, fn: (deps: Deps, out: ReturnType<typeof createOutput>) => Promise<void>) {
  const global = cmd.optsWithGlobals<GlobalOptions>();
  return withDeps(global, (deps) => fn(deps, createOutput(!!global.json)));
}

/** `gatehouse users …` and `gatehouse auth …`: end users, sign-up mode, signing keys, external issuers. */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage end users of a project environment');

  target(users.command('list')).description('list users').action((opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
    const scope = await scopeOf(deps, opts);
    const rows = await deps.identity.users.list(scope.projectId, scope.environment, { limit: 500, offset: 0 });
    out.result({ users: rows.map(toUserJson) }, () => table(rows.map((r) => ({ id: r.id, email: r.email ?? `(external ${r.external_sub})`, role: r.role, created: r.created_at, 'last sign-in': r.last_sign_in_at })), ['id', 'email', 'role', 'created', 'last sign-in']));
  }));

  target(users.command('create'))
    .description('create a user; the password comes from stdin (--password-stdin), never from the command line')
    .requiredOption('--email <email>', 'email address')
    .option('--password-stdin', 'read the password from stdin (keeps it out of shell history)')
    .option('--admin', 'give the user the admin role')
    .action((opts: Target & { email: string; passwordStdin?: boolean; admin?: boolean }, cmd: Command) => run(cmd, async (deps, out) => {
      if (!opts.passwordStdin) throw new Error('--password-stdin is required: a password on the command line would land in shell history');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const scope = await scopeOf(deps, opts);
      const row = await deps.identity.accounts.create(scope, { email: opts.email, password, role: opts.admin ? 'admin' : 'authenticated' });
      await deps.audit.write({ ...scope, actor: 'cli', action: 'user.create', target: row.id, details: { role: row.role } });
      out.result(toUserJson(row), () => `Created ${row.id} (${row.email}, ${row.role}).`);
    }));

  target(users.command('set-role <user>'))
    .description('set a user\'s role (by id or email): admin or authenticated')
    .requiredOption('-r, --role <role>', 'admin or authenticated')
    .action((ref: string, opts: Target & { role: string }, cmd: Command) => run(cmd, async (deps, out) => {
      if (opts.role !== 'admin' && opts.role !== 'authenticated') throw new Error('--role must be admin or authenticated');
      const scope = await scopeOf(deps, opts);
      const user = await findUser(deps, scope, ref);
      const updated = await deps.identity.accounts.setRole(scope, user.id, opts.role);
      await deps.audit.write({ ...scope, actor: 'cli', action: 'user.set_role', target: user.id, details: { role: opts.role } });
      out.result(toUserJson(updated), () => `${user.id} is now ${opts.role}.`);
    }));

  target(users.command('revoke-sessions <user>'))
    .description('sign a user out everywhere (by id or email)')
    .action((ref: string, opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
      const scope = await scopeOf(deps, opts);
      const user = await findUser(deps, scope, ref);
      const revoked = await deps.identity.sessions.revokeAllOfUser(scope.projectId, scope.environment, user.id, 'revoked_by_admin');
      await deps.audit.write({ ...scope, actor: 'cli', action: 'user.sessions_revoke', target: user.id, details: { revoked } });
      out.result({ revoked }, () => `Revoked ${revoked} session(s) of ${user.id}.`);
    }));

  const auth = program.command('auth').description('auth settings of a project environment');

  target(auth.command('signup-mode <mode>')).description('open, invite or closed').action((mode: string, opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
    if (!(SIGNUP_MODES as readonly string[]).includes(mode)) throw new Error('mode must be open, invite or closed');
    const scope = await scopeOf(deps, opts);
    await deps.identity.signup.setMode(scope.projectId, scope.environment, mode as SignupMode);
    await deps.audit.write({ ...scope, actor: 'cli', action: 'auth.settings', details: { signup_mode: mode } });
    out.result({ signup_mode: mode }, () => `Sign-up mode: ${mode}.`);
  }));

  target(auth.command('rotate-signing-key')).description('a new key signs; the old one verifies until its tokens expire').action((opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
    const scope = await scopeOf(deps, opts);
    const rotated = await deps.identity.signingKeys.rotate(scope.projectId, scope.environment);
    await deps.audit.write({ ...scope, actor: 'cli', action: 'signing_key.rotate', target: rotated.kid, details: { previous: rotated.previous } });
    out.result(rotated, () => `Signing with ${rotated.kid}${rotated.previous ? ` (was ${rotated.previous})` : ''}.`);
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
    .action((opts: Target & { kind: string; issuer?: string; firebaseProject?: string; audience?: string; jwksUrl?: string; hmacSecretStdin?: boolean }, cmd: Command) => run(cmd, async (deps, out) => {
      if (!['supabase', 'firebase', 'oidc'].includes(opts.kind)) throw new Error('--kind must be supabase, firebase or oidc');
      const scope = await scopeOf(deps, opts);
      const hmac = opts.hmacSecretStdin ? (await readStdin()).trim() : undefined;
      const issuer = await deps.identity.issuers.create(scope.projectId, scope.environment, {
        kind: opts.kind as IssuerKind, issuer: opts.issuer, firebase_project_id: opts.firebaseProject, audience: opts.audience, jwks_url: opts.jwksUrl, hmac_secret: hmac,
      });
      await deps.audit.write({ ...scope, actor: 'cli', action: 'issuer.create', target: issuer.id, details: { kind: issuer.kind, issuer: issuer.issuer } });
      out.result(issuer, () => `Trusting ${issuer.issuer} as ${issuer.id}.`);
    }));
  target(issuers.command('list')).description('list trusted issuers').action((opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
    const scope = await scopeOf(deps, opts);
    const list = await deps.identity.issuers.list(scope.projectId, scope.environment);
    out.result({ issuers: list }, () => table(list.map((i) => ({ id: i.id, kind: i.kind, issuer: i.issuer, audience: i.audience, keys: i.jwksUrl ?? 'hmac secret' })), ['id', 'kind', 'issuer', 'audience', 'keys']));
  }));
  target(issuers.command('remove <id>')).description('stop trusting an issuer').action((id: string, opts: Target, cmd: Command) => run(cmd, async (deps, out) => {
    const scope = await scopeOf(deps, opts);
    const removed = await deps.identity.issuers.remove(scope.projectId, scope.environment, id);
    if (!removed) throw new GatehouseError('not_found', { message: `No issuer ${id}.` });
    await deps.audit.write({ ...scope, actor: 'cli', action: 'issuer.delete', target: id });
    out.result({ removed: id }, () => `Removed ${id}.`);
  }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
