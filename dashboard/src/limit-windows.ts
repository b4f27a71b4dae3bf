/** One rate-limit window, as the admin API sends it (src/config/rate-limits.ts). */
export interface LimitWindow { limit: number; windowMs: number }

/** Windows as the rate-limit forms show them: "100/60s, 1000/3600s". */
export function windowsText(windows: readonly LimitWindow[] | undefined): string {
  return (windows ?? []).map((w) => `${w.limit}/${w.windowMs / 1000}s`).join(', ');
}

/** "100/60s, 1000/3600s" → windows; anything else is an error in plain words (the form shows it). */
export function parseWindows(text: string): LimitWindow[] {
  const windows = text.split(',').map((s) => s.trim()).filter(Boolean).map((part) => {
    const m = /^(\d{1,10})\s*\/\s*(\d{1,7})\s*s?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a window: write requests/seconds, e.g. 100/60s.`);
    return { limit: Number(m[1]), windowMs: Number(m[2]) * 1000 };
  });
  if (windows.length === 0) throw new Error('Give at least one window, e.g. 100/60s.');
  return windows;
}
