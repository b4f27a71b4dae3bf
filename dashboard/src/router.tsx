// History API routing under /_/ (no hash): every deep link is a real URL the server answers with
// index.html. Hand-written because it is 40 lines: a router library would be most of the bundle
// of a page this size and we need neither nested routes nor loaders.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/_';

/** The path inside the dashboard: '/_/keys' → '/keys', '/_/' → '/'. */
export function currentPath(): string {
  const path = location.pathname.startsWith(`${BASE}/`) ? location.pathname.slice(BASE.length) : '/';
  return path === '' ? '/' : path;
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(path: string, { replace = false } = {}): void {
  const url = `${BASE}${path.startsWith('/') ? path : `/${path}`}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  if (!replace) scrollTo(0, 0);
}

/** Re-renders the caller on every navigation; returns the current dashboard path. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

export function Link({ to, children, onNavigate, ...rest }: {
  to: string; children: ComponentChildren; onNavigate?: () => void; class?: string; 'aria-current'?: 'page';
}) {
  const onClick = (event: MouseEvent) => {
    // Let the browser handle new tabs and windows.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
    onNavigate?.();
  };
  return <a href={`${BASE}${to}`} onClick={onClick} {...rest}>{children}</a>;
}
