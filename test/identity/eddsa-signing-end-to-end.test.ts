// Signing algorithm choice (identity.signingAlg): EdDSA works end to end too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createTestUser, generousAuthLimitsEnv } from '../harness/users.js';

describe('EdDSA signing keys (sqlite)', () => {
  let gh: TestApp;
  beforeAll(async () => { gh = await startTestApp('sqlite', { env: { ...generousAuthLimitsEnv(), GATEHOUSE_JWT_SIGNING_ALG: 'EdDSA' } }); });
  afterAll(async () => { await gh?.close(); });

  it('signs with EdDSA, publishes an OKP key, and verifies', async () => {
    const u = await createTestUser(gh);
    expect(JSON.parse(Buffer.from(u.accessToken.split('.')[0]!, 'base64url').toString()).alg).toBe('EdDSA');
    const jwks = (await gh.app.inject({ url: '/auth/v1/.well-known/jwks.json', headers: { apikey: gh.publishableKey } })).json();
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks.keys[0].d).toBeUndefined();
    const me = await gh.app.inject({ url: '/auth/v1/user', headers: { apikey: gh.publishableKey, authorization: `Bearer ${u.accessToken}` } });
    expect(me.statusCode).toBe(200);
  });
});
