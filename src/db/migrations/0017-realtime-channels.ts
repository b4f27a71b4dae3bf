import type { Kysely, Migration } from 'kysely';
import type { EngineName } from '../database.js';

// Realtime channel settings (issue 16), one row per project environment: whether public channels
// are open, and the rules of private channels per channel-name pattern. No row: public channels
// closed, private channels open to signed-in users of the environment (the default rules).
export const realtimeChannelsMigration = (_engine: EngineName): Migration => ({ up, down });

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('realtime_channel_settings')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('public_channels', 'integer', (c) => c.notNull().defaultTo(0))
    /** JSON [{ pattern, join, send, track }] in the Data API's rule grammar. */
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('realtime_channel_settings_pk', ['project_id', 'environment'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('realtime_channel_settings').execute();
}
