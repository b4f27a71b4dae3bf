// The fenced code blocks of README.md and docs/**.md, and what the docs test does with each.
// The convention (docs/contributing.md, "Examples run in CI"):
//   ```ts / typescript / js / javascript   run with `node --import tsx`
//   ```bash / sh / shell                   run with `bash -euo pipefail`
//   ```<lang> no-run  or  <!-- no-run: why --> on the line before   never run (needs what CI lacks)
//   ```<lang> file=<name>                  written to the examples' working directory, for later blocks
//   ```text / json / …                     shown only (output samples, payloads, diagrams)
// A block with no language or an unknown one is an error: the test cannot tell whether it should run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export type BlockAction =
  | { kind: 'ts' }
  | { kind: 'bash' }
  | { kind: 'file'; name: string }
  | { kind: 'show' }
  | { kind: 'no-run'; reason: string }
  | { kind: 'unclassified'; problem: string };

export interface DocBlock {
  /** Path relative to the repository root, e.g. `docs/identity.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string, e.g. `ts`, `bash no-run`, `json file=schema.json`. */
  info: string;
  code: string;
  action: BlockAction;
}

const TS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const BASH = new Set(['bash', 'sh', 'shell']);
/** Languages that are never executable: payloads, output samples, diagrams, configuration. */
const SHOWN = new Set(['text', 'txt', 'json', 'jsonc', 'json5', 'http', 'console', 'yaml', 'yml', 'toml', 'ini', 'sql', 'diff', 'html', 'xml', 'dockerfile', 'nginx', 'promql', 'csv', 'env']);

/**
 * Commands that change the checkout or the machine, or never end: a shell example holding one must
 * be tagged no-run. (An untagged `npm ci` run from inside the repository replaces its node_modules.)
 */
const NEVER_RUN = /(^|[\s;&|(])(npm\s+(ci|i|install|uninstall|start|test|run\s+(dev|start|test))|sudo|docker|systemctl|apt-get|rm\s+-r)\b/m;

/** README.md first (its examples set up what later pages may use), then docs/ in path order. */
export function markdownFiles(root: string): string[] {
  const walk = (dir: string): string[] => readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.md') ? [path] : [];
  });
  return [join(root, 'README.md'), ...walk(join(root, 'docs'))];
}

export function extractBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      if (close.test(lines[j]!)) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
    blocks.push({ file, line: i + 1, info: info.trim(), code: `${body.join('\n')}\n`, action: classify(info.trim(), before, body.join('\n')) });
    i = j;
  }
  return blocks;
}

export function classify(info: string, lineBefore: string, code: string): BlockAction {
  const [lang = '', ...flags] = info.split(/\s+/).filter(Boolean);
  const comment = /^<!--\s*no-run:\s*(.*?)\s*-->$/.exec(lineBefore.trim());
  if (flags.includes('no-run') || comment) return { kind: 'no-run', reason: comment?.[1] || 'tagged no-run' };
  const file = flags.find((f) => f.startsWith('file='));
  if (file) {
    const name = file.slice('file='.length);
    if (!/^[\w.-]+$/.test(name)) return { kind: 'unclassified', problem: `file=${name}: a plain file name, no directories` };
    return { kind: 'file', name };
  }
  const language = lang.toLowerCase();
  if (TS.has(language)) return { kind: 'ts' };
  if (BASH.has(language)) {
    const unsafe = NEVER_RUN.exec(code);
    if (unsafe) return { kind: 'unclassified', problem: `runs \`${unsafe[0].trim()}\`, which must never run in the docs test: tag it no-run` };
    return { kind: 'bash' };
  }
  if (SHOWN.has(language)) return { kind: 'show' };
  return {
    kind: 'unclassified',
    problem: language === ''
      ? 'a fence without a language: tag it (```text for output or diagrams, ```bash / ```ts to run, `no-run` if it cannot run in CI)'
      : `unknown language "${lang}": the docs test neither runs nor knows it is safe to skip it`,
  };
}

export function blocksOf(root: string): DocBlock[] {
  return markdownFiles(root).flatMap((path) => extractBlocks(readFileSync(path, 'utf8'), relative(root, path)));
}
