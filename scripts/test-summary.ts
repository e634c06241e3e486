/**
 * @module scripts/test-summary
 * Prints vitest's JSON report as one plain closing line,
 * `N passed, N failed, N skipped`, for CI readers that look for it. Under
 * CI=true a skipped test fails the run: CI has every prerequisite. Each
 * skipped test is named, so a CI log says which prerequisite went missing.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Assertion {
  status: string;
  fullName: string;
}

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { name: string; assertionResults?: Assertion[] }[];
}

const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);

const path = process.argv[2] ?? 'test-results/vitest.json';
const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
const skipped = report.numPendingTests + report.numTodoTests;
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (NOT_RUN.has(test.status)) {
      console.log(`skipped: ${relative(process.cwd(), file.name)} > ${test.fullName}`);
    }
  }
}
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const ci = process.argv.includes('--ci');
process.exit(report.numFailedTests > 0 || report.numPassedTests === 0 || (ci && skipped > 0) ? 1 : 0);
