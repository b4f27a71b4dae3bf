// deploy/systemd/gatehouse.service: `systemd-analyze verify` accepts it and `systemd-analyze
// security` rates its exposure low. verify needs ExecStart's program to exist, so the test checks
// a copy whose ExecStart names this machine's node (the only change). systemd does not run here
// (no service manager in the test machine): the unit is verified, not started.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { DEPLOY, run, skipWithout, tool } from './tools.js';

const UNIT = join(DEPLOY, 'systemd', 'gatehouse.service');

function settings(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
}

describe('systemd unit: what it must say', () => {
  it('is hardened: no new privileges, no capability, read-only system but the data dir, private /tmp, and it outwaits the shutdown', async () => {
    const unit = await readFile(UNIT, 'utf8');
    const dataDir = settings(unit, 'Environment').find((e) => e.startsWith('GATEHOUSE_DATA_DIR='))!.split('=')[1];
    expect({
      NoNewPrivileges: settings(unit, 'NoNewPrivileges'),
      CapabilityBoundingSet: settings(unit, 'CapabilityBoundingSet'),
      AmbientCapabilities: settings(unit, 'AmbientCapabilities'),
      ProtectSystem: settings(unit, 'ProtectSystem'),
      ProtectHome: settings(unit, 'ProtectHome'),
      PrivateTmp: settings(unit, 'PrivateTmp'),
      ReadWritePaths: settings(unit, 'ReadWritePaths'),
      UMask: settings(unit, 'UMask'),
      User: settings(unit, 'User'),
      KillSignal: settings(unit, 'KillSignal'),
    }).toEqual({
      NoNewPrivileges: ['yes'], CapabilityBoundingSet: [''], AmbientCapabilities: [''], ProtectSystem: ['strict'], ProtectHome: ['yes'],
      PrivateTmp: ['yes'], ReadWritePaths: [dataDir], UMask: ['0077'], User: ['gatehouse'], KillSignal: ['SIGTERM'],
    });
    expect(settings(unit, 'Environment')).toContain('GATEHOUSE_MODE=production');
    // The master key comes as a credential, never as an environment value.
    expect(unit).not.toMatch(/^Environment=GATEHOUSE_MASTER_KEY=/m);
    expect(settings(unit, 'Environment')).toContain('GATEHOUSE_MASTER_KEY_FILE=%d/master.key');
    // SIGKILL only after the drain (default deadline) + the cut streams' grace and the flush (3 s).
    const [stop] = settings(unit, 'TimeoutStopSec');
    expect(Number(/^(\d+)s$/.exec(stop!)![1]) * 1000).toBeGreaterThan(loadConfig({ env: {} }).shutdownTimeoutMs + 3_000);
  });
});

describe.skipIf(skipWithout('systemd-analyze'))('systemd unit: systemd-analyze', () => {
  let dir: string;
  let copy: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-systemd-'));
    copy = join(dir, 'gatehouse.service');
    const unit = await readFile(UNIT, 'utf8');
    const rewritten = unit.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `);
    expect(rewritten).toContain(`ExecStart=${process.execPath} /opt/gatehouse/bin/gatehouse.js start`);
    await writeFile(copy, rewritten);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('systemd-analyze verify reports nothing', async () => {
    const result = await run(tool('systemd-analyze'), ['verify', copy], { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.trim()).toBe('');
  });

  it('systemd-analyze security rates the exposure at most 2.0 ("OK")', async () => {
    // --threshold is on the 0-100 scale behind the printed 0.0-10.0 figure.
    const result = await run(tool('systemd-analyze'), ['security', '--offline=true', '--threshold=20', copy], { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    expect(result.code, result.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')).toBe(0);
    expect(result.stdout).toMatch(/Overall exposure level for gatehouse\.service: (1\.\d|2\.0) /);
  });
});
