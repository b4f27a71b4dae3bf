import pino, { type Logger, type LoggerOptions } from 'pino';
import { createRequire } from 'node:module';
import type pinoPrettyModule from 'pino-pretty';

// Secrets never reach a log (issue #2). Redaction covers the places they
// travel: credential headers, and any body or object field whose name says
// secret. URLs are logged without their query string values for the same reason.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.apikey',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.secret',
  '*.secret_key',
  '*.api_key',
  '*.apiKey',
  '*.key',
  '*.master_key',
  '*.masterKey',
  '*.provider_key',
  '*.authorization',
  // Operator account changes and second factors (request bodies are not logged; a safeguard).
  '*.currentPassword',
  '*.newPassword',
  '*.totp',
  // A one-time code only where a body carries it: `*.code` would also hide err.code, which logs need.
  'body.code',
  'req.body.code',
];

const SECRET_QUERY = /([?&](?:token|apikey|api_key|key|code|password|access_token|refresh_token)=)[^&#]*/gi;
const SECRET_PARAMS = new Set(['token', 'apikey', 'api_key', 'key', 'code', 'password', 'access_token', 'refresh_token']);
const QUERY_PARAM = /([?&])([^&#=]*)(=[^&#]*)?/g;

/**
 * The URL with the values of secret query parameters replaced. Each name is decoded first, as
 * Fastify's query parser decodes it: `?%61pikey=` authenticates exactly like `?apikey=`. A name
 * that does not decode is redacted too (it could be anything once a parser is lenient).
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const byName = url.slice(start).replace(QUERY_PARAM, (whole, sep: string, name: string, value: string | undefined) => {
    if (value === undefined) return whole;
    let decoded: string | null;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
    } catch {
      decoded = null;
    }
    return decoded === null || SECRET_PARAMS.has(decoded) ? `${sep}${name}=[Redacted]` : whole;
  });
  // And the plain names anywhere, as before (say, inside another parameter's value).
  return url.slice(0, start) + byName.replace(SECRET_QUERY, '$1[Redacted]');
}

/** `GATEHOUSE_LOG_FORMAT`: `auto` (the default) decides by where stdout goes. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Pretty lines are for a person at a terminal; everything else (a pipe, a file, a log collector)
 * gets one JSON object per line, which machines parse. `auto` in production stays JSON even on a
 * TTY: `docker run -t` and compose's `tty: true` give a container a TTY whose output is still
 * collected and parsed. `json` / `pretty` force the choice.
 */
export function wantsPrettyLogs(options: { format: LogFormat; mode: 'development' | 'production'; isTTY: boolean | undefined }): boolean {
  if (options.format !== 'auto') return options.format === 'pretty';
  return options.isTTY === true && options.mode === 'development';
}

export function createLogger(options: {
  level: string;
  destination?: pino.DestinationStream;
  /** Human-readable lines instead of JSON (see wantsPrettyLogs). */
  pretty?: boolean;
  /** ANSI colours in pretty lines; default: when the destination is a colour terminal. */
  colorize?: boolean;
}): Logger {
  const config: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; id?: string; headers?: Record<string, unknown> }) => ({
        method: req.method,
        url: redactUrl(req.url),
        ip: req.ip,
        request_id: req.id,
        user_agent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
  if (options.pretty) {
    // pino redacts and serializes first; pino-pretty only reformats the finished JSON line, so a
    // pretty line holds exactly what the JSON line would. A stream in this thread (not a transport
    // worker) keeps lines in order with the first-run banner printed to the same stdout.
    const stream = loadPinoPretty()({
      destination: options.destination ?? 1,
      sync: true,
      ...(options.colorize === undefined ? {} : { colorize: options.colorize }),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    return pino(config, stream);
  }
  return options.destination ? pino(config, options.destination) : pino(config);
}

/**
 * pino-pretty (and its colour, date and stream packages) only for pretty logs, loaded on first use:
 * a production start logs JSON and should not pay for it (issue 18, start-up). It is CommonJS, so
 * a synchronous require keeps createLogger synchronous.
 */
function loadPinoPretty(): typeof pinoPrettyModule {
  return createRequire(import.meta.url)('pino-pretty') as typeof pinoPrettyModule;
}
