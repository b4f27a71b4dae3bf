import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../errors/index.js';
import { createAdmission } from './admission.js';

const origin = 'https://api.example';
const request = (subject: string, projectId = 'p1') => ({ origin, provider: 'openai', subject, projectId });

function refusal(run: () => unknown): GatehouseError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatehouseError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('admission: requests in flight per user, project and origin', () => {
  it('refuses a user past its limit with 429 and Retry-After, and lets it in again once one ends', () => {
    const admission = createAdmission({ perUser: 2, perProject: 10, perOrigin: () => 100, queueMs: 0 });
    const a = admission.admit(request('u1'));
    admission.admit(request('u1'));
    const error = refusal(() => admission.admit(request('u1')));
    expect(error.code).toBe('llm_concurrency_exceeded');
    expect(error.status).toBe(429);
    expect(error.retryAfterS).toBe(1);
    // Another user of the same project is not held back by u1.
    admission.admit(request('u2'));
    a.release();
    a.release(); // idempotent: a second release frees nothing more
    expect(admission.inFlight({ subject: 'u1' })).toBe(1);
    admission.admit(request('u1'));
    expect(admission.inFlight({ subject: 'u1' })).toBe(2);
  });

  it('refuses a project past its limit whoever asks, and the refused request holds nothing', () => {
    const admission = createAdmission({ perUser: 10, perProject: 2, perOrigin: () => 100, queueMs: 0 });
    admission.admit(request('u1'));
    admission.admit(request('u2'));
    expect(refusal(() => admission.admit(request('u3'))).code).toBe('llm_concurrency_exceeded');
    expect(admission.inFlight({ subject: 'u3' })).toBe(0);
    // Another project is not held back.
    admission.admit(request('u3', 'p2'));
    expect(admission.inFlight({ projectId: 'p1' })).toBe(2);
  });

  it('a full origin makes a request wait, first come first served, and hands it the next free slot', async () => {
    const admission = createAdmission({ perUser: 0, perProject: 0, perOrigin: () => 2, queueMs: 5_000 });
    const held = [admission.admit(request('u1')), admission.admit(request('u2'))];
    expect(held.map((t) => t.origin())).toEqual([null, null]);
    const third = admission.admit(request('u3'));
    const fourth = admission.admit(request('u4'));
    const order: string[] = [];
    const thirdReady = third.origin()!;
    const fourthReady = fourth.origin()!;
    void thirdReady.then(() => order.push('u3'));
    void fourthReady.then(() => order.push('u4'));
    held[1]!.release();
    await thirdReady;
    expect(order).toEqual(['u3']);
    expect(admission.inFlight({ origin })).toBe(2);
    held[0]!.release();
    await fourthReady;
    expect(order).toEqual(['u3', 'u4']);
    third.release();
    fourth.release();
    expect(admission.inFlight({ origin })).toBe(0);
  });

  it('a wait is bounded: 503 upstream_busy with Retry-After once queueMs passes, and the user count is given back', async () => {
    const admission = createAdmission({ perUser: 5, perProject: 5, perOrigin: () => 1, queueMs: 50 });
    admission.admit(request('u1')).origin();
    const waiting = admission.admit(request('u2'));
    const error = await waiting.origin()!.then(() => null, (e: GatehouseError) => e);
    expect(error?.code).toBe('upstream_busy');
    expect(error?.status).toBe(503);
    expect(error?.retryAfterS).toBe(1);
    expect(admission.inFlight({ subject: 'u2' })).toBe(0);
    expect(admission.inFlight({ projectId: 'p1' })).toBe(1);
  });

  it('the Retry-After of a 503 after a wait covers the wait (ceil(queueMs / 1000) s), the 429 keeps 1', async () => {
    const admission = createAdmission({ perUser: 1, perProject: 5, perOrigin: () => 1, queueMs: 1_200 });
    const holder = admission.admit(request('u1'));
    holder.origin();
    expect(refusal(() => admission.admit(request('u1'))).retryAfterS).toBe(1);
    const error = await admission.admit(request('u2')).origin()!.then(() => null, (e: GatehouseError) => e);
    expect(error?.code).toBe('upstream_busy');
    expect(error?.retryAfterS).toBe(2);
    holder.release();
  });

  it('without a queue (queueMs 0) a full origin refuses at once', () => {
    const admission = createAdmission({ perUser: 0, perProject: 0, perOrigin: () => 1, queueMs: 0 });
    admission.admit(request('u1')).origin();
    const second = admission.admit(request('u2'));
    const error = refusal(() => second.origin());
    expect(error.code).toBe('upstream_busy');
    expect(error.retryAfterS).toBe(1);
    expect(second.released).toBe(true); // the refusal gave its counts back
  });

  it('the user and project counts are taken without the origin slot, which is taken only by origin()', () => {
    const admission = createAdmission({ perUser: 5, perProject: 5, perOrigin: () => 1, queueMs: 0 });
    const uploading = admission.admit(request('u1'));
    const other = admission.admit(request('u2'));
    expect(admission.inFlight({ subject: 'u1' })).toBe(1);
    expect(admission.inFlight({ origin })).toBe(0); // a slow upload holds no provider slot
    expect(other.origin()).toBeNull();
    expect(admission.inFlight({ origin })).toBe(1);
    expect(refusal(() => uploading.origin()).code).toBe('upstream_busy');
    other.release();
    expect(admission.inFlight({ origin })).toBe(0);
  });

  it('a released ticket cannot take the origin slot any more', () => {
    const admission = createAdmission({ perUser: 5, perProject: 5, perOrigin: () => 1, queueMs: 1_000 });
    const gone = admission.admit(request('u1'));
    gone.release();
    expect(gone.released).toBe(true);
    expect(refusal(() => gone.origin()).code).toBe('upstream_busy');
    expect(admission.inFlight({ origin })).toBe(0);
  });

  it('a caller that leaves while waiting ends its wait, and the freed slot skips it', async () => {
    const admission = createAdmission({ perUser: 0, perProject: 0, perOrigin: () => 2, queueMs: 5_000 });
    const held = [admission.admit(request('u1')), admission.admit(request('u2'))];
    held.forEach((t) => t.origin());
    const gone = admission.admit(request('u3'));
    const goneReady = gone.origin();
    const next = admission.admit(request('u4'));
    const nextReady = next.origin();
    gone.release();
    await expect(goneReady).rejects.toMatchObject({ code: 'upstream_busy' });
    held[0]!.release();
    await nextReady;
    expect(admission.inFlight({ origin })).toBe(2);
    held[1]!.release();
    next.release();
    expect(admission.inFlight({ origin })).toBe(0);
  });

  it('the wait queue is bounded in length too (as many waiters as slots)', () => {
    const admission = createAdmission({ perUser: 0, perProject: 0, perOrigin: () => 1, queueMs: 5_000 });
    admission.admit(request('u1')).origin();
    const waiting = admission.admit(request('u2'));
    const waitingReady = waiting.origin()!;
    void waitingReady.catch(() => undefined);
    expect(refusal(() => admission.admit(request('u3')).origin()).code).toBe('upstream_busy');
    waiting.release();
  });
});
