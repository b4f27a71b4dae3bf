// The one database's type, assembled by declaration merging.
//
// db/ sits below every feature, so it imports none: each feature owns the row types of the tables
// its migration creates (tenancy/tables.ts, identity/tables.ts, llm/tables.ts…) and adds them here with
//   declare module '../db/index.js' { interface Database extends TenancyTables {} }
// Every `Kysely<Database>` then sees every table with its exact column types, as one interface would.
// Why not a `Kysely<FeatureTables>` view per feature: Kysely<DB> is invariant in DB, so the one
// `Kysely<Database>` that openStorage() makes could not be handed to a feature without a cast per
// call site, and a cast is where a wrong column would slip through.
//
// Conventions of every Gatehouse table: timestamps are ISO-8601 UTC strings on both engines (sortable
// as text, no driver-specific Date handling); JSON is stored as text; every tenant-owned row carries
// project_id + environment.

/** All tables; each feature's tables.ts merges its own into it (see above). */
export interface Database {}
