import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, type FreshDatabase } from '../../../test/harness/engines.js';
import { migratedStorage } from '../../../test/harness/storage.js';
import type { Storage } from '../../db/index.js';
import { clockAt, type Clock } from '../../shared/clock.js';
import { createProjectService } from '../../tenancy/index.js';
import { effectiveEndpoints, matchEndpoint } from '../whitelist/index.js';
import { authorizeResources, bodyReferences, createResourceStore, filterList, recordOutcome, type Owner, type ResourceStore } from './index.js';

const clock: Clock = clockAt(() => Date.parse('2026-11-23T12:00:00Z'));
const endpoints = effectiveEndpoints('openai', { add: [], remove: [] });
const match = (method: string, path: string) => matchEndpoint(endpoints, method, path)!;
const alice: Owner = { id: 'user:alice', enforced: true };
const bob: Owner = { id: 'user:bob', enforced: true };

describe.each(engines())('resource ownership (%s)', (engine) => {
  let db: FreshDatabase;
  let storage: Storage;
  let store: ResourceStore;
  let scope: { projectId: string; environment: string; provider: string };

  beforeEach(async () => {
    ({ db, storage } = await migratedStorage(engine));
    const project = await createProjectService({ db: storage.db, clock, devOrigins: [] }).create('p1');
    scope = { projectId: project.id, environment: 'dev', provider: 'openai' };
    store = createResourceStore(storage.db, clock);
  });
  afterEach(async () => {
    await storage.close();
    await db.cleanup();
  });

  it('a created resource belongs to its creator and an id is never reassigned', async () => {
    await recordOutcome(store, scope, alice, 'openai', match('POST', '/v1/files'), 'POST', { id: 'file-1', object: 'file' });
    await recordOutcome(store, scope, bob, 'openai', match('POST', '/v1/files'), 'POST', { id: 'file-1', object: 'file' });
    expect(await store.owners(scope, ['file-1'])).toEqual(new Map([['file-1', 'user:alice']]));
  });

  it('another user\'s or an unknown id is denied the same way, in path or body', async () => {
    await store.record(scope, alice.id, [{ kind: 'thread', id: 'thread_a' }, { kind: 'file', id: 'file-a' }]);
    expect(await authorizeResources(store, scope, alice, match('GET', '/v1/threads/thread_a'), undefined)).toBeNull();
    expect(await authorizeResources(store, scope, bob, match('GET', '/v1/threads/thread_a'), undefined)).toMatchObject({ reason: 'other_owner', where: 'path' });
    expect(await authorizeResources(store, scope, bob, match('GET', '/v1/threads/thread_zz'), undefined)).toMatchObject({ reason: 'not_recorded' });
    const body = { model: 'x', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-a' }] }] };
    expect(await authorizeResources(store, scope, bob, match('POST', '/v1/responses'), body)).toMatchObject({ where: 'body', kind: 'file' });
    expect(await authorizeResources(store, scope, alice, match('POST', '/v1/responses'), body)).toBeNull();
  });

  it('nested resources pass under an owned parent unless recorded to someone else', async () => {
    await store.record(scope, alice.id, [{ kind: 'thread', id: 'thread_a' }]);
    await store.record(scope, bob.id, [{ kind: 'thread', id: 'thread_b' }, { kind: 'message', id: 'msg_b' }]);
    expect(await authorizeResources(store, scope, alice, match('GET', '/v1/threads/thread_a/messages/msg_unrecorded'), undefined)).toBeNull();
    expect(await authorizeResources(store, scope, alice, match('GET', '/v1/threads/thread_a/messages/msg_b'), undefined)).toMatchObject({ reason: 'other_owner' });
    expect(await authorizeResources(store, scope, alice, match('GET', '/v1/threads/thread_b/runs'), undefined)).toMatchObject({ kind: 'thread' });
  });

  it('a secret key is not limited; deleting removes the record, detaching does not', async () => {
    expect(await authorizeResources(store, scope, { id: 'key:k', enforced: false }, match('GET', '/v1/files/file-x'), undefined)).toBeNull();
    await store.record(scope, alice.id, [{ kind: 'file', id: 'file-a' }, { kind: 'vector_store', id: 'vs_a' }]);
    await recordOutcome(store, scope, alice, 'openai', match('DELETE', '/v1/vector_stores/vs_a/files/file-a'), 'DELETE', {});
    expect((await store.owners(scope, ['file-a'])).size).toBe(1);
    await recordOutcome(store, scope, alice, 'openai', match('DELETE', '/v1/files/file-a'), 'DELETE', {});
    expect((await store.owners(scope, ['file-a'])).size).toBe(0);
  });

  it('a run creates its thread; a batch reveals its output file to the batch owner', async () => {
    await recordOutcome(store, scope, alice, 'openai', match('POST', '/v1/threads/runs'), 'POST', { id: 'run_1', object: 'thread.run', thread_id: 'thread_new' });
    await store.record(scope, alice.id, [{ kind: 'batch', id: 'batch_1' }]);
    await recordOutcome(store, scope, alice, 'openai', match('GET', '/v1/batches/batch_1'), 'GET', { id: 'batch_1', object: 'batch', output_file_id: 'file-out' });
    const owners = await store.owners(scope, ['run_1', 'thread_new', 'file-out']);
    expect([...owners.values()]).toEqual(['user:alice', 'user:alice', 'user:alice']);
  });

  it('an Anthropic message records the container it ran in; another user cannot reuse it', async () => {
    const a = { ...scope, provider: 'anthropic' };
    const anthropic = effectiveEndpoints('anthropic', { add: [], remove: [] });
    const messages = matchEndpoint(anthropic, 'POST', '/v1/messages')!;
    await recordOutcome(store, a, alice, 'anthropic', messages, 'POST', { id: 'msg_1', type: 'message', container: { id: 'container_1' } });
    expect(await authorizeResources(store, a, bob, messages, { container: 'container_1' })).toMatchObject({ kind: 'container', where: 'body' });
    expect(await authorizeResources(store, a, alice, messages, { container: 'container_1' })).toBeNull();
  });

  it('lists keep only the caller\'s items', async () => {
    await store.record(scope, alice.id, [{ kind: 'file', id: 'file-a' }]);
    await store.record(scope, bob.id, [{ kind: 'file', id: 'file-b' }]);
    const page = { object: 'list', data: [{ id: 'file-b' }, { id: 'file-a' }, { id: 'file-unknown' }], first_id: 'file-b', last_id: 'file-unknown', has_more: true };
    // Both cursors name the caller's own items: the provider's last_id was someone else's (or no one's) file.
    expect(await filterList(store, scope, alice, 'openai', page)).toEqual({ ...page, data: [{ id: 'file-a' }], first_id: 'file-a', last_id: 'file-a' });
    expect(await filterList(store, scope, bob, 'openai', { unexpected: true })).toEqual({ unexpected: true, data: [] });
  });

  it('records are per project environment and provider', async () => {
    await store.record(scope, alice.id, [{ kind: 'file', id: 'file-a' }]);
    expect((await store.owners({ ...scope, provider: 'groq' }, ['file-a'])).size).toBe(0);
    expect((await store.owners({ ...scope, environment: 'prod' }, ['file-a'])).size).toBe(0);
  });
});

describe('body references', () => {
  it('finds ids anywhere, in strings, arrays and objects, ignoring keywords', () => {
    const refs = bodyReferences({
      assistant_id: 'asst_1',
      tool_resources: { file_search: { vector_store_ids: ['vs_1', 'vs_2'] }, code_interpreter: { file_ids: ['file-1'] } },
      messages: [{ attachments: [{ file_id: 'file-2' }] }],
      tools: [{ type: 'code_interpreter', container: 'auto' }],
      conversation: { id: 'conv_1' },
      contents: [{ parts: [{ fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }] }],
    });
    expect(refs.map((r) => `${r.kind}:${r.id}`).sort()).toEqual(['assistant:asst_1', 'conversation:conv_1', 'file:abc', 'file:file-1', 'file:file-2', 'vector_store:vs_1', 'vector_store:vs_2'].sort());
  });

  it('a Gemini file URI that does not normalise to one file is refused (unreadable); other URIs are not references', () => {
    const uris = (fileUri: string) => bodyReferences({ contents: [{ parts: [{ fileData: { fileUri } }] }] }).map((r) => (r.unreadable ? `unreadable:${r.id}` : r.id));
    expect(uris('files/abc')).toEqual(['abc']);
    expect(uris('https://generativelanguage.googleapis.com/v1beta/files/abc?alt=media')).toEqual(['unreadable:https://generativelanguage.googleapis.com/v1beta/files/abc?alt=media']);
    expect(uris('https://generativelanguage.googleapis.com/v1beta/files/abc:download')).toEqual(['unreadable:https://generativelanguage.googleapis.com/v1beta/files/abc:download']);
    expect(uris('https://www.youtube.com/watch?v=x')).toEqual([]);
    expect(uris('gs://bucket/video.mp4')).toEqual([]);
  });
});
