// The import directions of src/, bench/ and scripts/ (.dependency-cruiser.cjs): dependency-cruiser
// over the real tree, type-only imports included. A back-edge (config/ importing pipeline/, a
// stage importing io/, a cycle, a benchmark importing a test helper…) fails this suite with the
// rule it breaks and the edge.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';

test('no import in src/ climbs back up a layer; bench/ and scripts/ import nothing of test/', () => {
  const cli = join(packageRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const run = spawnSync(process.execPath, [cli, 'src', 'bench', 'scripts', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: packageRoot, encoding: 'utf8' });
  const report = `${run.stdout}${run.stderr}`;
  assert.is(run.status, 0, `dependency rule violations:\n${report}`);
  assert.match(report, /no dependency violations found \((\d+) modules/, report);
  const modules = Number(/\((\d+) modules/.exec(report)![1]);
  assert.ok(modules > 50, `only ${modules} modules cruised: the tree was not read (${report})`);
});

test('no module in src/ is over 500 lines: a file that grows past it is split along what it does', () => {
  const files = readdirSync(join(packageRoot, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50, `only ${files.length} modules found`);
  const long = files
    .map((file) => [file, readFileSync(join(packageRoot, 'src', file), 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > 500);
  assert.equal(long, [], `over 500 lines: ${long.map(([file, lines]) => `src/${file} (${lines})`).join(', ')}`);
});

test.run();
