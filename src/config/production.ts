import type { Config } from './schema.js';

/** The master key printed in the README's examples: never acceptable in production. */
export const EXAMPLE_MASTER_KEYS = new Set(['0000000000000000000000000000000000000000000000000000000000000000']);

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Production mode refuses insecure settings instead of warning: a warning in a
 * log nobody reads is how defaults end up on the internet.
 */
export function checkProductionSafety(config: Config): string[] {
  if (config.mode !== 'production') return [];
  const problems: string[] = [];
  if (!config.masterKey && !config.masterKeyFile) {
    problems.push('GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE: required in production (a generated dev key in the data dir is not allowed)');
  }
  if (config.masterKey && EXAMPLE_MASTER_KEYS.has(config.masterKey)) {
    problems.push('GATEHOUSE_MASTER_KEY: the example key from the documentation is not allowed in production; generate one with `gatehouse master-key generate`');
  }
  if (config.cors.devOrigins.some((o) => o.trim() === '*')) {
    problems.push('GATEHOUSE_CORS_DEV_ORIGINS: `*` is not allowed in production; list the origins');
  }
  if (!LOOPBACK.has(config.host) && !config.tls && config.trustProxy.length === 0) {
    problems.push(
      'GATEHOUSE_HOST: listening on a non-loopback address in production needs TLS (GATEHOUSE_TLS_CERT, GATEHOUSE_TLS_KEY) or a TLS-terminating proxy (GATEHOUSE_TRUST_PROXY)',
    );
  }
  if (!config.publicUrl) {
    // Links Gatehouse hands out (the Gemini upload URL, the JWT issuer) are built on it, never on a request's Host.
    problems.push('GATEHOUSE_PUBLIC_URL: required in production (the URL clients use to reach Gatehouse)');
  }
  if (config.publicUrl?.startsWith('http://') && !/^http:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(config.publicUrl)) {
    problems.push('GATEHOUSE_PUBLIC_URL: must be https:// in production');
  }
  if (config.identity.mailer === 'outbox') {
    problems.push('GATEHOUSE_MAILER: the outbox keeps mail, live one-time codes included, readable over the admin API; it is for development only. Set GATEHOUSE_MAILER=smtp and GATEHOUSE_SMTP_URL');
  }
  if (config.logLevel === 'trace') {
    problems.push('GATEHOUSE_LOG_LEVEL: trace logs request internals; use debug or higher in production');
  }
  return problems;
}
