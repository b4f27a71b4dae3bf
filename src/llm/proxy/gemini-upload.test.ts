import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import type { ResourceStore } from '../ownership/index.js';
import { effectiveEndpoints, matchEndpoint } from '../whitelist/index.js';
import { planGeminiUpload, type PlanInput } from './gemini-upload.js';

const match = matchEndpoint(effectiveEndpoints('gemini', { add: [], remove: [] }), 'POST', '/upload/v1beta/files')!;
const records = new Map([['up_alice', 'user:alice']]);
const store: ResourceStore = {
  owners: async (_scope, ids) => new Map(ids.flatMap((id) => (records.has(id) ? [[id, records.get(id)!] as const] : []))),
  record: async () => {},
  remove: async () => {},
  listByOwner: async () => [],
  unaccounted: async () => new Map(),
  claimAccounting: async () => false,
  uncountedBetween: async () => [],
};
const plan = (headers: Record<string, string>, query = '', owner = 'user:alice') => planGeminiUpload({
  headers, query, match, owner: { id: owner, enforced: true }, scope: { projectId: 'p', environment: 'dev', provider: 'gemini' }, store, maxBytes: 1000,
} satisfies PlanInput);
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof GatehouseError ? `${error.status} ${error.code}` : String(error);
  }
  return 'ok';
};

describe('Gemini upload requests', () => {
  it('a session command goes upstream with only upload_id and upload_protocol, and only for its owner', async () => {
    const p = plan({ 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0', 'content-length': '10', 'x-other': 'x' }, 'upload_id=up_alice&key=k&alt=json');
    expect(p.query).toBe('?upload_id=up_alice&upload_protocol=resumable');
    expect(p.headers).toEqual({ 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' });
    expect(p).toMatchObject({ rawBody: true, creates: true, maxBodyBytes: 1000 });
    expect(await p.authorize(undefined)).toBeNull();
    const bob = plan({ 'x-goog-upload-command': 'query' }, 'upload_id=up_alice', 'user:bob');
    expect(await bob.authorize(undefined)).toEqual({ kind: 'upload', where: 'path', reason: 'other_owner' });
    expect(await plan({ 'x-goog-upload-command': 'cancel' }, 'upload_id=up_unknown').authorize(undefined)).toMatchObject({ reason: 'not_recorded' });
  });

  it('malformed protocol headers and upload ids are 400, a file past the limit 413', () => {
    const start = { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' };
    expect(codeOf(() => plan(start))).toBe('ok');
    expect(codeOf(() => plan({ ...start, 'x-goog-upload-header-content-type': 'text/plain\r\nx-evil: 1' }))).toBe('400 bad_request');
    expect(codeOf(() => plan({ ...start, 'x-goog-upload-header-content-type': 'text/plain; charset=utf-8' }))).toBe('ok');
    expect(codeOf(() => plan({ ...start, 'x-goog-upload-header-content-length': '1e3' }))).toBe('400 bad_request');
    expect(codeOf(() => plan({ ...start, 'x-goog-upload-header-content-length': '1001' }))).toBe('413 payload_too_large');
    expect(codeOf(() => plan({ ...start, 'x-goog-upload-protocol': 'gopher' }))).toBe('400 bad_request');
    expect(codeOf(() => plan({ 'x-goog-upload-command': 'start' }))).toBe('400 bad_request'); // start without resumable
    expect(codeOf(() => plan({ 'x-goog-upload-command': 'query' }, 'upload_id=a%2Fb'))).toBe('400 bad_request');
    expect(codeOf(() => plan({ 'x-goog-upload-command': 'query' }, `upload_id=${'a'.repeat(513)}`))).toBe('400 bad_request');
    expect(codeOf(() => plan({ 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '995', 'content-length': '10' }, 'upload_id=up_alice'))).toBe('413 payload_too_large');
    const p = plan({ 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '995' }, 'upload_id=up_alice');
    expect(p.maxBodyBytes).toBe(5);
    expect(codeOf(() => p.chunk(Buffer.alloc(6)))).toBe('413 payload_too_large');
  });

  it('a one-shot upload keeps only alt and uploadType and reads its JSON body as usual', () => {
    const p = plan({ 'x-goog-upload-protocol': 'multipart' }, 'alt=json&uploadType=multipart&key=k&upload_protocol=resumable');
    expect(p).toMatchObject({ query: '?alt=json&uploadType=multipart', rawBody: false, creates: true });
    expect(plan({ 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' })).toMatchObject({ query: '', creates: false });
  });
});
