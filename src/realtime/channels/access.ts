import type { Caller } from '../../access/index.js';
import { authContextOf } from '../../data/index.js';
import { channelAllows, type ChannelAction } from './rules.js';
import type { ChannelSettings } from './settings.js';

// What the socket and the REST broadcast both decide about a channel: its name's limit, the hub
// scope its members share, and whether a caller may act on it.

/** A channel name (without `realtime:`) in characters at most. */
export const MAX_CHANNEL_NAME = 200;

/** `<project>:<environment>:<private|public>:<channel>`: who hears whom in the hub. */
export function channelScope(caller: Caller, name: string, isPrivate: boolean): string {
  return `${caller.projectId}:${caller.environment}:${isPrivate ? 'private' : 'public'}:${name}`;
}

/**
 * Why `caller` may not `action` on the channel, or null when it may: a public channel needs the
 * admin's switch, a private one the channel rules.
 */
export function channelRefusal(settings: ChannelSettings, caller: Caller, name: string, isPrivate: boolean, action: ChannelAction): 'public_channels_disabled' | 'rule' | null {
  if (!isPrivate) return settings.publicChannels ? null : 'public_channels_disabled';
  return channelAllows(settings.rules, action, authContextOf(caller), name) ? null : 'rule';
}
