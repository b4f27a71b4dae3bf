// Prints one machine-readable line at the end of the run:
//   N passed, N failed[, N skipped]
// N counts test cases. A test file that failed without any failing test case (import/syntax error,
// failing beforeAll/afterAll, no tests at all) counts as one failed, and so does each unhandled error,
// so a broken file can never look green.
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

export function countResults(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const mod of testModules) {
    let failedInModule = 0;
    for (const test of mod.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') failedInModule++;
      else if (state === 'skipped') counts.skipped++;
      // 'pending' only happens on an interrupted run; those tests neither passed nor failed.
    }
    counts.failed += failedInModule;
    if (failedInModule === 0 && moduleBroken(mod)) counts.failed++;
  }
  counts.failed += unhandledErrors.length;
  return counts;
}

function moduleBroken(mod: TestModule): boolean {
  if (mod.state() === 'failed' || mod.errors().length > 0) return true;
  for (const suite of mod.children.allSuites()) {
    if (suite.state() === 'failed' || suite.errors().length > 0) return true;
  }
  return false;
}

export function formatCounts(c: RunCounts): string {
  return `${c.passed} passed, ${c.failed} failed${c.skipped > 0 ? `, ${c.skipped} skipped` : ''}`;
}

export default class CountsReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): void {
    process.stdout.write(`\n${formatCounts(countResults(testModules, unhandledErrors))}\n`);
  }
}
