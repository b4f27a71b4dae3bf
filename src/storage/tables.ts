// Row types of the storage tables (migration 0013-storage). Timestamps are ISO-8601 UTC text, JSON
// is text, like every Gatehouse table. `size` and `file_size_limit` are bigint: PostgreSQL returns
// them as strings, so readers convert with Number().

export interface StorageBucketsTable {
  project_id: string;
  environment: string;
  id: string;
  public: number;
  public_id: string | null;
  file_size_limit: number | string | null;
  allowed_mime_types: string | null;
  rules: string | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
}

export interface StorageObjectsTable {
  id: string;
  project_id: string;
  environment: string;
  bucket_id: string;
  name: string;
  folder_0: string | null;
  folder_1: string | null;
  folder_2: string | null;
  folder_3: string | null;
  owner: string | null;
  version: string;
  size: number | string;
  mimetype: string;
  etag: string;
  cache_control: string | null;
  metadata: string | null;
  created_at: string;
  updated_at: string;
}

export interface StorageTables {
  storage_buckets: StorageBucketsTable;
  storage_objects: StorageObjectsTable;
}

declare module '../db/index.js' {
  interface Database extends StorageTables {}
}
