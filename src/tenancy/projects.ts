import type { Kysely } from 'kysely';
import { GatehouseError } from '../errors/index.js';
import type { Database } from '../db/index.js';
import { isoNow, type Clock } from '../shared/clock.js';
import { randomBase32 } from '../shared/ids.js';
import { ENVIRONMENTS, type Environment } from './environments.js';
import { validateOrigin } from './origins.js';

export interface Project {
  id: string;
  name: string;
  createdAt: string;
  environments: Array<{ name: Environment; corsOrigins: string[] }>;
}

export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface ProjectServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** Origins allowed on a new dev environment. */
  devOrigins: readonly string[];
}

export type ProjectService = ReturnType<typeof createProjectService>;

export function createProjectService({ db, clock, devOrigins }: ProjectServiceDeps) {
  async function load(where: { id?: string; name?: string }): Promise<Project | undefined> {
    let query = db.selectFrom('projects').selectAll();
    if (where.id) query = query.where('id', '=', where.id);
    if (where.name) query = query.where('name', '=', where.name);
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    const envs = await db.selectFrom('environments').selectAll().where('project_id', '=', row.id).execute();
    return {
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      environments: ENVIRONMENTS.map((name) => ({
        name,
        corsOrigins: JSON.parse(envs.find((e) => e.name === name)?.cors_origins ?? '[]') as string[],
      })),
    };
  }

  return {
    async create(name: string): Promise<Project> {
      if (!PROJECT_NAME_PATTERN.test(name)) {
        throw new GatehouseError('validation_failed', {
          message: 'name: use 1–63 lowercase letters, digits, _ or -, starting with a letter or digit',
          details: [{ field: 'name', problem: 'pattern' }],
        });
      }
      const id = randomBase32(16);
      const now = isoNow(clock);
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('projects').values({ id, name, created_at: now }).execute();
          await trx
            .insertInto('environments')
            .values(ENVIRONMENTS.map((env) => ({
              project_id: id,
              name: env,
              cors_origins: JSON.stringify(env === 'dev' ? devOrigins : []),
              created_at: now,
            })))
            .execute();
        });
      } catch (error) {
        if (await load({ name })) throw new GatehouseError('conflict', { message: `a project named ${name} exists`, cause: error });
        throw error;
      }
      return (await load({ id }))!;
    },
    get: (id: string) => load({ id }),
    findByName: (name: string) => load({ name }),
    async list(): Promise<Array<{ id: string; name: string; createdAt: string }>> {
      const rows = await db.selectFrom('projects').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
    },
    /** Every origin any environment allows: what a key-less preflight can be checked against. */
    async allCorsOrigins(): Promise<string[]> {
      const rows = await db.selectFrom('environments').select('cors_origins').execute();
      return [...new Set(rows.flatMap((r) => JSON.parse(r.cors_origins) as string[]))];
    },
    async corsOrigins(projectId: string, environment: Environment): Promise<string[]> {
      const row = await db
        .selectFrom('environments')
        .select('cors_origins')
        .where('project_id', '=', projectId)
        .where('name', '=', environment)
        .executeTakeFirst();
      return row ? (JSON.parse(row.cors_origins) as string[]) : [];
    },
    async setCorsOrigins(projectId: string, environment: Environment, origins: string[], opts: { production: boolean }): Promise<void> {
      origins.forEach((origin, i) => {
        const problem = validateOrigin(origin, opts);
        if (problem) throw new GatehouseError('validation_failed', { message: `origins[${i}]: ${problem}`, details: [{ field: `origins/${i}`, problem }] });
      });
      await db
        .updateTable('environments')
        .set({ cors_origins: JSON.stringify([...new Set(origins)]) })
        .where('project_id', '=', projectId)
        .where('name', '=', environment)
        .execute();
    },
  };
}
