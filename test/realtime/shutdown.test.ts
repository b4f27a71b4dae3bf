import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnGatehouse } from '../harness/gatehouse-process.js';
import { rawSocket } from './socket-world.js';

// SIGTERM with sockets open: each gets a close frame (1001, going away) and the process stops
// with the drained outcome, instead of waiting on them or cutting them without a word.

describe('realtime sockets at graceful shutdown', () => {
  it('SIGTERM closes every socket with 1001 and the process exits cleanly', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gh-rt-stop-'));
    const gh = await spawnGatehouse({ dataDir });
    try {
      const key = /publishable \(client side\): (\S+)/.exec(gh.output())?.[1];
      expect(key).toBeDefined();
      const sockets = await Promise.all([1, 2, 3].map(() => rawSocket(`${gh.url}/realtime/v1/websocket?apikey=${key}`)));
      for (const s of sockets) {
        s.push(null, 'h', 'phoenix', 'heartbeat', {});
        expect((await s.reply('h')).status).toBe('ok');
      }
      gh.kill('SIGTERM');
      for (const s of sockets) expect(await s.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      expect((await gh.exited).code).toBe(0);
      expect(gh.output()).toContain('"outcome":"drained"');
    } finally {
      if (gh.alive()) gh.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
