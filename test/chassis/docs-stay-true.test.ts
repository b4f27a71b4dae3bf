import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The repository ships its own documentation: a licence that says what package.json says, and
// docs whose links resolve inside the repository (a link to a file that is not in the
// repository is a dead link for everyone who clones it).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// SHA-256 of the standard Apache License 2.0 text as published at
// https://www.apache.org/licenses/LICENSE-2.0.txt, appendix included. The licence is a legal text:
// any edit, even whitespace, makes it something other than what package.json declares.
const STANDARD_TEXT_SHA256: Record<string, string> = {
  'Apache-2.0': 'cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30',
};

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.md') ? [path] : [];
  });
  return [join(ROOT, 'README.md'), ...walk(docs)];
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of withoutCode(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = anchorOf(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Fenced blocks and inline code hold examples, not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** Targets of inline links `[text](target "title")` and reference definitions `[id]: target`. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const reference = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...reference];
}

/** What is wrong with one relative link, or undefined when it resolves inside the repository. */
function problemOf(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) && !/^file:/i.test(target)) return undefined; // https:, mailto:
  if (/^file:/i.test(target)) return 'a file: URL points outside the repository';
  const [pathPart = '', fragment] = target.split('#', 2);
  const path = decodeURIComponent(pathPart);
  const file = path === '' ? from : path.startsWith('/') ? join(ROOT, path) : resolve(dirname(from), path);
  const inside = relative(ROOT, file);
  if (inside.startsWith('..') || inside.startsWith(sep)) return 'points outside the repository';
  if (!existsSync(file)) return 'no such file in the repository';
  if (fragment && file.endsWith('.md') && !anchorsIn(readFileSync(file, 'utf8')).has(fragment)) return `no heading #${fragment}`;
  return undefined;
}

describe('the repository documents itself truthfully', () => {
  it('LICENSE exists and is the standard text of the licence package.json names', () => {
    const { license } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license?: string };
    expect(license, 'package.json names a licence').toBeTypeOf('string');
    const path = join(ROOT, 'LICENSE');
    expect(existsSync(path), 'LICENSE exists').toBe(true);
    const text = readFileSync(path);
    const expected = STANDARD_TEXT_SHA256[license!];
    expect(expected, `a known standard text for ${license}`).toBeDefined();
    expect(createHash('sha256').update(text).digest('hex')).toBe(expected);
  });

  it('every relative link in README.md and docs/ resolves to a file (and heading) in the repository', () => {
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(1);
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        checked += 1;
        const problem = problemOf(file, target);
        if (problem) broken.push(`${relative(ROOT, file)}: (${target}) ${problem}`);
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect(broken).toEqual([]);
  });

  it('the link check itself catches a missing file, a path out of the repository and a missing heading', () => {
    const readme = join(ROOT, 'README.md');
    expect(problemOf(readme, 'docs/compatibility.md')).toBeUndefined();
    expect(problemOf(readme, 'docs/identity.md#external-issuers')).toBeUndefined();
    expect(problemOf(readme, 'https://example.com/x')).toBeUndefined();
    expect(problemOf(readme, 'docs/nope.md')).toBe('no such file in the repository');
    expect(problemOf(readme, '../shared/STYLE.md')).toBe('points outside the repository');
    expect(problemOf(readme, 'file:///etc/passwd')).toBe('a file: URL points outside the repository');
    expect(problemOf(readme, 'docs/identity.md#no-such-heading')).toBe('no heading #no-such-heading');
    expect(linkTargets('see `[x](nope.md)` and\n```\n[y](gone.md)\n```\n[z](real.md "t")\n[r]: ref.md')).toEqual(['real.md', 'ref.md']);
  });
});
