// The Node.js flags Sluice runs with: `npm start`, `npm run sluice`, the Dockerfile's entrypoint
// and the benches (which read them from `npm start`) give the same ones, so what is measured is
// what users run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sluiceNodeFlags } from '../../bench/meta.ts';
import { packageRoot } from '../../src/package-root.ts';

const scripts = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

test('npm start, npm run sluice, the Dockerfile and the benches: the same Node.js flags', () => {
  const flags = sluiceNodeFlags();
  // the young generation sized for a stream processor's batches in flight (README, Docker)
  assert.ok(flags.includes('--max-semi-space-size=32'), `npm start: ${scripts.start}`);
  assert.is(scripts.start, ['node', ...flags, 'dist/src/cli.js', 'run'].join(' '));
  assert.is(scripts.sluice, ['node', ...flags, 'dist/src/cli.js'].join(' '));
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(join(packageRoot, 'Dockerfile'), 'utf8'))?.[1];
  assert.equal(JSON.parse(entrypoint ?? 'null'), ['node', ...flags, 'dist/src/cli.js', 'run'], 'Dockerfile ENTRYPOINT');
});

test.run();
