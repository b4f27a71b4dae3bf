// Realtime (issue 16): the WebSocket realtime-js speaks to, its channels' rules and settings.
export { realtimeRoutes, type RealtimeRoutesOptions } from './socket/routes.js';
export { createHub, type Hub } from './socket/hub.js';
export { createLocalBus } from './socket/local-bus.js';
export type { SocketLimits } from './socket/limits.js';
export { createChannelSettings, type ChannelSettings, type ChannelSettingsService } from './channels/settings.js';
export type { ChannelRuleSource } from './channels/rules.js';
export type { ChangeFeed, RealtimeBus } from './changes/index.js';
