/**
 * Where to go after signing in: `next` comes from the URL, so anyone can craft it. Only a path
 * inside the dashboard is followed — never another origin (`//host`, `/\host`, `https:`), never a
 * `javascript:` URL, never the sign-in page itself (a loop).
 */
export function safeNextPath(next: string | null): string {
  if (!next || !/^\/(?![/\\])[^\\\s]*$/.test(next)) return '/';
  if (next === '/sign-in' || next.startsWith('/sign-in?') || next.startsWith('/sign-in/')) return '/';
  return next;
}
