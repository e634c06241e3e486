/**
 * @module scripts/test-summary
 * Prints vitest's JSON report as one plain closing line,
 * `N passed, N failed, N skipped`, for CI readers that look for it. Under
 * CI=true a skipped test fails the run: CI has every prerequisite.
 */
import { readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const path = process.argv[2] ?? 'test-results/vitest.json';
const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const ci = process.argv.includes('--ci');
process.exit(report.numFailedTests > 0 || report.numPassedTests === 0 || (ci && skipped > 0) ? 1 : 0);
