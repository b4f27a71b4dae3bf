import { createSurfaceTable, type SurfaceDescriptor } from './access/index.js';

// Every API surface, declared once. The pipeline (app.ts) reads a request's surface from its
// route, stamped at start from this table; nothing else looks at a URL to guess one.

/** `/auth/v1`: GoTrue's wire format (supabase-js auth). */
export const AUTH_SURFACE: SurfaceDescriptor = {
  name: 'auth', prefix: '/auth/v1', dialect: 'gotrue', routeClass: 'auth', auth: 'key', user: 'none', revokedSession: 'session_not_found',
};

/** `/rest/v1`: PostgREST's wire format (supabase.from). Reads and writes are limited apart. */
export const REST_SURFACE: SurfaceDescriptor = {
  name: 'rest', prefix: '/rest/v1', dialect: 'postgrest', auth: 'key', user: 'none',
  routeClass: (method) => (method === 'GET' || method === 'HEAD' ? 'data_read' : 'data_write'),
};

/**
 * `/llm/<provider>/…`: errors in the provider's shape. The URL names a provider, not its wire
 * format: until the route has resolved the provider (and pinned its kind), the names `anthropic`
 * and `gemini` speak theirs and every other name OpenAI's. A user must be behind every call
 * (tokens are spent per user), unless a secret key calls for the app itself.
 */
export const LLM_SURFACE: SurfaceDescriptor = {
  name: 'llm', prefix: '/llm', routeClass: 'llm', auth: 'key', user: 'unless-secret',
  dialect: (path) => {
    const end = path.indexOf('/', 5);
    const provider = path.slice(5, end === -1 ? undefined : end);
    return provider === 'anthropic' ? 'anthropic' : provider === 'gemini' ? 'gemini' : 'openai';
  },
};

/**
 * `/storage/v1`: storage-api's wire format (supabase.storage). Every call needs a key, except the
 * routes that say otherwise (public objects, signed URLs: their token or bucket is the permission).
 */
export const STORAGE_SURFACE: SurfaceDescriptor = {
  name: 'storage', prefix: '/storage/v1', dialect: 'storage', routeClass: 'storage', auth: 'key', user: 'none',
};

/**
 * `/admin/v1`: the project's own administration; a secret key or an admin user, or, without a key,
 * a dashboard operator's session cookie naming the project in headers.
 */
export const ADMIN_SURFACE: SurfaceDescriptor = {
  name: 'admin', prefix: '/admin/v1', dialect: 'gatehouse', routeClass: 'admin', auth: 'secret', user: 'none', operatorSession: true,
};

/** `/_/api`: the dashboard's own calls (setup, sign-in, the operator's account, operators); a session cookie. */
export const DASHBOARD_SURFACE: SurfaceDescriptor = {
  name: 'dashboard', prefix: '/_/api', dialect: 'gatehouse', routeClass: 'admin', auth: 'operator', user: 'none', operatorSession: true,
};

/**
 * `/_`: the operator dashboard's page and its hashed assets (src/dashboard/serve.ts), public like
 * the home page: they hold no data; every call the page makes is authorized on its own.
 */
export const DASHBOARD_UI_SURFACE: SurfaceDescriptor = {
  name: 'dashboard_ui', prefix: '/_', dialect: 'gatehouse', routeClass: 'default', auth: 'key', user: 'none',
};

/** Everything else: operations (health, metrics, docs); a key unless the route is public. */
export const OPS_SURFACE: SurfaceDescriptor = {
  name: 'ops', prefix: '', dialect: 'gatehouse', routeClass: 'default', auth: 'key', user: 'none',
};

export const SURFACES = createSurfaceTable([AUTH_SURFACE, REST_SURFACE, STORAGE_SURFACE, LLM_SURFACE, ADMIN_SURFACE, DASHBOARD_SURFACE, DASHBOARD_UI_SURFACE, OPS_SURFACE]);
