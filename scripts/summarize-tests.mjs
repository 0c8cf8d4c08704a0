// Prints the closing line CI reads: "N passed, N failed" over vitest and Playwright, plus each
// non-test step (typecheck, lint) counted as one check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;

const steps = existsSync(join(dir, 'steps')) ? readFileSync(join(dir, 'steps'), 'utf8').trim().split('\n') : [];
for (const line of steps) {
  if (line.startsWith('unit:') || line.startsWith('e2e:')) continue;
  if (line.endsWith('ok')) passed += 1;
  else failed += 1;
}

const vitestFile = join(dir, 'vitest.json');
if (existsSync(vitestFile)) {
  const v = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += v.numPassedTests ?? 0;
  failed += (v.numFailedTests ?? 0) + (v.numFailedTestSuites ?? 0);
  skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
} else if (steps.some((s) => s.startsWith('unit:'))) {
  failed += 1;
  console.log('vitest wrote no results');
}

const pwFile = join(dir, 'playwright.json');
if (existsSync(pwFile)) {
  const p = JSON.parse(readFileSync(pwFile, 'utf8'));
  passed += p.stats?.expected ?? 0;
  failed += (p.stats?.unexpected ?? 0) + (p.stats?.flaky ?? 0);
  skipped += p.stats?.skipped ?? 0;
  if ((p.errors ?? []).length > 0) failed += p.errors.length;
} else if (steps.some((s) => s.startsWith('e2e:'))) {
  failed += 1;
  console.log('playwright wrote no results');
}

for (const line of steps) console.log(line);
if (passed + failed === 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
