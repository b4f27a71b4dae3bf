import type { ColumnDefinitionBuilder } from 'kysely';
import type { EngineName } from '../database.js';

/** An auto-increment integer primary key on either engine. */
export function autoIncrementPk(engine: EngineName, column: ColumnDefinitionBuilder): ColumnDefinitionBuilder {
  return engine === 'postgres' ? column.primaryKey().generatedByDefaultAsIdentity() : column.primaryKey().autoIncrement();
}
