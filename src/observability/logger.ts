import pino, { type Logger, type LoggerOptions } from 'pino';

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
];

const SECRET_QUERY = /([?&](?:token|apikey|api_key|key|code|password|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[Redacted]');
}

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
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
  return options.destination ? pino(config, options.destination) : pino(config);
}
