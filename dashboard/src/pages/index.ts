// Every page of the dashboard, in navigation order. To add one: a file in this folder exporting a
// PageDefinition (see registry.ts), and one line here. Storage and Realtime pages join the 'data'
// group the same way.
import { accountPage } from './account.js';
import { keysPage } from './keys.js';
import { llmPage } from './llm.js';
import { NOT_FOUND } from './not-found.js';
import { operatorsPage } from './operators.js';
import { overviewPage } from './overview.js';
import { rateLimitsPage } from './rate-limits.js';
import type { PageDefinition } from './registry.js';
import { securityPage } from './security.js';
import { setupPage } from './setup.js';
import { signInPage } from './sign-in.js';
import { tablesPage } from './tables.js';
import { usersPage } from './users.js';

export { NOT_FOUND };

export const PAGES: readonly PageDefinition[] = [
  signInPage,
  setupPage,
  overviewPage,
  keysPage,
  usersPage,
  tablesPage,
  llmPage,
  rateLimitsPage,
  securityPage,
  accountPage,
  operatorsPage,
];
