// The dashboard build (dist/dashboard) that a Gatehouse started from this checkout serves at /_/.
// The vitest global setup calls this once per run, before any test file starts, so test files
// never rebuild it under each other's running servers: rebuilt only when dashboard/ or the build
// script is newer than the build (milliseconds when nothing changed; esbuild, ~1 s, otherwise).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD_BUILD = join(ROOT, 'dist', 'dashboard');

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

/** Builds dist/dashboard when it is missing or older than its sources. */
export function ensureDashboardBuilt(): void {
  const script = join(ROOT, 'scripts', 'build-dashboard.mjs');
  if (!existsSync(join(ROOT, 'dashboard', 'src')) || !existsSync(script)) return;
  const index = join(DASHBOARD_BUILD, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newestMtimeMs(join(ROOT, 'dashboard')), newestMtimeMs(script));
  if (built > sources) return;
  execFileSync(process.execPath, [script], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
}
