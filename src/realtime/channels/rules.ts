import {
  evaluateEntry, parseRuleEntry, RuleSyntaxError, ruleColumns,
  type AuthContext, type ColumnModel, type RuleEntry, type TableModel,
} from '../../data/index.js';
import { GatehouseError } from '../../errors/index.js';

// Who may join, send to and track presence on a private channel, in the Data API's rule grammar
// and evaluator (as storage's bucket rules are): groups admin, user, guest, or an expression. A
// channel is a row of these columns:
//   channel                 the whole name (`room:42`, without the `realtime:` prefix)
//   segment[0]…segment[3]   its first `:`-separated parts (`segment[1] == auth.uid`)
// Rules are matched by channel-name pattern (`*` stands for any run of characters), first match
// wins; a channel no pattern matches gets the defaults: signed-in users of the environment.

export const CHANNEL_ACTIONS = ['join', 'send', 'track'] as const;
export type ChannelAction = (typeof CHANNEL_ACTIONS)[number];

export interface ChannelRuleSource {
  pattern: string;
  join?: string[];
  send?: string[];
  track?: string[];
}

export interface ChannelRule {
  source: ChannelRuleSource;
  matcher: RegExp;
  entries: Readonly<Record<ChannelAction, readonly RuleEntry[]>>;
}

export const DEFAULT_CHANNEL_ENTRIES: readonly string[] = ['user', 'admin'];
export const MAX_CHANNEL_RULES = 64;
const MAX_ENTRIES = 16;
const SEGMENTS = 4;
const MAX_PATTERN = 255;

function column(name: string): ColumnModel {
  return { name, type: 'text', system: true, required: false, unique: false, default: null, maxLength: null, references: null, read: null, write: null };
}

const COLUMNS = new Map<string, ColumnModel>([
  ['channel', column('channel')],
  ...Array.from({ length: SEGMENTS }, (_, i) => [`segment[${i}]`, column(`segment[${i}]`)] as const),
]);

const CHANNEL_MODEL: TableModel = {
  name: 'realtime.channels', physical: 'realtime_channels', columns: COLUMNS,
  rules: { select: [], insert: [], update: [], delete: [] }, spec: { columns: {} },
};

const DEFAULT_ENTRIES = DEFAULT_CHANNEL_ENTRIES.map((source) => parseRuleEntry(source));

function invalidRule(reason: string): GatehouseError {
  return new GatehouseError('validation_failed', { message: `A channel rule is not valid: ${reason}.`, details: { reason } });
}

/** `*` is the only wildcard; everything else matches itself. */
function patternMatcher(pattern: string): RegExp {
  const body = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Rule sources → compiled rules; a bad entry is a 400 naming it. */
export function parseChannelRules(sources: readonly ChannelRuleSource[]): ChannelRule[] {
  if (!Array.isArray(sources) || sources.length > MAX_CHANNEL_RULES) throw invalidRule(`a list of at most ${MAX_CHANNEL_RULES} rules`);
  return sources.map((source, r) => {
    if (typeof source?.pattern !== 'string' || source.pattern.length < 1 || source.pattern.length > MAX_PATTERN) {
      throw invalidRule(`rules[${r}].pattern: 1 to ${MAX_PATTERN} characters`);
    }
    const entries = {} as Record<ChannelAction, RuleEntry[]>;
    for (const action of CHANNEL_ACTIONS) {
      const list = source[action] ?? DEFAULT_CHANNEL_ENTRIES;
      if (!Array.isArray(list) || list.length > MAX_ENTRIES) throw invalidRule(`rules[${r}].${action}: a list of at most ${MAX_ENTRIES} rules`);
      entries[action] = list.map((text, i) => {
        const where = `rules[${r}].${action}[${i}]`;
        if (typeof text !== 'string') throw invalidRule(`${where}: not a string`);
        try {
          const entry = parseRuleEntry(text);
          // `self` needs a row owner; a channel has none.
          if (entry.group === 'self') throw invalidRule(`${where}: a channel has no owner, so "self" does not apply (use an expression such as segment[1] == auth.uid)`);
          if (entry.expr) {
            for (const name of ruleColumns(entry.expr)) {
              if (!COLUMNS.has(name)) throw invalidRule(`${where}: unknown name ${name} (use channel, segment[0]…segment[${SEGMENTS - 1}])`);
            }
          }
          return entry;
        } catch (error) {
          if (error instanceof RuleSyntaxError) throw invalidRule(`${where}: ${error.message}`);
          throw error;
        }
      });
    }
    return { source: { ...source }, matcher: patternMatcher(source.pattern), entries };
  });
}

function channelRow(channel: string): Record<string, unknown> {
  const row: Record<string, unknown> = { channel };
  channel.split(':').slice(0, SEGMENTS).forEach((segment, i) => { row[`segment[${i}]`] = segment; });
  return row;
}

/** Whether the caller may `action` on the private channel `channel` (unknown never allows). */
export function channelAllows(rules: readonly ChannelRule[], action: ChannelAction, auth: AuthContext, channel: string): boolean {
  const rule = rules.find((r) => r.matcher.test(channel));
  const entries = rule ? rule.entries[action] : DEFAULT_ENTRIES;
  const row = channelRow(channel);
  return entries.some((entry) => evaluateEntry(CHANNEL_MODEL, row, auth, entry) === true);
}
