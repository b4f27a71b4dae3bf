// One fan-out shares what it can (select verdicts of callers the rules cannot tell apart, one
// payload object per column view): every subscriber must still get exactly what its own view,
// worked out alone, gives it; subscribers with different masks never get the same object.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCaller, type Caller, type CallerKey } from '../../access/index.js';
import { buildTableModel } from '../../data/schema/model.js';
import { createMemoryBus } from '../bus/memory.js';
import { createChangeFeed } from './feed.js';
import { changesTopic, type ChangeMessage } from './message.js';
import type { ChangePayload } from './types.js';
import { canSelect, mask, viewOf } from './view.js';

const table = buildTableModel('posts', 'posts', {
  columns: {
    title: { type: 'text' },
    public: { type: 'boolean' },
    note: { type: 'text', read: ['self', 'admin'] },
    internal: { type: 'text', read: ['admin'] },
  },
  rules: { select: ['admin', 'self', 'public == true'] },
});

const key = (kind: CallerKey['kind'], id: string): CallerKey => ({ id, kind, projectId: 'p', environment: 'dev', scopes: null });
const user = (id: string, role = 'authenticated') => ({ id, role, sessionId: `s_${id}`, claims: {} });
const callers: Record<string, Caller> = {
  admin: createCaller(key('secret', 'k_s'), null),
  admin2: createCaller(key('secret', 'k_s2'), null),
  guestA: createCaller(key('publishable', 'k_p'), null),
  guestB: createCaller(key('publishable', 'k_p'), null),
  alice: createCaller(key('publishable', 'k_p'), user('usr_alice')),
  bob: createCaller(key('publishable', 'k_p'), user('usr_bob')),
  adminUser: createCaller(key('publishable', 'k_p'), user('usr_root', 'admin')),
};

const row = (id: string, isPublic: boolean) => ({ id, created_by: 'usr_alice', created_at: 't', updated_at: 't', title: `t-${id}`, public: isPublic, note: `note-${id}`, internal: `internal-${id}` });

describe('change feed fan-out', () => {
  it('each subscriber gets what its own view alone would give, and different masks never share a payload', async () => {
    const bus = createMemoryBus({ logger: pino({ level: 'silent' }) });
    const feed = createChangeFeed({ tables: async () => new Map([['posts', table]]), bus, logger: pino({ level: 'silent' }) });
    const got: Record<string, ChangePayload[]> = {};
    for (const [name, caller] of Object.entries(callers)) {
      got[name] = [];
      await feed.subscribe({ environment: { projectId: 'p', environment: 'dev' }, caller: () => caller, deliver: (p) => got[name]!.push(p) }, { event: '*', table: 'posts' });
    }
    const hidden = row('r1', false);
    const shown = row('r2', true);
    const message: ChangeMessage = {
      table: 'posts', seq: 1, commitTimestamp: '2026-01-01T00:00:00.000Z',
      changes: [
        { type: 'INSERT', record: hidden, old: null },
        { type: 'INSERT', record: shown, old: null },
        { type: 'UPDATE', record: { ...shown, public: false }, old: shown },
      ],
    };
    await bus.publish(changesTopic('p', 'dev'), message);
    await new Promise((r) => setTimeout(r, 20));

    // The oracle: each caller's own view, no sharing.
    for (const [name, caller] of Object.entries(callers)) {
      const view = viewOf(caller, table, undefined);
      const inserts = [hidden, shown].filter((r) => canSelect(view, r)).map((r) => mask(view, r));
      expect(got[name]!.filter((p) => p.type === 'INSERT').map((p) => p.record), name).toEqual(inserts);
    }
    const records = (name: string) => got[name]!.map((p) => [p.type, p.record.id ?? p.old_record.id]);
    for (const name of ['admin', 'admin2', 'alice', 'adminUser']) expect(records(name), name).toEqual([['INSERT', 'r1'], ['INSERT', 'r2'], ['UPDATE', 'r2']]);
    // Bob and the guests saw the public row go private: only its id, as a DELETE.
    for (const name of ['bob', 'guestA', 'guestB']) {
      expect(records(name), name).toEqual([['INSERT', 'r2'], ['DELETE', 'r2']]);
      expect(got[name]![1]!.old_record, name).toEqual({ id: 'r2' });
    }
    expect(got.bob![0]!.record).toMatchObject({ note: null });
    expect(Object.keys(got.guestA![0]!.record)).not.toContain('note');
    expect(Object.keys(got.alice![1]!.record)).not.toContain('internal');
    expect(got.alice![1]!.record).toMatchObject({ note: 'note-r2' });

    // Same column view, same object; a different mask, never the same object.
    expect(got.guestB![0]).toBe(got.guestA![0]);
    expect(got.admin2![1]).toBe(got.admin![1]);
    const distinct = ['admin', 'guestA', 'alice', 'bob'].map((name) => got[name]!.find((p) => p.type === 'INSERT' && p.record.id === 'r2'));
    expect(new Set(distinct).size).toBe(4);
    await feed.close();
  });
});
