// Who a counter belongs to.
//
// The subject is the signed-in user when there is one, else the API key, else the client IP.
// The ids come from the server's own resolution of the credentials, never from client text: a
// user's API-key request and bearer-token request both resolve to the same user id, and a user id
// or key id is an opaque value the server assigned. So there is nothing for a client to vary —
// no case, whitespace or alias of "the same" user that could open a fresh counter — and we must
// NOT trim or lowercase ids: that would only merge ids the server considers distinct.
// IPs are the one subject the client partly chooses, so they are normalised (below).
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export interface SubjectInput {
  projectId: string;
  /** `dev`, `staging` or `prod`: part of every key, so no counter is shared across environments (API.md). */
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

/**
 * Canonical form of a client IP for counting:
 * - IPv4 as is; IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4, so
 *   one client does not get two counters;
 * - other IPv6 reduced to its /64 prefix, lowercase and compressed (RFC 5952), e.g.
 *   `2001:db8:0:1::/64`: a single host is usually given a whole /64 (RFC 6177) and can rotate
 *   through 2^64 addresses, so per-address counters would be no limit at all.
 * Throws TypeError for anything that is not an IP: the client-ip stage must hand us a real one.
 */
export function normaliseIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const noZone = bare.split('%')[0] ?? '';
  if (!isIPv6(noZone)) throw new TypeError('subject: ip is not an IPv4 or IPv6 address');
  const hextets = expandIPv6(noZone);
  const isMapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (isMapped) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${compressIPv6([...hextets.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** Eight 16-bit groups of a valid IPv6 address (validated by the caller), with any dotted IPv4 tail. */
function expandIPv6(addr: string): number[] {
  let text = addr.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, lastColon + 1) + '0'; // placeholder, removed below
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (tail.length > 0) (rest === undefined ? left : right).pop();
  const fill = 8 - tail.length - left.length - right.length;
  return [...left, ...new Array<number>(rest === undefined ? 0 : fill).fill(0), ...right, ...tail];
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥2, first on a tie) of zero groups as `::`. */
function compressIPv6(hextets: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < hextets.length; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < hextets.length && hextets[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
