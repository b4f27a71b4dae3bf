import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { Clock } from '../../shared/clock.js';
import { createTtlCache } from '../../shared/ttl-cache.js';
import { parseChannelRules, type ChannelRule, type ChannelRuleSource } from './rules.js';
import './tables.js';

/** One environment's realtime channel settings. */
export interface ChannelSettings {
  /** Channels joined without `config.private`: closed unless an admin opens them. */
  publicChannels: boolean;
  rules: readonly ChannelRule[];
}

export interface ChannelSettingsService {
  get(projectId: string, environment: string): Promise<ChannelSettings>;
  set(projectId: string, environment: string, change: { publicChannels: boolean; rules: ChannelRuleSource[] }): Promise<ChannelSettings>;
}

const DEFAULTS: ChannelSettings = Object.freeze({ publicChannels: false, rules: Object.freeze([]) });
/** A change made on another instance is seen within this (the shared cache's usual second). */
const CACHE_TTL_MS = 1_000;

export function createChannelSettings({ db, clock }: { db: Kysely<Database>; clock: Clock }): ChannelSettingsService {
  const cache = createTtlCache<Promise<ChannelSettings>>({ ttlMs: CACHE_TTL_MS, maxEntries: 1_000, clock });
  const keyOf = (projectId: string, environment: string) => `${projectId}\u0000${environment}`;

  async function load(projectId: string, environment: string): Promise<ChannelSettings> {
    const row = await db.selectFrom('realtime_channel_settings').selectAll()
      .where('project_id', '=', projectId).where('environment', '=', environment).executeTakeFirst();
    if (!row) return DEFAULTS;
    return { publicChannels: row.public_channels === 1, rules: parseChannelRules(JSON.parse(row.rules) as ChannelRuleSource[]) };
  }

  return {
    get(projectId, environment) {
      return cache.getOrLoad(keyOf(projectId, environment), () => load(projectId, environment));
    },
    async set(projectId, environment, change) {
      // Parsed first: a bad rule is refused before anything is stored.
      const rules = parseChannelRules(change.rules);
      const values = { public_channels: change.publicChannels ? 1 : 0, rules: JSON.stringify(rules.map((r) => r.source)), updated_at: clock.now().toISOString() };
      await db.insertInto('realtime_channel_settings')
        .values({ project_id: projectId, environment, ...values })
        .onConflict((oc) => oc.columns(['project_id', 'environment']).doUpdateSet(values))
        .execute();
      cache.delete(keyOf(projectId, environment));
      return { publicChannels: change.publicChannels, rules };
    },
  };
}
