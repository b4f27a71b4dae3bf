import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { GatehouseError } from '../errors/index.js';

export interface JsonLimits {
  bodyBytes: number;
  maxDepth: number;
  maxKeys: number;
}

/** Iterative walk (no recursion, so a hostile document cannot overflow our stack). */
export function checkJsonComplexity(value: unknown, limits: Pick<JsonLimits, 'maxDepth' | 'maxKeys'>): string | null {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  let keys = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    const children = Array.isArray(node) ? node : Object.values(node);
    if (!Array.isArray(node)) keys += children.length;
    if (keys > limits.maxKeys) return `more than ${limits.maxKeys} object keys`;
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1 });
  }
  return null;
}

/**
 * Replaces Fastify's JSON parser: same prototype-poisoning defence
 * (secure-json-parse), but `__proto__`/`constructor.prototype` are refused
 * rather than stripped, and depth and key count are bounded. Every other
 * content type is refused with 415 unless a route scope registers a parser.
 */
export function registerJsonBody(app: FastifyInstance, limits: JsonLimits): void {
  app.removeAllContentTypeParsers();
  const options = { parseAs: 'string' as const, bodyLimit: limits.bodyBytes };
  const parse = (_request: unknown, text: string, done: (err: Error | null, body?: unknown) => void) => {
      if (text.trim() === '') return done(null, undefined);
      let parsed: unknown;
      try {
        parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch (error) {
        const poisoned = error instanceof SyntaxError && /prototype/i.test(error.message);
        return done(
          new GatehouseError('invalid_json', {
            message: poisoned ? 'The body uses a forbidden key (__proto__ or constructor.prototype).' : 'The body is not valid JSON.',
          }),
          undefined,
        );
      }
      const problem = checkJsonComplexity(parsed, limits);
      if (problem) return done(new GatehouseError('json_too_complex', { message: `The JSON body is ${problem}.` }), undefined);
      done(null, parsed);
  };
  app.addContentTypeParser('application/json', options, parse);
  // Vendor JSON types (application/vnd.pgrst.object+json, application/merge-patch+json…).
  app.addContentTypeParser(/^application\/[a-z0-9.+-]*\+json$/, options, parse);
}
