import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Keyring } from '../crypto/index.js';
import type { Database } from '../db/index.js';
import type { SecurityEvents } from '../observability/index.js';
import type { Clock } from '../shared/clock.js';
import {
  createAccountService, createEmailChangeService, createOneTimeCodes, createRecoveryService, createSignupPolicy, createUserStore, toUserJson,
  type AccountService, type EmailChangeService, type RecoveryService, type SignedIn, type SignupPolicy, type UserStore,
} from './accounts/index.js';
import { createExternalVerifier, createIssuerService, createJwksCache, type IssuerService } from './external/index.js';
import { createSignInBackoff } from './guard/index.js';
import type { AttemptStore } from '../limits/index.js';
import {
  createAccessTokenService, createIssuerUrls, createPublicBase, createSigningKeyService, type AccessTokenService, type PublicBase, type SigningKeyService,
} from './jwt/index.js';
import { createOutbox, createSmtpMailer, type Mailer, type Outbox } from './mailer/index.js';
import { createPasswordHasher, defaultHashGate, type PasswordHasher } from './passwords/index.js';
import { createSessionService, type SessionService } from './sessions/index.js';
import { createUserTokenVerifier, type UserTokenVerifier } from './user-tokens.js';

export interface Identity {
  accounts: AccountService;
  recovery: RecoveryService;
  emailChange: EmailChangeService;
  signup: SignupPolicy;
  users: UserStore;
  sessions: SessionService;
  signingKeys: SigningKeyService;
  tokens: AccessTokenService;
  /** Where this server's public URLs (the environments' issuers) start. */
  publicBase: PublicBase;
  issuers: IssuerService;
  /** The development mail outbox; null when mail goes through SMTP (always in production). */
  outbox: Outbox | null;
  hasher: PasswordHasher;
  /** Bearer JWT → the user behind it, for the identify stage (http/identify.ts). */
  userTokens: UserTokenVerifier;
  /**
   * Whether a user holds the admin role right now: the user exists, has the role, and, for an
   * external user, its issuer is still trusted (without it, its tokens no longer verify).
   */
  isAdmin(projectId: string, environment: string, userId: string): Promise<boolean>;
  /** GoTrue's session response for a fresh sign-in. */
  sessionResponse(signedIn: SignedIn): Promise<SessionResponse>;
  close(): Promise<void>;
}

export interface SessionResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: ReturnType<typeof toUserJson>;
}

export interface IdentityDeps {
  config: Readonly<Config>;
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  events: SecurityEvents;
  logger: Logger;
  /**
   * Failed sign-in counters: the process's counter store (with REDIS_URL shared by every instance,
   * so spreading guesses over instances does not help; an outage fails sign-in closed with 503).
   */
  attempts: AttemptStore;
}

export async function createIdentity(d: IdentityDeps): Promise<Identity> {
  const { config, db, keyring, clock, events } = d;
  const c = config.identity;
  if (c.mailer === 'smtp' && !c.smtpUrl) throw new TypeError('identity.mailer is smtp but GATEHOUSE_SMTP_URL is not set');
  if (c.mailer === 'outbox' && config.mode === 'production') throw new TypeError('identity.mailer outbox is for development only');
  const hasher = await createPasswordHasher(
    { memoryKiB: c.argon2MemoryKiB, iterations: c.argon2Iterations, parallelism: c.argon2Parallelism },
    { concurrency: c.hashConcurrency || defaultHashGate().concurrency, queueMax: c.hashQueueMax },
  );
  const sessions = createSessionService({
    db, clock, events, reuseIntervalSeconds: c.refreshReuseIntervalSeconds, inactivitySeconds: c.sessionInactivitySeconds, cacheMs: c.sessionCacheMs,
  });
  const users = createUserStore(db, (projectId, environment, id) => sessions.forgetUser(projectId, environment, id));
  const signingKeys = createSigningKeyService({ db, keyring, clock, alg: c.signingAlg, verifyGraceSeconds: c.accessTokenTtlSeconds + c.clockSkewSeconds });
  const publicBase = createPublicBase(config);
  // The legacy issuer is the one formula every earlier version minted with: `<public url>/auth/v1`.
  const issuerUrls = createIssuerUrls(publicBase, config.publicUrl ?? 'urn:gatehouse');
  const tokens = createAccessTokenService({ keys: signingKeys, clock, issuerUrls, ttlSeconds: c.accessTokenTtlSeconds, clockSkewSeconds: c.clockSkewSeconds });
  const outbox = c.mailer === 'outbox' ? createOutbox({ db, clock, retentionMs: c.outboxRetentionSeconds * 1000 }) : null;
  const smtp = c.mailer === 'smtp' && c.smtpUrl ? createSmtpMailer({ url: c.smtpUrl, from: c.mailFrom }) : null;
  const mailer: Mailer | null = smtp ?? outbox;
  if (!mailer) throw new TypeError('identity.mailer must be outbox or smtp');
  // Codes an earlier development run left in the outbox must not sit in clear in a production database.
  if (config.mode === 'production') await db.deleteFrom('identity_outbox').execute();
  const signup = createSignupPolicy({ db, clock, defaultMode: c.defaultSignupMode });
  const backoff = createSignInBackoff({
    store: d.attempts, clock, events,
    policy: {
      freePerAccount: c.backoffFreeAttemptsPerAccount, freePerAccountAllAddresses: c.backoffFreeAttemptsPerAccountAllAddresses,
      freePerIp: c.backoffFreeAttemptsPerIp, baseMs: c.backoffBaseMs, maxMs: c.backoffMaxMs,
    },
  });
  const codes = createOneTimeCodes({ db, clock });
  const emailChange = createEmailChangeService({ codes, store: users, sessions, mailer, events, clock, secure: c.secureEmailChange, logger: d.logger });
  const accounts = createAccountService({ store: users, hasher, sessions, backoff, signup, events, clock, emailChange });
  const recovery = createRecoveryService({ codes, store: users, sessions, mailer, events, clock, logger: d.logger });
  const issuers = createIssuerService({ db, keyring, clock, allowHttp: config.mode !== 'production' });
  const jwks = createJwksCache({ ttlMs: c.jwksCacheTtlMs, refetchIntervalMs: c.jwksRefetchIntervalMs, clock });
  const external = createExternalVerifier({ issuers, jwks, users, clock, clockSkewSeconds: c.clockSkewSeconds });

  return {
    accounts, recovery, emailChange, signup, users, sessions, signingKeys, tokens, publicBase, issuers, outbox, hasher,
    userTokens: createUserTokenVerifier({ tokens, sessions, external }),
    async isAdmin(projectId, environment, userId) {
      const user = await users.byId(projectId, environment, userId);
      if (user?.role !== 'admin') return false;
      return user.issuer_id === null || (await issuers.list(projectId, environment)).some((i) => i.id === user.issuer_id);
    },
    async sessionResponse({ user, sessionId, refreshToken, method }) {
      const json = toUserJson(user);
      const access = await tokens.issue(user.project_id, user.environment, {
        sub: user.id, email: user.email, role: user.role, sessionId, appMetadata: json.app_metadata, userMetadata: json.user_metadata,
        authTime: Math.floor(clock.nowMs() / 1000), method,
      });
      return { access_token: access.token, token_type: 'bearer', expires_in: access.expiresIn, expires_at: access.expiresAt, refresh_token: refreshToken, user: json };
    },
    async close() {
      // Recoveries still being mailed finish before the mailer and the database go.
      await recovery.flush();
      smtp?.close();
    },
  };
}
