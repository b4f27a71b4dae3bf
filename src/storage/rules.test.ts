import { describe, expect, it } from 'vitest';
import { engines } from '../../test/harness/engines.js';
import { useMigratedStorage } from '../../test/harness/storage.js';
import type { AuthContext } from '../data/index.js';
import { foldersOf } from './paths.js';
import { allowedRows, allows, parseBucketRules, rulesFromText, type BucketRuleSources } from './rules.js';

// The in-memory verdict (uploads: no row yet) and the SQL predicate (listings) must agree on every
// object, for every caller, or a listing would show what a download refuses (or the reverse).

const ALICE: AuthContext = { group: 'user', uid: 'usr_alice', role: 'authenticated', claims: { team: 'red' } };
const BOB: AuthContext = { group: 'user', uid: 'usr_bob', role: 'authenticated', claims: {} };
const GUEST: AuthContext = { group: 'guest', uid: null, role: null, claims: {} };
const ADMIN: AuthContext = { group: 'admin', uid: null, role: null, claims: {} };

const RULE_SETS: BucketRuleSources[] = [
  {},
  { select: ['folder[0] == auth.uid', 'folder[0] == "shared"'] },
  { select: ['guest'] },
  { select: ['!(owner == auth.uid)'] },
  { select: ['folder[1] == auth.claims.team && bucket == "b"'] },
  { select: ['name == "shared/readme.txt" || folder[3] != null'] },
  { select: ['metadata.visibility == "team"'] },
  { select: ['!(metadata.visibility == "team")', 'metadata.level >= "2"'] },
  { select: ['metadata.team == auth.claims.team || metadata.owner_id == owner'] },
  { select: ['metadata.visibility != null && metadata.Visibility == null'] },
];

// Metadata as stored: a string value, values of other JSON types (null in rules on both engines,
// though SQLite would read 5 as a number and PostgreSQL as '5'), case-distinct keys, no metadata.
const OBJECTS: ReadonlyArray<readonly [string, string | null, string | null]> = [
  ['usr_alice/a.txt', 'usr_alice', '{"visibility":"team","team":"red"}'], ['usr_bob/b.txt', 'usr_bob', '{"visibility":"private","level":"3"}'],
  ['shared/readme.txt', null, null], ['teams/red/x.txt', 'usr_bob', '{"visibility":true,"level":2,"owner_id":"usr_bob"}'],
  ['a/b/c/d/e.txt', 'usr_alice', '{"Visibility":"team","visibility":"team","team":["red"]}'], ['top.txt', null, '{}'],
  ['nested.txt', 'usr_bob', '{"visibility":{"a":"team"},"team":"red","owner_id":"usr_alice"}'],
];

describe.each(engines())('storage rules: memory and SQL agree (%s)', (engine) => {
  const fresh = useMigratedStorage(engine);

  it('on every object, rule set and caller', async () => {
    const db = fresh.storage.db;
    for (const [i, [name, owner, metadata]] of OBJECTS.entries()) {
      const folders = foldersOf(name);
      await db.insertInto('storage_objects').values({
        id: `obj_${i}`, project_id: 'p', environment: 'dev', bucket_id: 'b', name, owner,
        folder_0: folders[0] ?? null, folder_1: folders[1] ?? null, folder_2: folders[2] ?? null, folder_3: folders[3] ?? null,
        version: `v${i}`, size: 1, mimetype: 'text/plain', etag: 'e', cache_control: null, metadata, created_at: 'x', updated_at: 'x',
      }).execute();
    }
    for (const sources of RULE_SETS) {
      const rules = parseBucketRules(sources);
      for (const auth of [ALICE, BOB, GUEST, ADMIN]) {
        const inSql = (await db.selectFrom('storage_objects').select('name').where((eb) => allowedRows(eb, rules, 'select', auth, fresh.storage.capabilities.json)).orderBy('name').execute()).map((r) => r.name);
        const inMemory = OBJECTS.filter(([name, owner, metadata]) => allows(rules, 'select', auth, { bucket: 'b', name, owner, metadata })).map(([name]) => name).sort();
        expect(inSql, `${JSON.stringify(sources)} as ${auth.uid ?? auth.group}`).toEqual(inMemory);
      }
    }
    // Not vacuous: the metadata rule picks exactly the objects whose visibility is the string "team".
    const team = parseBucketRules({ select: ['metadata.visibility == "team"'] });
    const picked = await db.selectFrom('storage_objects').select('name').where((eb) => allowedRows(eb, team, 'select', BOB, fresh.storage.capabilities.json)).orderBy('name').execute();
    expect(picked.map((r) => r.name)).toEqual(['a/b/c/d/e.txt', 'usr_alice/a.txt']);
  });
});

describe('storage rules: parsing', () => {
  it('a private bucket without rules is owner only', () => {
    const rules = parseBucketRules(null);
    expect(allows(rules, 'select', ALICE, { bucket: 'b', name: 'x', owner: 'usr_alice' })).toBe(true);
    expect(allows(rules, 'select', BOB, { bucket: 'b', name: 'x', owner: 'usr_alice' })).toBe(false);
    expect(allows(rules, 'select', GUEST, { bucket: 'b', name: 'x', owner: null })).toBe(false);
    expect(allows(rules, 'insert', GUEST, { bucket: 'b', name: 'x', owner: null })).toBe(false);
  });

  it('refuses unknown names, bad syntax and the wrong shapes', () => {
    expect(() => parseBucketRules({ select: ['created_at > 1'] })).toThrow(/unknown name created_at/);
    expect(() => parseBucketRules({ select: ['folder[9] == "x"'] })).toThrow(/unknown name folder\[9\]/);
    expect(() => parseBucketRules({ select: ['metadata.a.b == "x"'] })).toThrow(/unknown name metadata\.a\.b/);
    expect(() => parseBucketRules({ select: ['metadata == "x"'] })).toThrow(/unknown name metadata /);
    expect(() => parseBucketRules({ select: [`metadata.${'k'.repeat(65)} == "x"`] })).toThrow(/unknown name metadata\.k+/);
    expect(() => parseBucketRules({ select: ['metadata.x[0] == "x"'] })).toThrow(/unknown name metadata\.x\[0\]/);
    expect(() => parseBucketRules({ select: ['metadata."a" == "x"'] })).toThrow(/not valid/);
    expect(() => parseBucketRules({ select: ["metadata.a') == 'x"] })).toThrow(/not valid/);
    expect(() => parseBucketRules({ select: ['owner.id == "x"'] })).toThrow(/unknown name owner\.id/);
    expect(() => parseBucketRules({ select: ['name =='] })).toThrow(/not valid/);
    expect(() => parseBucketRules({ select: 'admin' as unknown as string[] })).toThrow(/list/);
    expect(() => parseBucketRules({ select: Array(17).fill('admin') as string[] })).toThrow(/at most 16/);
  });

  it('a bucket row\'s rule text is parsed once: the same text gives the same rules, a changed text new ones', () => {
    const text = JSON.stringify({ select: ['folder[0] == auth.uid'] });
    const first = rulesFromText(text);
    // A copy of the text (as a fresh row read makes) finds the same parsed rules, not a new parse.
    expect(rulesFromText(`${text} `.trimEnd())).toBe(first);
    expect(first.sources).toEqual({ select: ['folder[0] == auth.uid'] });
    expect(allows(first.rules, 'select', ALICE, { bucket: 'b', name: 'usr_alice/x', owner: null })).toBe(true);
    const changed = rulesFromText(JSON.stringify({ select: ['folder[0] == "shared"'] }));
    expect(changed).not.toBe(first);
    expect(allows(changed.rules, 'select', ALICE, { bucket: 'b', name: 'usr_alice/x', owner: null })).toBe(false);
    // No rules: the defaults, parsed once for every bucket.
    expect(rulesFromText(null)).toEqual({ sources: null, rules: parseBucketRules(null) });
    expect(rulesFromText(null).rules).toBe(rulesFromText(null).rules);
  });
});
