// Who a counter belongs to.
//
// The subject is the signed-in user when there is one, else the API key, else the client IP.
// The ids come from the server's own resolution of the credentials, never from client text: a
// user's API-key request and bearer-token request both resolve to the same user id, and a user id
// or key id is an opaque value the server assigned. So there is nothing for a client to vary —
// no case, whitespace or alias of "the same" user that could open a fresh counter — and we must
// NOT trim or lowercase ids: that would only merge ids the server considers distinct.
// IPs are the one subject the client partly chooses, so they are normalised (shared/ip.ts).
import { createHash } from 'node:crypto';
import { normaliseIp } from '../shared/ip.js';

// The canonical client address lives in shared/ (security events and sign-in backoff key by it
// too); limits/ keeps exporting it as part of what a subject is.
export { normaliseIp };

export interface SubjectInput {
  projectId: string;
  /** `dev`, `staging` or `prod`: part of every key, so no counter is shared across environments (docs/api.md). */
  environment: string;
  /** Server-resolved user id (from a verified token), when the request carries one. */
  userId?: string | undefined;
  /** Server-resolved API key id (never the key itself). */
  keyId?: string | undefined;
  /** The client IP as resolved by the client-ip stage (socket, or a trusted proxy's header). */
  ip: string;
}

export interface Subject {
  /** `user:<id>`, `key:<id>` or `ip:<normalised>`: what overrides are keyed by. */
  id: string;
  /** Counter key, scoped to project and environment. */
  key: string;
}

export function resolveSubject(input: SubjectInput): Subject {
  requireId('projectId', input.projectId);
  requireId('environment', input.environment);
  let id: string;
  if (input.userId !== undefined) {
    requireId('userId', input.userId);
    id = `user:${input.userId}`;
  } else if (input.keyId !== undefined) {
    requireId('keyId', input.keyId);
    id = `key:${input.keyId}`;
  } else {
    id = `ip:${normaliseIp(input.ip)}`;
  }
  // Each component is percent-encoded, so a `:` inside an id cannot forge another project's or
  // environment's prefix, and `{`/`}` cannot break the Redis Cluster hash tag the store adds.
  const kind = id.slice(0, id.indexOf(':'));
  const rest = id.slice(kind.length + 1);
  return { id, key: `${enc(input.projectId)}:${enc(input.environment)}:${kind}:${enc(rest)}` };
}

/**
 * The subject of an account a request names (the email of a sign-up or recovery), counted in
 * addition to the caller, so that requests spread over many addresses still meet one counter per
 * account. `account` must already be in the one canonical form the account store uses (the caller
 * normalises it): any other spelling would be a fresh counter an attacker could mint at will. It
 * is hashed, so no address sits in a Redis key.
 */
export function accountSubject(projectId: string, environment: string, account: string): Subject {
  requireId('projectId', projectId);
  requireId('environment', environment);
  requireId('account', account);
  const digest = createHash('sha256').update(account, 'utf8').digest('base64url');
  return { id: `account:${digest}`, key: `${enc(projectId)}:${enc(environment)}:account:${digest}` };
}

/** The counter key alone (see resolveSubject). */
export function subjectKey(input: SubjectInput): string {
  return resolveSubject(input).key;
}

const enc = (s: string): string => encodeURIComponent(s);

function requireId(name: string, value: string): void {
  // An empty id is a bug upstream; falling through to the next subject would silently merge callers.
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`subject: ${name} must be a non-empty string`);
}
