// Operators on the admin API: CSRF and origin on every change, roles (a viewer changes nothing, on
// every admin route there is), one project's operator kept out of another, an API key winning over
// the cookie, audit entries naming the operator, and who may manage operators. Both engines.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOperations, type Principal } from '../../src/operations/index.js';
import type { TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { asOperator, PASSWORD, sessionFor, setUp, startOperatorApp, type Session } from './operators.js';

/** Every route of the admin API, from the app's own OpenAPI document: a route added later is in it. */
function adminRoutes(gh: TestApp): Array<{ method: string; url: string }> {
  const spec = gh.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  const routes: Array<{ method: string; url: string }> = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    if (!path.startsWith('/admin/v1/')) continue;
    for (const method of Object.keys(methods)) routes.push({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, 'x1') });
  }
  return routes;
}

for (const engine of engines()) {
  describe(`operators on the admin API (${engine})`, () => {
    let gh: TestApp;
    let owner: Session;
    let other: Awaited<ReturnType<TestApp['createProject']>>;
    beforeEach(async () => {
      // No key cache: a key whose maker lost its role is refused on the next request, not within the TTL.
      gh = await startOperatorApp(engine, { env: { GATEHOUSE_KEY_CACHE_TTL_MS: '0' } });
      other = await gh.createProject('other');
      owner = await setUp(gh);
    });
    afterEach(() => gh.close());

    async function operatorWith(email: string, roles: Array<{ projectId: string; role: 'owner' | 'admin' | 'viewer' }>): Promise<Session> {
      await gh.deps.operators.add({ email, password: PASSWORD, roles });
      return sessionFor(gh, email);
    }

    const createKey = (session: Session, headers: Record<string, string | undefined> = {}, project = gh.project.id) =>
      asOperator(gh, session, { method: 'POST', url: '/admin/v1/keys', project, payload: { kind: 'publishable', name: 'from the dashboard' }, headers });

    it('a change needs the CSRF token and a same-origin request: each missing or wrong part is 403 csrf_rejected', async () => {
      const cases: Array<[string, Record<string, string | undefined>]> = [
        ['no token', { 'x-csrf-token': undefined }],
        ['wrong token', { 'x-csrf-token': `${owner.csrf.slice(0, -1)}${owner.csrf.endsWith('A') ? 'B' : 'A'}` }],
        ['another session\'s token', { 'x-csrf-token': 'c'.repeat(43) }],
        ['foreign Origin', { origin: 'https://evil.example' }],
        ['lookalike Origin', { origin: 'http://localhost:8080' }],
        ['no Origin nor Sec-Fetch-Site', { origin: undefined }],
        ['cross-site Sec-Fetch-Site', { 'sec-fetch-site': 'cross-site' }],
        ['same-site (a sibling subdomain) Sec-Fetch-Site', { 'sec-fetch-site': 'same-site' }],
      ];
      for (const [what, headers] of cases) {
        const res = await createKey(owner, headers);
        expect([what, res.statusCode, res.json().error]).toEqual([what, 403, 'csrf_rejected']);
      }
      // Nor on the dashboard's own routes.
      const enroll = await asOperator(gh, owner, { method: 'POST', url: '/_/api/totp/enroll', payload: { currentPassword: PASSWORD }, headers: { 'x-csrf-token': undefined } });
      expect([enroll.statusCode, enroll.json().error]).toEqual([403, 'csrf_rejected']);
      // A read from another origin is refused as well; from our own, it needs no token.
      expect((await asOperator(gh, owner, { url: '/admin/v1/keys', project: gh.project.id, headers: { origin: 'https://evil.example' } })).statusCode).toBe(403);
      expect((await asOperator(gh, owner, { url: '/admin/v1/keys', project: gh.project.id, headers: { 'x-csrf-token': undefined } })).statusCode).toBe(200);
      // None of the refused changes happened; with everything right, it does.
      const keysBefore = (await gh.deps.apiKeys.list(gh.project.id, 'dev')).length;
      expect((await createKey(owner, { 'sec-fetch-site': 'same-origin', origin: undefined })).statusCode).toBe(201);
      expect((await createKey(owner)).statusCode).toBe(201);
      expect((await gh.deps.apiKeys.list(gh.project.id, 'dev')).length).toBe(keysBefore + 2);
      expect(gh.logs.join('\n')).not.toContain(owner.csrf);
    });

    it('a viewer is refused on every changing admin route, and reads', async () => {
      const viewer = await operatorWith('viewer@example.com', [{ projectId: gh.project.id, role: 'viewer' }]);
      const routes = adminRoutes(gh);
      // view-as is a POST that only reads (route config readOnly): its viewer rules are tested in admin-view-as.
      const changing = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && !r.url.endsWith('/rows/view-as'));
      expect(changing.length).toBeGreaterThan(15);
      for (const route of changing) {
        const res = await asOperator(gh, viewer, { method: route.method as 'POST', url: route.url, project: gh.project.id, payload: {} });
        expect([route.method, route.url, res.statusCode, res.json().error]).toEqual([route.method, route.url, 403, 'forbidden']);
      }
      expect((await asOperator(gh, viewer, { url: '/admin/v1/keys', project: gh.project.id })).statusCode).toBe(200);
      expect((await asOperator(gh, viewer, { url: '/admin/v1/project', project: gh.project.id })).statusCode).toBe(200);
      // Every GET of the admin API but the outbox (below) is open to a viewer: the operations layer's list of reads agrees.
      for (const route of routes.filter((r) => r.method === 'GET' && !r.url.endsWith('/auth/outbox'))) {
        const res = await asOperator(gh, viewer, { url: route.url, project: gh.project.id });
        expect([route.url, res.statusCode === 403 ? res.json().error : 'not refused']).toEqual([route.url, 'not refused']);
      }
      // A read that hands out more than reading (live sign-in codes) is refused too; an owner may.
      const outbox = await asOperator(gh, viewer, { url: '/admin/v1/auth/outbox', project: gh.project.id });
      expect([outbox.statusCode, outbox.json().error]).toEqual([403, 'forbidden']);
      expect((await asOperator(gh, owner, { url: '/admin/v1/auth/outbox', project: gh.project.id })).statusCode).toBe(200);
    });

    it('a stale or forged cookie is 401 not_signed_in on /admin/v1 and /_/api, unless a key is sent', async () => {
      const forged: Session = { cookie: `gatehouse_operator=${'A'.repeat(43)}`, csrf: owner.csrf, operatorId: owner.operatorId };
      for (const url of ['/admin/v1/keys', '/_/api/me', '/_/api/operators']) {
        const res = await asOperator(gh, forged, { url, project: gh.project.id });
        expect([url, res.statusCode, res.json().error]).toEqual([url, 401, 'not_signed_in']);
      }
      expect((await asOperator(gh, forged, { url: '/admin/v1/keys', project: gh.project.id, headers: { apikey: gh.secretKey } })).statusCode).toBe(200);
      // /_/api takes no key in place of a session.
      expect((await gh.app.inject({ url: '/_/api/me', headers: { apikey: gh.secretKey } })).statusCode).toBe(401);
    });

    it('the operations layer refuses a viewer every act that is not a read, whatever front end calls it', async () => {
      const operations = createOperations(gh.deps);
      const viewer: Principal = { kind: 'operator_session', operatorId: owner.operatorId, role: 'viewer' };
      const ctx = { principal: viewer, projectId: gh.project.id, environment: 'dev' as const };
      const reads = new Set(['keys.list', 'users.list', 'users.find', 'users.sessions', 'auth.signupMode', 'auth.signingKeys', 'auth.issuers', 'providers.list',
        'providers.get', 'providers.quotas', 'providers.usage', 'limits.view', 'limits.effective', 'limits.overrides', 'schema.tables', 'schema.document', 'requestLog.settings',
        'requestLog.entries', 'project.get', 'logs.securityEvents', 'logs.auditLog', 'audit.verify', 'audit.head', 'audit.export', 'rows.viewAs', 'stats.series', 'realtime.get']);
      let refused = 0;
      for (const [area, acts] of Object.entries(operations)) {
        if (area === 'operators') continue; // server-wide, owner rules of their own (below)
        for (const [name, act] of Object.entries(acts as Record<string, unknown>)) {
          if (typeof act !== 'function' || reads.has(`${area}.${name}`)) continue;
          await expect((act as (...a: unknown[]) => Promise<unknown>)(ctx, {}, {}), `${area}.${name}`).rejects.toMatchObject({ code: 'forbidden' });
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(20);
      // An admin of the project is not refused by that rule.
      const admin: Principal = { kind: 'operator_session', operatorId: owner.operatorId, role: 'admin' };
      expect((await operations.keys.create({ ...ctx, principal: admin }, { kind: 'publishable' })).key).toMatch(/^pk_dev_/);
    });

    it('owner and admin change the project, audited as operator:<id>; neither reaches a project it has no role in', async () => {
      const admin = await operatorWith('admin@example.com', [{ projectId: gh.project.id, role: 'admin' }]);
      const res = await createKey(admin);
      expect(res.statusCode).toBe(201);
      expect((await createKey(owner)).statusCode).toBe(201);
      const audit = await gh.deps.audit.list(gh.project.id, 'dev');
      const actors = audit.filter((e) => e.action === 'api_key.create').map((e) => e.actor);
      expect(actors).toEqual(expect.arrayContaining([`operator:${admin.operatorId}`, `operator:${owner.operatorId}`]));

      // The admin of this project has no role in `other`: refused, and a project that does not exist answers the same.
      const elsewhere = await createKey(admin, {}, other.project.id);
      expect([elsewhere.statusCode, elsewhere.json().error]).toEqual([403, 'forbidden']);
      expect((await asOperator(gh, admin, { url: '/admin/v1/keys', project: other.project.id })).statusCode).toBe(403);
      expect((await asOperator(gh, admin, { url: '/admin/v1/keys', project: 'no-such-project' })).statusCode).toBe(403);
      // The project and environment must be named.
      expect((await asOperator(gh, admin, { url: '/admin/v1/keys' })).statusCode).toBe(400);
      expect((await asOperator(gh, admin, { url: '/admin/v1/keys', project: gh.project.id, environment: 'qa' })).statusCode).toBe(400);
      // Its keys answer for the environment named.
      const prod = await asOperator(gh, owner, { url: '/admin/v1/project', project: gh.project.id, environment: 'prod' });
      expect(prod.json().environment).toBe('prod');
    });

    it('a secret key an operator made stops when the operator is demoted to viewer or removed, and is listed suspended', async () => {
      for (const end of ['demote', 'remove'] as const) {
        const admin = await operatorWith(`admin-${end}@example.com`, [{ projectId: gh.project.id, role: 'admin' }]);
        const made = await asOperator(gh, admin, { method: 'POST', url: '/admin/v1/keys', project: gh.project.id, payload: { kind: 'secret', name: `made to ${end}` } });
        expect(made.statusCode, made.body).toBe(201);
        expect(made.json().created_by).toBe(`operator:${admin.operatorId}`);
        const key: string = made.json().key;
        const probe = () => gh.app.inject({ url: '/admin/v1/project', headers: { authorization: `Bearer ${key}` } });
        expect((await probe()).statusCode).toBe(200);
        if (end === 'demote') {
          const res = await asOperator(gh, owner, { method: 'PUT', url: `/_/api/operators/${admin.operatorId}`, payload: { roles: [{ projectId: gh.project.id, role: 'viewer' }] } });
          expect(res.statusCode).toBe(200);
        } else {
          expect((await asOperator(gh, owner, { method: 'DELETE', url: `/_/api/operators/${admin.operatorId}` })).statusCode).toBe(204);
        }
        const refused = await probe();
        expect([end, refused.statusCode, refused.json().error]).toEqual([end, 401, 'invalid_api_key']);
        const listed = (await asOperator(gh, owner, { url: '/admin/v1/keys', project: gh.project.id })).json();
        const keys = (Array.isArray(listed) ? listed : listed.keys) as Array<{ id: string; status: string }>;
        expect(keys.find((k) => k.id === made.json().id)?.status).toBe('suspended');
      }
    });

    it('an API key wins over the cookie; the cookie is ignored outside /admin/v1 and /_/api', async () => {
      const viewer = await operatorWith('viewer@example.com', [{ projectId: gh.project.id, role: 'viewer' }]);
      // A viewer's cookie riding along does not weaken a secret key, nor name the actor.
      const withKey = await asOperator(gh, viewer, { method: 'POST', url: '/admin/v1/keys', project: gh.project.id, payload: { kind: 'publishable' }, headers: { apikey: gh.secretKey } });
      expect(withKey.statusCode).toBe(201);
      expect((await gh.deps.audit.list(gh.project.id, 'dev'))[0]!.actor).toMatch(/^key:/);
      // An owner's cookie does not lift a publishable key to the admin group, nor carry it to another project.
      const publishable = await asOperator(gh, owner, { url: '/admin/v1/keys', project: other.project.id, headers: { apikey: gh.publishableKey } });
      expect([publishable.statusCode, publishable.json().error]).toEqual([403, 'secret_key_required']);
      const rest = await asOperator(gh, owner, { url: '/rest/v1/anything', project: gh.project.id });
      expect([rest.statusCode, rest.json().message]).toEqual([401, expect.stringContaining('API key')]);
    });

    it('operators are managed by owners, in the projects they own only', async () => {
      const admin = await operatorWith('admin@example.com', [{ projectId: gh.project.id, role: 'admin' }]);
      const add = (session: Session, projectId: string, email = 'new@example.com') =>
        asOperator(gh, session, { method: 'POST', url: '/_/api/operators', payload: { email, password: PASSWORD, roles: [{ projectId, role: 'viewer' }] } });
      expect((await add(admin, gh.project.id)).statusCode).toBe(403);

      // An owner of `default` only (not of `other`).
      const partOwner = await operatorWith('part@example.com', [{ projectId: gh.project.id, role: 'owner' }]);
      expect((await add(partOwner, other.project.id)).statusCode).toBe(403);
      const created = await add(partOwner, gh.project.id);
      expect(created.statusCode).toBe(201);
      // Operator acts are project-wide (no environment): read from the table.
      const entries = await gh.deps.storage.db.selectFrom('audit_log').selectAll().where('action', '=', 'operator.add').execute();
      expect(entries.map((e) => [e.project_id, e.actor, e.target])).toEqual([[gh.project.id, `operator:${partOwner.operatorId}`, created.json().id]]);

      // It sees roles in its own projects only: the first owner's role in `other` is hidden.
      const listed = (await asOperator(gh, partOwner, { url: '/_/api/operators' })).json().operators as Array<{ id: string; roles: Array<{ projectId: string }> }>;
      expect(listed.find((o) => o.id === owner.operatorId)!.roles.map((r) => r.projectId)).toEqual([gh.project.id]);
      // It cannot remove an operator who also holds a role in a project it does not own…
      expect((await asOperator(gh, partOwner, { method: 'DELETE', url: `/_/api/operators/${owner.operatorId}` })).statusCode).toBe(403);
      // …nor grant a role there.
      expect((await asOperator(gh, partOwner, { method: 'PUT', url: `/_/api/operators/${admin.operatorId}`, payload: { roles: [{ projectId: other.project.id, role: 'admin' }] } })).statusCode).toBe(403);
      // A viewer cannot manage operators: a role change is refused, and it cannot even see whom to remove.
      const newcomer = await sessionFor(gh, 'new@example.com');
      const demote = await asOperator(gh, newcomer, { method: 'PUT', url: `/_/api/operators/${admin.operatorId}`, payload: { roles: [{ projectId: gh.project.id, role: 'viewer' }] } });
      expect([demote.statusCode, demote.json().error]).toEqual([403, 'forbidden']);
      expect((await asOperator(gh, newcomer, { method: 'DELETE', url: `/_/api/operators/${admin.operatorId}` })).statusCode).toBe(404);
      expect((await asOperator(gh, newcomer, { url: '/_/api/operators' })).json().operators.map((o: { id: string }) => o.id)).toEqual([created.json().id]);
      // The last owner of `other` cannot be taken away.
      const last = await asOperator(gh, owner, { method: 'PUT', url: `/_/api/operators/${owner.operatorId}`, payload: { roles: [{ projectId: other.project.id, role: 'viewer' }] } });
      expect([last.statusCode, last.json().error]).toEqual([409, 'conflict']);
      // An owner of both removes the admin; its session ends.
      expect((await asOperator(gh, owner, { method: 'DELETE', url: `/_/api/operators/${admin.operatorId}` })).statusCode).toBe(204);
      expect((await asOperator(gh, admin, { url: '/_/api/me' })).statusCode).toBe(401);
    });
  });
}
