// Endpoint patterns: "METHOD /path/{param}/literal flag flag". Each pattern is
// matched against the whole path (never a prefix), so allowing
// `GET /v1/files/{file}` does not open `GET /v1/files/{file}/anything`.
// A parameter's name is the kind of resource it holds; llm/ownership/resource-kinds.ts decides
// from that name whether the id must belong to the caller.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** What the proxy does beyond forwarding, per endpoint. */
export type EndpointFlag =
  /** Token usage is read from the response (and asked for in streams). */
  | 'usage'
  /** A list of resources: the response is filtered to the caller's own. */
  | 'list'
  /** DELETE that detaches the last resource from its parent instead of deleting it. */
  | 'detach'
  /**
   * Accepts multipart/form-data besides JSON, streamed through with only its
   * part headers read: a field whose name references a resource (`file_id`…)
   * is refused, since its value is not checked. No other content type: a
   * provider may read a text/plain body as JSON, whose ids would slip past the
   * ownership check. (Gemini's upload endpoint speaks Google's upload protocol,
   * see proxy/gemini-upload.ts.)
   */
  | 'upload';
const FLAGS = new Set<EndpointFlag>(['usage', 'list', 'detach', 'upload']);

export interface EndpointPattern {
  /** The source text, as admins write it. */
  source: string;
  method: HttpMethod;
  path: string;
  params: string[];
  flags: ReadonlySet<EndpointFlag>;
  regex: RegExp;
}

export interface EndpointMatch {
  pattern: EndpointPattern;
  /** In path order: [{ name: 'thread', value: 'thread_abc' }, …]. */
  params: Array<{ name: string; value: string }>;
}

/** Ids and model names: no slash, no colon (Gemini's `{model}:generateContent`), no percent. */
const PARAM_VALUE = '([A-Za-z0-9][A-Za-z0-9._-]{0,199})';
const PARAM_NAME = /^[a-z][a-z_]{0,40}$/;
const LITERAL = /^[A-Za-z0-9._:-]*$/;

export class PatternError extends Error {}

export function parsePattern(source: string): EndpointPattern {
  const parts = source.trim().split(/\s+/);
  const [method, path, ...flagWords] = parts;
  if (!method || !METHODS.has(method as HttpMethod)) throw new PatternError(`"${source}": method must be one of ${[...METHODS].join(', ')}`);
  if (!path || !path.startsWith('/') || path.length > 300) throw new PatternError(`"${source}": path must start with /`);
  const flags = new Set<EndpointFlag>();
  for (const word of flagWords) {
    if (!FLAGS.has(word as EndpointFlag)) throw new PatternError(`"${source}": unknown flag ${word} (known: ${[...FLAGS].join(', ')})`);
    flags.add(word as EndpointFlag);
  }
  const params: string[] = [];
  const segments = path.slice(1).split('/');
  let regex = '^';
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') throw new PatternError(`"${source}": empty or dot segment`);
    regex += '/';
    // A segment is literal text with at most one {param} inside (e.g. {model}:generateContent).
    const m = /^([^{}]*)(?:\{([^{}]+)\}([^{}]*))?$/.exec(segment);
    if (!m) throw new PatternError(`"${source}": at most one {param} per segment`);
    const [, before = '', name, after = ''] = m;
    if (!LITERAL.test(before) || !LITERAL.test(after)) throw new PatternError(`"${source}": literal text may hold letters, digits and . _ : - only`);
    regex += escape(before);
    if (name !== undefined) {
      if (!PARAM_NAME.test(name)) throw new PatternError(`"${source}": parameter names are lowercase words`);
      if (params.includes(name)) throw new PatternError(`"${source}": parameter {${name}} appears twice`);
      params.push(name);
      regex += PARAM_VALUE;
    }
    regex += escape(after);
  }
  return { source: `${method} ${path}${flagWords.length ? ` ${flagWords.join(' ')}` : ''}`, method: method as HttpMethod, path, params, flags, regex: new RegExp(`${regex}$`) };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first pattern matching method and whole path, or null. */
export function matchEndpoint(patterns: readonly EndpointPattern[], method: string, path: string): EndpointMatch | null {
  for (const pattern of patterns) {
    if (pattern.method !== method) continue;
    const m = pattern.regex.exec(path);
    if (!m) continue;
    return { pattern, params: pattern.params.map((name, i) => ({ name, value: m[i + 1]! })) };
  }
  return null;
}
