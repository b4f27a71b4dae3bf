import { loadOnFirstUse } from './load-on-first-use.js';

// undici, loaded on first use (issue 18, start-up: it is about a third of the server bundle).
// It is CommonJS: Node's import() gives its exports both by name and as `default`, the server
// bundle's chunk only as `default`, so `default` is what works in both.
export const loadUndici = loadOnFirstUse(() => import('undici').then((module) => module.default));
