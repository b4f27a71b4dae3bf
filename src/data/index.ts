export { createDataService, type DataService, type DataServiceOptions } from './service.js';
export { dataRoutes, recordDataDenials, type DataRoutesOptions } from './routes/rest.js';
export { testPolicy, type PolicyTestInput, type PolicyTestResult } from './policy-tester.js';
export { describeStep, type Plan, type PlanStep } from './schema/plan.js';
export type { SchemaDocument, TableSpec, ColumnSpec, Operation } from './schema/types.js';
export type { ApplyResult } from './schema/service.js';
