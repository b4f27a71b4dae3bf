import { describe, expect, it } from 'vitest';
import { engines } from '../../../test/harness/engines.js';
import { useMigratedStorage } from '../../../test/harness/storage.js';
import { createProjectService } from '../../tenancy/index.js';
import { llmDeferredUsageMigration } from './0007-llm-deferred-usage.js';
import { clockAt } from '../../shared/clock.js';

const clock = clockAt(() => Date.parse('2026-11-23T12:00:00Z'));

describe.each(engines())('migration 0007-llm-deferred-usage (%s)', (engine) => {
  const fresh = useMigratedStorage(engine);

  it('runs and responses recorded before it count as counted (no second charge); new rows start uncounted', async () => {
    const migration = llmDeferredUsageMigration(engine);
    const project = await createProjectService({ db: fresh.storage.db, clock, devOrigins: [] }).create('p1');
    await migration.down!(fresh.storage.db);
    const row = { project_id: project.id, environment: 'dev', provider: 'openai', owner: 'user:a', created_at: '2026-11-01T00:00:00.000Z' };
    await fresh.storage.db.insertInto('llm_resources').values([
      { ...row, resource_id: 'run_1', resource_type: 'run' },
      { ...row, resource_id: 'resp_1', resource_type: 'response' },
      { ...row, resource_id: 'file-1', resource_type: 'file' },
    ] as never).execute();
    await migration.up(fresh.storage.db);
    const rows = await fresh.storage.db.selectFrom('llm_resources').select(['resource_id', 'accounted_at']).orderBy('resource_id').execute();
    expect(rows).toEqual([
      { resource_id: 'file-1', accounted_at: null },
      { resource_id: 'resp_1', accounted_at: row.created_at },
      { resource_id: 'run_1', accounted_at: row.created_at },
    ]);
  });
});
