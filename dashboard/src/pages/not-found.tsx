import { Link } from '../router.js';
import type { PageDefinition } from './registry.js';

function NotFound({ path }: { path: string }) {
  return (
    <div class="card narrow">
      <h1>Page not found</h1>
      <p>The dashboard has no page at <code>/_{path}</code>. <Link to="/">Go to the overview</Link>.</p>
    </div>
  );
}

export const NOT_FOUND: PageDefinition = { path: '/*', title: 'Not found', access: 'operator', component: NotFound };
