// The gate of `sluice bench --baseline` (src/bench/gate.ts): the CPU per message divided by the
// same run's reference is gated, the other figures only reported unless given a tolerance; a run
// of another flow or load is not comparable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compare, figures, incomparable, parseTolerance, table } from '../../src/bench/gate.ts';
import { type FlowBenchResult, medianRound } from '../../src/bench/flow-bench.ts';
import { SluiceError } from '../../src/errors.ts';

/** A result of `flow` at `rate` (null: saturation) with the given normalised CPU per message and throughput. */
function result(parts: { cpuRatio: number; throughputRatio?: number; rate?: number | null; flow?: string; p99?: number; perSecond?: number; written?: number }): FlowBenchResult {
  const rate = parts.rate ?? null;
  const p99 = parts.p99 ?? 12;
  return {
    suite: 'flow',
    date: '2026-12-05T15:00:00.000Z',
    machine: { cpu: 'test', cores: 2, memoryGiB: 8, os: 'linux' },
    runtime: { name: 'node', version: '20.20.2', v8: '11', sluice: '0.1.0' },
    config: {
      file: 'config/local.conf',
      flow: parts.flow ?? 'content',
      fingerprint: 'f'.repeat(64),
      input: 'samples/content.ndjson',
      inputMessages: 3000,
      transport: 'memory',
      load: rate === null ? 'saturation' : 'open-loop',
      rate,
      seconds: 5,
      warmupSeconds: 1,
      stubServicesMs: 0,
      injectDelayNs: 0,
      rounds: 1,
    },
    messages: { read: 100_000, written: parts.written ?? 90_000, deadLettered: 97_000 - (parts.written ?? 90_000), filtered: 3_000 },
    latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 1.5, max: p99 * 2 },
    latencyCurve: [[50, p99 / 4], [99, p99], [100, p99 * 2]],
    throughput: { perSecond: parts.perSecond ?? 60_000 },
    cpuMicrosPerMessage: parts.cpuRatio * 5,
    rssPeakBytes: 200 * 2 ** 20,
    reference: { name: 'JSON.parse + ajv', cpuMicrosPerMessage: 5, microsPerMessage: 5 },
    normalised: { cpuPerMessage: parts.cpuRatio, throughput: rate === null ? (parts.throughputRatio ?? 0.3) : null },
  };
}

const failed = (rows: ReturnType<typeof compare>) => rows.filter((r) => r.verdict === 'FAIL').map((r) => r.figure);

test('a run against itself passes; by default only the normalised CPU per message and the written share are gated', () => {
  const base = result({ cpuRatio: 2.4 });
  const rows = compare(base, result({ cpuRatio: 2.4 }));
  assert.equal(rows.filter((r) => r.verdict !== 'INFO').map((r) => r.figure), ['cpu/msg vs reference', 'written share']);
  assert.ok(rows.every((r) => r.verdict !== 'FAIL'));
  assert.ok(rows.some((r) => r.figure === 'p99 ms' && r.verdict === 'INFO'));
});

test('20 % more CPU per message (against the reference) fails; 8 % passes; less is never a failure', () => {
  const base = result({ cpuRatio: 2.4 });
  assert.equal(failed(compare(base, result({ cpuRatio: 2.4 * 1.2 }))), ['cpu/msg vs reference']);
  assert.equal(failed(compare(base, result({ cpuRatio: 2.4 * 1.08 }))), []);
  assert.equal(failed(compare(base, result({ cpuRatio: 1.2 }))), []);
});

test('a run that wrote a smaller share of what it read measured another path: it fails, however cheap that path was', () => {
  const base = result({ cpuRatio: 2.4 });
  assert.equal(failed(compare(base, result({ cpuRatio: 1.1, written: 0 }))), ['written share'], 'every record dead-lettered');
  assert.equal(failed(compare(base, result({ cpuRatio: 2.4, written: 85_000 }))), [], 'within 10 %');
  assert.equal(failed(compare(base, result({ cpuRatio: 2.4, written: 95_000 }))), [], 'more written is more work, gated by the CPU');
});

test('saturation throughput in reference units: reported; with a tolerance, a 30 % drop fails, a rise passes', () => {
  const base = result({ cpuRatio: 2, throughputRatio: 0.3 });
  assert.equal(failed(compare(base, result({ cpuRatio: 2, throughputRatio: 0.21 }))), []);
  const gated = Object.fromEntries([parseTolerance('throughput vs reference=25%')]);
  assert.equal(failed(compare(base, result({ cpuRatio: 2, throughputRatio: 0.21 }), gated)), ['throughput vs reference']);
  assert.equal(failed(compare(base, result({ cpuRatio: 2, throughputRatio: 0.5 }), gated)), []);
});

test('open loop has no throughput figure to gate (the rate is the offered one)', () => {
  const names = figures(result({ cpuRatio: 2, rate: 5_000 })).map((f) => f.name);
  assert.not.ok(names.includes('throughput vs reference'));
  assert.ok(names.includes('cpu/msg vs reference'));
});

test('--tolerance gates an absolute figure, widens one, or turns one off', () => {
  const base = result({ cpuRatio: 2, p99: 10 });
  const slower = result({ cpuRatio: 2.5, p99: 13 });
  assert.equal(failed(compare(base, slower)), ['cpu/msg vs reference']);
  assert.equal(failed(compare(base, slower, Object.fromEntries([parseTolerance('p99 ms=20%'), parseTolerance('cpu/msg vs reference=30%')]))), ['p99 ms']);
  assert.equal(failed(compare(base, slower, Object.fromEntries([parseTolerance('cpu/msg vs reference=off')]))), []);
  assert.equal(parseTolerance('msg/s=0.25'), ['msg/s', 0.25]);
});

test('a wrong --tolerance is a usage error: an unknown figure names the figures, a bad value says so', () => {
  const cases: [string, RegExp][] = [
    ['p98 ms=10%', /figure one of: cpu\/msg vs reference, throughput vs reference, /],
    ['=10%', /expected <figure>=<N%\|off>/],
    ['p99 ms=fast', /"fast" is not a percentage/],
    ['p99 ms=-5%', /"-5%" is not a percentage/],
    ['p99 ms=', /"" is not a percentage/],
  ];
  for (const [text, message] of cases) {
    try {
      parseTolerance(text);
      assert.unreachable(text);
    } catch (error) {
      assert.instance(error, SluiceError, text);
      assert.is((error as SluiceError).code, 'SLC_USAGE');
      assert.match((error as Error).message, message);
    }
  }
});

test('another flow or another load is not comparable', () => {
  const base = result({ cpuRatio: 2 });
  assert.is(incomparable(base, { flow: 'content', rate: null }), undefined);
  assert.match(incomparable(base, { flow: 'campaign', rate: null })!, /flow "content", this run "campaign"/);
  assert.match(incomparable(base, { flow: 'content', rate: 5_000 })!, /saturation, this run at --rate 5000/);
  assert.match(incomparable(result({ cpuRatio: 2, rate: 5_000 }), { flow: 'content', rate: 6_000 })!, /--rate 5000, this run at --rate 6000/);
});

test('the table shows each figure with its change, tolerance and verdict', () => {
  const text = table(compare(result({ cpuRatio: 2 }), result({ cpuRatio: 2.5 })));
  assert.match(text, /figure\s+baseline\s+current\s+change\s+tolerance\s+result/);
  assert.match(text, /cpu\/msg vs reference\s+2\.000\s+2\.500\s+\+25\.0 %\s+\+10 %\s+FAIL/);
  assert.match(text, /p99 ms\s+12\.000\s+12\.000\s+\+0\.0 %\s+not gated\s+INFO/);
});

test('rounds: the median round by CPU per message, with the median throughput, every round kept', () => {
  const rounds = [result({ cpuRatio: 3, throughputRatio: 0.2 }), result({ cpuRatio: 1, throughputRatio: 0.5 }), result({ cpuRatio: 2, throughputRatio: 0.1 })];
  const median = medianRound(rounds);
  assert.is(median.normalised.cpuPerMessage, 2);
  assert.is(median.cpuMicrosPerMessage, 10, 'the figures of the median round');
  assert.is(median.normalised.throughput, 0.2);
  assert.is(median.config.rounds, 3);
  assert.equal(median.rounds?.map((r) => r.cpuPerMessage), [3, 1, 2]);
  assert.is(medianRound([rounds[0]!]), rounds[0]);
});

test.run();
