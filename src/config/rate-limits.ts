// The `rateLimits` setting: its schema and its defaults.
//
// config/ owns the schema of every setting it reads, this one included, so that it imports no feature:
// limits/ (and the admin API, through limits/) take these schemas and types from here, never the
// reverse. What the windows mean at run time (which apply to a request, how they are counted) is
// limits/policy.ts and limits/decide.ts.
//
// A policy is a list of fixed windows ("10 per minute AND 100 per hour"); a request passes only
// when every window has room. Windows are whole seconds because every header that reports them
// (X-RateLimit-Reset, RateLimit-Policy `w`, Retry-After) counts in seconds.
import { Type, type Static } from '@sinclair/typebox';
import { deepFreeze } from '../shared/deep-freeze.js';

// Route classes belong to the access layer (every route has one); the policy has a section per class.
import { ROUTE_CLASSES, type RouteClass } from '../access/route-class.js';

export { ROUTE_CLASSES, type RouteClass };

export const TIERS = ['guest', 'user', 'admin'] as const;
export type Tier = (typeof TIERS)[number];

export type FailMode = 'open' | 'closed';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** At most this many windows per policy: each is one key the store reads and writes per request. */
export const MAX_WINDOWS_PER_POLICY = 4;

export const WindowSchema = Type.Object(
  {
    /** Requests allowed per window; blocking a caller outright is done by revoking its key, not with 0. */
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    /** Window length in milliseconds: whole seconds, from 1 s to 7 days. */
    windowMs: Type.Integer({ minimum: SECOND_MS, maximum: 7 * DAY_MS, multipleOf: SECOND_MS }),
  },
  { additionalProperties: false },
);
export type Window = Static<typeof WindowSchema>;

export const WindowsSchema = Type.Array(WindowSchema, { minItems: 1, maxItems: MAX_WINDOWS_PER_POLICY });

const TierWindowsSchema = Type.Object(
  { guest: WindowsSchema, user: WindowsSchema, admin: WindowsSchema },
  { additionalProperties: false },
);

export const ClassPolicySchema = Type.Object(
  {
    /** What to do when the store is down: `open` lets requests through, `closed` answers 503. */
    failMode: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
    tiers: TierWindowsSchema,
  },
  { additionalProperties: false },
);
export type ClassPolicy = Static<typeof ClassPolicySchema>;

/** Per-subject replacement windows for some route classes (raise or lower one user's or key's limits). */
export const SubjectOverrideSchema = Type.Object(
  {
    auth: Type.Optional(WindowsSchema),
    llm: Type.Optional(WindowsSchema),
    data_read: Type.Optional(WindowsSchema),
    data_write: Type.Optional(WindowsSchema),
    admin: Type.Optional(WindowsSchema),
    storage: Type.Optional(WindowsSchema),
    realtime: Type.Optional(WindowsSchema),
    default: Type.Optional(WindowsSchema),
  },
  { additionalProperties: false },
);

/**
 * The per-address pre-check, run before the API key is even looked at, so that floods of
 * missing or invalid keys are limited by client IP. Global (not per project): there is no project
 * yet. It must stay well above any per-subject limit, since many honest users can share one
 * address (NAT, office, mobile carrier).
 */
export const AddressPolicySchema = Type.Object(
  {
    failMode: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
    windows: WindowsSchema,
  },
  { additionalProperties: false },
);
export type AddressPolicy = Static<typeof AddressPolicySchema>;

/** `user:<id>` or `key:<id>`: the same subject ids `resolveSubject` produces. */
export const OVERRIDE_SUBJECT_PATTERN = '^(user|key):[^\\s]{1,200}$';

export const LimitsConfigSchema = Type.Object(
  {
    classes: Type.Object(
      {
        auth: ClassPolicySchema,
        llm: ClassPolicySchema,
        data_read: ClassPolicySchema,
        data_write: ClassPolicySchema,
        admin: ClassPolicySchema,
        storage: ClassPolicySchema,
        realtime: ClassPolicySchema,
        default: ClassPolicySchema,
      },
      { additionalProperties: false },
    ),
    overrides: Type.Record(Type.String({ pattern: OVERRIDE_SUBJECT_PATTERN }), SubjectOverrideSchema, {
      additionalProperties: false,
    }),
    /** Absent: DEFAULT_ADDRESS_POLICY. */
    address: Type.Optional(AddressPolicySchema),
  },
  { additionalProperties: false },
);
export type LimitsConfig = Static<typeof LimitsConfigSchema>;

/**
 * Default per-address limit: 600 a minute (10/s sustained) — far above a single user's limits,
 * so a shared NAT is not punished, yet a key-guessing flood from one address is capped. Fails
 * open: it is a coarse outer fence, and the per-subject check keeps each class's own fail mode.
 */
export const DEFAULT_ADDRESS_POLICY: AddressPolicy = deepFreeze({ failMode: 'open', windows: [perMinuteWindow(600)] });

function perMinuteWindow(limit: number): Window {
  return { limit, windowMs: MINUTE_MS };
}

const perMinute = (limit: number): Window => ({ limit, windowMs: MINUTE_MS });
const perHour = (limit: number): Window => ({ limit, windowMs: HOUR_MS });

function byTier(guest: Window[], user: Window[], admin: Window[]): ClassPolicy['tiers'] {
  return { guest, user, admin };
}

const GENERAL_TIERS = byTier([perMinute(20)], [perMinute(100)], [perMinute(1000)]);
// Sign-in, sign-up and recovery: per subject whatever the tier, because password guessing and
// credential stuffing come from guests; the hour window stops a slow drip of 10 per minute.
const AUTH_WINDOWS = [perMinute(10), perHour(100)];
// Generation costs real money upstream: a burst cap and an hourly budget per subject.
const GENERATION_WINDOWS = [perMinute(10), perHour(50)];

export const DEFAULT_LIMITS: LimitsConfig = deepFreeze({
  classes: {
    // Fail closed: an outage must not open the door to unlimited password guessing.
    auth: { failMode: 'closed', tiers: byTier(AUTH_WINDOWS, AUTH_WINDOWS, AUTH_WINDOWS) },
    // Fail closed: an outage must not turn into an unbounded provider bill.
    llm: { failMode: 'closed', tiers: byTier(GENERATION_WINDOWS, GENERATION_WINDOWS, GENERATION_WINDOWS) },
    // Fail open: reads are still guarded by RLS, and a Redis blip should not take the app down.
    data_read: { failMode: 'open', tiers: GENERAL_TIERS },
    data_write: { failMode: 'closed', tiers: GENERAL_TIERS },
    admin: { failMode: 'closed', tiers: GENERAL_TIERS },
    // Fail closed: uploads spend disk. Guests get more than the general class because one page
    // of an app shows many public images, each a request.
    storage: { failMode: 'closed', tiers: byTier([perMinute(120)], [perMinute(300)], [perMinute(1000)]) },
    // Realtime: socket upgrades and REST broadcasts (frames on an open socket have their own
    // per-connection limit, config `realtime.eventsPerSecond`). Fail closed like every class but
    // reads: during an outage new sockets wait, the open ones keep working.
    realtime: { failMode: 'closed', tiers: byTier([perMinute(60)], [perMinute(120)], [perMinute(1000)]) },
    default: { failMode: 'closed', tiers: GENERAL_TIERS },
  },
  overrides: {},
  address: DEFAULT_ADDRESS_POLICY,
});

/**
 * The config file's `rateLimits` section: LimitsConfigSchema with a default at every level, so a
 * file may set one class (whole) and inherit the rest from DEFAULT_LIMITS. Its Static type is
 * LimitsConfig.
 */
export const LimitsFileSchema = Type.Object(
  {
    classes: Type.Object(
      Object.fromEntries(
        ROUTE_CLASSES.map((rc) => [rc, Type.Object(ClassPolicySchema.properties, { additionalProperties: false, default: structuredClone(DEFAULT_LIMITS.classes[rc]) })]),
      ) as { [K in RouteClass]: typeof ClassPolicySchema },
      { additionalProperties: false, default: {} },
    ),
    overrides: Type.Record(Type.String({ pattern: OVERRIDE_SUBJECT_PATTERN }), SubjectOverrideSchema, { additionalProperties: false, default: {} }),
    address: Type.Optional(AddressPolicySchema),
  },
  { additionalProperties: false, default: {} },
);
