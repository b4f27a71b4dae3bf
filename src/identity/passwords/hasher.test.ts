import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './hasher.js';

const OWASP = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

describe('Argon2id hasher', () => {
  it('hashes with the OWASP parameters in a PHC string and verifies', async () => {
    const hasher = await createPasswordHasher(OWASP);
    const phc = await hasher.hash('correct horse battery');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(phc, 'correct horse battery')).toBe(true);
    expect(await hasher.verify(phc, 'wrong horse battery')).toBe(false);
    expect(hasher.needsRehash(phc)).toBe(false);
  });

  it('asks for a rehash when the parameters changed, or the hash is not Argon2id', async () => {
    const old = await (await createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 })).hash('pw pw pw pw');
    const hasher = await createPasswordHasher(OWASP);
    expect(hasher.needsRehash(old)).toBe(true);
    expect(await hasher.verify(old, 'pw pw pw pw')).toBe(true); // still verifies before the upgrade
    expect(hasher.needsRehash('$2b$10$notargon')).toBe(true);
  });

  it('a malformed stored hash is a failed verification, not an exception', async () => {
    const hasher = await createPasswordHasher(OWASP);
    expect(await hasher.verify('garbage', 'pw')).toBe(false);
  });

  it('an unknown account costs a full Argon2 verification (dummy hash)', async () => {
    const hasher = await createPasswordHasher(OWASP);
    const phc = await hasher.hash('some password');
    const elapsed = async (fn: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start);
    };
    await hasher.verify(null, 'warm up');
    // Interleaved, so that load from other processes hits both sides alike.
    let real = 0;
    let dummy = 0;
    for (let i = 0; i < 6; i++) {
      real += await elapsed(() => hasher.verify(phc, 'wrong password'));
      dummy += await elapsed(() => hasher.verify(null, 'wrong password'));
    }
    expect(await hasher.verify(null, 'gatehouse-dummy-password-for-timing')).toBe(false); // never true
    // Same work within a wide margin (a busy CI box); a skipped hash would be ~1000x faster.
    expect(dummy / real).toBeGreaterThan(0.33);
    expect(dummy / real).toBeLessThan(3);
  });
});

describe('hash gate', () => {
  it('runs at most `concurrency` hashes at once and refuses past the queue', async () => {
    const hasher = await createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 }, { concurrency: 1, queueMax: 2 });
    const phc = await hasher.hash('gate test pw');
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => hasher.verify(phc, 'gate test pw')));
    // One runs, two wait, the fourth is refused at once with 503.
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(3);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).toBe('service_unavailable');
    expect(refused.reason.retryAfterS).toBe(1);
  });
});
