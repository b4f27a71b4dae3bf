// One member whose delivery throws (a socket that fails on send) does not stop the fan-out.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory.js';
import { createHub, type HubMember } from './hub.js';
import type { BroadcastBody } from './protocol.js';

const logger = pino({ level: 'silent' });

function member(scope: string, onBroadcast: (event: string, body: BroadcastBody) => void, onPresenceDiff: () => void = () => {}): HubMember {
  return { scope, self: false, onBroadcast, onPresenceDiff };
}

describe('realtime hub fan-out', () => {
  it('a member that throws does not keep the others from a broadcast or a presence diff', async () => {
    const hub = createHub({ bus: createMemoryBus({ logger }), logger, clock: { nowMs: () => Date.now() } });
    await hub.start();
    const got: string[] = [];
    const diffs: string[] = [];
    const fail = () => { throw new Error('send failed'); };
    const first = member('p:dev:public:room', (e) => got.push(`first:${e}`), () => diffs.push('first'));
    const broken = member('p:dev:public:room', fail, fail);
    const last = member('p:dev:public:room', (e) => got.push(`last:${e}`), () => diffs.push('last'));
    for (const m of [first, broken, last]) hub.add(m);
    expect(() => hub.broadcast('p:dev:public:room', 'ping', { json: { n: 1 } }, null)).not.toThrow();
    expect(got).toEqual(['first:ping', 'last:ping']);
    expect(() => hub.track(first, 'k', { online: true })).not.toThrow();
    expect(diffs).toEqual(['first', 'last']);
    await hub.close();
  });
});
