// State on a Kafka source, on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
// one), on the client SLUICE_KAFKA_CLIENT names (default platformatic), with real store files: a flow deduplicating by `id` (dedupe, lmdb under a state dir of the
// run's own) from a 4-partition input to a 4-partition output, its changelog created by
// `sluice topics create`. Every id is produced twice (and some a third time, later), keyed by id,
// so each duplicate lands in the partition, and the store, of its first sighting.
//   1. exactly-once, the processor SIGKILLed 3 times at random moments while the input is produced
//      and restarted each time: each id is in the output exactly once (read_committed).
//   2. rebalance: two processors in one group; once the first half is delivered, one is SIGKILLed;
//      the survivor takes its partitions, restores their stores from the changelogs (its log says
//      so), and the first half produced again is dropped: each id exactly once.
//   3. at-least-once, SIGKILLed 3 times: nothing lost (duplicates allowed, counted and printed).
//   4. remember after ack (at-least-once): a record whose output the broker refuses is not
//      remembered — no changelog record, no committed offset — and a run with a sink that accepts
//      it writes it (it is not taken for a duplicate).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { changelogTopic } from '../../../src/state/changelog.ts';
import { brokerList, BROKERS, KAFKA_CLIENT, committedOffsets, ensureBuilt, kcat, kcatRead, Processor, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';

const PARTITIONS = 4;
const unique = uniqueNames('st', 3);

interface Run {
  readonly dir: string;
  readonly input: string;
  readonly output: string;
  readonly group: string;
  readonly processors: Processor[];
}

const runs: Run[] = [];
let admin: KafkajsAdmin;
let failed = false;

function newRun(): Run {
  const run = { dir: mkdtempSync(join(tmpdir(), 'sluice-state-kafka-')), input: unique('in'), output: unique('out'), group: unique('group'), processors: [] };
  runs.push(run);
  return run;
}

/** A configuration of the dedupe flow on `run`'s topics; `name` tells its log apart, `state` its state dir (default: `name`). */
function config(run: Run, name: string, options: { delivery: 'exactly-once' | 'at-least-once'; output?: string; state?: string }): string {
  const file = join(run.dir, `${name}.conf`);
  const output = options.output ?? run.output;
  writeFileSync(
    file,
    [
      'log.level = info',
      `log.destination = "${join(run.dir, `${name}.log`)}"`,
      'progress = off',
      'observe.http.port = 0',
      `kafka { brokers = "${BROKERS}", topics { "${run.input}" = ${PARTITIONS}, "${output}" = ${PARTITIONS} } }`,
      'flows.dedupe {',
      `  delivery = ${options.delivery}`,
      '  on-invalid = drop',
      '  rules { type = object, required = [id], properties { id { type = string }, n { type = integer }, pad { type = string } } }',
      '  stages = [ { kind = dedupe, key = id, store = seen } ]',
      `  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${run.input}", group-id = "${run.group}", state-dir = "${join(run.dir, `${options.state ?? name}-state`)}", session-timeout-ms = 6000, heartbeat-interval-ms = 1000, commit-interval-ms = 200 }`,
      `  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${output}", key = id, encoding = json }`,
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

/** Produces `ids` (in this order) keyed by id, one record each. */
function produce(run: Run, ids: readonly string[], pad = 0): void {
  const file = join(run.dir, `produce-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, ids.map((id, n) => `${id}\t${JSON.stringify({ id, n, ...(pad > 0 ? { pad: 'x'.repeat(pad) } : {}) })}\n`).join(''));
  kcat(['-P', '-t', run.input, '-K', '\t', '-l', file]);
}

/** The ids of the output, as a read_committed consumer (kcat's default) sees them. */
const outputIds = (topic: string) => kcatRead(topic, false).map((m) => (JSON.parse(m.value!.toString('utf8')) as { id: string }).id);
const outputCount = (topic: string) => kcat(['-C', '-t', topic, '-e', '-q', '-f', 'x\n']).length / 2;

/** Every partition of the input committed up to its end. */
async function caughtUp(run: Run): Promise<boolean> {
  const committed = await committedOffsets(admin, run.group, run.input);
  const ends = await admin.fetchTopicOffsets(run.input);
  return ends.every((p) => committed.get(p.partition) === p.high);
}

const ids = (from: number, to: number, tag: string) => Array.from({ length: to - from }, (_, i) => `${tag}-${from + i}`);

/** Each id twice: every other one right after its first sighting (most in the same batch), the rest at the end. */
const twice = (list: readonly string[]) => [...list.flatMap((id, i) => (i % 2 === 0 ? [id, id] : [id])), ...list.filter((_, i) => i % 2 === 1)];

const explain = (run: Run) => run.processors.map((p) => p.explain()).join('\n');

function exactlyOnce(seen: readonly string[], expected: readonly string[], run: Run): void {
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !counts.has(id));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const unexpected = [...counts.keys()].filter((id) => !expected.includes(id));
  assert.ok(missing.length === 0 && duplicated.length === 0 && unexpected.length === 0, `missing ${missing.length} (${missing.slice(0, 5)}), duplicated ${duplicated.length} (${duplicated.slice(0, 5)}), unexpected ${unexpected.length}\n${explain(run)}`);
}

/** Kills the running processor `kills` times, each at a random moment once the output has grown past a random share of `expected`. */
async function killAndRestart(run: Run, delivery: 'exactly-once' | 'at-least-once', name: string, expected: number, kills: number, produceNext: (round: number) => void): Promise<Processor> {
  let processor = start(run, config(run, `${name}-0`, { delivery, state: name }), `${name}-0`);
  for (let round = 1; round <= kills; round++) {
    const before = outputCount(run.output);
    const target = Math.min(expected - 1, before + 1 + Math.floor(Math.random() * (expected / (kills + 1))));
    await waitFor(`output past ${target} before kill ${round}`, () => outputCount(run.output) >= target || caughtUp(run), 60_000, 100);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
    await processor.stop('SIGKILL');
    produceNext(round);
    processor = start(run, config(run, `${name}-${round}`, { delivery, state: name }), `${name}-${round}`);
  }
  return processor;
}

const test = suite('kafka state: dedupe with its changelog, crashes and rebalances');

test.before(() => {
  requireEnvironment();
  ensureBuilt();
  admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  return admin.connect();
});

test.after(async () => {
  for (const run of runs) {
    for (const p of run.processors) if (!p.exit) await p.stop('SIGKILL');
    await admin.deleteTopics({ topics: [run.input, run.output, changelogTopic(run.group, 'seen')] }).catch(() => undefined);
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

/** Three SIGKILLs while three parts are produced (each id twice), then the first part a third time. */
async function crashRun(delivery: 'exactly-once' | 'at-least-once'): Promise<{ run: Run; expected: string[]; seen: string[] }> {
  const run = newRun();
  const name = delivery === 'exactly-once' ? 'p-eos' : 'p-alo';
  const file = config(run, `${name}-0`, { delivery, state: name });
  const created = sluice(['topics', 'create', '--config', file]);
  assert.match(created, `${changelogTopic(run.group, 'seen')}\t${PARTITIONS} partitions, compacted\tcreated`);
  const parts = [ids(0, 400, 'a'), ids(400, 800, 'a'), ids(800, 1200, 'a')];
  produce(run, twice(parts[0]!));
  const last = await killAndRestart(run, delivery, name, 1200, 3, (round) => produce(run, round < 3 ? twice(parts[round]!) : parts[0]!));
  await waitFor('the group to commit the whole input', () => caughtUp(run), 120_000, 200);
  await last.stop('SIGTERM');
  assert.equal(last.exit, { code: 0, signal: null }, explain(run));
  return { run, expected: parts.flat(), seen: outputIds(run.output) };
}

it('exactly-once, SIGKILLed 3 times while every record is produced twice: each id in the output exactly once (read_committed)', async () => {
  const { run, expected, seen } = await crashRun('exactly-once');
  exactlyOnce(seen, expected, run);
});

it('rebalance: one of two processors SIGKILLed, the survivor restores its partitions from the changelogs and dedupe stays exact', async () => {
  const run = newRun();
  const fileA = config(run, 'a', { delivery: 'exactly-once' });
  const fileB = config(run, 'b', { delivery: 'exactly-once' });
  sluice(['topics', 'create', '--config', fileA]);
  const a = start(run, fileA, 'a');
  const b = start(run, fileB, 'b');
  const holding = (p: Processor) => p.assignments('dedupe').at(-1)?.assigned.length ?? 0;
  await waitFor('both processors to hold partitions', () => holding(a) > 0 && holding(b) > 0 && holding(a) + holding(b) === PARTITIONS, 60_000, 100);
  // produced once the partitions are shared: the first processor writes the changelogs of its own
  const first = ids(0, 600, 'r');
  produce(run, twice(first));
  await waitFor('the first half delivered', () => caughtUp(run), 60_000, 200);
  const moved = a.assignments('dedupe').at(-1)!.assigned;
  await a.stop('SIGKILL');
  const second = ids(600, 900, 'r');
  produce(run, [...first, ...(twice(second))]);
  await waitFor('the survivor to take every partition and commit the whole input', async () => b.assignments('dedupe').at(-1)?.assigned.length === PARTITIONS && (await caughtUp(run)), 90_000, 200);
  const restored = b.log().filter((l) => l.msg === 'state store restored' && (l.restored as number) > 0).map((l) => `${run.input}-${l.partition as number}`);
  for (const partition of moved) assert.ok(restored.includes(partition), `the survivor did not restore ${partition} (restored: ${restored})\n${explain(run)}`);
  await b.stop('SIGTERM');
  exactlyOnce(outputIds(run.output), [...first, ...second], run);
});

it('at-least-once, SIGKILLed 3 times: nothing lost (duplicates allowed, counted)', async () => {
  const { run, expected, seen } = await crashRun('at-least-once');
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !counts.has(id));
  assert.equal(missing.slice(0, 10), [], `${missing.length} ids lost\n${explain(run)}`);
  const duplicates = seen.length - counts.size;
  console.log(`  at-least-once with state, 3 SIGKILLs: ${expected.length} ids, ${seen.length} outputs, ${duplicates} duplicates`);
});

it('at-least-once remembers a record only after its output is acknowledged: refused, nothing of it is remembered, and it is written later', async () => {
  const run = newRun();
  const small = unique('out-small');
  const file = config(run, 'refused', { delivery: 'at-least-once', output: small });
  sluice(['topics', 'create', '--config', file]);
  // the output topic takes 1 KiB: the 2 KiB record's output is refused
  await admin.deleteTopics({ topics: [small] });
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: small, numPartitions: PARTITIONS, configEntries: [{ name: 'max.message.bytes', value: '1024' }] }] });
  produce(run, ['big'], 2048);
  const refused = start(run, file, 'refused');
  const exit = await refused.exited;
  assert.ok(exit.code !== 0 && refused.stderr.includes(`more than ${small} accepts`), `expected the flow to fail on the refused output\n${refused.explain()}`);
  assert.is(outputCount(changelogTopic(run.group, 'seen')), 0, 'a changelog record of the refused batch');
  assert.equal([...(await committedOffsets(admin, run.group, run.input)).values()], Array(PARTITIONS).fill('-1'), 'an offset committed');
  // the same group and state dir with a sink that takes it: written, not filtered as a duplicate
  const accepted = config(run, 'accepted', { delivery: 'at-least-once', state: 'refused' });
  sluice(['topics', 'create', '--config', accepted]);
  const again = start(run, accepted, 'accepted');
  await waitFor('the record written', () => outputCount(run.output) === 1, 60_000, 100);
  await again.stop('SIGTERM');
  assert.equal(outputIds(run.output), ['big']);
  assert.is(outputCount(changelogTopic(run.group, 'seen')), 1);
  await admin.deleteTopics({ topics: [small] }).catch(() => undefined);
});

it('a changelog topic missing at start: a configuration error naming it (exit 2), nothing written', async () => {
  const run = newRun();
  const file = config(run, 'unmade', { delivery: 'at-least-once' });
  await admin.createTopics({ waitForLeaders: true, topics: [run.input, run.output].map((topic) => ({ topic, numPartitions: PARTITIONS })) });
  produce(run, ['m-1', 'm-2']);
  const processor = start(run, file, 'unmade');
  await waitFor('the processor to exit', () => processor.exit !== undefined, 60_000, 100);
  assert.equal(processor.exit, { code: 2, signal: null }, processor.explain());
  assert.ok(processor.stderr.includes(changelogTopic(run.group, 'seen')) && processor.stderr.includes('sluice topics create'), processor.explain());
  assert.not.match(processor.stderr, /\n\s+at /, 'a stack trace');
  assert.is(outputCount(run.output), 0);
});

test.run();
