// The repartition hop on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts one),
// on the client SLUICE_KAFKA_CLIENT names: campaign-like events keyed by user on a 3-partition
// input, a flow that keys them by item (key-by) and keeps the first event of each (item, type)
// (dedupe, a stateful stage: the flow hops through <group>-<flow>-by-item-repartition). Without
// the hop the same (item, type) would sit in the stores of several input partitions and come out
// more than once: the reference, computed here from the input, has each pair exactly once.
//   1. the outputs equal the reference, keyed by item with the input's headers; the repartition
//      topic exists with the input's partition count, every record keyed by its item on the
//      partition the Java client's partitioner gives that key.
//   2. exactly-once, the processor SIGKILLed 3 times while the input is produced: each pair exactly
//      once (read_committed).
//   3. at-least-once, SIGKILLed 3 times: no pair lost.
//   4. rebalance: two processors, one SIGKILLed once both hold partitions of both parts: still
//      each pair exactly once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { keyHash } from '../../../src/io/kafka/key-hash.ts';
import { changelogTopic } from '../../../src/state/changelog.ts';
import { brokerList, BROKERS, KAFKA_CLIENT, committedOffsets, ensureBuilt, kcat, kcatRead, Processor, type Received, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';

const PARTITIONS = 3;
const TYPES = ['impression', 'click', 'conversion'] as const;
const unique = uniqueNames('rp', 3);

interface Run {
  readonly dir: string;
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  readonly processors: Processor[];
}

const runs: Run[] = [];
let admin: KafkajsAdmin;
let failed = false;

const repartitionOf = (run: Run) => `${run.group}-items-by-item-repartition`;
const readerGroupOf = (run: Run) => `${run.group}-items-by-item`;

function newRun(): Run {
  const run = { dir: mkdtempSync(join(tmpdir(), 'sluice-repartition-kafka-')), input: unique('in'), output: unique('out'), dlq: unique('dlq'), group: unique('group'), processors: [] };
  runs.push(run);
  return run;
}

/**
 * The flow on `run`'s topics; `name` tells its log and state dir apart (`state`: another's state
 * dir). The repartition topic is purged every `purgeMs` (0: never).
 */
function config(run: Run, name: string, delivery: 'exactly-once' | 'at-least-once', state = name, purgeMs = 300): string {
  const file = join(run.dir, `${name}.conf`);
  const kafka = `kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}"`;
  writeFileSync(
    file,
    [
      'log.level = info',
      `log.destination = "${join(run.dir, `${name}.log`)}"`,
      'progress = off',
      'observe.http.port = 0',
      `kafka { brokers = "${BROKERS}", topics { "${run.input}" = ${PARTITIONS}, "${run.output}" = ${PARTITIONS}, "${run.dlq}" = 1 } }`,
      'flows.items {',
      `  delivery = ${delivery}`,
      '  rules { type = object, required = [eventId, userId, type], properties { eventId { type = string }, userId { type = string }, itemId { type = string }, type { type = string } } }',
      '  stages = [',
      '    { kind = filter, name = no-heartbeats, drop-if { field = type, in = [heartbeat] } }',
      '    { kind = key-by, name = by-item, field = itemId, on-missing = dlq }',
      '    { kind = dedupe, name = first, key = [itemId, type], store = seen }',
      '  ]',
      `  source { ${kafka}, topic = "${run.input}", group-id = "${run.group}", state-dir = "${join(run.dir, `${state}-state`)}", session-timeout-ms = 6000, heartbeat-interval-ms = 1000, commit-interval-ms = 200, purge-interval-ms = ${purgeMs} }`,
      `  sink { ${kafka}, topic = "${run.output}" }`,
      `  dead-letter { ${kafka}, topic = "${run.dlq}" }`,
      '}',
    ].join('\n') + '\n',
  );
  return file;
}

const start = (run: Run, file: string, name: string) => {
  const processor = new Processor(file, join(run.dir, `${name}.log`));
  run.processors.push(processor);
  return processor;
};

interface Event {
  readonly eventId: string;
  readonly userId: string;
  readonly itemId?: string;
  readonly type: string;
}

/**
 * `count` events over `items` items from `firstItem` and 20 users; one in 10 has no item (the
 * key-by dead-letters it), one in 15 is a heartbeat (filtered before).
 */
function events(tag: string, count: number, firstItem: number, items: number): Event[] {
  return Array.from({ length: count }, (_, n) => ({
    eventId: `${tag}-${n}`,
    userId: `u${(n * 7) % 20}`,
    ...(n % 10 === 3 ? {} : { itemId: `item-${firstItem + ((n * 13) % items)}` }),
    type: n % 15 === 4 ? 'heartbeat' : TYPES[(n >> 1) % 3]!,
  }));
}

/** Produces `list` keyed by user, each with the header origin=test, in order. */
function produce(run: Run, list: readonly Event[]): void {
  const file = join(run.dir, `produce-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, list.map((e) => `${e.userId}\t${JSON.stringify(e)}\n`).join(''));
  kcat(['-P', '-t', run.input, '-K', '\t', '-H', 'origin=test', '-l', file]);
}

/** The reference: each (item, type) of an event with an item that is not a heartbeat, once. */
const reference = (list: readonly Event[]) => [...new Set(list.filter((e) => e.itemId !== undefined && e.type !== 'heartbeat').map((e) => `${e.itemId}|${e.type}`))].sort();

const pairOf = (m: Received) => {
  const e = JSON.parse(m.value!.toString('utf8')) as Event;
  return `${e.itemId}|${e.type}`;
};
const outputCount = (topic: string) => kcat(['-C', '-t', topic, '-e', '-q', '-f', 'x\n']).length / 2;
const explain = (run: Run) => run.processors.map((p) => p.explain()).join('\n');

/** The input committed up to its end by the first part's group. */
async function inputCaughtUp(run: Run): Promise<boolean> {
  try {
    const committed = await committedOffsets(admin, run.group, run.input);
    const ends = await admin.fetchTopicOffsets(run.input);
    return ends.every((p) => committed.get(p.partition) === p.high);
  } catch (error) {
    // a fresh broker's group coordinator loading: retriable, asked again
    if ((error as { retriable?: boolean }).retriable === true) return false;
    throw error;
  }
}

/** Each pair of `expected` exactly once in the output, nothing else. */
function exactlyOnce(outputs: readonly Received[], expected: readonly string[], run: Run): void {
  const counts = new Map<string, number>();
  for (const m of outputs) counts.set(pairOf(m), (counts.get(pairOf(m)) ?? 0) + 1);
  const missing = expected.filter((p) => !counts.has(p));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([p]) => p);
  const unexpected = [...counts.keys()].filter((p) => !expected.includes(p));
  assert.ok(missing.length === 0 && duplicated.length === 0 && unexpected.length === 0, `missing ${missing.length} (${missing.slice(0, 5)}), duplicated ${duplicated.length} (${duplicated.slice(0, 5)}), unexpected ${unexpected.length} (${unexpected.slice(0, 5)})\n${explain(run)}`);
}

/** Waits until the input is committed and every expected pair is out, then stops `processors` cleanly and reads the output. */
async function finish(run: Run, expected: readonly string[], processors: readonly Processor[]): Promise<Received[]> {
  const complete = () => new Set(kcatRead(run.output, false).map(pairOf)).size >= expected.length;
  await waitFor('the input committed and every expected pair written', async () => (await inputCaughtUp(run)) && complete(), 120_000, 200);
  for (const p of processors) {
    await p.stop('SIGTERM');
    assert.equal(p.exit, { code: 0, signal: null }, explain(run));
  }
  return kcatRead(run.output, true);
}

const test = suite('kafka repartition: key-by then a stateful stage, through a repartition topic');

test.before(() => {
  requireEnvironment();
  ensureBuilt();
  admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  return admin.connect();
});

test.after(async () => {
  for (const run of runs) {
    for (const p of run.processors) if (!p.exit) await p.stop('SIGKILL');
    await admin.deleteTopics({ topics: [run.input, run.output, run.dlq, repartitionOf(run), changelogTopic(readerGroupOf(run), 'seen')] }).catch(() => undefined);
    if (failed) console.log(`  kept ${run.dir}`);
    else rmSync(run.dir, { recursive: true, force: true });
  }
  await admin.disconnect();
});

function it(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

it('outputs equal the reference, keyed by item with the input headers; the repartition topic has the input partitions, keyed and partitioned by item', async () => {
  const run = newRun();
  // kept: the hop is read whole below
  const file = config(run, 'one', 'at-least-once', 'one', 0);
  const created = sluice(['topics', 'create', '--config', file]);
  assert.match(created, `${repartitionOf(run)}\t${PARTITIONS} partitions\tcreated`);
  assert.match(created, `${changelogTopic(readerGroupOf(run), 'seen')}\t${PARTITIONS} partitions, compacted\tcreated`);
  const input = events('one', 600, 0, 40);
  produce(run, input);
  const processor = start(run, file, 'one');
  const expected = reference(input);
  const outputs = await finish(run, expected, [processor]);
  exactlyOnce(outputs, expected, run);
  for (const m of outputs) {
    assert.is(m.key?.toString('utf8'), pairOf(m).split('|')[0], 'an output keyed by its item');
    assert.is(m.headers.origin, 'test', 'the input headers carried across the hop');
  }
  const hop = kcatRead(repartitionOf(run), false);
  const partitions = await admin.fetchTopicOffsets(repartitionOf(run));
  assert.is(partitions.length, PARTITIONS);
  // every event with an item that is not a heartbeat crossed, as it came, keyed by its item
  const crossed = input.filter((e) => e.itemId !== undefined && e.type !== 'heartbeat');
  assert.is(hop.length, crossed.length);
  for (const m of hop) {
    const event = JSON.parse(m.value!.toString('utf8')) as Event;
    assert.is(m.key!.toString('utf8'), event.itemId);
    assert.is(m.partition, keyHash(m.key!) % PARTITIONS, `${event.itemId} on the partition of its key`);
  }
  // the events without an item: dead letters of the first part, replayed to the flow's input
  const letters = kcatRead(run.dlq, true);
  assert.is(letters.length, input.filter((e) => e.itemId === undefined).length);
  assert.ok(letters.every((l) => l.headers['sluice.reason'] === 'E_KEY_BY' && l.headers['sluice.flow'] === 'items.repartition'), JSON.stringify(letters[0]?.headers));
  assert.match(sluice(['replay', '--config', file, '--flow', 'items', '--dry-run']), `would replay ${letters.length} dead letters of ${run.dlq} to ${run.input};`);
});

it('the repartition topic is purged up to what its group committed; the input is not', async () => {
  const run = newRun();
  const file = config(run, 'purge', 'at-least-once');
  sluice(['topics', 'create', '--config', file]);
  const input = events('purge', 900, 0, 50);
  produce(run, input);
  const processor = start(run, file, 'purge');
  const expected = reference(input);
  const purged = async () => {
    const committed = await committedOffsets(admin, readerGroupOf(run), repartitionOf(run));
    const offsets = await admin.fetchTopicOffsets(repartitionOf(run));
    return offsets.every((p) => p.high !== '0' && committed.get(p.partition) === p.high && p.low === p.high);
  };
  await waitFor('every repartition record consumed, committed and purged', async () => (await inputCaughtUp(run)) && (await purged()), 120_000, 200);
  const outputs = await finish(run, expected, [processor]);
  exactlyOnce(outputs, expected, run);
  for (const p of await admin.fetchTopicOffsets(run.input)) assert.is(p.low, '0', `input partition ${p.partition} kept whole`);
  assert.is(kcatRead(repartitionOf(run), false).length, 0, 'nothing left to read on the repartition topic');
});

/** Three SIGKILLs while four parts of the input are produced; the outputs once every pair is out. */
async function crashRun(run: Run, delivery: 'exactly-once' | 'at-least-once'): Promise<{ outputs: Received[]; expected: string[] }> {
  const name = delivery === 'exactly-once' ? 'eos' : 'alo';
  sluice(['topics', 'create', '--config', config(run, `${name}-0`, delivery, name)]);
  // each part brings its own items: every part has outputs to be killed among
  const parts = [0, 1, 2, 3].map((r) => events(`${name}${r}`, 500, r * 100, 100));
  const expected = reference(parts.flat());
  produce(run, parts[0]!);
  let processor = start(run, config(run, `${name}-0`, delivery, name), `${name}-0`);
  for (let round = 1; round <= 3; round++) {
    const target = reference(parts.slice(0, round).flat()).length;
    const at = Math.floor(target * (0.3 + Math.random() * 0.6));
    await waitFor(`output past ${at} before kill ${round}`, () => outputCount(run.output) >= at, 60_000, 100);
    await processor.stop('SIGKILL');
    produce(run, parts[round]!);
    processor = start(run, config(run, `${name}-${round}`, delivery, name), `${name}-${round}`);
  }
  return { outputs: await finish(run, expected, [processor]), expected };
}

it('exactly-once, SIGKILLed 3 times while the input is produced: each pair exactly once (read_committed)', async () => {
  const run = newRun();
  const { outputs, expected } = await crashRun(run, 'exactly-once');
  exactlyOnce(outputs, expected, run);
});

it('at-least-once, SIGKILLed 3 times: no pair lost (duplicates allowed, counted)', async () => {
  const run = newRun();
  const { outputs, expected } = await crashRun(run, 'at-least-once');
  const seen = new Set(outputs.map(pairOf));
  const missing = expected.filter((p) => !seen.has(p));
  assert.equal(missing.slice(0, 10), [], `${missing.length} pairs lost\n${explain(run)}`);
  console.log(`  at-least-once through the hop, 3 SIGKILLs: ${expected.length} pairs, ${outputs.length} outputs, ${outputs.length - seen.size} duplicates`);
});

it('rebalance: two processors, one SIGKILLed once both hold partitions of both parts: each pair exactly once', async () => {
  const run = newRun();
  const fileA = config(run, 'a', 'exactly-once');
  const fileB = config(run, 'b', 'exactly-once');
  sluice(['topics', 'create', '--config', fileA]);
  const a = start(run, fileA, 'a');
  const b = start(run, fileB, 'b');
  const holding = (p: Processor, flow: string) => p.assignments(flow).at(-1)?.assigned.length ?? 0;
  const shared = (flow: string) => holding(a, flow) > 0 && holding(b, flow) > 0 && holding(a, flow) + holding(b, flow) === PARTITIONS;
  await waitFor('both processors to hold partitions of both parts', () => shared('items.repartition') && shared('items'), 60_000, 100);
  const first = events('r1', 600, 0, 60);
  produce(run, first);
  await waitFor('the first half written', () => new Set(kcatRead(run.output, false).map(pairOf)).size === reference(first).length, 60_000, 200);
  await a.stop('SIGKILL');
  // the same items again (no new pair) and new ones
  const second = [...events('r2', 300, 0, 60), ...events('r3', 300, 60, 60)];
  produce(run, second);
  const expected = reference([...first, ...second]);
  const outputs = await finish(run, expected, [b]);
  assert.is(holding(b, 'items'), PARTITIONS, `the survivor took every partition of the second part\n${explain(run)}`);
  exactlyOnce(outputs, expected, run);
});

test.run();
