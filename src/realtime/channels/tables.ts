// Row types of the realtime tables (migration 0017-realtime-channels).

export interface RealtimeChannelSettingsTable {
  project_id: string;
  environment: string;
  public_channels: number;
  rules: string;
  updated_at: string;
}

export interface RealtimeChannelTables {
  realtime_channel_settings: RealtimeChannelSettingsTable;
}

declare module '../../db/index.js' {
  interface Database extends RealtimeChannelTables {}
}
