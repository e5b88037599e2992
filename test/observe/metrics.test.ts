// The metric declarations and the batch-recorded histograms, rendered by prom-client.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METRICS, Metrics, metricsTable, README_MARKERS } from '../../src/observe/metrics.ts';
import { packageRoot } from '../../src/package-root.ts';

const LABELS = new Set(['flow', 'stage', 'reason', 'service', 'outcome', 'topic', 'partition', 'store']);

test('names follow the Prometheus conventions; labels come from the low-cardinality set', () => {
  for (const [name, d] of Object.entries(METRICS)) {
    assert.match(name, /^sluice_[a-z_]+$/, name);
    if (d.type === 'counter') assert.ok(name.endsWith('_total'), `${name}: a counter ends in _total`);
    else assert.not.ok(name.endsWith('_total'), `${name}: only counters end in _total`);
    if (d.type === 'histogram') assert.ok(name.endsWith('_seconds'), `${name}: durations in seconds`);
    for (const label of d.labels) assert.ok(LABELS.has(label), `${name}: label ${label}`);
  }
});

test('a tally renders as a cumulative Prometheus histogram', async () => {
  const metrics = new Metrics();
  const latency = metrics.flow('content').latency;
  for (const seconds of [0.00005, 0.003, 0.003, 20]) latency.record(seconds);
  const lines = (await metrics.text()).split('\n').filter((l) => l.startsWith('sluice_end_to_end_latency_seconds'));
  const value = (suffix: string) => Number(lines.find((l) => l.startsWith(`sluice_end_to_end_latency_seconds${suffix}`))!.split(' ')[1]);
  assert.is(value('_bucket{flow="content",le="0.0001"}'), 1);
  assert.is(value('_bucket{flow="content",le="0.0025"}'), 1);
  assert.is(value('_bucket{flow="content",le="0.005"}'), 3);
  assert.is(value('_bucket{flow="content",le="10"}'), 3);
  assert.is(value('_bucket{flow="content",le="+Inf"}'), 4);
  assert.is(value('_count{flow="content"}'), 4);
  assert.ok(Math.abs(value('_sum{flow="content"}') - 20.00605) < 1e-9);
});

test('handles are made once per name: a rebuilt flow counts on', () => {
  const metrics = new Metrics();
  assert.is(metrics.flow('content'), metrics.flow('content'));
  assert.is(metrics.service('content-api'), metrics.service('content-api'));
  assert.is.not(metrics.flow('content'), metrics.flow('campaign'));
});

test('consumer lag: a partition given up loses its series, and a batch of it finishing afterwards does not bring it back', async () => {
  const metrics = new Metrics();
  const source = metrics.kafkaSource('content');
  const lagOf = async () =>
    (await metrics.text())
      .split('\n')
      .filter((l) => l.startsWith('sluice_kafka_consumer_lag{'))
      .map((l) => l.replace(/^sluice_kafka_consumer_lag/, ''))
      .sort();
  source.assigned([{ topic: 'in', partition: 0 }, { topic: 'in', partition: 1 }]);
  source.lag('in', 0, 100n, 40n);
  source.lag('in', 1, 100n, 90n);
  assert.equal(await lagOf(), ['{flow="content",topic="in",partition="0"} 60', '{flow="content",topic="in",partition="1"} 10']);
  // the rebalance: partition 1 goes to another member; a batch of it was still being delivered
  source.assigned([{ topic: 'in', partition: 0 }]);
  source.lag('in', 1, 120n, 100n);
  source.lag('in', 0, 100n, 100n);
  assert.equal(await lagOf(), ['{flow="content",topic="in",partition="0"} 0']);
  // given back later: reported again
  source.assigned([{ topic: 'in', partition: 0 }, { topic: 'in', partition: 1 }]);
  source.lag('in', 1, 130n, 125n);
  assert.equal(await lagOf(), ['{flow="content",topic="in",partition="0"} 0', '{flow="content",topic="in",partition="1"} 5']);
});

test('readiness: not ready without a running flow; a breaker not closed past the limit names its service', () => {
  const metrics = new Metrics();
  const limits = { maxCircuitOpenMs: 0, maxBrokerSilenceMs: 30_000 };
  assert.equal(metrics.readiness.problems(limits), ['no flow is running']);
  const stopped = metrics.readiness.flowRunning(() => undefined);
  assert.equal(metrics.readiness.problems(limits), []);
  const service = metrics.service('content-api');
  service.breaker('open');
  const opened = performance.now();
  while (performance.now() === opened); // past the limit of 0 ms
  assert.equal(metrics.readiness.problems(limits), ['service content-api: circuit breaker not closed for 0 s']);
  service.breaker('half-open');
  assert.is(metrics.readiness.problems(limits).length, 1, 'half-open is not closed');
  service.breaker('closed');
  assert.equal(metrics.readiness.problems(limits), []);
  stopped();
  assert.equal(metrics.readiness.problems(limits), ['no flow is running']);
});

test('the README\'s metrics table is the one the declarations give (npm run docs:metrics)', () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  assert.ok(readme.includes(`${README_MARKERS[0]}\n${metricsTable()}\n${README_MARKERS[1]}`));
});

test.run();
