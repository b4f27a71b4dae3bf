import { DEFAULT_ENDPOINTS, NEVER_ALLOWED, type ProviderKind } from './defaults.js';
import { parsePattern, PatternError, type EndpointPattern } from './patterns.js';

export interface EndpointChanges {
  /** Extra patterns this project allows. */
  add: readonly string[];
  /** Default patterns this project switches off (written exactly as listed by GET). */
  remove: readonly string[];
}

/** Problems with an admin's changes, for a 400 that names each one. */
export function checkEndpointChanges(kind: ProviderKind, changes: EndpointChanges): string[] {
  const problems: string[] = [];
  const defaults = new Set(DEFAULT_ENDPOINTS[kind].map((s) => parsePattern(s).source));
  for (const source of changes.add) {
    try {
      const pattern = parsePattern(source);
      if (NEVER_ALLOWED.test(pattern.path)) problems.push(`"${source}": account administration endpoints can never be opened to app users`);
    } catch (error) {
      problems.push(error instanceof PatternError ? error.message : `"${source}": invalid`);
    }
  }
  for (const source of changes.remove) {
    let normal: string;
    try {
      normal = parsePattern(source).source;
    } catch (error) {
      problems.push(error instanceof PatternError ? error.message : `"${source}": invalid`);
      continue;
    }
    if (!defaults.has(normal)) problems.push(`"${source}": not one of the default endpoints of ${kind}`);
  }
  return problems;
}

/** Defaults minus removals plus additions, compiled; additions are matched last. */
export function effectiveEndpoints(kind: ProviderKind, changes: EndpointChanges): EndpointPattern[] {
  const removed = new Set(changes.remove.map((s) => parsePattern(s).source));
  const list = DEFAULT_ENDPOINTS[kind].map(parsePattern).filter((p) => !removed.has(p.source));
  for (const source of changes.add) {
    const pattern = parsePattern(source);
    // Re-checked here too: a row written before a NEVER_ALLOWED change must not open it.
    if (!NEVER_ALLOWED.test(pattern.path)) list.push(pattern);
  }
  return list;
}
