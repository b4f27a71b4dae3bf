// With REDIS_URL, operators' failed sign-ins count across instances, on the same counters as end
// users' (their own scope): spreading guesses over instances does not help.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { redisUrl } from '../harness/engines.js';
import { OWN_ORIGIN, PASSWORD } from './operators.js';

const url = redisUrl();

describe.runIf(url)('operator sign-in backoff shared through Redis (sqlite)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { REDIS_URL: url!, GATEHOUSE_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '2' };
    a = await startTestApp('sqlite', { env });
    b = await startTestApp('sqlite', { env, database: { databaseUrl: undefined, dataDir: a.config.dataDir } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('failures on one instance make another answer 429', async () => {
    const email = `ops-${Date.now()}@example.com`;
    await a.deps.operators.add({ email, password: PASSWORD, roles: [] });
    const signIn = (gh: TestApp, password: string) => gh.app.inject({
      method: 'POST', url: '/_/api/sign-in', headers: { origin: OWN_ORIGIN }, remoteAddress: '203.0.113.201', payload: { email, password },
    });
    expect((await signIn(a, 'wrong guess one')).statusCode).toBe(401);
    expect((await signIn(b, 'wrong guess two')).statusCode).toBe(401);
    const limited = await signIn(b, PASSWORD);
    expect([limited.statusCode, limited.json().error]).toEqual([429, 'over_request_rate_limit']);
    expect((await signIn(a, PASSWORD)).statusCode).toBe(429);
  });
});
