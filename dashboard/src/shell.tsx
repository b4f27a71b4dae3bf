// The frame around every signed-in page: header with the project/environment switcher, the
// navigation (grouped, so Storage and Realtime entries slot in as more pages), and the page.
import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import { Link } from './router.js';
import { NAV_GROUPS, type PageDefinition } from './pages/registry.js';
import { useSession } from './session.js';

function ScopeSwitcher() {
  const session = useSession();
  const projectId = useId();
  const environmentId = useId();
  const projects = session.me?.projects ?? [];
  if (projects.length === 0) return <span class="muted">No project</span>;
  const project = session.project ?? projects[0]!;
  return (
    <div class="switcher">
      <label for={projectId}>Project</label>
      <select id={projectId} value={project.id} onChange={(e) => {
        const next = projects.find((p) => p.id === e.currentTarget.value);
        if (next && next.environments[0]) session.setScope({ projectId: next.id, environment: next.environments[0] });
      }}>
        {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
      </select>
      <label for={environmentId}>Environment</label>
      <select id={environmentId} value={session.scope?.environment ?? ''} onChange={(e) => session.setScope({ projectId: project.id, environment: e.currentTarget.value })}>
        {project.environments.map((env) => <option key={env} value={env}>{env}</option>)}
      </select>
      <span class="role" title="Your role in this project">{project.role}</span>
    </div>
  );
}

export function Shell({ pages, current, children }: { pages: readonly PageDefinition[]; current: PageDefinition | null; children: ComponentChildren }) {
  const session = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const visible = pages.filter((p) => p.nav && (p.access !== 'owner' || session.isOwner));
  const navId = useId();
  return (
    <div class="layout">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <Link to="/" class="brand">Gatehouse</Link>
        <button type="button" class="btn btn-secondary menu-toggle" aria-expanded={menuOpen} aria-controls={navId} onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <ScopeSwitcher />
        <span class="who">{session.me?.operator.email}</span>
      </header>
      <nav id={navId} class={menuOpen ? 'side open' : 'side'} aria-label="Dashboard">
        {NAV_GROUPS.map((group) => {
          const entries = visible.filter((p) => p.nav === group.id);
          if (entries.length === 0) return null;
          return (
            <div key={group.id} class="nav-group">
              <h2 class="nav-title">{group.label}</h2>
              <ul>
                {entries.map((p) => (
                  <li key={p.path}>
                    <Link to={p.path.replace(/\/\*$/, '') || '/'} aria-current={current === p ? 'page' : undefined} onNavigate={() => setMenuOpen(false)}>
                      {p.title}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <main id="main" class="content" tabIndex={-1}>{children}</main>
    </div>
  );
}
