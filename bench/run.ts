// `npm run bench`: runs every benchmark in this folder, one process each so
// that one's warm-up or garbage does not skew another. Not part of the tests.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const only = process.argv.slice(2);
const all = ['chassis', 'identity', 'data', 'llm', 'llm-streams', 'limits', 'storage', 'realtime', 'realtime-socket', 'startup', 'start-up-compiler'];
let failed = 0;
for (const name of only.length > 0 ? only : all) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  console.log(`\n=== bench: ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
