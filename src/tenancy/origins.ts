// CORS allowlist entries are exact origins (`https://app.example.com`), an
// origin with a port wildcard (`http://localhost:*`, for dev servers whose port
// moves), or `*` (development mode only). Patterns are compiled once into
// matchers; no regex is built from user text.

export function validateOrigin(origin: string, opts: { production: boolean }): string | null {
  if (origin === '*') return opts.production ? '`*` is not allowed in production mode' : null;
  const m = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}|\*))?$/.exec(origin);
  if (!m) return 'expected scheme://host[:port] with no path, e.g. https://app.example.com';
  return null;
}

export type OriginMatcher = (origin: string) => boolean;

export function compileOrigins(entries: readonly string[]): OriginMatcher {
  const exact = new Set<string>();
  const anyPort: string[] = [];
  let any = false;
  for (const entry of entries) {
    if (entry === '*') any = true;
    else if (entry.endsWith(':*')) anyPort.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  return (origin) => {
    if (any || exact.has(origin)) return true;
    for (const prefix of anyPort) {
      if (origin.startsWith(prefix) && /^\d{1,5}$/.test(origin.slice(prefix.length))) return true;
    }
    return false;
  };
}
