// The stage failure reasons are a closed list: the README's table is the one it gives, and every
// stage failure the shipped samples expect is on it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAILURES_MARKERS, failuresTable, STAGE_FAILURES } from '../../src/component/failures.ts';
import { CODE_NAMES } from '../../src/core/codes.ts';
import { packageRoot } from '../../src/package-root.ts';

test("the README's stage failures table is the one the list gives (npm run docs:failures)", () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  assert.ok(readme.includes(`${FAILURES_MARKERS[0]}\n${failuresTable()}\n${FAILURES_MARKERS[1]}`), 'run npm run docs:failures');
});

test('every stage failure the samples expect is on the list', () => {
  const expected = ['content', 'campaign'].flatMap((flow) =>
    readFileSync(join(packageRoot, 'samples', `${flow}.expected.ndjson`), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );
  // a reason that is not a verdict code of the core is a stage's
  const verdicts = new Set<string>(CODE_NAMES);
  const reasons = new Set(expected.flatMap((e) => (typeof e.reason === 'string' && !verdicts.has(e.reason) ? [e.reason] : [])));
  assert.ok(reasons.size > 0, "no stage failures found in the samples' expectations");
  for (const reason of reasons) assert.ok(Object.hasOwn(STAGE_FAILURES, reason), `${reason} is not in src/component/failures.ts`);
});

test.run();
