// deploy/prometheus: the alert rules load in Prometheus (`promtool check rules`) and each alert
// fires where it should and only there, on synthetic series (`promtool test rules`).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY, run, skipWithout, tool } from './tools.js';

const DIR = join(DEPLOY, 'prometheus');

describe.skipIf(skipWithout('promtool'))('Prometheus alert rules', () => {
  it('promtool check rules accepts alerts.yml, lint included', async () => {
    const result = await run(tool('promtool'), ['check', 'rules', '--lint=all', '--lint-fatal', 'alerts.yml'], { cwd: DIR });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires on its synthetic incident and stays quiet on the near misses', async () => {
    const result = await run(tool('promtool'), ['test', 'rules', 'alerts.test.yml'], { cwd: DIR });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });
});

describe('alert coverage', () => {
  it('every alert has a firing case in alerts.test.yml and a runbook entry in docs/operations.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const rules = await readFile(join(DIR, 'alerts.yml'), 'utf8');
    const tests = await readFile(join(DIR, 'alerts.test.yml'), 'utf8');
    const runbook = await readFile(join(DEPLOY, '..', 'docs', 'operations.md'), 'utf8');
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThan(0);
    // A firing case: the alert's name followed by a non-empty exp_alerts list.
    const untested = alerts.filter((a) => !new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests));
    const undocumented = alerts.filter((a) => !new RegExp(`^### ${a}$`, 'm').test(runbook));
    const unlinked = alerts.filter((a) => !rules.includes(`runbook_url: "docs/operations.md#${a.toLowerCase()}"`));
    expect({ untested, undocumented, unlinked }).toEqual({ untested: [], undocumented: [], unlinked: [] });
  });
});
