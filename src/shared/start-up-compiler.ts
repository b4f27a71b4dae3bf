// V8's optimizing compiler (TurboFan) is off while `gatehouse start` starts, and on again once the
// server is ready (issue 18, idle memory). During a start a few dozen functions run often enough
// (module set-up, route and schema building, migrations' checks) to be optimized in the
// background: code never run again once the server listens, while the compiler's working memory
// stays in glibc's per-thread arenas. Without it an idle server's RSS is ~16 MB smaller and
// steadier, and a start takes less CPU (docs/operations.md "Start-up"). Request handlers are
// optimized as before, when requests make them hot.
// bin/gatehouse.js turns the compiler off before it loads the server (only for `start`, and not
// when the operator's own V8 flags already name it); it marks that it did, so only then does
// `resumeOptimizingCompiler` turn it back on (a server started in-process, by tests or
// `npm run dev`, never had it off).
import { setFlagsFromString } from 'node:v8';

/** Set on globalThis by bin/gatehouse.js when it turned the compiler off. */
export const COMPILER_PAUSED = Symbol.for('gatehouse.optimizingCompilerPausedForStart');

export function resumeOptimizingCompiler(): boolean {
  const marker = globalThis as { [COMPILER_PAUSED]?: boolean };
  if (marker[COMPILER_PAUSED] !== true) return false;
  marker[COMPILER_PAUSED] = false;
  // `--turbofan` is read each time V8 decides whether a hot function should be optimized.
  setFlagsFromString('--turbofan');
  return true;
}
