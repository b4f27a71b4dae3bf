// `npm run dev`: Gatehouse from source under `tsx watch`, which restarts it whenever a file it
// imports changes (no build step; `npm start` runs the compiled dist/ instead).
//   npm run dev -- --port 8081
import { runCli } from '../src/cli/main.js';

const code = await runCli(['start', ...process.argv.slice(2)]);
// `start` keeps running until a signal; a non-zero code means it never started.
if (code !== 0) process.exitCode = code;
