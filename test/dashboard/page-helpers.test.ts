// The dashboard's pure helpers that guard what a user types or a URL carries: where sign-in sends
// the browser next (never another origin), and the rate-limit window syntax of its forms.
import { describe, expect, it } from 'vitest';
import { parseWindows, windowsText } from '../../dashboard/src/limit-windows.js';
import { safeNextPath } from '../../dashboard/src/next-path.js';

describe('after sign-in, only a path inside the dashboard is followed', () => {
  it('keeps dashboard paths, with their query', () => {
    expect(safeNextPath('/keys')).toBe('/keys');
    expect(safeNextPath('/users/usr_abc?tab=sessions')).toBe('/users/usr_abc?tab=sessions');
    expect(safeNextPath('/')).toBe('/');
  });

  it('refuses other origins, scripts, odd characters and the sign-in page itself', () => {
    for (const next of [
      null, '', 'keys', '//evil.example', '//evil.example/_/keys', '/\\evil.example', '/\\/evil.example', 'https://evil.example',
      'javascript:alert(1)', ' /keys', '/keys\nSet-Cookie', '/sign-in', '/sign-in?next=%2Fkeys', '/sign-in/x',
    ]) {
      expect(safeNextPath(next), String(next)).toBe('/');
    }
  });
});

describe('rate-limit windows as typed in the forms', () => {
  it('reads requests/seconds, comma separated, and writes them back the same way', () => {
    const windows = parseWindows('100/60s, 1000 / 3600');
    expect(windows).toEqual([{ limit: 100, windowMs: 60_000 }, { limit: 1000, windowMs: 3_600_000 }]);
    expect(windowsText(windows)).toBe('100/60s, 1000/3600s');
    expect(parseWindows(windowsText(windows))).toEqual(windows);
  });

  it('refuses anything else with a message naming the part it could not read', () => {
    expect(() => parseWindows('100 per minute')).toThrow(/"100 per minute" is not a window/);
    expect(() => parseWindows('100/60s, -5/10s')).toThrow(/"-5\/10s"/);
    expect(() => parseWindows('1.5/60s')).toThrow(/is not a window/);
    expect(() => parseWindows('')).toThrow(/at least one window/);
    expect(() => parseWindows(' , ')).toThrow(/at least one window/);
  });
});
