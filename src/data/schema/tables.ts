// Row type of the Data API's metadata table (migration 0003-data).

export interface DataTablesTable {
  project_id: string;
  environment: string;
  name: string;
  physical_name: string;
  /** JSON of the TableSpec as last applied. */
  definition: string;
  created_at: string;
  updated_at: string;
}

export interface DataTables {
  data_tables: DataTablesTable;
}

declare module '../../db/index.js' {
  interface Database extends DataTables {}
}
