import type { Command } from 'commander';
import { table } from '../output.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The key is read from stdin, never from argv: argv shows up in `ps` and shell history. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function parseLimit(value: string | undefined, flag: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number of tokens or "none"`);
  return n;
}

export function registerProviderCommands(program: Command): void {
  const providers = program.command('providers').description('LLM providers of a project environment (keys are stored encrypted)');

  targetOptions(providers.command('set <name>'))
    .description('create or change a provider: openai, anthropic, gemini, or any name for an OpenAI-compatible API')
    .option('--kind <kind>', 'wire format of a custom provider: openai, anthropic or gemini')
    .option('--base-url <url>', 'e.g. https://api.groq.com/openai (required for custom providers); a new URL drops the stored key unless --key-stdin comes with it')
    .option('--key-stdin', 'read the provider key from stdin (e.g. `pass show openai | gatehouse providers set openai --key-stdin …`)')
    .option('--no-key', 'remove the stored key (local providers need none)')
    .option('--allow <pattern>', 'extra endpoint, e.g. "POST /v1/fine_tuning/jobs" (repeatable)', collect)
    .option('--deny <pattern>', 'switch off a default endpoint, e.g. "POST /v1/images/generations" (repeatable)', collect)
    .option('--disable', 'keep the provider but refuse its requests')
    .option('--enable', 'serve the requests of a disabled provider again')
    .action(async (name: string, opts: Target & { kind?: string; baseUrl?: string; keyStdin?: boolean; key?: boolean; allow?: string[]; deny?: string[]; disable?: boolean; enable?: boolean }, cmd: Command) => {
      if (opts.enable && opts.disable) throw new Error('--enable and --disable cannot be used together');
      if (opts.kind && !['openai', 'anthropic', 'gemini'].includes(opts.kind)) throw new Error('--kind must be openai, anthropic or gemini');
      const apiKey = opts.keyStdin ? await readStdin() : opts.key === false ? null : undefined;
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const summary = await target.providers.put(name, {
          kind: opts.kind as 'openai' | undefined, base_url: opts.baseUrl, api_key: apiKey,
          endpoints_add: opts.allow, endpoints_remove: opts.deny, enabled: opts.disable ? false : opts.enable ? true : undefined,
        });
        output.result(summary, () => `Saved provider ${name} (${summary.kind}, ${summary.base_url}, key ${summary.has_key ? `…${summary.key_last_four}` : 'none'}).`);
      });
    });

  targetOptions(providers.command('list'))
    .description('list providers (never their keys)')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const list = await target.providers.list();
        output.result({ providers: list }, () =>
          table(list.map((p) => ({ name: p.name, kind: p.kind, 'base url': p.base_url, key: p.has_key ? `…${p.key_last_four}` : null, enabled: p.enabled, updated: p.updated_at })),
            ['name', 'kind', 'base url', 'key', 'enabled', 'updated']));
      });
    });

  targetOptions(providers.command('remove <name>'))
    .description('remove a provider and its key')
    .action(async (name: string, opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        await target.providers.remove(name);
        output.result({ removed: true }, () => `Removed ${name}.`);
      });
    });

  targetOptions(providers.command('quotas'))
    .description('show or set per-user token quotas (UTC day / month)')
    .option('--day <tokens>', 'tokens per user per day, or "none"')
    .option('--month <tokens>', 'tokens per user per month, or "none"')
    .action(async (opts: Target & { day?: string; month?: string }, cmd: Command) => {
      const day = parseLimit(opts.day, '--day');
      const month = parseLimit(opts.month, '--month');
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const limits = day === undefined && month === undefined
          ? await target.providers.quotas()
          : await target.providers.setQuotas({ tokens_per_day: day, tokens_per_month: month });
        output.result(limits, () => `Per user: ${limits.tokens_per_day ?? 'no limit'} tokens a day, ${limits.tokens_per_month ?? 'no limit'} a month.`);
      });
    });
}
