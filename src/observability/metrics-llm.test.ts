import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLlmMetrics, MAX_MODELS } from './metrics-llm.js';

async function modelLabels(registry: Registry): Promise<string[]> {
  const metric = await registry.getSingleMetric('gatehouse_llm_tokens_total')!.get();
  return [...new Set(metric.values.map((v) => String(v.labels.model)))];
}

describe('LLM token metrics', () => {
  it(`keeps the first ${MAX_MODELS} model names a process sees and counts every later one as other`, async () => {
    const registry = new Registry();
    const metrics = createLlmMetrics(registry, true);
    for (let i = 0; i < MAX_MODELS + 50; i++) metrics.tokens('openai', `model-${i}`, 1, 1);
    metrics.tokens('openai', 'model-3', 1, 0); // a known one keeps its series
    const labels = await modelLabels(registry);
    expect(labels).toHaveLength(MAX_MODELS + 1);
    expect(labels).toContain('other');
    expect(labels).not.toContain(`model-${MAX_MODELS}`);
    const metric = await registry.getSingleMetric('gatehouse_llm_tokens_total')!.get();
    expect(metric.values.find((v) => v.labels.model === 'other' && v.labels.direction === 'input')!.value).toBe(50);
    expect(metric.values.find((v) => v.labels.model === 'model-3' && v.labels.direction === 'input')!.value).toBe(2);
  });

  it('counts a name that does not look like a model id as other, and a missing one as unknown, without using up the cap', async () => {
    const registry = new Registry();
    const metrics = createLlmMetrics(registry, true);
    for (const bad of ['a b', '', '<script>', 'x'.repeat(101), '../../etc', '"quoted"']) metrics.tokens('openai', bad, 1, 0);
    metrics.tokens('openai', null, 1, 0);
    metrics.tokens('openai', 'gpt-4o-mini-2024-07-18', 1, 0);
    metrics.tokens('gemini', 'models/gemini-1.5-pro:latest', 1, 0);
    expect((await modelLabels(registry)).sort()).toEqual(['gpt-4o-mini-2024-07-18', 'models/gemini-1.5-pro:latest', 'other', 'unknown']);
  });

  it('records nothing when off', async () => {
    const registry = new Registry();
    const metrics = createLlmMetrics(registry, false);
    metrics.tokens('openai', 'gpt', 5, 5);
    metrics.error('openai', 'reset');
    expect(metrics.active).toBe(false);
    expect(await registry.metrics()).not.toMatch(/^gatehouse_llm_\w+\{/m);
  });
});
