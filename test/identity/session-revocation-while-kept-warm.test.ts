// Session liveness is kept warm (shared/ttl-cache.ts): an instance reads a session in use again in
// the background before its cache entry expires. Those reads must see a sign-out made on another
// instance, so the revocation bound (GATEHOUSE_SESSION_CACHE_MS) holds as without keep-warm.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { engines } from '../harness/engines.js';
import { createTestUser } from '../harness/users.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(engines())('a session kept warm on another instance (%s)', (engine) => {
  let gh: TestApp;
  let second: TestApp;
  beforeEach(async () => {
    gh = await startTestApp(engine);
    second = await startTestApp(engine, {
      database: { databaseUrl: gh.config.databaseUrl, dataDir: gh.config.dataDir }, env: { GATEHOUSE_SESSION_CACHE_MS: '200' },
    });
  });
  afterEach(async () => {
    await second.close();
    await gh.close();
  });

  it('is refused within the cache TTL once signed out on the first', async () => {
    const user = await createTestUser(gh);
    const headers = { apikey: gh.publishableKey, authorization: `Bearer ${user.accessToken}` };
    const me = () => second.app.inject({ url: '/auth/v1/user', headers });
    expect((await me()).statusCode).toBe(200);
    await sleep(450); // two TTLs of quiet: the entry is read again in the background meanwhile
    expect((await me()).statusCode).toBe(200);
    expect((await gh.app.inject({ method: 'POST', url: '/auth/v1/logout', headers })).statusCode).toBe(204);
    await sleep(250); // one TTL
    expect((await me()).statusCode).toBe(403);
  });
});
