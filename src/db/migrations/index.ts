import type { Migration } from 'kysely';
import type { EngineName } from '../database.js';
import { coreMigration } from './0001-core.js';

/**
 * Every migration, in order. Names are permanent: they are recorded in the
 * database. Each capability appends its own file; never edit a shipped one.
 */
export function allMigrations(engine: EngineName): Record<string, Migration> {
  return {
    '0001-core': coreMigration(engine),
  };
}
