import { once } from 'node:events';
import type { Command } from 'commander';
import type { ChainReport } from '../../observability/index.js';
import { table } from '../output.js';
import { inEnvironment, targetOptions, type TargetOptions as Target } from '../context.js';

const chainName = (environment: string | null) => environment ?? 'project';

function describe(chain: ChainReport): string {
  if (chain.problem) return `${chainName(chain.environment)}: BROKEN at seq ${chain.problem.seq ?? '-'} (${chain.problem.kind}): ${chain.problem.message}`;
  const head = chain.head ? `, head seq ${chain.head.seq} ${chain.head.hash}` : '';
  return `${chainName(chain.environment)}: ok, ${chain.entries} entries${head}`;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log of a project environment');

  targetOptions(audit.command('verify'))
    .description('walk the audit chains; name the first entry changed, removed or reordered (exit 1 if any)')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const verdict = await target.audit.verify();
        output.result(verdict, () => verdict.chains.map(describe).join('\n'));
        // Exit 1 so a scheduled check fails loudly; the verdict above says where.
        if (!verdict.ok) throw new Error('the audit log does not verify');
      });
    });

  targetOptions(audit.command('head'))
    .description('print the last seq and hash of each chain (keep them outside the database)')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target, output }) => {
        const head = await target.audit.head();
        output.result(head, () => table(head.chains.map((c) => ({ chain: chainName(c.environment), seq: c.seq, hash: c.hash })), ['chain', 'seq', 'hash']));
      });
    });

  targetOptions(audit.command('export'))
    .description('write every entry, with seq, prev_hash and hash, as JSON lines on stdout')
    .action(async (opts: Target, cmd: Command) => {
      await inEnvironment(cmd, opts, async ({ target }) => {
        for await (const entry of target.audit.export()) {
          // Wait for a slow reader (a pipe to gzip, ssh): a long log is never held in memory.
          if (!process.stdout.write(`${JSON.stringify(entry)}\n`)) await once(process.stdout, 'drain');
        }
      });
    });
}
