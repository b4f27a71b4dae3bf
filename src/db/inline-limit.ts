import {
  OperationNodeTransformer,
  ValueNode,
  type KyselyPlugin,
  type LimitNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/**
 * Writes a query's LIMIT into its SQL as a number instead of a bound parameter, on SQLite.
 *
 * SQLite (3.4x) reads a bound LIMIT's value while planning, so binding that parameter again marks the
 * prepared statement expired and the next step compiles the SQL anew. Kysely binds every `.limit(n)`,
 * and better-sqlite3 binds on every call: every cached statement with a LIMIT was parsed and planned
 * again on each run (a point read's `limit ? offset ?` cost 16 µs against 7 µs with `limit 1000`,
 * and about 25 µs more between requests, with cold caches). OFFSET does not do this and stays bound.
 *
 * Only a non-negative safe integer is inlined: it prints as digits, so nothing a client sends can
 * reach the SQL text this way; anything else stays a parameter. Statements are cached by SQL text,
 * so each distinct limit is its own statement (the cache is bounded).
 */
export class InlineLimitPlugin implements KyselyPlugin {
  readonly #transformer = new (class extends OperationNodeTransformer {
    protected override transformLimit(node: LimitNode, queryId?: QueryId): LimitNode {
      const limit = node.limit;
      if (ValueNode.is(limit) && !limit.immediate && Number.isSafeInteger(limit.value) && (limit.value as number) >= 0) {
        return { ...node, limit: ValueNode.createImmediate(limit.value) };
      }
      return super.transformLimit(node, queryId);
    }
  })();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
