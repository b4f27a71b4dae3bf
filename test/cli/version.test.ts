// Issue 13 §3: `gatehouse --version` prints the installed package's version.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCliIn } from './run-cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('gatehouse --version', () => {
  it('prints the package version and exits 0, touching no data', async () => {
    for (const flag of ['--version', '-V']) {
      const res = await runCliIn({ env: { GATEHOUSE_DATA_DIR: '/nonexistent/gatehouse-version-test' } }, [flag]);
      expect(res).toEqual({ code: 0, out: `${version}\n`, err: '' });
    }
  });
});
