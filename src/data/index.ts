export { createDataService, type DataService, type DataServiceOptions, type ReadOptions } from './service.js';
export type { ReadResult } from './rows/read.js';
export { dataRoutes, recordDataDenials, type DataRoutesOptions } from './routes/rest.js';
export { testPolicy, type PolicyTestInput, type PolicyTestResult } from './policy-tester.js';
export { describeStep, type Plan, type PlanStep } from './schema/plan.js';
export type { SchemaDocument, TableSpec, ColumnSpec, Operation } from './schema/types.js';
export type { ApplyResult } from './schema/service.js';
// The rule engine, for storage's per-bucket rules (one grammar, one compiler, one evaluator).
export { compileRules, toExpression } from './rules/compile.js';
export { evaluateEntry } from './rules/evaluate.js';
export { authContextOf, type AuthContext } from './rules/context.js';
export { RuleSyntaxError, ruleColumns } from './rules/expression.js';
export type { ColumnResolver } from './rules/resolver.js';
export { parseRuleEntry, type ColumnModel, type RuleEntry, type TableModel } from './schema/model.js';
// For realtime (issue 16): the write path's change hook, and what is needed to answer a change
// per subscriber in memory exactly as a read would (rules, column permissions, filters).
export { decodeRow, type RowChange, type RowChangeSink, type RowChangeType, type TableChanges } from './rows/changes.js';
export { unknownTable } from './service.js';
export { tableScope } from './names.js';
export { readAccess, readableColumn, type ColumnAccess } from './columns/permissions.js';
export { compareValues, encodeForColumn, category } from './rules/compile.js';
export { createResolver } from './rules/resolver.js';
export { parseQuery } from './query/parse.js';
export { DEFAULT_QUERY_LIMITS, type Filter } from './query/ast.js';
export { encodeValue, ValueError, type Stored } from './schema/values.js';
