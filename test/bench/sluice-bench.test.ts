// `sluice bench` through the built command (dist/src/cli.js): a short memory-transport run of a
// shipped flow writes its result and plot; --baseline exits 1 naming a regressed figure and 0
// when within tolerance; a wrong command line is exit 2.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FlowBenchResult } from '../../src/bench/flow-bench.ts';
import { packageRoot } from '../../src/package-root.ts';

const cli = join(packageRoot, 'dist', 'src', 'cli.js');
const localConf = join(packageRoot, 'config', 'local.conf');
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_') && name !== 'KAFKA_BROKERS'));

function sluice(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: packageRoot, encoding: 'utf8', env, timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

const quick = ['bench', '--config', localConf, '--flow', 'content', '--seconds', '0.5', '--warmup', '0.2', '--stub-services', '0'];
const out = join(dir, 'content.json');
let first: FlowBenchResult;

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a short saturation run of the shipped content flow writes its figures and the latency plot', () => {
  const run = sluice(...quick, '--out', out);
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /sluice bench: flow content of .*local\.conf, memory transport, saturation/);
  first = JSON.parse(readFileSync(out, 'utf8')) as FlowBenchResult;
  assert.is(first.suite, 'flow');
  assert.is(first.config.flow, 'content');
  assert.match(first.config.fingerprint, /^[0-9a-f]{64}$/);
  assert.is(first.config.inputMessages, readFileSync(join(packageRoot, 'samples', 'content.ndjson'), 'utf8').split('\n').filter((l) => l.trim() !== '').length, 'the flow\'s own source file, samples/content.ndjson');
  assert.ok(first.messages.read > 0 && first.messages.written > 0 && first.messages.deadLettered > 0, JSON.stringify(first.messages));
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max'] as const) assert.ok(first.latencyMs[key] > 0, key);
  assert.ok(first.latencyMs.p50 <= first.latencyMs.p99 && first.latencyMs.p99 <= first.latencyMs.max);
  assert.ok(first.throughput.perSecond > 0 && first.cpuMicrosPerMessage > 0 && first.rssPeakBytes > 0);
  assert.ok(first.reference.cpuMicrosPerMessage > 0);
  assert.ok(Math.abs(first.normalised.cpuPerMessage - first.cpuMicrosPerMessage / first.reference.cpuMicrosPerMessage) < 0.01 * first.normalised.cpuPerMessage + 0.002);
  assert.ok(first.normalised.throughput! > 0);
  assert.is(first.runtime.version, process.versions.node);
  const svg = readFileSync(join(dir, 'content.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<polyline points="/);
});

test('an open-loop run hands over the offered messages, latency from their intended times', () => {
  const run = sluice('bench', '--config', localConf, '--flow', 'campaign', '--seconds', '0.5', '--warmup', '0.2', '--stub-services', '0', '--rate', '2000', '--out', join(dir, 'open.json'));
  assert.is(run.status, 0, run.stdout + run.stderr);
  const result = JSON.parse(readFileSync(join(dir, 'open.json'), 'utf8')) as FlowBenchResult;
  assert.is(result.config.load, 'open-loop');
  assert.is(result.messages.read, 1000, '0.5 s at 2,000 msg/s');
  assert.is(result.normalised.throughput, null);
});

test('--baseline: a run far slower than the baseline fails naming the figure (again with the rounds of a second attempt), a far faster one passes', () => {
  const slower = { ...first, normalised: { ...first.normalised, cpuPerMessage: first.normalised.cpuPerMessage / 100, throughput: first.normalised.throughput! * 100 } };
  writeFileSync(join(dir, 'fast-baseline.json'), JSON.stringify(slower));
  const regressed = sluice(...quick, '--baseline', join(dir, 'fast-baseline.json'), '--attempts', '2');
  assert.is(regressed.status, 1, regressed.stdout + regressed.stderr);
  assert.match(regressed.stdout, /gate: baseline .*fast-baseline\.json, attempt 1 of 2\n/);
  assert.match(regressed.stdout, /round 2 \(attempt 2\): cpu\/msg vs reference [\d.]+/);
  assert.match(regressed.stdout, /the median of 2 rounds/);
  assert.match(regressed.stdout, /gate: baseline .*fast-baseline\.json, attempt 2 of 2\n/);
  assert.match(regressed.stdout, /cpu\/msg vs reference\s+[\d.]+\s+[\d.]+\s+\+[\d.]+ %\s+\+10 %\s+FAIL/);
  assert.match(regressed.stdout, /gate: FAIL: regressed past the tolerance: cpu\/msg vs reference \+[\d.]+ %\n/);

  const faster = { ...first, normalised: { ...first.normalised, cpuPerMessage: first.normalised.cpuPerMessage * 100, throughput: first.normalised.throughput! / 100 } };
  writeFileSync(join(dir, 'slow-baseline.json'), JSON.stringify(faster));
  const passed = sluice(...quick, '--baseline', join(dir, 'slow-baseline.json'), '--tolerance', 'throughput vs reference=15%');
  assert.is(passed.status, 0, passed.stdout + passed.stderr);
  assert.match(passed.stdout, /gate: PASS \(3 gated figures within tolerance\)/);
});

test('a wrong command line or baseline is exit 2 with a message, no stack', () => {
  const cases: [string[], RegExp][] = [
    [['bench', '--config', localConf, '--flow', 'nope'], /has no flow "nope" \(flows: campaign, content, engagement\)/],
    [[...quick, '--baseline', join(dir, 'missing.json')], /--baseline .*missing\.json: no such file/],
    [[...quick, '--baseline', localConf], /--baseline .*local\.conf: not JSON/],
    [[...quick, '--tolerance', 'p98 ms=10%'], /--tolerance "p98 ms=10%": expected <figure>=<N%\|off>/],
    [[...quick, '--rate', '2000', '--baseline', out], /the baseline ran at saturation, this run at --rate 2000/],
    [[...quick, '--transport', 'carrier-pigeon'], /'carrier-pigeon' is invalid\. Allowed choices are memory, kafka/],
    [[...quick, '--input', join(dir, 'none.ndjson')], /--input .*none\.ndjson: cannot read/],
    [['bench', '--config', localConf, '--flow', 'content', '--seconds', '0'], /--seconds.*expected a positive number/],
  ];
  for (const [args, message] of cases) {
    const run = sluice(...args);
    assert.is(run.status, 2, `${args.join(' ')}\n${run.stdout}${run.stderr}`);
    assert.match(run.stderr, message);
    assert.not.match(run.stderr, /\n\s+at /);
  }
  assert.not.ok(existsSync(join(dir, 'none.svg')));
});

test.run();
