import { describe, expect, it } from 'vitest';
import { effectiveEndpoints, matchEndpoint } from '../whitelist/index.js';
import { settledId } from './deferred.js';
import { answersDeferred, ownerCharge, SseEventScanner } from './index.js';

const usage = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 };
const run = (status: string, u: unknown = usage) => ({ id: 'run_1', object: 'thread.run', status, usage: u });

describe('deferred usage: runs and responses count once settled', () => {
  it.each(['completed', 'incomplete', 'failed', 'cancelled', 'expired'])('a run %s with usage is settled', (status) => {
    expect(settledId('openai', run(status))).toBe('run_1');
  });

  it('a run still going, or settled without usage, is not (nothing to count yet)', () => {
    for (const status of ['queued', 'in_progress', 'requires_action', 'cancelling']) expect(settledId('openai', run(status))).toBeNull();
    expect(settledId('openai', run('completed', null))).toBeNull();
    expect(settledId('openai', { ...run('completed'), id: '' })).toBeNull();
  });

  it('only runs and responses of the OpenAI format: a chat completion or a run step is the request\'s own usage', () => {
    expect(settledId('openai', { id: 'c', object: 'chat.completion', status: 'completed', usage })).toBeNull();
    expect(settledId('openai', { id: 's', object: 'thread.run.step', status: 'completed', usage })).toBeNull();
    expect(settledId('anthropic', run('completed'))).toBeNull();
    const response = { id: 'resp_1', object: 'response', status: 'completed', usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } };
    expect(settledId('openai', { type: 'response.completed', response })).toBe('resp_1');
  });

  it('GETs of a run, a run list and a response are read; other GETs still stream through', () => {
    const endpoints = effectiveEndpoints('openai', { add: [], remove: [] });
    const is = (path: string) => answersDeferred('openai', 'GET', matchEndpoint(endpoints, 'GET', path)!);
    expect(is('/v1/threads/thread_1/runs/run_1')).toBe(true);
    expect(is('/v1/threads/thread_1/runs')).toBe(true);
    expect(is('/v1/responses/resp_1')).toBe(true);
    expect(is('/v1/files/file-1/content')).toBe(false);
    expect(is('/v1/threads/thread_1/runs/run_1/steps')).toBe(false);
    expect(is('/v1/responses/resp_1/input_items')).toBe(false);
  });

  it('charges a user owner\'s quota; a secret key owner has usage but no quota', () => {
    const scope = { projectId: 'p', environment: 'dev', provider: 'openai' };
    expect(ownerCharge(scope, 'user:u1')).toEqual({ usageKey: { ...scope, userId: 'u1' }, subject: { projectId: 'p', environment: 'dev', userId: 'u1' } });
    expect(ownerCharge(scope, 'key:k1')).toEqual({ usageKey: { ...scope, userId: 'key:k1' }, subject: null });
  });

  it('the stream scanner reports the runs it saw settled', async () => {
    const text = [
      `event: thread.run.created\ndata: ${JSON.stringify(run('queued', null))}`,
      `event: thread.run.step.completed\ndata: ${JSON.stringify({ id: 'step_1', object: 'thread.run.step', status: 'completed', usage })}`,
      `event: thread.run.completed\ndata: ${JSON.stringify(run('completed'))}`,
      'event: done\ndata: [DONE]',
    ].join('\n\n') + '\n\n';
    const scanner = new SseEventScanner('openai');
    scanner.write(Buffer.from(text));
    scanner.end();
    expect(scanner.findings.settled).toEqual(['run_1']);
    expect(scanner.findings.usage).toMatchObject({ total: 30 });
  });
});
