// Row types of the tenancy tables (migration 0001-core), merged into db/'s Database (see db/tables.ts).

export interface ProjectsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface EnvironmentsTable {
  project_id: string;
  name: string;
  /** JSON array of allowed CORS origins. */
  cors_origins: string;
  created_at: string;
}

export interface TenancyTables {
  projects: ProjectsTable;
  environments: EnvironmentsTable;
}

declare module '../db/index.js' {
  interface Database extends TenancyTables {}
}
