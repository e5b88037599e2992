// `npm run docs:metrics` / `npm run docs:failures`: rewrites the generated tables of README.md
// (each between its markers): the metrics from the declarations in src/observe/metrics.ts, the
// stage failure reasons from src/component/failures.ts. test/observe/metrics.test.ts and
// test/component/failures.test.ts fail when the README differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILURES_MARKERS, failuresTable } from '../src/component/failures.ts';
import { README_MARKERS, metricsTable } from '../src/observe/metrics.ts';
import { packageRoot } from '../src/package-root.ts';

const file = join(packageRoot, 'README.md');
let readme = readFileSync(file, 'utf8');
for (const [[begin, end], table] of [
  [README_MARKERS, metricsTable()],
  [FAILURES_MARKERS, failuresTable()],
] as const) {
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md: the markers ${begin} … ${end} are missing`);
  readme = `${readme.slice(0, from + begin.length)}\n${table}\n${readme.slice(to)}`;
}
writeFileSync(file, readme);
