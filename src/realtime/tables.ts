// Row type of the realtime table (migration 0014-realtime). `seq` is bigint: PostgreSQL returns
// it as a string, so readers convert with Number().

export interface RealtimeSequencesTable {
  physical: string;
  seq: number | string;
}

export interface RealtimeTables {
  realtime_sequences: RealtimeSequencesTable;
}

declare module '../db/index.js' {
  interface Database extends RealtimeTables {}
}
