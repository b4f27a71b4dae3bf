// With REDIS_URL, failed sign-ins count across instances: spreading guesses over them does not help.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { redisUrl } from '../harness/engines.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';

const url = redisUrl();

describe.runIf(url)('sign-in backoff shared through Redis (sqlite)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { ...generousAuthLimitsEnv(), REDIS_URL: url!, GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '2' };
    a = await startTestApp('sqlite', { env });
    b = await startTestApp('sqlite', { env, database: { databaseUrl: undefined, dataDir: a.config.dataDir } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('failures on one instance make another answer 429', async () => {
    const u = await createTestUser(a, { email: `shared-${Date.now()}@example.test` });
    const signIn = (gh: TestApp, password: string) => gh.app.inject({
      method: 'POST', url: '/auth/v1/token?grant_type=password', headers: { apikey: a.publishableKey }, remoteAddress: '203.0.113.200', payload: { email: u.email, password },
    });
    expect((await signIn(a, 'wrong guess one')).statusCode).toBe(400);
    expect((await signIn(b, 'wrong guess two')).statusCode).toBe(400);
    const limited = await signIn(b, u.password);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error_code).toBe('over_request_rate_limit');
    expect((await signIn(a, u.password)).statusCode).toBe(429);
  });
});
