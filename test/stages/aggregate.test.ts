// aggregate on its own, a message a batch: what it emits after each message (and at the end of the
// input) equals a reference computed here from the events themselves: tumbling and hopping windows,
// out-of-order events within grace, late ones past it (E_LATE or dropped), emit = on-update, a
// restart on an lmdb store going on with its open windows and stream time, closing on the clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { stages } from '../../src/pipeline/registry.ts';
import { aggregateStage, windowsOf } from '../../src/stages/aggregate.ts';
import { ManualClock } from '../../src/testing/clock.ts';
import type { EmittedRecord } from '../../src/component/types.ts';
import { stageUnderTest, type StageUnderTest } from '../support/stage.ts';

const rules = {
  type: 'object',
  properties: {
    itemId: { type: 'string' },
    type: { enum: ['impression', 'click', 'conversion'] },
    occurredAt: { type: ['integer', 'string'] },
    value: { type: 'number' },
  },
};

interface Event {
  itemId: string;
  type: 'impression' | 'click' | 'conversion';
  occurredAt: number;
  value?: number;
}

/** A window's result as the test compares it. */
interface Result {
  itemId: string;
  windowStart: number;
  windowEnd: number;
  impressions: number;
  clicks: number;
  conversions: number;
  conversionValue: number;
  maxValue: number;
}

const baseConfig = {
  time: 'occurredAt',
  aggregations: {
    impressions: { op: 'count', where: { type: 'impression' } },
    clicks: { op: 'count', where: { type: 'click' } },
    conversions: { op: 'count', where: { type: 'conversion' } },
    conversion_value: { op: 'sum', field: 'value', where: { type: 'conversion' } },
    max_value: { op: 'max', field: 'value', where: { type: 'conversion' } },
  },
  output: {
    target: 'sluice.recommender.v1.ItemEngagement',
    fields: { item_id: 'key', window_start: 'window.start', window_end: 'window.end', impressions: 'impressions', clicks: 'clicks', conversions: 'conversions', conversion_value: 'conversion_value' },
  },
  backend: 'memory',
};

/** What the stage emitted, as plain values (the record as the sink would get it). */
function plain(emitted: readonly EmittedRecord[]): Omit<Result, 'maxValue'>[] {
  return emitted.map(({ key, output }) => {
    const o = output as unknown as { itemId: string; windowStart: bigint; windowEnd: bigint; impressions: bigint; clicks: bigint; conversions: bigint; conversionValue: number };
    assert.is(new TextDecoder().decode(key!), o.itemId, 'an emitted result is keyed by its group key');
    return { itemId: o.itemId, windowStart: Number(o.windowStart), windowEnd: Number(o.windowEnd), impressions: Number(o.impressions), clicks: Number(o.clicks), conversions: Number(o.conversions), conversionValue: o.conversionValue };
  });
}

interface Reference {
  /** After each event, the results it makes the stage emit. */
  after: Omit<Result, 'maxValue'>[][];
  /** At the end of the input. */
  atEnd: Omit<Result, 'maxValue'>[];
  /** Indexes of the events every window of which had closed. */
  late: number[];
}

/**
 * The reference: stream time is the highest event time so far; an event counts in each window
 * [s, s + size) holding it (s a multiple of advance) that has not closed (s + size + grace > stream
 * time); windows close, in start then key order, once stream time reaches end + grace.
 * on-update: after each event, the windows it counted in, with their values then.
 */
function reference(events: readonly Event[], size: number, advance: number, grace: number, onUpdate = false): Reference {
  const open = new Map<string, Result>();
  let streamTime = -Infinity;
  const after: Omit<Result, 'maxValue'>[][] = [];
  const late: number[] = [];
  const strip = ({ maxValue: _max, ...r }: Result) => r;
  const order = (a: Result, b: Result) => a.windowStart - b.windowStart || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);
  events.forEach((e, i) => {
    streamTime = Math.max(streamTime, e.occurredAt);
    const touched: Result[] = [];
    for (let start = Math.floor(e.occurredAt / advance) * advance; start > e.occurredAt - size; start -= advance) {
      if (start + size + grace <= streamTime) continue;
      const id = `${start}/${e.itemId}`;
      let w = open.get(id);
      if (!w) open.set(id, (w = { itemId: e.itemId, windowStart: start, windowEnd: start + size, impressions: 0, clicks: 0, conversions: 0, conversionValue: 0, maxValue: -Infinity }));
      if (e.type === 'impression') w.impressions++;
      if (e.type === 'click') w.clicks++;
      if (e.type === 'conversion') {
        w.conversions++;
        w.conversionValue += e.value!;
        w.maxValue = Math.max(w.maxValue, e.value!);
      }
      touched.push(w);
    }
    if (touched.length === 0) late.push(i);
    const emitted = onUpdate ? touched.map((w) => strip({ ...w })) : [];
    const closed = [...open.entries()].filter(([, w]) => w.windowEnd + grace <= streamTime).sort(([, a], [, b]) => order(a, b));
    for (const [id, w] of closed) {
      open.delete(id);
      if (!onUpdate) emitted.push(strip(w));
    }
    after.push(emitted);
  });
  const atEnd = onUpdate ? [] : [...open.values()].sort(order).map(strip);
  return { after, atEnd, late };
}

/** A seeded generator: the same events every run. */
function events(count: number, seed: number, jitterMs: number): Event[] {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Event[] = [];
  let clock = 1_740_000_000_000;
  for (let i = 0; i < count; i++) {
    clock += Math.floor(next() * 2_000);
    const type = (['impression', 'impression', 'impression', 'click', 'conversion'] as const)[Math.floor(next() * 5)]!;
    const e: Event = { itemId: `cnt-00000${Math.floor(next() * 4)}`, type, occurredAt: clock - Math.floor(next() * jitterMs) };
    if (type === 'conversion') e.value = Math.round(next() * 10_000) / 100;
    out.push(e);
  }
  return out;
}

async function feed(stage: StageUnderTest, input: readonly Event[]) {
  const after: Omit<Result, 'maxValue'>[][] = [];
  const outcomes: string[] = [];
  for (const e of input) {
    const { outcome, emitted } = await stage.run(e, { key: e.itemId });
    outcomes.push(outcome.kind === 'fail' ? `fail:${outcome.code}` : outcome.kind);
    after.push(plain(emitted));
  }
  return { after, outcomes };
}

/** The outcomes the reference expects: absorbed, or late as the policy says. */
const expectedOutcomes = (count: number, late: readonly number[], lateAs: string) => Array.from({ length: count }, (_, i) => (late.includes(i) ? lateAs : 'absorbed'));

test('the registry lists aggregate; it emits and keeps state', () => {
  assert.is(stages.aggregate, aggregateStage);
  assert.ok(aggregateStage.emits && aggregateStage.stateful);
});

test('window durations: units, tumbling by default, advance above size refused', () => {
  const parsed = aggregateStage.config.parse({ ...baseConfig, window: { size: '1m', grace: '10s' } });
  assert.equal(parsed.window, { size: 60_000, grace: 10_000 });
  assert.is(aggregateStage.config.parse({ ...baseConfig, window: { size: 1000 } }).window.grace, 0);
  assert.not.ok(aggregateStage.config.safeParse({ ...baseConfig, window: { size: '1m', advance: '2m' } }).success);
  assert.not.ok(aggregateStage.config.safeParse({ ...baseConfig, window: { size: '0s' } }).success);
  assert.not.ok(aggregateStage.config.safeParse({ ...baseConfig, window: { size: '1m' }, aggregations: { n: { op: 'sum' } } }).success, 'sum needs a field');
});

test('tumbling windows, out of order within grace, late past it (E_LATE): each window once, when it closes, equal to the reference', async () => {
  const input = events(400, 7, 25_000);
  const expected = reference(input, 60_000, 60_000, 10_000);
  assert.ok(expected.late.length > 5 && expected.late.length < 100, `the input has some late events (${expected.late.length})`);
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m', grace: '10s' }, 'on-late': 'dlq' }, rules);
  const { after, outcomes } = await feed(stage, input);
  assert.equal(outcomes, expectedOutcomes(input.length, expected.late, 'fail:E_LATE'));
  assert.equal(after, expected.after);
  assert.equal(plain(await stage.flush()), expected.atEnd, 'the end of the input closes every open window');
  assert.equal(await stage.flush(), [], 'and nothing is left');
  await stage.close();
});

test('hopping windows (size 1m, advance 20s, grace 5s): late ones dropped as filtered, results equal the reference', async () => {
  const input = events(300, 11, 70_000);
  const expected = reference(input, 60_000, 20_000, 5_000);
  assert.ok(expected.late.length > 0, 'some events are late');
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m', advance: '20s', grace: '5s' } }, rules);
  const { after, outcomes } = await feed(stage, input);
  assert.equal(outcomes, expectedOutcomes(input.length, expected.late, 'filtered'));
  assert.equal(after, expected.after);
  assert.equal(plain(await stage.flush()), expected.atEnd);
  const counted = [...expected.after.flat(), ...expected.atEnd].reduce((n, r) => n + r.impressions + r.clicks + r.conversions, 0);
  assert.ok(counted > 2 * (input.length - expected.late.length), `an event counts in up to three windows (${counted} counts of ${input.length} events)`);
});

test('emit = on-update: after each event its windows as they are then; nothing more when they close', async () => {
  const input = events(150, 3, 20_000);
  const expected = reference(input, 60_000, 60_000, 10_000, true);
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m', grace: '10s' }, emit: 'on-update' }, rules);
  const { after } = await feed(stage, input);
  assert.equal(after, expected.after);
  assert.equal(await stage.flush(), []);
});

test('min and max of a field; RFC 3339 event times', async () => {
  const stage = stageUnderTest(
    aggregateStage,
    {
      ...baseConfig,
      window: { size: '1m' },
      aggregations: { low: { op: 'min', field: 'value' }, high: { op: 'max', field: 'value' }, n: { op: 'count' } },
      output: { target: 'sluice.recommender.v1.ItemEngagement', fields: { item_id: 'key', window_start: 'window.start', conversion_value: 'high', impressions: 'n' } },
    },
    rules,
  );
  await stage.run({ itemId: 'a', type: 'click', occurredAt: '2025-03-01T10:00:05Z', value: 3 }, { key: 'a' });
  await stage.run({ itemId: 'a', type: 'click', occurredAt: '2025-03-01T10:00:59.999+00:00', value: 9.5 }, { key: 'a' });
  await stage.run({ itemId: 'a', type: 'click', occurredAt: Date.parse('2025-03-01T10:00:30Z'), value: 1 }, { key: 'a' });
  const { emitted } = await stage.run({ itemId: 'a', type: 'click', occurredAt: '2025-03-01T10:01:00Z', value: 2 }, { key: 'a' });
  const result = emitted[0]!.output as unknown as { windowStart: bigint; conversionValue: number; impressions: bigint };
  assert.is(emitted.length, 1, 'grace 0: the window closes at its end');
  assert.equal([result.windowStart, result.conversionValue, result.impressions], [BigInt(Date.parse('2025-03-01T10:00:00Z')), 9.5, 3n]);
  assert.is(emitted[0]!.timestamp, String(Date.parse('2025-03-01T10:01:00Z')), 'a result carries its window end as its time');
});

test('a missing or bad event time, a non-numeric summed field, no key: failures of their own, nothing counted', async () => {
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m' } }, rules);
  const outcome = async (json: unknown, key?: string) => {
    const { outcome: o } = await stage.run(json, key === undefined ? {} : { key });
    return o.kind === 'fail' ? `${o.code}:${o.deadLetter}` : o.kind;
  };
  assert.is(await outcome({ itemId: 'a', type: 'click' }, 'a'), 'E_EVENT_TIME:true');
  assert.is(await outcome({ itemId: 'a', type: 'click', occurredAt: 'yesterday' }, 'a'), 'E_EVENT_TIME:true');
  assert.is(await outcome({ itemId: 'a', type: 'conversion', occurredAt: 1_740_000_000_000 }, 'a'), 'E_AGGREGATE_FIELD:true');
  assert.is(await outcome({ itemId: 'a', type: 'click', occurredAt: 1_740_000_000_000 }), 'E_AGGREGATE_KEY:true');
  assert.is(await outcome({ itemId: 'a', type: 'click', occurredAt: 1_740_000_000_500 }, 'a'), 'absorbed');
  assert.equal(plain(await stage.flush()), [{ itemId: 'a', windowStart: 1_740_000_000_000, windowEnd: 1_740_000_060_000, impressions: 0, clicks: 1, conversions: 0, conversionValue: 0 }]);
});

test('configuration problems name their keys: unknown field, unknown aggregation, a type that does not fit', () => {
  try {
    stageUnderTest(
      aggregateStage,
      {
        ...baseConfig,
        time: 'when',
        window: { size: '1m' },
        output: { target: 'sluice.recommender.v1.ItemEngagement', fields: { item_id: 'key', window_start: 'clicks_total', impressions: 'conversion_value', colour: 'key' } },
      },
      rules,
    );
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['time', 'output.fields.window_start', 'output.fields.impressions', 'output.fields.colour']);
  }
});

test('a restart on an lmdb store goes on with its open windows and its stream time', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-aggregate-'));
  try {
    const input = events(300, 5, 25_000);
    const expected = reference(input, 60_000, 60_000, 10_000);
    const config = { ...baseConfig, window: { size: '1m', grace: '10s' }, 'on-late': 'dlq', backend: 'lmdb' };
    const first = stageUnderTest(aggregateStage, config, rules, { stateDir });
    const before = await feed(first, input.slice(0, 170));
    await first.close();
    const second = stageUnderTest(aggregateStage, config, rules, { stateDir });
    const rest = await feed(second, input.slice(170));
    assert.equal([...before.outcomes, ...rest.outcomes], expectedOutcomes(input.length, expected.late, 'fail:E_LATE'), 'late after the restart too: the stream time was kept');
    assert.equal([...before.after, ...rest.after], expected.after);
    assert.equal(plain(await second.flush()), expected.atEnd);
    await second.close();
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('close-idle-after: a partition quiet that long on the clock closes what the clock time closes', async () => {
  const clock = new ManualClock(1_740_000_030_000);
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m', grace: '10s' }, 'close-idle-after': '30s' }, rules, { clock });
  await stage.run({ itemId: 'a', type: 'impression', occurredAt: 1_740_000_030_000 }, { key: 'a' });
  clock.advance(29_999);
  assert.equal(await stage.tick(), [], 'not idle long enough');
  clock.advance(1);
  assert.equal(await stage.tick(), [], 'idle, but at clock time the window [..000, ..060) is open until ..070');
  clock.advance(10_000);
  assert.equal(await stage.tick(), [], 'stream time moved to the clock 10 s ago: idle again only 30 s later');
  clock.advance(20_000);
  const closed = plain(await stage.tick());
  assert.equal(closed.map((r) => [r.itemId, r.windowStart, r.impressions]), [['a', 1_740_000_000_000, 1]]);
  const { outcome } = await stage.run({ itemId: 'a', type: 'impression', occurredAt: 1_740_000_040_000 }, { key: 'a' });
  assert.is(outcome.kind, 'filtered', 'its window closed on the clock: the event is late');
});

test('windowsOf lists a key\'s windows between two starts as JSON (interactive queries)', async () => {
  const stage = stageUnderTest(aggregateStage, { ...baseConfig, window: { size: '1m', grace: '1h' } }, rules);
  for (const [itemId, at] of [['a', 0], ['b', 0], ['a', 60_000], ['a', 60_001], ['a', 180_000]] as const) {
    await stage.run({ itemId, type: 'click', occurredAt: 1_740_000_000_000 + at }, { key: itemId });
  }
  const t0 = 1_740_000_000_000; // a minute's start
  const { record } = await stage.run({ itemId: 'z', type: 'click', occurredAt: 1_740_000_000_000 }, { key: 'z' });
  const entries = record.state!.view(0).entries();
  const names = Object.keys(baseConfig.aggregations);
  const windows = windowsOf(entries, new TextEncoder().encode('a'), t0, t0 + 120_000, names, 60_000);
  assert.equal(windows.map((w) => [w.windowStart! - t0, w.windowEnd! - t0, w.clicks]), [[0, 60_000, 1], [60_000, 120_000, 2]]);
});

test.run();
