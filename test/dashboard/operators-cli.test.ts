// `gatehouse operators …` on the server's own storage: add, list, role, reset-totp, remove; the
// password only from stdin; an operator added by the CLI signs into the app on the same database.
import { describe, expect, it } from 'vitest';
import { depsOn, runCliOn, useSeededDatabase } from '../harness/cli.js';
import { engines } from '../harness/engines.js';

const PASSWORD = 'correct horse battery staple';

for (const engine of engines()) {
  describe(`gatehouse operators (${engine})`, () => {
    const db = useSeededDatabase(engine, 'shop');

    it('adds, lists, changes the role of, resets and removes an operator, each audited as cli', async () => {
      const refused = await runCliOn(db, ['operators', 'add', 'ada@example.com', '--role', 'owner']);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('--password-stdin is required');

      const added = await runCliOn(db, ['--json', 'operators', 'add', 'Ada@Example.com', '--role', 'admin', '-p', 'shop', '--password-stdin'], { stdin: `${PASSWORD}\n` });
      expect(added.code, added.err).toBe(0);
      const operator = JSON.parse(added.out);
      expect(operator).toMatchObject({ email: 'ada@example.com', totp_enabled: false, roles: [{ role: 'admin' }] });

      const listed = await runCliOn(db, ['operators', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.out).toMatch(new RegExp(`${operator.id}\\s+ada@example.com\\s+off\\s+shop:admin`));

      expect((await runCliOn(db, ['operators', 'role', 'ada@example.com', 'owner', '-p', 'shop'])).code).toBe(0);
      const deps = await depsOn(db);
      try {
        expect((await deps.operators.get(operator.id))!.roles).toEqual([{ projectId: operator.roles[0].project_id, role: 'owner' }]);
        // The password from stdin is the one that signs in (the newline is not part of it).
        await expect(deps.operators.signIn({ email: 'ada@example.com', password: PASSWORD }, { ip: '127.0.0.1' })).resolves.toMatchObject({ operator: { id: operator.id } });
      } finally {
        await deps.close();
      }
      expect((await runCliOn(db, ['operators', 'reset-totp', operator.id])).code).toBe(0);
      const removed = await runCliOn(db, ['operators', 'remove', 'ada@example.com']);
      expect([removed.code, removed.out]).toEqual([0, `Removed ${operator.id} (ada@example.com).\n`]);
      expect((await runCliOn(db, ['--json', 'operators', 'list'])).out).toBe(`${JSON.stringify({ operators: [] }, null, 2)}\n`);

      const after = await depsOn(db);
      try {
        const entries = await after.storage.db.selectFrom('audit_log').select(['actor', 'action']).where('action', 'like', 'operator.%').orderBy('id').execute();
        expect(entries).toEqual([
          { actor: 'cli', action: 'operator.add' }, { actor: 'cli', action: 'operator.roles' },
          { actor: 'cli', action: 'operator.reset_totp' }, { actor: 'cli', action: 'operator.remove' },
        ]);
      } finally {
        await after.close();
      }
    });

    it('refuses an unknown operator, a bad role, and --url', async () => {
      expect((await runCliOn(db, ['operators', 'remove', 'nobody@example.com'])).err).toContain('No operator nobody@example.com');
      expect((await runCliOn(db, ['operators', 'add', 'a@example.com', '--role', 'god', '--password-stdin'], { stdin: PASSWORD })).err).toContain('--role must be owner, admin or viewer');
      const remote = await runCliOn(db, ['--url', 'http://127.0.0.1:1', 'operators', 'list']);
      expect(remote.code).not.toBe(0);
      expect(remote.err).toContain('server\'s own storage');
    });
  });
}
