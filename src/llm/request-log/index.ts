export { createRequestLog, type RequestLog, type RequestLogEntry, type RequestLogOptions } from './service.js';
export type { CaptureStart, RequestLogHandle } from './capture.js';
export {
  DEFAULT_MAX_BODY_BYTES, DEFAULT_RETENTION_DAYS, MAX_BODY_BYTES_LIMIT, MAX_RETENTION_DAYS,
  type RequestLogSettings, type SettingsChange,
} from './settings.js';
export type { LlmRequestLogTables } from './tables.js';
