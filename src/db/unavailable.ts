import { ServiceUnavailableError } from '../errors/index.js';

// Which driver errors mean "the database cannot serve right now" (a 503 the client may retry)
// rather than a bug or bad input (500 / 4xx). Both engines' codes side by side, as in
// data/rows/db-errors.ts.

// PostgreSQL SQLSTATEs: class 08 connection exception; 57P01 admin_shutdown, 57P02
// crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, in recovery); class 53
// insufficient resources (disk full, out of memory, too many connections).
const PG_STATES = /^(08[0-9A-Z]{3}|57P0[123]|53[0-9A-Z]{3})$/;
// Socket-level failures pg reports with the errno as code.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// pg's own messages for a dead connection or an exhausted pool; they carry no code.
const PG_MESSAGES = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;
// better-sqlite3 extended result codes: BUSY once busy_timeout has passed (another process holds
// the write lock), IOERR_* (the disk failed), FULL (the disk or max_page_count is full), CANTOPEN.
const SQLITE_CODES = /^SQLITE_(BUSY|IOERR|FULL|CANTOPEN)/;

export function isDatabaseOutage(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (PG_STATES.test(e.code) || SOCKET_CODES.has(e.code) || SQLITE_CODES.test(e.code))) return true;
  return typeof e?.message === 'string' && PG_MESSAGES.test(e.message);
}

export function databaseUnavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('database', { message: 'The database is temporarily unavailable; retry shortly.', retryAfterS: 1, cause });
}
