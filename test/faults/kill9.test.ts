// kill -9 of Gatehouse under writes, on both engines: every write it acknowledged (201) is there
// after a restart. SQLite commits in WAL mode with synchronous=NORMAL, which survives a process
// crash (only an OS crash may lose the last commits); PostgreSQL commits before answering.
import { afterEach, describe, expect, it } from 'vitest';
import { generousLimitsEnv } from '../data/fixtures.js';
import { engines, freshDatabaseUrl, type FreshDatabase } from '../harness/engines.js';
import { spawnGatehouse, type GatehouseProcess } from '../harness/gatehouse-process.js';
import { applyNotesSchema, pooled, readNotes, writeNote } from './notes.js';

describe.each(engines())('kill -9 under writes (%s)', (engine) => {
  let db: FreshDatabase;
  let gh: GatehouseProcess | undefined;
  afterEach(async () => {
    if (gh?.alive()) {
      gh.kill('SIGKILL');
      await gh.exited;
    }
    await db?.cleanup();
  });

  it('every acknowledged write is present after the restart', async () => {
    db = await freshDatabaseUrl(engine);
    const env = generousLimitsEnv();
    gh = await spawnGatehouse({ dataDir: db.dataDir, databaseUrl: db.databaseUrl, env });
    const key = gh.secretKey!;
    await applyNotesSchema(gh.url, key);

    const acknowledged: string[] = [];
    let killed = false;
    const victim = gh;
    await pooled(200, 6, async (i) => {
      if (killed) return;
      const res = await writeNote(victim.url, key, `note ${i}`).catch(() => null);
      if (res?.status === 201) acknowledged.push(res.body[0].id);
      // Killed mid-stream: other writes are in flight at this moment.
      if (acknowledged.length === 60 && !killed) {
        killed = true;
        victim.kill('SIGKILL');
      }
    });
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);

    gh = await spawnGatehouse({ dataDir: db.dataDir, databaseUrl: db.databaseUrl, env });
    const stored = new Set((await readNotes(gh.url, key)).map((n) => n.id));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  }, 90_000);
});
