// Realtime channel settings of a project environment: whether public channels are open, and the
// rules of private channels per channel-name pattern. Applied on this instance at once and on
// every other within a second (the settings cache).
import type { ChannelRuleSource, ChannelSettingsService } from '../realtime/index.js';
import type { ActionContext, Audit } from './context.js';

export interface RealtimeSettingsView {
  publicChannels: boolean;
  rules: ChannelRuleSource[];
}

export function realtimeOperations(deps: { realtimeChannels: ChannelSettingsService }, audit: Audit) {
  const { realtimeChannels } = deps;
  return {
    async get(ctx: ActionContext): Promise<RealtimeSettingsView> {
      const settings = await realtimeChannels.get(ctx.projectId, ctx.environment);
      return { publicChannels: settings.publicChannels, rules: settings.rules.map((r) => r.source) };
    },

    /** Replaces both; a bad rule is a 400 naming it and nothing is stored. */
    async set(ctx: ActionContext, change: RealtimeSettingsView): Promise<RealtimeSettingsView> {
      const settings = await realtimeChannels.set(ctx.projectId, ctx.environment, change);
      const view = { publicChannels: settings.publicChannels, rules: settings.rules.map((r) => r.source) };
      await audit(ctx, { action: 'realtime.channels.update', details: { public_channels: view.publicChannels, rules: view.rules } });
      return view;
    },
  };
}
