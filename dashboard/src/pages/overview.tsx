import { useSession } from '../session.js';
import type { PageDefinition } from './registry.js';

function Overview() {
  const session = useSession();
  return (
    <>
      <h1>Overview</h1>
      <p>{session.project?.name} · {session.scope?.environment}</p>
    </>
  );
}

export const overviewPage: PageDefinition = { path: '/', title: 'Overview', nav: 'project', access: 'project', component: Overview };
