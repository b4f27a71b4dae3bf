// Scopes narrow a key below its kind (issue #2): `data:notes:read`,
// `data:*:read`, `llm:*`, `admin:keys`, `storage:avatars:write`. A grammar, not free text, so a typo
// in a scope is refused at creation instead of silently granting nothing.
//   scope   = segment *(":" segment)
//   segment = "*" | 1*(a-z 0-9 _ -)
// `*` matches one segment; a trailing `*` also matches everything below it.

const SEGMENT = /^(\*|[a-z0-9_-]{1,64})$/;
const AREAS = new Set(['data', 'llm', 'auth', 'admin', 'storage', '*']);

export function validateScope(scope: string): string | null {
  const parts = scope.split(':');
  if (parts.length > 4) return 'has more than 4 segments';
  if (!parts.every((p) => SEGMENT.test(p))) return 'segments must be * or lowercase letters, digits, _ and -';
  if (!AREAS.has(parts[0]!)) return `must start with one of ${[...AREAS].join(', ')}`;
  return null;
}

function matches(granted: string, required: string): boolean {
  const g = granted.split(':');
  const r = required.split(':');
  for (let i = 0; i < g.length; i++) {
    const segment = g[i]!;
    if (segment === '*' && i === g.length - 1) return true;
    if (i >= r.length) return false;
    if (segment !== '*' && segment !== r[i]) return false;
  }
  return g.length === r.length;
}

/** null scopes = unrestricted within the key's kind. */
export function hasScope(scopes: readonly string[] | null, required: string): boolean {
  if (scopes === null) return true;
  return scopes.some((s) => matches(s, required));
}

/** A key with every scope: `null` or `*`. Acts that hand out the power of a whole role need it. */
export function holdsEveryScope(scopes: readonly string[] | null): boolean {
  return hasScope(scopes, '*');
}
