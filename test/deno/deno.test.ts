// Sluice under Deno 2 (the binary from the npm package `deno`): the core gives the same verdicts
// as under Node, and local mode writes byte-identical outputs (the campaign flow's lookup on the
// placements table included).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';

const deno = join(packageRoot, 'node_modules', '.bin', 'deno');
const dir = mkdtempSync(join(tmpdir(), 'sluice-deno-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('deno 2 is installed from npm', () => {
  const version = execFileSync(deno, ['--version'], { encoding: 'utf8' });
  assert.match(version, /^deno 2\./);
});

test('the core gives the same verdicts under Deno as under Node', () => {
  const input = readFileSync(join(packageRoot, 'samples', 'campaign.ndjson'));
  const script = join(packageRoot, 'test', 'deno', 'verdicts.ts');
  const underDeno = spawnSync(deno, ['run', '--allow-read', '--allow-env', script], { cwd: packageRoot, input, maxBuffer: 1 << 26, encoding: 'utf8' });
  assert.is(underDeno.status, 0, underDeno.stderr);
  const underNode = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: packageRoot, input, maxBuffer: 1 << 26, encoding: 'utf8' });
  assert.is(underNode.status, 0, underNode.stderr);
  const denoLines = underDeno.stdout.trim().split('\n');
  assert.is(denoLines.length, input.toString('utf8').trim().split('\n').length);
  assert.ok(denoLines.some((l) => l.includes('"ok":false')), 'the samples hold invalid messages');
  // the tape-mode rules refuse more: a conversion without value or currency, a device object at the top level ...
  const verdicts = denoLines.map((l) => JSON.parse(l) as [{ ok: boolean }, { ok: boolean }]);
  assert.ok(verdicts.some(([streaming, tape]) => streaming.ok && !tape.ok), 'the tape-mode rules refuse some messages the campaign rules accept');
  assert.ok(verdicts.filter(([, tape]) => tape.ok).length > 1000, 'the tape-mode rules accept most messages');
  assert.equal(denoLines, underNode.stdout.trim().split('\n'));
});

test('under Deno a message nested to the deepest allowed limit gets its verdict on both builds, after tier-up', () => {
  // scripts/core-depth.ts probe: validates at MAX_DEPTH_LIMIT under `frames` nested calls (0 here); exit 3 on a stack overflow
  for (const kernel of ['simd', 'scalar']) {
    for (const shape of ['array', 'object', 'mixed']) {
      const result = spawnSync(deno, ['run', '-A', join(packageRoot, 'scripts', 'core-depth.ts'), 'probe', kernel, shape, '0', 'warm'], { cwd: packageRoot, encoding: 'utf8' });
      assert.is(result.status, 0, `${kernel} ${shape}: exit ${result.status}\n${result.stderr}`);
    }
  }
});

test('an lmdb state store works under Deno as under Node (the prebuilt addon loads)', () => {
  const script = join(packageRoot, 'test', 'deno', 'state.ts');
  const underDeno = spawnSync(deno, ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-ffi', '--allow-sys', script, mkdtempSync(join(dir, 'state-'))], { cwd: packageRoot, encoding: 'utf8' });
  assert.is(underDeno.status, 0, underDeno.stderr);
  const underNode = spawnSync(process.execPath, ['--import', 'tsx', script, mkdtempSync(join(dir, 'state-'))], { cwd: packageRoot, encoding: 'utf8' });
  assert.is(underNode.status, 0, underNode.stderr);
  assert.equal(JSON.parse(underDeno.stdout), { sent: 1000, keys: 999, position: '1001', value: 'value-999', deleted: true });
  assert.is(underDeno.stdout, underNode.stdout);
});

test('local mode under Deno writes the same outputs as under Node', () => {
  const run = (runtime: 'deno' | 'node') => {
    const out = join(dir, runtime);
    const config = join(dir, `${runtime}.conf`);
    writeFileSync(
      config,
      [
        `include "${join(packageRoot, 'config', 'local.conf')}"`,
        'log.level = warn',
        'flows.engagement.enabled = false',
        `log.destination = "${join(out, 'sluice.log')}"`,
        ...['content', 'campaign'].flatMap((flow) => [
          `flows.${flow}.sink.path = "${join(out, `${flow}.ndjson`)}"`,
          `flows.${flow}.dead-letter.path = "${join(out, `${flow}.dlq.ndjson`)}"`,
        ]),
      ].join('\n'),
    );
    const [command, args] = runtime === 'deno'
      ? [deno, ['run', '-A', join(packageRoot, 'src', 'cli.ts'), 'run', '--config', config]]
      : [process.execPath, [join(packageRoot, 'dist', 'src', 'cli.js'), 'run', '--config', config]];
    const result = spawnSync(command, args, { cwd: packageRoot, encoding: 'utf8' });
    assert.is(result.status, 0, `${runtime}: ${result.stderr}`);
    const contentLines = readFileSync(join(packageRoot, 'samples', 'content.ndjson'), 'utf8').trim().split('\n').length;
    assert.match(result.stdout, new RegExp(`content: ${contentLines} read, ${contentLines - 240} valid, 240 invalid`));
    return out;
  };
  const denoOut = run('deno');
  const nodeOut = run('node');
  // the campaign flow looked its placements up in the table under Deno: merged, or missing
  assert.match(readFileSync(join(denoOut, 'campaign.ndjson'), 'utf8'), /"surface":"newsletter","slot":"hero"/);
  assert.match(readFileSync(join(denoOut, 'campaign.dlq.ndjson'), 'utf8'), /no row for placementId = \\"plc-041\\" in table placements/);
  for (const flow of ['content', 'campaign']) {
    assert.ok(readFileSync(join(denoOut, `${flow}.ndjson`)).equals(readFileSync(join(nodeOut, `${flow}.ndjson`))), `${flow} output differs`);
    // the time and the built-in lookup server's port (a free one per run) differ between the runs
    const withoutTime = (file: string) => readFileSync(file, 'utf8').replace(/"sluice\.time":"[^"]+"/g, '').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');
    assert.is(withoutTime(join(denoOut, `${flow}.dlq.ndjson`)), withoutTime(join(nodeOut, `${flow}.dlq.ndjson`)), `${flow} dead letters differ`);
  }
});

test.run();
