// How a page joins the dashboard: a file in pages/ exports a PageDefinition, and pages/index.ts
// lists it. The navigation, the router and the access rules all read this one list.
import type { ComponentType } from 'preact';

export type NavGroup = 'project' | 'data' | 'ai' | 'security' | 'account';

export interface PageDefinition {
  /** Path under /_/, e.g. '/keys'. A trailing '/*' also matches deeper paths ('/tables/*' → '/tables/todos'). */
  path: string;
  /** The page's name in the navigation and the document title. */
  title: string;
  /** Where it sits in the navigation; absent: not in the navigation (e.g. sign-in). */
  nav?: NavGroup;
  /** Who may open it. 'guest': signed out only; 'operator': signed in; 'project': needs a chosen project; 'owner': operators of the installation. */
  access: 'guest' | 'operator' | 'project' | 'owner';
  component: ComponentType<{ path: string }>;
}

export const NAV_GROUPS: readonly { id: NavGroup; label: string }[] = [
  { id: 'project', label: 'Project' },
  { id: 'data', label: 'Data' },
  { id: 'ai', label: 'AI' },
  { id: 'security', label: 'Security' },
  { id: 'account', label: 'Account' },
];

export function matches(page: PageDefinition, path: string): boolean {
  if (page.path.endsWith('/*')) {
    const base = page.path.slice(0, -2);
    return path === base || path.startsWith(`${base}/`);
  }
  return page.path === path;
}
