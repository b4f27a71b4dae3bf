import { Type, type Static } from '@sinclair/typebox';
import { LimitsFileSchema } from './rate-limits.js';

const MiB = 1024 * 1024;

// The whole configuration, after env and file are merged. Unknown keys are
// rejected so that a typo stops the start instead of silently using a default.
export const ConfigSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** Where the embedded SQLite file, the dev master key and other local state live. */
    dataDir: Type.String({ minLength: 1, default: './.gatehouse' }),
    /** postgres://… — when set, PostgreSQL replaces the embedded SQLite file. */
    databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    /** redis://… — when set, rate limits and quotas are shared across instances. */
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /** 32 bytes as base64, base64url or hex. */
    masterKey: Type.Optional(Type.String({ minLength: 32 })),
    masterKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Old master keys still accepted for unwrapping during a rolling rotation. */
    previousMasterKeys: Type.Array(Type.String({ minLength: 32 }), { default: [] }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    /** `auto`: pretty lines on a terminal in development, JSON otherwise; `json` / `pretty` force one. */
    logFormat: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], { default: 'auto' }),
    /**
     * Milliseconds that SIGTERM/SIGINT give in-flight requests and open LLM streams to finish before
     * they are cut (then at most 1 s for the cut streams' last event and 2 s to flush buffers and
     * close storage). A supervisor must wait longer before its SIGKILL: Kubernetes'
     * terminationGracePeriodSeconds ≥ 35 (its default is 30), systemd TimeoutStopSec, compose stop_grace_period.
     */
    shutdownTimeoutMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 30_000 }),
    /** Proxies whose X-Forwarded-For is believed: IPs, CIDRs, or proxy-addr names (loopback, uniquelocal). Empty: never believed. */
    trustProxy: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    tls: Type.Optional(Type.Object({ certFile: Type.String({ minLength: 1 }), keyFile: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    /** The URL clients use to reach this server; the base of each environment's JWT issuer (`<url>/auth/v1/projects/<id>/<env>`). */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    cors: Type.Object(
      {
        /** Origins allowed on a new dev environment (staging and prod start empty). `http://localhost:*` matches any port. */
        devOrigins: Type.Array(Type.String({ minLength: 1 }), { default: ['http://localhost:*', 'http://127.0.0.1:*'] }),
      },
      { additionalProperties: false, default: {} },
    ),
    limits: Type.Object(
      {
        /** Bytes; the JSON route class. */
        jsonBodyBytes: Type.Integer({ minimum: 1024, default: 10 * MiB }),
        /** Bytes; any request, e.g. LLM file uploads. */
        anyBodyBytes: Type.Integer({ minimum: 1024, default: 50 * MiB }),
        jsonMaxDepth: Type.Integer({ minimum: 2, maximum: 1000, default: 64 }),
        jsonMaxKeys: Type.Integer({ minimum: 10, default: 10_000 }),
        /** Milliseconds to receive a whole request (slow-body defence); 0 disables. */
        requestTimeoutMs: Type.Integer({ minimum: 0, default: 60_000 }),
        /**
         * Rate-limit headers on responses (docs/api.md "Rate limits"): `legacy` X-RateLimit-* (what
         * clients read), `draft` the IETF RateLimit / RateLimit-Policy fields, or `both`.
         */
        rateLimitHeaders: Type.Union([Type.Literal('legacy'), Type.Literal('draft'), Type.Literal('both')], { default: 'legacy' }),
      },
      { additionalProperties: false, default: {} },
    ),
    llm: Type.Object(
      {
        /** Milliseconds to open a TCP/TLS connection to a provider. */
        connectTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        /** Milliseconds to wait for the provider's response headers (a non-streamed completion arrives whole, so generous). */
        headersTimeoutMs: Type.Integer({ minimum: 100, default: 300_000 }),
        /** Milliseconds of silence allowed between two body chunks (streams included). */
        bodyIdleTimeoutMs: Type.Integer({ minimum: 100, default: 120_000 }),
        /** Milliseconds a provider's settings and decrypted key stay cached in memory. */
        providerCacheMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 5_000 }),
        /** Bytes of a JSON response Gatehouse may buffer to read ids and usage; larger ones pass through unread. */
        responseBufferBytes: Type.Integer({ minimum: 1024, default: 20 * MiB }),
        /**
         * Keep-alive connections per provider origin (undici's pool). Over HTTP/1.1 a stream holds its
         * connection to the end, so this is sized for thousands of streams; over HTTP/2 one connection
         * carries up to 100 (docs/llm-proxy.md "Connections and concurrency").
         */
        connectionsPerOrigin: Type.Integer({ minimum: 1, maximum: 65_536, default: 8192 }),
        /** Requests in flight per provider origin, counted by Gatehouse (a stream until its last byte); past it a request waits up to originQueueMs, then 503. */
        maxInFlightPerOrigin: Type.Integer({ minimum: 1, maximum: 65_536, default: 8192 }),
        /** Milliseconds a request may wait for a free slot of its origin before 503 `upstream_busy`; 0 = refuse at once. */
        originQueueMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000 }),
        /** HTTP/2 to https provider origins that offer it in TLS (ALPN); plain http origins always speak HTTP/1.1. */
        http2: Type.Boolean({ default: true }),
        /** Requests in flight per user (or per key when no user is behind it), per instance; over it 429 `llm_concurrency_exceeded`; 0 = no limit. */
        maxInFlightPerUser: Type.Integer({ minimum: 0, maximum: 65_536, default: 16 }),
        /** Requests in flight per project (all environments), per instance; over it 429; 0 = no limit. */
        maxInFlightPerProject: Type.Integer({ minimum: 0, maximum: 65_536, default: 1024 }),
        /** Per provider origin (`https://api.openai.com`), settings that replace the ones above for it. */
        origins: Type.Record(
          Type.String({ pattern: '^https?://[^/]+$' }),
          Type.Object(
            {
              connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
              maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
              http2: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
          { default: {} },
        ),
        /** Milliseconds between two sweeps for runs and background responses nobody fetched again (llm/usage/sweep.ts); 0 = off. */
        deferredSweepMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 60_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Rate limits (docs/api.md "Rate limits"): per route class, a fail mode and windows per tier, plus
     * per-user / per-key overrides and the per-IP pre-check. Absent parts default to DEFAULT_LIMITS
     * (rate-limits.ts). Each project environment can change it further through the admin API.
     */
    rateLimits: LimitsFileSchema,
    securityEvents: Type.Object(
      {
        /** Days a security event is kept; older ones are deleted by a periodic prune. */
        retentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
        /** Milliseconds between two prunes (the first runs at start); 0 = never prune. */
        pruneIntervalMs: Type.Integer({ minimum: 0, maximum: 24 * 3600_000, default: 3600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        /** Directory of the local backend's files; absent: `<dataDir>/storage`. */
        dir: Type.Optional(Type.String({ minLength: 1 })),
        /** Bytes; the largest object any bucket accepts (a bucket's own file_size_limit may only be lower). */
        maxObjectBytes: Type.Integer({ minimum: 1, default: 50 * MiB }),
        /** Seconds; the longest a signed URL may live. */
        signedUrlMaxSeconds: Type.Integer({ minimum: 1, maximum: 365 * 86400, default: 7 * 86400 }),
        /** Seconds a signed upload URL lives (storage-api: two hours). */
        signedUploadSeconds: Type.Integer({ minimum: 60, maximum: 7 * 86400, default: 7200 }),
        /** Bytes one user may store per environment, all buckets together; 0 = no quota. */
        userQuotaBytes: Type.Integer({ minimum: 0, default: 0 }),
        /** Objects one user may store per environment; 0 = no quota. */
        userQuotaObjects: Type.Integer({ minimum: 0, default: 0 }),
        /** An S3-compatible store instead of the local disk: set with its bucket. */
        s3: Type.Optional(Type.Object(
          {
            bucket: Type.String({ minLength: 3, maxLength: 63 }),
            region: Type.String({ minLength: 1, default: 'us-east-1' }),
            /** https://… of a non-AWS store (MinIO, R2…); absent: AWS. */
            endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
            /** Secret. Absent: the AWS SDK's own chain (environment, instance role…). */
            accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
            secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
            /** Path-style URLs (MinIO and most self-hosted stores need them). */
            forcePathStyle: Type.Boolean({ default: false }),
            /** Key prefix inside the bucket, e.g. `gatehouse/`. */
            prefix: Type.String({ pattern: '^([A-Za-z0-9_.-]+/)*$', default: '' }),
          },
          { additionalProperties: false },
        )),
        /** When a user is deleted: `delete` their objects, or `keep` them with no owner (then only admins and bucket rules reach them). */
        onUserDelete: Type.Union([Type.Literal('delete'), Type.Literal('keep')], { default: 'delete' }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The realtime WebSocket (/realtime/v1/websocket): its per-connection limits (docs/realtime.md). */
    realtime: Type.Object(
      {
        /** Open sockets per client address, per instance. */
        connectionsPerAddress: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100 }),
        /** Open sockets carrying one user's token, per instance. */
        connectionsPerUser: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
        channelsPerConnection: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
        /** Frames per second a socket may send; past it frames are refused, past twice it the socket is closed. */
        eventsPerSecond: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
        /** Bytes queued towards a client past which it is a slow consumer and is disconnected. */
        sendQueueBytes: Type.Integer({ minimum: 1024, maximum: 1024 * MiB, default: 4 * MiB }),
        /** Largest frame (and REST broadcast body) accepted. */
        maxPayloadBytes: Type.Integer({ minimum: 1024, maximum: 16 * MiB, default: 256 * 1024 }),
        changesPerJoin: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
        /** Milliseconds between two checks of every channel's user token and rules (a revoked session ends its channels). */
        tokenRecheckMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 30_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Bearer token for GET /metrics (Prometheus scrapes); secret. Absent: only a secret key with admin:metrics. */
    metricsToken: Type.Optional(Type.String({ minLength: 32, maxLength: 512 })),
    /** `off`: nothing is recorded and GET /metrics is not served (the benchmark's baseline). */
    metrics: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
    apiKeys: Type.Object(
      {
        /** Milliseconds a key lookup is cached; bounds how long a revoked key keeps working on another instance. */
        cacheTtlMs: Type.Integer({ minimum: 0, maximum: 1000, default: 500 }),
        /** Seconds a rotated key keeps working. */
        rotationGraceSeconds: Type.Integer({ minimum: 0, default: 24 * 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    identity: Type.Object(
      {
        /** Seconds an access token (JWT) lives. */
        accessTokenTtlSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600, default: 3600 }),
        /** Seconds a spent refresh token may still be presented (concurrent refreshes, as GoTrue's reuse interval) without revoking its family. */
        refreshReuseIntervalSeconds: Type.Integer({ minimum: 0, maximum: 60, default: 10 }),
        /** Seconds a session lives without a refresh; 0 = until revoked. */
        sessionInactivitySeconds: Type.Integer({ minimum: 0, default: 30 * 86400 }),
        /**
         * Milliseconds a session's liveness and role are cached per instance (≤ 1000): bounds how long a
         * session revoked, or a user demoted, on another instance keeps working here. 0 asks the database every time.
         */
        sessionCacheMs: Type.Integer({ minimum: 0, maximum: 1000, default: 500 }),
        /** Seconds of clock skew tolerated on exp/nbf/iat (RFC 8725 asks for little; 60 is the ceiling). */
        clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 60, default: 60 }),
        /** Signing algorithm of Gatehouse-issued tokens. */
        signingAlg: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA')], { default: 'ES256' }),
        /** Sign-up mode of environments that have not set one. */
        defaultSignupMode: Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')], { default: 'open' }),
        /** Argon2id cost (OWASP: m = 19 MiB, t = 2, p = 1). Raising it rehashes each password on its next sign-in. */
        argon2MemoryKiB: Type.Integer({ minimum: 8192, default: 19456 }),
        argon2Iterations: Type.Integer({ minimum: 1, default: 2 }),
        argon2Parallelism: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
        /** Argon2 computations at once; 0 = CPU count - 1 (at least 1), so that hashing never takes every core. */
        hashConcurrency: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
        /** Sign-ins waiting for a hash slot beyond which new ones get 503 at once. */
        hashQueueMax: Type.Integer({ minimum: 1, default: 256 }),
        /** Failed sign-ins of one account from one client address before that pair backs off. */
        backoffFreeAttemptsPerAccount: Type.Integer({ minimum: 1, default: 5 }),
        /**
         * Failed sign-ins of one account from all addresses together before it backs off, except from
         * addresses that signed into it in the last 30 days (so a stranger cannot lock the owner out).
         */
        backoffFreeAttemptsPerAccountAllAddresses: Type.Integer({ minimum: 1, default: 20 }),
        /**
         * Failed sign-ins from one client address (every account) per backoffMaxMs window before it backs
         * off, except for accounts that signed in from it in the last 30 days. Far above what a crowd
         * behind one NAT gets wrong: it stops credential stuffing, not the crowd.
         */
        backoffFreeAttemptsPerIp: Type.Integer({ minimum: 1, default: 100 }),
        /** Milliseconds of the first backoff; doubles per further failure. */
        backoffBaseMs: Type.Integer({ minimum: 1, default: 1000 }),
        /** Milliseconds; the backoff never grows past this. */
        backoffMaxMs: Type.Integer({ minimum: 1, default: 15 * 60_000 }),
        /** Milliseconds between two JWKS fetches of one external issuer on an unknown kid. */
        jwksRefetchIntervalMs: Type.Integer({ minimum: 0, default: 60_000 }),
        /** Milliseconds a fetched JWKS is trusted without refetching. */
        jwksCacheTtlMs: Type.Integer({ minimum: 1000, default: 3600_000 }),
        /** `outbox`: mail is stored for the admin API (development only: production refuses it); `smtp`: sent through smtpUrl. */
        mailer: Type.Union([Type.Literal('outbox'), Type.Literal('smtp')], { default: 'outbox' }),
        /** Seconds an outbox message is kept (it holds live one-time codes in clear); older ones are deleted. */
        outboxRetentionSeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 600 }),
        /** An email change also needs a code mailed to the current (confirmed) address, as GoTrue's secure email change. */
        secureEmailChange: Type.Boolean({ default: true }),
        /** smtp:// or smtps:// URL with credentials; secret. */
        smtpUrl: Type.Optional(Type.String({ pattern: '^smtps?://' })),
        mailFrom: Type.String({ minLength: 3, default: 'Gatehouse <no-reply@localhost>' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** Environment variables and the config key each one sets. Sole list of what the env may hold. */
export const ENV_VARS = {
  GATEHOUSE_MODE: 'mode',
  GATEHOUSE_HOST: 'host',
  GATEHOUSE_PORT: 'port',
  GATEHOUSE_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  GATEHOUSE_DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  GATEHOUSE_REDIS_URL: 'redisUrl',
  GATEHOUSE_MASTER_KEY: 'masterKey',
  GATEHOUSE_MASTER_KEY_FILE: 'masterKeyFile',
  GATEHOUSE_MASTER_KEY_PREVIOUS: 'previousMasterKeys',
  GATEHOUSE_LOG_LEVEL: 'logLevel',
  GATEHOUSE_LOG_FORMAT: 'logFormat',
  GATEHOUSE_TRUST_PROXY: 'trustProxy',
  GATEHOUSE_TLS_CERT: 'tls.certFile',
  GATEHOUSE_TLS_KEY: 'tls.keyFile',
  GATEHOUSE_PUBLIC_URL: 'publicUrl',
  GATEHOUSE_CORS_DEV_ORIGINS: 'cors.devOrigins',
  GATEHOUSE_JSON_BODY_LIMIT: 'limits.jsonBodyBytes',
  GATEHOUSE_BODY_LIMIT: 'limits.anyBodyBytes',
  GATEHOUSE_REQUEST_TIMEOUT_MS: 'limits.requestTimeoutMs',
  GATEHOUSE_RATE_LIMIT_HEADERS: 'limits.rateLimitHeaders',
  GATEHOUSE_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  GATEHOUSE_KEY_CACHE_TTL_MS: 'apiKeys.cacheTtlMs',
  GATEHOUSE_METRICS_TOKEN: 'metricsToken',
  GATEHOUSE_METRICS: 'metrics',
  GATEHOUSE_SECURITY_EVENT_RETENTION_DAYS: 'securityEvents.retentionDays',
  GATEHOUSE_SECURITY_EVENT_PRUNE_INTERVAL_MS: 'securityEvents.pruneIntervalMs',
  GATEHOUSE_LLM_CONNECT_TIMEOUT_MS: 'llm.connectTimeoutMs',
  GATEHOUSE_LLM_HEADERS_TIMEOUT_MS: 'llm.headersTimeoutMs',
  GATEHOUSE_LLM_BODY_IDLE_TIMEOUT_MS: 'llm.bodyIdleTimeoutMs',
  GATEHOUSE_LLM_PROVIDER_CACHE_MS: 'llm.providerCacheMs',
  GATEHOUSE_LLM_DEFERRED_SWEEP_MS: 'llm.deferredSweepMs',
  GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_USER: 'llm.maxInFlightPerUser',
  GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_PROJECT: 'llm.maxInFlightPerProject',
  GATEHOUSE_LLM_MAX_IN_FLIGHT_PER_ORIGIN: 'llm.maxInFlightPerOrigin',
  GATEHOUSE_LLM_ORIGIN_QUEUE_MS: 'llm.originQueueMs',
  GATEHOUSE_KEY_ROTATION_GRACE_SECONDS: 'apiKeys.rotationGraceSeconds',
  GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: 'identity.accessTokenTtlSeconds',
  GATEHOUSE_REFRESH_REUSE_INTERVAL_SECONDS: 'identity.refreshReuseIntervalSeconds',
  GATEHOUSE_SESSION_INACTIVITY_SECONDS: 'identity.sessionInactivitySeconds',
  GATEHOUSE_SESSION_CACHE_MS: 'identity.sessionCacheMs',
  GATEHOUSE_JWT_CLOCK_SKEW_SECONDS: 'identity.clockSkewSeconds',
  GATEHOUSE_JWT_SIGNING_ALG: 'identity.signingAlg',
  GATEHOUSE_SIGNUP_MODE: 'identity.defaultSignupMode',
  GATEHOUSE_ARGON2_MEMORY_KIB: 'identity.argon2MemoryKiB',
  GATEHOUSE_ARGON2_ITERATIONS: 'identity.argon2Iterations',
  GATEHOUSE_ARGON2_PARALLELISM: 'identity.argon2Parallelism',
  GATEHOUSE_HASH_CONCURRENCY: 'identity.hashConcurrency',
  GATEHOUSE_HASH_QUEUE_MAX: 'identity.hashQueueMax',
  GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: 'identity.backoffFreeAttemptsPerAccount',
  GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT_ALL_ADDRESSES: 'identity.backoffFreeAttemptsPerAccountAllAddresses',
  GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_IP: 'identity.backoffFreeAttemptsPerIp',
  GATEHOUSE_SIGNIN_BACKOFF_BASE_MS: 'identity.backoffBaseMs',
  GATEHOUSE_SIGNIN_BACKOFF_MAX_MS: 'identity.backoffMaxMs',
  GATEHOUSE_JWKS_REFETCH_INTERVAL_MS: 'identity.jwksRefetchIntervalMs',
  GATEHOUSE_JWKS_CACHE_TTL_MS: 'identity.jwksCacheTtlMs',
  GATEHOUSE_MAILER: 'identity.mailer',
  GATEHOUSE_OUTBOX_RETENTION_SECONDS: 'identity.outboxRetentionSeconds',
  GATEHOUSE_SECURE_EMAIL_CHANGE: 'identity.secureEmailChange',
  GATEHOUSE_SMTP_URL: 'identity.smtpUrl',
  GATEHOUSE_MAIL_FROM: 'identity.mailFrom',
  GATEHOUSE_STORAGE_DIR: 'storage.dir',
  GATEHOUSE_STORAGE_MAX_OBJECT_BYTES: 'storage.maxObjectBytes',
  GATEHOUSE_STORAGE_SIGNED_URL_MAX_SECONDS: 'storage.signedUrlMaxSeconds',
  GATEHOUSE_STORAGE_SIGNED_UPLOAD_SECONDS: 'storage.signedUploadSeconds',
  GATEHOUSE_STORAGE_USER_QUOTA_BYTES: 'storage.userQuotaBytes',
  GATEHOUSE_STORAGE_USER_QUOTA_OBJECTS: 'storage.userQuotaObjects',
  GATEHOUSE_STORAGE_ON_USER_DELETE: 'storage.onUserDelete',
  GATEHOUSE_STORAGE_S3_BUCKET: 'storage.s3.bucket',
  GATEHOUSE_STORAGE_S3_REGION: 'storage.s3.region',
  GATEHOUSE_STORAGE_S3_ENDPOINT: 'storage.s3.endpoint',
  GATEHOUSE_STORAGE_S3_ACCESS_KEY_ID: 'storage.s3.accessKeyId',
  GATEHOUSE_STORAGE_S3_SECRET_ACCESS_KEY: 'storage.s3.secretAccessKey',
  GATEHOUSE_STORAGE_S3_FORCE_PATH_STYLE: 'storage.s3.forcePathStyle',
  GATEHOUSE_STORAGE_S3_PREFIX: 'storage.s3.prefix',
  GATEHOUSE_REALTIME_CONNECTIONS_PER_ADDRESS: 'realtime.connectionsPerAddress',
  GATEHOUSE_REALTIME_CONNECTIONS_PER_USER: 'realtime.connectionsPerUser',
  GATEHOUSE_REALTIME_CHANNELS_PER_CONNECTION: 'realtime.channelsPerConnection',
  GATEHOUSE_REALTIME_EVENTS_PER_SECOND: 'realtime.eventsPerSecond',
  GATEHOUSE_REALTIME_SEND_QUEUE_BYTES: 'realtime.sendQueueBytes',
  GATEHOUSE_REALTIME_MAX_PAYLOAD_BYTES: 'realtime.maxPayloadBytes',
  GATEHOUSE_REALTIME_TOKEN_RECHECK_MS: 'realtime.tokenRecheckMs',
} as const;

/**
 * Read by the loader itself, not part of Config; and the CLI's remote mode (GATEHOUSE_URL,
 * GATEHOUSE_SECRET_KEY), which the server ignores but must not call unknown: one shell or .env
 * often serves both.
 */
export const LOADER_VARS = new Set(['GATEHOUSE_CONFIG', 'GATEHOUSE_URL', 'GATEHOUSE_SECRET_KEY']);

/**
 * Read by clients of a running Gatehouse (the examples in the docs, scripts), never by the server:
 * a shell that exported them can still start one, so they are ignored rather than refused.
 */
export const CLIENT_VARS = new Set(['GATEHOUSE_URL', 'GATEHOUSE_PUBLISHABLE_KEY', 'GATEHOUSE_SECRET_KEY']);

/** Settings given as comma-separated lists in the environment. */
export const LIST_KEYS = new Set(['previousMasterKeys', 'trustProxy', 'cors.devOrigins']);
