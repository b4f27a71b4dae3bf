// Row type of the keyring's data-key table (migration 0001-core), merged into db/'s Database (see db/tables.ts).

export interface DataKeysTable {
  id: string;
  scope: string;
  master_key_id: string;
  wrapped: string;
  created_at: string;
}

export interface CryptoTables {
  data_keys: DataKeysTable;
}

declare module '../db/index.js' {
  interface Database extends CryptoTables {}
}
