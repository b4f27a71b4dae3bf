import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';

// The `self` group of row rules and column permissions: a row is the caller's own when the
// server stamped the caller's user id on it at insert. Written once, here, for both places it
// is decided: in memory (the rule tester) and in SQL (reads, writes, column masks), so the two
// cannot drift apart.

/** The column the server stamps with the inserting user's id; clients can never write it. */
export const OWNER_COLUMN = 'created_by';

/** In memory: whether `row` is the signed-in user's own. A caller without a user owns nothing. */
export function isOwnRow(row: Readonly<Record<string, unknown>>, uid: string | null): boolean {
  return uid !== null && row[OWNER_COLUMN] === uid;
}

/** In SQL: the rows of `owner` (a reference to OWNER_COLUMN) that belong to the user `uid`. */
export function ownRows(eb: ExpressionBuilder<any, any>, owner: Expression<unknown>, uid: string): Expression<SqlBool> {
  return eb(owner, '=', uid);
}
