// Helpers for the operator tests: a real app (test/harness/app.ts), the setup link's token from the
// operator service, and requests that carry the session cookie, the CSRF token and our own Origin.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { startTestApp, type TestApp, type TestAppOptions } from '../harness/app.js';
import type { EngineName } from '../harness/engines.js';

/** inject's default Host: our own origin is http://localhost:80. */
export const OWN_ORIGIN = 'http://localhost:80';
export const PASSWORD = 'correct horse battery staple';

export interface Session {
  cookie: string;
  csrf: string;
  operatorId: string;
}

export function cookieOf(res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie'];
  const line = Array.isArray(header) ? header[0] : header;
  if (!line) throw new Error(`no Set-Cookie in ${res.statusCode} ${res.body}`);
  return line.split(';')[0]!;
}

export async function startOperatorApp(engine: EngineName, options: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp(engine, options);
}

/** Creates the first operator through the setup link (owner of every project) and returns its session. */
export async function setUp(gh: TestApp, email = 'owner@example.com'): Promise<Session> {
  const token = await gh.deps.operators.issueSetupToken();
  const res = await gh.app.inject({ method: 'POST', url: '/_/api/setup', headers: { origin: OWN_ORIGIN }, payload: { token, email, password: PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`setup: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { cookie: cookieOf(res), csrf: body.csrfToken, operatorId: body.operator.id };
}

export async function signIn(gh: TestApp, email: string, password = PASSWORD, totp?: string): Promise<LightMyRequestResponse> {
  return gh.app.inject({ method: 'POST', url: '/_/api/sign-in', headers: { origin: OWN_ORIGIN }, payload: { email, password, ...(totp ? { totp } : {}) } });
}

export async function sessionFor(gh: TestApp, email: string, password = PASSWORD): Promise<Session> {
  const res = await signIn(gh, email, password);
  if (res.statusCode !== 200) throw new Error(`sign-in: ${res.statusCode} ${res.body}`);
  return { cookie: cookieOf(res), csrf: res.json().csrfToken, operatorId: res.json().operator.id };
}

/** A request as the dashboard page sends it: cookie, CSRF token, own origin; project headers for /admin/v1. */
export function asOperator(gh: TestApp, session: Session, options: InjectOptions & { project?: string; environment?: string }) {
  const { project, environment, headers, ...rest } = options;
  const all: Record<string, string | undefined> = {
    cookie: session.cookie, 'x-csrf-token': session.csrf, origin: OWN_ORIGIN,
    ...(project ? { 'x-gatehouse-project': project, 'x-gatehouse-environment': environment ?? 'dev' } : {}),
    ...(headers as Record<string, string | undefined>),
  };
  // A header given as undefined is left out (how a test drops the token or the Origin).
  return gh.app.inject({ ...rest, headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string> });
}
