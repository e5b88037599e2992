// The benchmark regression gate (bench/gate.ts, npm run bench:gate): a run whose core slowed down
// against its peers fails with the table, one within tolerance passes, a broken input is exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compare, parseTolerance, type SuiteResult } from '../../bench/gate.ts';
import { packageRoot } from '../../src/package-root.ts';

const baselineFile = join(packageRoot, 'bench', 'baseline', 'core.json');
const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')) as SuiteResult & { suite: 'core' };
const dir = mkdtempSync(join(tmpdir(), 'sluice-gate-test-'));
const AJV_RATIO = 'content: core speedup vs JSON.parse + ajv';

/** The baseline with its figures changed by `edit`. */
function variant(edit: (result: typeof baseline) => void): typeof baseline {
  const copy = structuredClone(baseline);
  edit(copy);
  return copy;
}

const scale = (result: typeof baseline, flow: string, peer: string, factor: number) => {
  const ratio = result.ratios.find((r) => r.flow === flow && r.peer === peer)!;
  ratio.speedup *= factor;
};

function gate(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', 'run-gate.ts'), ...args], {
    cwd: packageRoot,
    encoding: 'utf8',
    env: { ...process.env, SLUICE_BENCH_INJECT_DELAY_NS: undefined },
    timeout: 600_000,
  });
  if (result.error) throw result.error;
  return result;
}

function file(name: string, result: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(result));
  return path;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the committed baseline has the gated ratios of both flows', () => {
  for (const flow of ['content', 'campaign']) assert.ok(baseline.ratios.some((r) => r.flow === flow && r.peer === 'JSON.parse + ajv'), flow);
});

test('the same figures pass; absolute times are reported, not gated', () => {
  const rows = compare(baseline, structuredClone(baseline));
  assert.ok(rows.every((r) => r.verdict === 'PASS' || r.verdict === 'INFO'));
  assert.ok(rows.some((r) => r.verdict === 'INFO' && r.figure.endsWith('ns/msg')));
});

test('a core ratio halved fails that figure only; a drop within tolerance passes', () => {
  const rows = compare(baseline, variant((r) => scale(r, 'content', 'JSON.parse + ajv', 0.5)));
  const failed = rows.filter((r) => r.verdict === 'FAIL');
  assert.equal(failed.map((r) => r.figure), [AJV_RATIO]);
  assert.equal(Math.round(failed[0]!.change! * 100), -50);
  const slight = compare(baseline, variant((r) => scale(r, 'content', 'JSON.parse + ajv', 0.8)));
  assert.ok(slight.every((r) => r.verdict !== 'FAIL'));
});

test('absolute times are gated only when given a tolerance', () => {
  const slower = variant((r) => {
    for (const c of r.results) c.nanosecondsPerMessage *= 3;
  });
  assert.ok(compare(baseline, slower).every((r) => r.verdict !== 'FAIL'));
  const strict = compare(baseline, slower, Object.fromEntries([parseTolerance('ns/msg=50%')]));
  assert.ok(strict.some((r) => r.verdict === 'FAIL' && r.figure.endsWith('ns/msg')));
});

test('missing simdjson rows (no clang) are skipped; a missing ajv ratio fails', () => {
  const noSimdjson = variant((r) => {
    r.ratios = r.ratios.filter((x) => !x.peer.startsWith('simdjson'));
    r.results = r.results.filter((x) => !x.case.startsWith('simdjson'));
  });
  const rows = compare(baseline, noSimdjson);
  assert.ok(rows.every((r) => r.verdict !== 'FAIL'));
  assert.ok(rows.some((r) => r.verdict === 'SKIP' && r.figure.includes('simdjson')));
  const noAjv = variant((r) => {
    r.ratios = r.ratios.filter((x) => x.peer !== 'JSON.parse + ajv');
  });
  const gatedCorpora = baseline.ratios.filter((x) => x.peer === 'JSON.parse + ajv').length;
  assert.ok(gatedCorpora >= 2);
  assert.equal(compare(baseline, noAjv).filter((r) => r.verdict === 'FAIL').length, gatedCorpora);
});

test('tolerance overrides: a bad one is refused with the kinds it knows', () => {
  assert.equal(parseTolerance('ns/msg=25%')[1].tolerance, 0.25);
  assert.equal(parseTolerance('core speedup vs JSON.parse + ajv=off')[1].tolerance, null);
  assert.throws(() => parseTolerance('speed=10%'), /kind one of: core speedup vs JSON.parse \+ ajv/);
  assert.throws(() => parseTolerance('ns/msg=fast'), /not a percentage/);
});

test('bench:gate exits 1 with the table on a regressed file, 0 on an equal one, 2 on a missing one', () => {
  const regressed = gate('--baseline', baselineFile, '--current', file('halved.json', variant((r) => scale(r, 'content', 'JSON.parse + ajv', 0.5))));
  assert.is(regressed.status, 1, regressed.stdout + regressed.stderr);
  assert.match(regressed.stdout, /figure\s+baseline\s+current\s+change\s+tolerance\s+result/);
  assert.match(regressed.stdout, /content: core speedup vs JSON\.parse \+ ajv\s+[\d.]+\s+[\d.]+\s+-50\.0 %\s+-35 %\s+FAIL/);
  assert.match(regressed.stdout, /campaign: core speedup vs JSON\.parse \+ ajv .* PASS/);
  assert.match(regressed.stdout, /bench:gate: FAIL: 1 of \d+ gated figures/);

  const same = gate('--baseline', baselineFile, '--current', file('same.json', baseline));
  assert.is(same.status, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /bench:gate: PASS/);

  const missing = gate('--baseline', join(dir, 'nothing.json'), '--current', baselineFile);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /--baseline .*nothing\.json: no such file/);
});

/** A bench:peers result: two contenders under the same load names, and Sluice's ratios to the peer. */
function peersResult(throughputRatio: number, cpuRatio: number) {
  const run = (implementation: string, load: string, messagesPerSecond: number, p99: number) => ({
    mode: `at-least-once ${load}`,
    implementation,
    enrichment: false,
    messagesPerSecond,
    latencyMs: { p50: p99 / 2, p90: p99 * 0.8, p99, p999: p99 * 1.5 },
  });
  return {
    suite: 'e2e' as const,
    results: [run('sluice-wasm', 'open-loop', 9_666, 18), run('sluice-wasm', 'saturation', 62_405, 7_239), run('kafka-streams', 'open-loop', 9_620, 41), run('kafka-streams', 'saturation', 45_141, 10_191)],
    comparison: [
      { load: 'at-least-once open-loop', enrichment: false, versus: 'kafka-streams', throughput: 1, p99: 2.28, cpuPerMessage: cpuRatio },
      { load: 'at-least-once saturation', enrichment: false, versus: 'kafka-streams', throughput: throughputRatio, p99: 1.41, cpuPerMessage: cpuRatio },
    ],
  };
}

test('end to end: each contender has its own figures; Sluice against the peer is gated as ratios', () => {
  const base = peersResult(1.38, 2.21);
  const rows = compare(base, peersResult(1.38, 2.21));
  assert.equal(new Set(rows.map((r) => r.figure)).size, rows.length);
  assert.ok(rows.some((r) => r.figure === 'kafka-streams at-least-once saturation: msg/s' && r.baseline === 45_141));
  assert.ok(rows.some((r) => r.figure === 'sluice-wasm at-least-once saturation: msg/s' && r.baseline === 62_405));
  const gated = rows.filter((r) => r.tolerance !== null).map((r) => r.figure);
  assert.equal(gated.sort(), [
    'sluice-wasm vs kafka-streams, at-least-once open-loop: cpu/msg ratio',
    'sluice-wasm vs kafka-streams, at-least-once saturation: cpu/msg ratio',
    'sluice-wasm vs kafka-streams, at-least-once saturation: throughput ratio',
  ]);
  assert.ok(rows.every((r) => r.verdict === 'PASS' || r.verdict === 'INFO'));

  // Sluice fell behind the peer: fails; a 20 % drop is noise and passes
  const caughtUp = compare(base, peersResult(0.8, 2.21)).filter((r) => r.verdict === 'FAIL');
  assert.equal(caughtUp.map((r) => r.figure), ['sluice-wasm vs kafka-streams, at-least-once saturation: throughput ratio']);
  assert.ok(compare(base, peersResult(1.1, 2.21)).every((r) => r.verdict !== 'FAIL'));
  // twice the CPU per message: both loads fail
  assert.equal(compare(base, peersResult(1.38, 1.1)).filter((r) => r.verdict === 'FAIL').length, 2);
  // absolute figures: only when asked
  const slower = peersResult(1.38, 2.21);
  for (const r of slower.results) r.messagesPerSecond /= 2;
  assert.ok(compare(base, slower).every((r) => r.verdict !== 'FAIL'));
  assert.equal(compare(base, slower, Object.fromEntries([parseTolerance('msg/s=30%')])).filter((r) => r.verdict === 'FAIL').length, 4);
});

test('bench:gate on end-to-end files: exit 1 with the table when Sluice lost its lead over the peer', () => {
  const baseFile = file('peers-base.json', peersResult(1.38, 2.21));
  const regressed = gate('--baseline', baseFile, '--current', file('peers-regressed.json', peersResult(0.8, 2.21)));
  assert.is(regressed.status, 1, regressed.stdout + regressed.stderr);
  assert.match(regressed.stdout, /sluice-wasm vs kafka-streams, at-least-once saturation: throughput ratio\s+1\.38\s+0\.80\s+-42\.0 %\s+-35 %\s+FAIL/);
  const same = gate('--baseline', baseFile, '--current', file('peers-same.json', peersResult(1.38, 2.21)));
  assert.is(same.status, 0, same.stdout + same.stderr);
});

test('a real quick run with the core slowed in the harness fails the gate', () => {
  // 20 µs a message on a core that takes about 1–4: the core/ajv ratio falls far past 35 %
  const slowed = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(packageRoot, 'bench', 'run-gate.ts'), '--baseline', baselineFile, '--quick'],
    { cwd: packageRoot, encoding: 'utf8', env: { ...process.env, SLUICE_BENCH_INJECT_DELAY_NS: '20000' }, timeout: 600_000 },
  );
  assert.is(slowed.status, 1, slowed.stdout + slowed.stderr);
  assert.match(slowed.stdout, /injected into "core validate \+ extract"/);
  assert.match(slowed.stdout, /content: core speedup vs JSON\.parse \+ ajv .* FAIL/);
  assert.match(slowed.stdout, /campaign: core speedup vs JSON\.parse \+ ajv .* FAIL/);
});

test.run();
