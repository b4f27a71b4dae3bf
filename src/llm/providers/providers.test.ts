import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, type FreshDatabase } from '../../../test/harness/engines.js';
import { migratedStorage } from '../../../test/harness/storage.js';
import { createKeyring, createSqlDataKeyStore } from '../../crypto/index.js';
import type { Storage } from '../../db/index.js';
import { createProjectService } from '../../tenancy/index.js';
import { createProviderService, createProviderStore, type ProviderService } from './index.js';
import { clockAt } from '../../shared/clock.js';

const clock = clockAt(() => Date.parse('2026-11-23T12:00:00Z'));
const KEY = 'sk-live-provider-key-abcdef123456';

describe.each(engines())('provider settings (%s)', (engine) => {
  let db: FreshDatabase;
  let storage: Storage;
  let providers: ProviderService;
  let projectId: string;

  beforeEach(async () => {
    ({ db, storage } = await migratedStorage(engine));
    projectId = (await createProjectService({ db: storage.db, clock, devOrigins: [] }).create('p1')).id;
    const keyring = createKeyring({ masterKey: randomBytes(32), store: createSqlDataKeyStore(storage.db) });
    providers = createProviderService({ store: createProviderStore(storage.db), keyring, clock, cacheMs: 60_000 });
  });
  afterEach(async () => {
    await storage.close();
    await db.cleanup();
  });

  it('the key is stored sealed, never returned, and decrypted for the proxy only', async () => {
    const summary = await providers.put(projectId, 'dev', 'openai', { apiKey: KEY });
    expect(JSON.stringify(summary)).not.toContain(KEY);
    expect(summary).toMatchObject({ kind: 'openai', base_url: 'https://api.openai.com', has_key: true, key_last_four: '3456' });
    const rows = await storage.db.selectFrom('llm_providers').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(KEY);
    expect(JSON.stringify(rows)).not.toContain(Buffer.from(KEY).toString('base64'));
    expect((await providers.resolve(projectId, 'dev', 'openai'))?.apiKey).toBe(KEY);
    expect(await providers.resolve(projectId, 'prod', 'openai')).toBeNull();
  });

  it('a sealed key copied to another provider or environment does not decrypt', async () => {
    await providers.put(projectId, 'dev', 'openai', { apiKey: KEY });
    await providers.put(projectId, 'dev', 'groq', { baseUrl: 'https://api.groq.com/openai', apiKey: 'gsk_other_key_123' });
    const sealed = (await storage.db.selectFrom('llm_providers').select('key_ciphertext').where('name', '=', 'openai').executeTakeFirstOrThrow()).key_ciphertext;
    await storage.db.updateTable('llm_providers').set({ key_ciphertext: sealed }).where('name', '=', 'groq').execute();
    await expect(providers.resolve(projectId, 'dev', 'groq')).rejects.toThrow();
  });

  it('changes apply at once in this process (cache invalidated)', async () => {
    await providers.put(projectId, 'dev', 'openai', { apiKey: KEY });
    expect((await providers.resolve(projectId, 'dev', 'openai'))?.apiKey).toBe(KEY);
    await providers.put(projectId, 'dev', 'openai', { enabled: false });
    expect(await providers.resolve(projectId, 'dev', 'openai')).toBeNull();
  });

  it('refuses bad settings with the field named', async () => {
    await expect(providers.put(projectId, 'dev', 'groq', { apiKey: KEY })).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'base_url' }] });
    await expect(providers.put(projectId, 'dev', 'local', { baseUrl: 'http://user:pw@10.0.0.1:8000' })).rejects.toMatchObject({ details: [{ field: 'base_url' }] });
    await expect(providers.put(projectId, 'dev', 'local', { baseUrl: 'file:///etc/passwd' })).rejects.toMatchObject({ details: [{ field: 'base_url' }] });
    await expect(providers.put(projectId, 'dev', 'anthropic', { kind: 'openai' })).rejects.toMatchObject({ details: [{ field: 'kind' }] });
    await expect(providers.put(projectId, 'dev', 'anthropic-proxy', { baseUrl: 'https://x.example' })).rejects.toMatchObject({ details: [{ field: 'name' }] });
    await expect(providers.put(projectId, 'dev', 'openai', { endpointsAdd: ['GET /v1/organization/users'] })).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await storage.db.selectFrom('llm_providers').selectAll().execute()).toEqual([]);
  });

  it('an OpenAI-compatible provider without a key sends no auth header', async () => {
    await providers.put(projectId, 'dev', 'ollama', { baseUrl: 'http://127.0.0.1:11434/' });
    const resolved = await providers.resolve(projectId, 'dev', 'ollama');
    expect(resolved).toMatchObject({ kind: 'openai', origin: 'http://127.0.0.1:11434', basePath: '', apiKey: null });
  });
});
