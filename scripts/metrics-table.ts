// `npm run docs:metrics`: rewrites the metrics table of README.md (between its markers) from the
// declarations in src/observe/metrics.ts; test/observe/metrics.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { README_MARKERS, metricsTable } from '../src/observe/metrics.ts';
import { packageRoot } from '../src/package-root.ts';

const file = join(packageRoot, 'README.md');
const readme = readFileSync(file, 'utf8');
const [begin, end] = README_MARKERS;
const from = readme.indexOf(begin);
const to = readme.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md: the markers ${begin} … ${end} are missing`);
writeFileSync(file, `${readme.slice(0, from + begin.length)}\n${metricsTable()}\n${readme.slice(to)}`);
