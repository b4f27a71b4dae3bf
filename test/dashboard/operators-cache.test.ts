// The operator session and role are cached for a few seconds (src/operators/service.ts): repeated
// dashboard calls do not read them again, and a sign-out, a demotion, a role removal or an
// operator's removal is still honoured on the very next request of this instance. Both engines.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPERATOR_CACHE_MS } from '../../src/operators/service.js';
import { clockAt } from '../../src/shared/clock.js';
import type { TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { asOperator, PASSWORD, sessionFor, setUp, startOperatorApp, type Session } from './operators.js';

for (const engine of engines()) {
  describe(`operator session and role cache (${engine})`, () => {
    let gh: TestApp;
    let owner: Session;
    let now: number;
    beforeEach(async () => {
      now = Date.parse('2026-12-02T12:00:00Z');
      // No key cache: nothing else on these requests is cached but what is under test.
      gh = await startOperatorApp(engine, { clock: clockAt(() => now), env: { GATEHOUSE_KEY_CACHE_TTL_MS: '0' } });
      owner = await setUp(gh);
    });
    afterEach(() => {
      vi.restoreAllMocks();
      return gh.close();
    });

    async function operatorWith(email: string, role: 'owner' | 'admin' | 'viewer'): Promise<Session> {
      await gh.deps.operators.add({ email, password: PASSWORD, roles: [{ projectId: gh.project.id, role }] });
      return sessionFor(gh, email);
    }

    const listKeys = (session: Session) => asOperator(gh, session, { url: '/admin/v1/keys', project: gh.project.id });
    const createKey = (session: Session) =>
      asOperator(gh, session, { method: 'POST', url: '/admin/v1/keys', project: gh.project.id, payload: { kind: 'publishable', name: 'from the dashboard' } });

    /** Counts the reads of each operator table made through the app's own database handle. */
    function countReads(): Record<'operator_sessions' | 'operator_roles', number> {
      const counts = { operator_sessions: 0, operator_roles: 0 };
      const db = gh.deps.storage.db;
      const original = db.selectFrom.bind(db);
      vi.spyOn(db, 'selectFrom').mockImplementation(((from: unknown) => {
        if (from === 'operator_sessions' || from === 'operator_roles') counts[from]++;
        return original(from as never);
      }) as typeof db.selectFrom);
      return counts;
    }

    it('repeated dashboard calls read the session and the role once per TTL, not on every request', async () => {
      const reads = countReads();
      for (let i = 0; i < 5; i++) expect((await listKeys(owner)).statusCode).toBe(200);
      expect(reads).toEqual({ operator_sessions: 1, operator_roles: 1 });
      now += OPERATOR_CACHE_MS; // the TTL is over: read again, once
      for (let i = 0; i < 3; i++) expect((await listKeys(owner)).statusCode).toBe(200);
      expect(reads).toEqual({ operator_sessions: 2, operator_roles: 2 });
      expect(OPERATOR_CACHE_MS).toBeLessThanOrEqual(5_000); // no cross-instance invalidation: the bound must stay short
    });

    it('a signed-out cookie is refused on the very next request, though its session was cached', async () => {
      const a = await sessionFor(gh, 'owner@example.com');
      expect((await listKeys(a)).statusCode).toBe(200);
      expect((await asOperator(gh, a, { url: '/_/api/me' })).statusCode).toBe(200);
      expect((await asOperator(gh, a, { method: 'POST', url: '/_/api/sign-out' })).statusCode).toBe(204);
      const refused = await listKeys(a);
      expect([refused.statusCode, refused.json().error]).toEqual([401, 'not_signed_in']);
      expect((await asOperator(gh, a, { url: '/_/api/me' })).statusCode).toBe(401);
      // The owner's own session, cached too, is untouched.
      expect((await listKeys(owner)).statusCode).toBe(200);
    });

    it('an admin lowered to viewer is refused a write on the very next request, though its role was cached', async () => {
      const admin = await operatorWith('admin@example.com', 'admin');
      expect((await createKey(admin)).statusCode).toBe(201);
      const demoted = await asOperator(gh, owner, { method: 'PUT', url: `/_/api/operators/${admin.operatorId}`, payload: { roles: [{ projectId: gh.project.id, role: 'viewer' }] } });
      expect(demoted.statusCode).toBe(200);
      const refused = await createKey(admin);
      expect([refused.statusCode, refused.json().error]).toEqual([403, 'forbidden']);
      expect((await listKeys(admin)).statusCode).toBe(200); // a viewer still reads
    });

    it('an operator whose role in the project is removed, or who is removed, is refused on the very next request', async () => {
      const admin = await operatorWith('admin@example.com', 'admin');
      expect((await listKeys(admin)).statusCode).toBe(200);
      expect((await asOperator(gh, owner, { method: 'PUT', url: `/_/api/operators/${admin.operatorId}`, payload: { roles: [{ projectId: gh.project.id, role: null }] } })).statusCode).toBe(200);
      const noRole = await listKeys(admin);
      expect([noRole.statusCode, noRole.json().error]).toEqual([403, 'forbidden']);

      const second = await operatorWith('second@example.com', 'owner');
      expect((await listKeys(second)).statusCode).toBe(200);
      expect((await asOperator(gh, second, { url: '/_/api/me' })).statusCode).toBe(200);
      expect((await asOperator(gh, owner, { method: 'DELETE', url: `/_/api/operators/${second.operatorId}` })).statusCode).toBe(204);
      expect((await listKeys(second)).statusCode).toBe(401);
      expect((await asOperator(gh, second, { url: '/_/api/me' })).statusCode).toBe(401);
    });

    it('a password change ends the other cached sessions at once; a cached session still ends when idle too long', async () => {
      const other = await sessionFor(gh, 'owner@example.com');
      expect((await listKeys(other)).statusCode).toBe(200);
      const changed = await asOperator(gh, owner, { method: 'POST', url: '/_/api/password', payload: { currentPassword: PASSWORD, newPassword: `${PASSWORD} again` } });
      expect(changed.statusCode, changed.body).toBe(200);
      expect((await listKeys(other)).statusCode).toBe(401);

      const idle = await sessionFor(gh, 'owner@example.com', `${PASSWORD} again`);
      expect((await listKeys(idle)).statusCode).toBe(200);
      now += 2 * 3600_000 + 1000;
      expect((await listKeys(idle)).statusCode).toBe(401);
    });
  });
}
