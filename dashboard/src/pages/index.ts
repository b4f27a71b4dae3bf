// Every page of the dashboard, in navigation order. To add one: a file in this folder exporting a
// PageDefinition (see registry.ts), and one line here.
import { accountPage } from './account.js';
import { NOT_FOUND } from './not-found.js';
import { overviewPage } from './overview.js';
import type { PageDefinition } from './registry.js';
import { setupPage } from './setup.js';
import { signInPage } from './sign-in.js';

export { NOT_FOUND };

export const PAGES: readonly PageDefinition[] = [
  signInPage,
  setupPage,
  overviewPage,
  accountPage,
];
