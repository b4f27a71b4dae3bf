import { describe, expect, it } from 'vitest';
import { loadOnFirstUse } from './load-on-first-use.js';

describe('loadOnFirstUse', () => {
  it('loads nothing until first called, then once however many calls race', async () => {
    let loads = 0;
    const module = loadOnFirstUse(async () => ({ n: ++loads }));
    expect(loads).toBe(0);
    expect(module.started()).toBeUndefined();
    const [a, b] = await Promise.all([module(), module()]);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(await module()).toBe(a);
    expect(await module.started()).toBe(a);
    expect(loads).toBe(1);
  });

  it('forgets a failed load: the callers waiting on it see the failure, the next call tries again', async () => {
    let loads = 0;
    const module = loadOnFirstUse(async () => {
      if (++loads === 1) throw new Error('not there yet');
      return 'loaded';
    });
    const racing = [module(), module()];
    for (const call of racing) await expect(call).rejects.toThrow('not there yet');
    expect(loads).toBe(1);
    expect(module.started()).toBeUndefined();
    expect(await module()).toBe('loaded');
    expect(loads).toBe(2);
  });
});
