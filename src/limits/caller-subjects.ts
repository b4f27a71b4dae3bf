// The subjects of limited requests, kept per caller: a signed-in user, an API key or a guest's
// address sends the same ids on every request, so its subject (resolveSubject: validation,
// percent-encoding, an IP normalised) and its counter key per route class are built once, and the
// store's Map lookup hashes a string whose hash V8 has kept. What is kept is derived from the ids
// alone (never from settings, tiers or overrides), so it cannot go stale; the memos are bounded,
// and a spray of fresh addresses only churns them.
import { createKeyMemo, type KeyMemo } from '../shared/key-memo.js';
import type { RouteClass } from './policy.js';
import { resolveSubject, type Subject } from './subject.js';

export interface CallerSubject {
  readonly projectId: string;
  readonly environment: string;
  readonly subject: Subject;
  /** Ids whose overrides apply to this subject's own requests: [subject.id]. */
  readonly overrideIds: readonly string[];
  /** `<subject key>:<route class>`, built on first use per class (see counterKeyOf). */
  readonly counterKeys: Map<RouteClass, string>;
}

export interface CallerSubjects {
  user(projectId: string, environment: string, userId: string): CallerSubject;
  key(projectId: string, environment: string, keyId: string): CallerSubject;
  address(projectId: string, environment: string, ip: string): CallerSubject;
}

/** Per kind (users, keys, addresses). A user or key id belongs to one project environment; an address may be seen in several, and is rebuilt when it moves. */
const KEPT_PER_KIND = 10_000;

export function createCallerSubjects(maxPerKind = KEPT_PER_KIND): CallerSubjects {
  const users = createKeyMemo<CallerSubject>(maxPerKind);
  const keys = createKeyMemo<CallerSubject>(maxPerKind);
  const addresses = createKeyMemo<CallerSubject>(maxPerKind);

  // No closure per lookup: a hit is one Map get and two string compares (same strings, so by pointer).
  const fresh = (memo: KeyMemo<CallerSubject>, id: string, projectId: string, environment: string, subject: Subject): CallerSubject =>
    memo.set(id, { projectId, environment, subject, overrideIds: [subject.id], counterKeys: new Map() });
  const holds = (kept: CallerSubject | undefined, projectId: string, environment: string): kept is CallerSubject =>
    kept !== undefined && kept.projectId === projectId && kept.environment === environment;

  return {
    user(projectId, environment, userId) {
      const kept = users.get(userId);
      return holds(kept, projectId, environment) ? kept : fresh(users, userId, projectId, environment, resolveSubject({ projectId, environment, userId, ip: '' }));
    },
    key(projectId, environment, keyId) {
      const kept = keys.get(keyId);
      return holds(kept, projectId, environment) ? kept : fresh(keys, keyId, projectId, environment, resolveSubject({ projectId, environment, keyId, ip: '' }));
    },
    address(projectId, environment, ip) {
      const kept = addresses.get(ip);
      return holds(kept, projectId, environment) ? kept : fresh(addresses, ip, projectId, environment, resolveSubject({ projectId, environment, ip }));
    },
  };
}

/** One counter set per subject and route class: using up the LLM budget leaves data reads alone. */
export function counterKeyOf(entry: CallerSubject, routeClass: RouteClass): string {
  let key = entry.counterKeys.get(routeClass);
  if (key === undefined) {
    key = `${entry.subject.key}:${routeClass}`;
    entry.counterKeys.set(routeClass, key);
  }
  return key;
}
