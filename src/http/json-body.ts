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
  return measureJson(value, limits).problem;
}

/** The first limit the document breaks, and how many object members it holds (counted until a limit breaks). */
function measureJson(value: unknown, limits: Pick<JsonLimits, 'maxDepth' | 'maxKeys'>): { problem: string | null; keys: number } {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  let keys = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limits.maxDepth) return { problem: `nested deeper than ${limits.maxDepth} levels`, keys };
    const children = Array.isArray(node) ? node : Object.values(node);
    if (!Array.isArray(node)) keys += children.length;
    if (keys > limits.maxKeys) return { problem: `more than ${limits.maxKeys} object keys`, keys };
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1 });
  }
  return { problem: null, keys };
}

/**
 * How many member names a JSON text holds, counted on the text. Only for text
 * that already parsed: then every `"` outside a string opens one, and a string
 * followed by `:` is a member name. One indexOf hop per string, so long string
 * values cost native scanning only.
 */
function countMemberNames(text: string): number {
  let names = 0;
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    while (escaped(text, close)) close = text.indexOf('"', close + 1);
    let next = close + 1;
    let c = text.charCodeAt(next);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++next);
    if (c === 0x3a /* : */) names++;
    // After a string comes `:`, `,`, `}`, `]` or the end, never a quote: search on from there.
    open = text.indexOf('"', next);
  }
  return names;
}

/** Whether the quote at `at` is escaped: preceded by an odd run of backslashes. */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Parses a request body the way every JSON route of Gatehouse must: no
 * prototype keys (secure-json-parse, refused rather than stripped), bounded
 * depth and key count, and no object naming one key twice.
 *
 * Why duplicates are refused: RFC 8259 §4 leaves them to each parser.
 * JSON.parse keeps the last value, other parsers keep the first, so a body
 * like `{"file_id":"theirs","file_id":"mine"}` would pass our checks on
 * "mine" while a provider (or anything else reading the stored bytes) acts on
 * "theirs". Neither JSON.parse, its reviver nor secure-json-parse can see a
 * duplicate (they only ever see the parsed object), and no well-kept parser
 * that reports one is in our dependencies; a full second parser would double
 * the cost of every LLM request. So we count member names on the text
 * (cheap, see countMemberNames) and compare with the members the parsed
 * document holds: fewer parsed members means some object lost one to a
 * duplicate, however nested or escaped (`"a"` and `"\u0061"` are one key).
 */
export function parseJsonText(text: string, limits: Pick<JsonLimits, 'maxDepth' | 'maxKeys'>): unknown {
  let parsed: unknown;
  try {
    parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const poisoned = error instanceof SyntaxError && /prototype/i.test(error.message);
    throw new GatehouseError('invalid_json', {
      message: poisoned ? 'The body uses a forbidden key (__proto__ or constructor.prototype).' : 'The body is not valid JSON.',
    });
  }
  const { problem, keys } = measureJson(parsed, limits);
  if (problem) throw new GatehouseError('json_too_complex', { message: `The JSON body is ${problem}.` });
  if (countMemberNames(text) !== keys) throw new GatehouseError('json_duplicate_key');
  return parsed;
}

/**
 * Replaces Fastify's JSON parser with parseJsonText: same prototype-poisoning
 * defence (secure-json-parse), but `__proto__`/`constructor.prototype` are
 * refused rather than stripped, depth and key count are bounded, and
 * duplicate keys are refused. Every other content type is refused with 415
 * unless a route scope registers a parser.
 */
export function registerJsonBody(app: FastifyInstance, limits: JsonLimits): void {
  app.removeAllContentTypeParsers();
  const options = { parseAs: 'string' as const, bodyLimit: limits.bodyBytes };
  const parse = (_request: unknown, text: string, done: (err: Error | null, body?: unknown) => void) => {
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = parseJsonText(text, limits);
    } catch (error) {
      return done(error as Error, undefined);
    }
    done(null, parsed);
  };
  app.addContentTypeParser('application/json', options, parse);
  // Vendor JSON types (application/vnd.pgrst.object+json, application/merge-patch+json…).
  app.addContentTypeParser(/^application\/[a-z0-9.+-]*\+json$/, options, parse);
}
