// Picks the page for the URL and enforces who may see it (the server enforces it again on every call).
import { useEffect } from 'preact/hooks';
import { PAGES, NOT_FOUND } from './pages/index.js';
import { matches, type PageDefinition } from './pages/registry.js';
import { navigate, usePath } from './router.js';
import { SessionProvider, useSession } from './session.js';
import { Shell } from './shell.js';
import { Loading } from './ui/controls.js';

function pageFor(path: string): PageDefinition | null {
  return PAGES.find((p) => matches(p, path)) ?? null;
}

function Routed() {
  const path = usePath();
  const session = useSession();
  const page = pageFor(path);
  const signedIn = session.me !== null;

  // Signed out on an operator page: to sign-in, then back here. Signed in on sign-in: home.
  const redirect = session.loading ? null
    : !signedIn && page?.access !== 'guest' ? `/sign-in?next=${encodeURIComponent(path + location.search)}`
      : signedIn && page?.access === 'guest' ? '/'
        : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);
  useEffect(() => {
    document.title = page ? `${page.title} · Gatehouse` : 'Gatehouse';
  }, [page]);

  if (session.loading || redirect) return <main class="center"><Loading what="the dashboard" /></main>;
  if (!signedIn) {
    const Guest = (page ?? NOT_FOUND).component;
    return <main id="main" class="center"><Guest path={path} /></main>;
  }
  const Page = (page ?? NOT_FOUND).component;
  let body = <Page key={`${session.scope?.projectId}/${session.scope?.environment}`} path={path} />;
  if (page?.access === 'project' && !session.scope) {
    body = <p class="notice">You have no project yet. An owner can give you access to one from the Operators page.</p>;
  } else if (page?.access === 'owner' && !session.isOwner) {
    body = <p class="notice">Only an owner manages operators.</p>;
  }
  return <Shell pages={PAGES} current={page}>{body}</Shell>;
}

export function App() {
  return (
    <SessionProvider>
      <Routed />
    </SessionProvider>
  );
}
