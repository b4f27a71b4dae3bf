// Who is signed in, which project and environment they look at, and what their role lets them do.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, setCsrfToken, whenSignedOut, type Scope } from './api.js';
import { operatorApi, type Me, type ProjectAccess } from './operator-api.js';

export interface Session {
  /** null: not signed in (or not yet known: see `loading`). */
  me: Me | null;
  loading: boolean;
  /** The chosen project environment, null while the operator has none. */
  scope: Scope | null;
  project: ProjectAccess | null;
  /** A viewer sees the same pages, with read-only controls (the server refuses their writes anyway). */
  canWrite: boolean;
  /** Owns at least one project: manages the operators of the projects it owns. */
  isOwner: boolean;
  setScope(scope: Scope): void;
  refresh(): Promise<void>;
  signedOut(): void;
}

const SessionContext = createContext<Session | null>(null);

const SCOPE_KEY = 'gatehouse.dashboard.scope';

function savedScope(): Scope | null {
  try {
    const saved = JSON.parse(localStorage.getItem(SCOPE_KEY) ?? 'null') as Scope | null;
    return saved && typeof saved.projectId === 'string' && typeof saved.environment === 'string' ? saved : null;
  } catch {
    return null;
  }
}

/** The saved choice if the operator still has it, else their first project's first environment. */
function pickScope(projects: ProjectAccess[], wanted: Scope | null): Scope | null {
  const project = projects.find((p) => p.id === wanted?.projectId) ?? projects[0];
  if (!project) return null;
  const environment = project.environments.find((e) => e === wanted?.environment) ?? project.environments[0];
  return environment ? { projectId: project.id, environment } : null;
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const [scope, setScopeState] = useState<Scope | null>(null);

  const refresh = useCallback(async () => {
    try {
      const next = await operatorApi.me();
      setCsrfToken(next.csrfToken);
      setMe(next);
      setScopeState((current) => pickScope(next.projects, current ?? savedScope()));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      setCsrfToken('');
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    refresh().catch(() => setLoading(false));
  }, [refresh]);
  useEffect(() => {
    whenSignedOut(() => void refresh().catch(() => undefined));
    return () => whenSignedOut(null);
  }, [refresh]);

  const value = useMemo<Session>(() => {
    const project = me?.projects.find((p) => p.id === scope?.projectId) ?? null;
    return {
      me, loading, scope, project,
      canWrite: project !== null && project.role !== 'viewer',
      isOwner: Boolean(me?.projects.some((p) => p.role === 'owner')),
      setScope(next) {
        setScopeState(next);
        localStorage.setItem(SCOPE_KEY, JSON.stringify(next));
      },
      refresh,
      signedOut() {
        setCsrfToken('');
        setMe(null);
      },
    };
  }, [me, loading, scope, refresh]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
