// The dashboard's operators (issue 17): accounts, sessions, TOTP, the setup link, roles per project.
export {
  createOperatorService, csrfTokenOf, OPERATOR_SESSION_DEFAULTS,
  type LiveOperatorSession, type OperatorGrant, type OperatorService, type OperatorServiceDeps, type OperatorSummary, type SignedInOperator, type SignInMeta,
} from './service.js';
export { OPERATOR_ROLES, isOperatorRole, parseRoleChanges, type OperatorRole, type RoleChange } from './roles.js';
export { totpCode } from './totp.js';
export type { OperatorTables } from './tables.js';
