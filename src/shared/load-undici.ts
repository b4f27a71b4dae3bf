// undici, loaded on first use (issue 18, start-up: it is about a third of the server bundle).
// It is CommonJS: Node's import() gives its exports both by name and as `default`, the server
// bundle's chunk only as `default`, so `default` is what works in both.
let loading: Promise<typeof import('undici').default> | undefined;

export function loadUndici(): Promise<typeof import('undici').default> {
  return (loading ??= import('undici').then((module) => module.default));
}
