import { Type, type Static } from '@sinclair/typebox';

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
    /** Proxies whose X-Forwarded-For is believed: IPs, CIDRs, or proxy-addr names (loopback, uniquelocal). Empty: never believed. */
    trustProxy: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    tls: Type.Optional(Type.Object({ certFile: Type.String({ minLength: 1 }), keyFile: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    /** The URL clients use to reach this server; the issuer of Gatehouse JWTs. */
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
      },
      { additionalProperties: false, default: {} },
    ),
    apiKeys: Type.Object(
      {
        /** Milliseconds a key lookup is cached; bounds how long a revoked key keeps working on another instance. */
        cacheTtlMs: Type.Integer({ minimum: 0, maximum: 1000, default: 500 }),
        /** Seconds a rotated key keeps working. */
        rotationGraceSeconds: Type.Integer({ minimum: 0, default: 24 * 3600 }),
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
  GATEHOUSE_TRUST_PROXY: 'trustProxy',
  GATEHOUSE_TLS_CERT: 'tls.certFile',
  GATEHOUSE_TLS_KEY: 'tls.keyFile',
  GATEHOUSE_PUBLIC_URL: 'publicUrl',
  GATEHOUSE_CORS_DEV_ORIGINS: 'cors.devOrigins',
  GATEHOUSE_JSON_BODY_LIMIT: 'limits.jsonBodyBytes',
  GATEHOUSE_BODY_LIMIT: 'limits.anyBodyBytes',
  GATEHOUSE_REQUEST_TIMEOUT_MS: 'limits.requestTimeoutMs',
  GATEHOUSE_KEY_CACHE_TTL_MS: 'apiKeys.cacheTtlMs',
  GATEHOUSE_KEY_ROTATION_GRACE_SECONDS: 'apiKeys.rotationGraceSeconds',
} as const;

/** Read by the loader itself, not part of Config. */
export const LOADER_VARS = new Set(['GATEHOUSE_CONFIG']);

/** Settings given as comma-separated lists in the environment. */
export const LIST_KEYS = new Set(['previousMasterKeys', 'trustProxy', 'cors.devOrigins']);
