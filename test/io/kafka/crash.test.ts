// Crash recovery on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts one): the
// campaign flow (config/qal.conf with this run's own topics and group) on a 4-partition input of
// 102,000 events — the sample lines cycled (all but the two ~1 MB E_SIZE ones): valid ones with a
// fresh eventId and userId each, filtered heartbeats, and every invalid and lookup-missing kind as
// they are — produced with `sluice produce` in four batches, the first before the processor
// starts, the others while it runs.
//   - the processor is SIGKILLed 3 times at random moments of the run (random fractions of the
//     expected outputs + dead letters), and restarted each time;
//   - once the group's committed offsets reach the end of every input partition and the outputs
//     stop growing, the last one is stopped with SIGTERM (exit 0);
//   - every expected output eventId is in the output at least once, no other (no filtered or
//     invalid input gives an output); every failing input (by its source coordinates) has a dead
//     letter at least once, with its expected reason, and no valid input has one;
//   - the duplicates (at-least-once redelivery of the batches not committed at a SIGKILL) are
//     counted and printed.
// The group's session timeout is the broker's minimum (6 s): a restarted member waits that long for
// the killed one to leave the group.
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { brokerList, BROKERS, campaignEvents, childEnv, CLI, committedOffsets, deadLetteredEvents, endOffsets, ensureBuilt, type Expected, explainMissing, kcatRead, Processor, requireEnvironment, sleep, sluice, uniqueNames, waitFor, campaignTopics, cleanUpRun, writeCampaignOverlay } from './harness.ts';
import type { CampaignTopics } from './harness.ts';

// ------------------------------------------------------------------------------------ helpers

const unique = uniqueNames('c');

// ------------------------------------------------------------------------------------ the run

const MESSAGES = 102_000;
const BATCHES = 4;
const PARTITIONS = 4;
const KILLS = 3;

const state: CampaignTopics & {
  dir: string;
  processors: Processor[];
  producer?: ChildProcess;
  admin?: KafkajsAdmin;
  passed: boolean;
} = { dir: '', input: '', output: '', dlq: '', group: '', processors: [], passed: false };


const explainAll = () => state.processors.map((p, i) => `=== run ${i + 1}\n${p.explain()}`).join('\n');

const crash = suite('kafka crash recovery: 102k events, the processor SIGKILLed 3 times, nothing lost');

crash.after(() => cleanUpRun(state));

crash('3 SIGKILLs at random moments: every expected output and dead letter at least once', async () => {
  requireEnvironment();
  ensureBuilt();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  Object.assign(state, campaignTopics(unique));
  const generated = campaignEvents(MESSAGES, true);
  const batchFiles = Array.from({ length: BATCHES }, (_, b) => {
    const file = join(state.dir, `events-${b}.ndjson`);
    const size = Math.ceil(MESSAGES / BATCHES);
    writeFileSync(file, Buffer.concat(generated.lines.slice(b * size, (b + 1) * size).flatMap((l) => [l, Buffer.from('\n')])));
    return file;
  });
  const expectedOutputs = generated.written.filter((id) => id !== null).length;
  const expectedLetters = generated.expected.filter((e) => !e.ok).length;
  const config = join(state.dir, 'crash.conf');
  writeCampaignOverlay(config, state, { partitions: PARTITIONS, log: join(state.dir, 'sluice.log'), shortSession: true });
  sluice(['topics', 'create', '--config', config]);
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = (state.admin = kafka.admin());
  await admin.connect();
  const produce = (file: string) => ['produce', '--brokers', BROKERS, '--topic', state.input, '--file', file, '--key', 'userId', '--batch-size', '2000'];

  // the first batch before the processor starts, the others while it runs
  sluice(produce(batchFiles[0]!));
  const start = () => {
    const p = new Processor(config, join(state.dir, 'sluice.log'), ['--summary-json', join(state.dir, `summary-${state.processors.length + 1}.json`)]);
    state.processors.push(p);
    return p;
  };
  let processor = start();
  let producing = (async () => {
    for (const file of batchFiles.slice(1)) {
      const child = (state.producer = spawn(process.execPath, [CLI, ...produce(file)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`sluice produce ${file}: exit ${code}\n${stderr}`);
    }
  })();
  let produceError: unknown;
  producing = producing.catch((error: unknown) => void (produceError = error));

  // kill at random fractions of the expected outputs + dead letters (duplicates count too: a kill
  // may come a little earlier than its fraction, never after the end)
  const fractions = Array.from({ length: KILLS }, (_, i) => 0.1 + (i + Math.random()) * (0.75 / KILLS));
  console.log(`  kills at ${fractions.map((f) => `${Math.round(f * 100)} %`).join(', ')} of ${expectedOutputs} outputs + ${expectedLetters} dead letters`);
  const progress = async () => (await endOffsets(admin, state.output)) + (await endOffsets(admin, state.dlq));
  for (const fraction of fractions) {
    await waitFor(`${Math.round(fraction * 100)} % of the outputs and dead letters (run ${state.processors.length})`, async () => {
      if (produceError) throw produceError;
      if (processor.exit) throw new Error(`run ${state.processors.length} exited:\n${processor.explain()}`);
      return (await progress()) >= fraction * (expectedOutputs + expectedLetters);
    }, 90_000, 20).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${explainAll()}`);
    });
    await sleep(Math.random() * 200);
    const exit = await processor.stop('SIGKILL');
    assert.equal(exit, { code: null, signal: 'SIGKILL' }, `run ${state.processors.length} was still running when killed:\n${processor.explain()}`);
    const at = await progress();
    console.log(`  ${elapsed()}: SIGKILL run ${state.processors.length} at ${at} outputs + dead letters`);
    assert.ok(at < expectedOutputs + expectedLetters, 'killed before the end of the run');
    processor = start();
  }
  await producing;
  if (produceError) throw produceError;

  // done: every input offset committed, the outputs no longer growing
  let last = -1;
  let stableSince = Date.now();
  await waitFor('every input offset committed and the outputs stable for 2 s', async () => {
    if (processor.exit) throw new Error(`the last run exited:\n${processor.explain()}`);
    const now = await progress();
    if (now !== last) [last, stableSince] = [now, Date.now()];
    const ends = await admin.fetchTopicOffsets(state.input);
    const committed = await committedOffsets(admin, state.group, state.input);
    return ends.every((p) => committed.get(p.partition) === p.high) && Date.now() - stableSince >= 2000;
  }, 120_000, 200).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll()}`);
  });
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  console.log(`  ${elapsed()}: the last run ended (SIGTERM): ${processor.stdout.split('\n')[0]}`);

  // the input as the broker has it: each message's expected outcome from its bytes
  const byBytes = new Map<string, { expected: Expected; written: string | null }>();
  generated.lines.forEach((line, i) => byBytes.set(line.toString('latin1'), { expected: generated.expected[i]!, written: generated.written[i]! }));
  const inputs = kcatRead(state.input, false);
  assert.is(inputs.length, MESSAGES, 'every event produced once');
  const failing = new Map<string, Expected>();
  for (const m of inputs) {
    const known = byBytes.get(m.value!.toString('latin1'));
    assert.ok(known, `input ${m.partition}/${m.offset} is a generated line`);
    if (!known.expected.ok) failing.set(`${m.partition}/${m.offset}`, known.expected);
  }
  assert.is(failing.size, expectedLetters, 'failing inputs on the broker');

  const outputs = kcatRead(state.output, false);
  const counts = new Map<string, number>();
  for (const m of outputs) {
    const eventId = (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId;
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  const letters = kcatRead(state.dlq, true);
  const dead = deadLetteredEvents(letters);
  const want = generated.written.filter((id): id is string => id !== null);
  const missing = want.filter((id) => !counts.has(id));
  assert.is(missing.length, 0, explainMissing(missing, dead));
  const wanted = new Set(want);
  const unexpected = [...counts.keys()].filter((id) => !wanted.has(id));
  assert.equal(unexpected.slice(0, 20), [], `${unexpected.length} outputs of events that must not be written (${[...unexpected].filter((id) => generated.filtered.has(id)).length} filtered ones)`);

  // dead letters: of failing inputs only, with their expected reason; every failing input has one
  const lettered = new Map<string, number>();
  const wrong: string[] = [];
  for (const letter of letters) {
    const h = letter.headers;
    const coordinates = `${h['sluice.source.partition']}/${h['sluice.source.offset']}`;
    const expected = failing.get(coordinates);
    if (!expected) {
      wrong.push(`input ${coordinates}: ${h['sluice.reason']}: ${h['sluice.message']}`);
      continue;
    }
    assert.is(h['sluice.reason'], expected.reason, `dead letter ${letter.offset} of input ${coordinates}: sluice.reason`);
    if (expected.path !== undefined) assert.is(h['sluice.path'], expected.path, `dead letter ${letter.offset} of input ${coordinates}: sluice.path`);
    lettered.set(coordinates, (lettered.get(coordinates) ?? 0) + 1);
  }
  assert.is(wrong.length, 0, `${wrong.length} dead letters of inputs that are not failing ones, the first: ${wrong.slice(0, 5).join(' | ')}`);
  const notLettered = [...failing.keys()].filter((c) => !lettered.has(c));
  assert.equal(notLettered.slice(0, 20), [], `${notLettered.length} failing inputs without a dead letter (first 20 shown)`);

  console.log(
    `  ${elapsed()}: ${MESSAGES} inputs, ${KILLS} SIGKILLs: ${outputs.length} outputs for ${want.length} expected (${outputs.length - counts.size} duplicates), ` +
      `${letters.length} dead letters for ${failing.size} expected (${letters.length - lettered.size} duplicates)`,
  );
  state.passed = true;
});

crash.run();
