// Consumer-group scaling on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
// one): the campaign flow (config/qal.conf with this run's own topics and group) on a 4-partition
// input topic, two `sluice run` processes in the same group.
//   - both processes get partitions (each one's log says 'partitions assigned', together all 4);
//   - ~20k valid campaign events (the sample lines that are written, each with a fresh eventId and
//     userId) are produced at a steady rate while both run;
//   - one process is SIGKILLed mid-run: the other takes over its partitions (its log says all 4);
//   - when the output count stops growing and the group's committed offsets reach the end of every
//     input partition, every input eventId is in the output at least once (at-least-once:
//     duplicates allowed and counted, nothing missing, nothing unexpected, no dead letter).
// The group's session timeout is the broker's minimum (6 s), so the takeover does not wait 30 s.
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { brokerList, BROKERS, campaignEvents, childEnv, CLI, committedOffsets, deadLetteredEvents, endOffsets, ensureBuilt, explainMissing, type Generated, kcatRead, Processor, requireEnvironment, sluice, uniqueNames, waitFor, campaignTopics, cleanUpRun, writeCampaignOverlay } from './harness.ts';
import type { CampaignTopics } from './harness.ts';

// ------------------------------------------------------------------------------------ helpers

const unique = uniqueNames('g');

// ------------------------------------------------------------------------------------ the run

const MESSAGES = 20_000;
const RATE = 4_000;
const PARTITIONS = 4;

const state: CampaignTopics & {
  dir: string;
  generated?: Generated;
  processors: Processor[];
  producer?: ChildProcess;
  admin?: KafkajsAdmin;
  passed: boolean;
} = { dir: '', input: '', output: '', dlq: '', group: '', processors: [], passed: false };


/** The partitions of the latest 'partitions assigned' line of a processor's log. */
const latest = (p: Processor) => p.assignments('campaign').at(-1)?.assigned ?? [];
const explainAll = () => state.processors.map((p, i) => `=== processor ${'AB'[i]}\n${p.explain()}`).join('\n');

const groups = suite('kafka consumer group: two processors share the partitions, one is SIGKILLed, the other takes over');

groups.after(() => cleanUpRun(state));

groups('two members get partitions; after SIGKILL of one the other owns all; every input eventId is in the output', async () => {
  requireEnvironment();
  ensureBuilt();
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-groups-'));
  Object.assign(state, campaignTopics(unique));
  const generated = (state.generated = campaignEvents(MESSAGES, false));
  const inputFile = join(state.dir, 'events.ndjson');
  writeFileSync(inputFile, Buffer.concat(generated.lines.flatMap((l) => [l, Buffer.from('\n')])));
  const configs = ['a', 'b'].map((name) => {
    const file = join(state.dir, `${name}.conf`);
    writeCampaignOverlay(file, state, { partitions: PARTITIONS, log: join(state.dir, `${name}.log`), shortSession: true });
    return file;
  });
  sluice(['topics', 'create', '--config', configs[0]!]);
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = (state.admin = kafka.admin());
  await admin.connect();
  const all = Array.from({ length: PARTITIONS }, (_, p) => `${state.input}-${p}`);

  // A alone owns every partition; then B joins and they share them
  const a = new Processor(configs[0]!, join(state.dir, 'a.log'));
  state.processors.push(a);
  await waitFor('A to own every partition', () => {
    if (a.exit) throw new Error(`A exited:\n${a.explain()}`);
    return latest(a).length === PARTITIONS;
  }, 30_000);
  const b = new Processor(configs[1]!, join(state.dir, 'b.log'));
  state.processors.push(b);
  await waitFor('A and B to share the partitions', () => {
    for (const p of [a, b]) if (p.exit) throw new Error(`a processor exited:\n${explainAll()}`);
    const [ofA, ofB] = [latest(a), latest(b)];
    return ofA.length > 0 && ofB.length > 0 && [...ofA, ...ofB].sort().join() === all.join();
  }, 45_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll()}`);
  });
  console.log(`  A: ${latest(a).join(' ')}; B: ${latest(b).join(' ')}`);

  // the input arrives at a steady rate while both run
  const producer = (state.producer = spawn(process.execPath, [CLI, 'produce', '--brokers', BROKERS, '--topic', state.input, '--file', inputFile, '--key', 'userId', '--rate', String(RATE)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let produced = '';
  producer.stdout!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  producer.stderr!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  const producerExit = new Promise<number | null>((resolve) => producer.once('exit', (code) => resolve(code)));

  // mid-run: SIGKILL A
  await waitFor('a third of the outputs', async () => {
    for (const p of [a, b]) if (p.exit) throw new Error(`a processor exited:\n${explainAll()}`);
    return (await endOffsets(admin, state.output)) >= MESSAGES / 3;
  }, 60_000);
  const killedAt = Date.now();
  const outputsAtKill = await endOffsets(admin, state.output);
  assert.equal(await a.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
  console.log(`  SIGKILL A at ${outputsAtKill} outputs of ${MESSAGES}`);
  await waitFor('B to own every partition after the SIGKILL of A', () => {
    if (b.exit) throw new Error(`B exited:\n${b.explain()}`);
    return b.assignments('campaign').some((x) => x.time >= killedAt && x.assigned.length === PARTITIONS);
  }, 45_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll()}`);
  });
  console.log(`  B took over every partition ${((b.assignments('campaign').at(-1)!.time - killedAt) / 1000).toFixed(1)} s after the SIGKILL`);
  assert.is(await producerExit, 0, `sluice produce:\n${produced}`);

  // done: every input offset committed and the output count no longer growing
  let last = -1;
  let stableSince = Date.now();
  await waitFor('every input offset committed and the output count stable for 3 s', async () => {
    if (b.exit) throw new Error(`B exited:\n${b.explain()}`);
    const outputs = await endOffsets(admin, state.output);
    if (outputs !== last) [last, stableSince] = [outputs, Date.now()];
    const ends = await admin.fetchTopicOffsets(state.input);
    const committed = await committedOffsets(admin, state.group, state.input);
    return ends.every((p) => committed.get(p.partition) === p.high) && Date.now() - stableSince >= 3000;
  }, 90_000, 200).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll()}`);
  });
  const exit = await b.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, b.explain());

  const outputs = kcatRead(state.output, false);
  const counts = new Map<string, number>();
  for (const m of outputs) {
    const eventId = (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId;
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  const want = generated.written.filter((id): id is string => id !== null);
  assert.is(want.length, MESSAGES, 'every generated event is valid and written');
  const letters = kcatRead(state.dlq, true);
  const dead = deadLetteredEvents(letters);
  const missing = want.filter((id) => !counts.has(id));
  assert.is(missing.length, 0, explainMissing(missing, dead));
  const wanted = new Set(want);
  const unexpected = [...counts.keys()].filter((id) => !wanted.has(id));
  assert.equal(unexpected.slice(0, 20), [], 'no output for an eventId that was not produced');
  assert.is(letters.length, 0, `no dead letter (valid events whose placement exists), got ${letters.length}: ${[...new Set(dead.values())].slice(0, 3).join(' | ')}`);
  console.log(`  ${outputs.length} outputs for ${MESSAGES} inputs: ${outputs.length - counts.size} duplicates (at-least-once redelivery after the SIGKILL)`);
  state.passed = true;
});

groups.run();
