// One counting path: what a batch counts reaches the run statistics and the Prometheus metrics
// from the same numbers, once per flush, and both agree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Metrics } from '../../src/observe/metrics.ts';
import { FlowStats, summarize } from '../../src/observe/stats.ts';
import { FlowCounts } from '../../src/pipeline/flow-counts.ts';

/** The value of one sample line of the exposition (0 when absent). */
async function sample(metrics: Metrics, line: string): Promise<number> {
  const found = (await metrics.text()).split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

function counted() {
  const metrics = new Metrics();
  const stats = new FlowStats('content');
  const flow = metrics.flow('content');
  const counts = new FlowCounts(stats, flow, [flow.stage('drop-drafts'), flow.stage('lookup')]);
  return { metrics, stats, counts };
}

test('nothing reaches either side before the flush; after it, both hold the same counts', async () => {
  const { metrics, stats, counts } = counted();
  counts.read(6);
  for (let i = 0; i < 3; i++) counts.valid();
  counts.invalid('E_TOKEN');
  counts.invalid('E_TOKEN');
  counts.failed('validate', 'E_TOKEN', true);
  counts.failed('validate', 'E_TOKEN', true);
  counts.invalid('E_TYPE');
  counts.failed('validate', 'E_TYPE', false);
  for (let i = 0; i < 3; i++) counts.stageIn(0);
  counts.stageFiltered(0);
  counts.stageOut(0);
  counts.stageOut(0);
  counts.stageIn(1);
  counts.stageIn(1);
  counts.stageOut(1);
  counts.stageFailed('E_LOOKUP_MISS');
  counts.failed('lookup', 'E_LOOKUP_MISS', true);
  assert.is(stats.read, 0, 'counted per batch, not per message');
  assert.is(await sample(metrics, 'sluice_messages_in_total{flow="content"}'), 0);
  counts.flush();
  const summary = summarize(stats);
  assert.equal(
    [summary.read, summary.valid, summary.invalid, summary.filtered, summary.deadLettered, summary.dropped, summary.invalidByReason, summary.failedByReason],
    [6, 3, 3, 1, 3, 1, { E_TOKEN: 2, E_TYPE: 1 }, { E_LOOKUP_MISS: 1 }],
  );
  const m = (line: string) => sample(metrics, line);
  assert.is(await m('sluice_messages_in_total{flow="content"}'), summary.read);
  assert.is(await m('sluice_messages_valid_total{flow="content"}'), summary.valid);
  assert.is(await m('sluice_messages_invalid_total{flow="content",reason="E_TOKEN"}'), 2);
  assert.is(await m('sluice_messages_invalid_total{flow="content",reason="E_TYPE"}'), 1);
  assert.is(await m('sluice_messages_dead_lettered_total{flow="content",stage="validate",reason="E_TOKEN"}'), 2);
  assert.is(await m('sluice_messages_dead_lettered_total{flow="content",stage="lookup",reason="E_LOOKUP_MISS"}'), 1);
  assert.is(await m('sluice_messages_dropped_total{flow="content",stage="validate",reason="E_TYPE"}'), summary.dropped);
  assert.is(await m('sluice_messages_filtered_total{flow="content",stage="drop-drafts"}'), summary.filtered);
  assert.is(await m('sluice_stage_messages_in_total{flow="content",stage="drop-drafts"}'), 3);
  assert.is(await m('sluice_stage_messages_out_total{flow="content",stage="drop-drafts"}'), 2);
  assert.is(await m('sluice_stage_messages_in_total{flow="content",stage="lookup"}'), 2);
  assert.is(await m('sluice_stage_messages_out_total{flow="content",stage="lookup"}'), 1);
});

test('a second flush adds only what was counted since; delivered outputs count and time on both sides', async () => {
  const { metrics, stats, counts } = counted();
  counts.read(2);
  counts.failed('validate', 'E_TOKEN', true);
  counts.flush();
  counts.read(1);
  counts.flush();
  counts.flush();
  assert.is(stats.read, 3);
  assert.is(stats.deadLettered, 1);
  assert.is(await sample(metrics, 'sluice_messages_in_total{flow="content"}'), 3);
  assert.is(await sample(metrics, 'sluice_messages_dead_lettered_total{flow="content",stage="validate",reason="E_TOKEN"}'), 1);
  counts.delivered([100, 100.5, 101], 102);
  assert.is(stats.written, 3);
  assert.is(await sample(metrics, 'sluice_messages_out_total{flow="content"}'), 3);
  assert.is(stats.latency.totalCount, 3);
  assert.is(await sample(metrics, 'sluice_end_to_end_latency_seconds_count{flow="content"}'), 3);
  assert.is(stats.latency.maxValue >= 1999 && stats.latency.maxValue <= 2001, true, `max ${stats.latency.maxValue} µs`);
});

test.run();
