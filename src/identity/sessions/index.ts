export { createSessionService, type SessionService, type SessionSummary, type ActiveSession, type RequestMeta } from './service.js';
