/**
 * Something made on first use instead of at start (issue 18, start-up: mostly a dynamic import of a
 * driver or SDK the configuration may never need), then kept. Concurrent first calls share the one
 * load in flight; a failed load is forgotten, so the next call tries again instead of failing for
 * the life of the process. Hand-written: a memoised promise is a few lines, not a dependency.
 */
export interface FirstUse<T> {
  (): Promise<T>;
  /** The load if one has started (it may still be in flight), without starting one: e.g. to close what was opened. */
  started(): Promise<T> | undefined;
}

export function loadOnFirstUse<T>(load: () => Promise<T>): FirstUse<T> {
  let loading: Promise<T> | undefined;
  const get = () => (loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  }));
  return Object.assign(get, { started: () => loading });
}
