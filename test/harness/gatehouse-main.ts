// The `gatehouse` command run from source (bin/gatehouse.js runs the build in dist/), for tests
// that need Gatehouse as a real child process: signals, kill -9, crashes.
import { runCli } from '../../src/cli/main.js';

const code = await runCli(process.argv.slice(2));
// `start` keeps running until a signal; every other command ends here.
if (code !== 0) process.exitCode = code;
