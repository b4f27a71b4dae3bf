import type { Logger } from 'pino';
import type { Scope } from './types.js';

/**
 * Logs that identity mail could not be sent: the error's name and code only, since
 * a mailer's message may quote the body, and the body holds a one-time code.
 */
export function logMailFailure(logger: Pick<Logger, 'error'> | undefined, scope: Scope, error: unknown, message: string): void {
  const e = error as { name?: string; code?: string } | null;
  logger?.error({ projectId: scope.projectId, environment: scope.environment, mailError: { name: e?.name ?? null, code: e?.code ?? null } }, message);
}
