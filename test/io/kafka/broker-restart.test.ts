// The broker restarts under a running processor (the broker of scripts/kafka.sh on KAFKA_PORT,
// which KAFKA_BROKERS names; scripts/test.mjs starts one and passes both): the campaign flow
// (config/qal.conf with this run's own topics and group, idempotent sinks as config/production.conf
// has them) on a 4-partition input of 30,000 valid events (the sample lines that are written, each
// with a fresh eventId and userId).
//   - 20,000 events are produced, the processor starts; once it has written a fifth of them,
//     `scripts/kafka.sh restart` stops the broker (SIGTERM) and starts it again on the same data;
//   - the remaining 10,000 events are produced once the broker is back;
//   - the processor recovers by itself: the same process, never restarted, writes every input
//     eventId to the output at least once (duplicates counted), no dead letter;
//   - its committed offsets then reach the end of every input partition;
//   - SIGTERM: exit 0 with the summary.
// Without KAFKA_PORT (a broker this test cannot restart) the test is skipped, saying so.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { brokerList, BROKERS, campaignEvents, committedOffsets, deadLetteredEvents, endOffsets, ensureBuilt, explainMissing, kcatRead, Processor, requireEnvironment, sleep, sluice, uniqueNames, waitFor, campaignTopics, writeCampaignOverlay } from './harness.ts';
import type { CampaignTopics } from './harness.ts';

// ------------------------------------------------------------------------------------ helpers

const unique = uniqueNames('r');

// ------------------------------------------------------------------------------------ the run

const FIRST = 20_000;
const MESSAGES = 30_000;
const PARTITIONS = 4;
const TESTS = 3;
const KAFKA_PORT = process.env.KAFKA_PORT;

const state: CampaignTopics & {
  dir: string;
  processor?: Processor;
  admin?: KafkajsAdmin;
  recovered: boolean;
  passed: number;
} = { dir: '', input: '', output: '', dlq: '', group: '', recovered: false, passed: 0 };


/** Why the broker cannot be restarted here, or undefined. */
function cannotRestart(): string | undefined {
  if (!KAFKA_PORT) return 'KAFKA_PORT is not set: no broker of scripts/kafka.sh to restart (npm test sets it; or KAFKA_PORT=49092 KAFKA_BROKERS=127.0.0.1:49092)';
  if (!brokerList.some((b) => b.endsWith(`:${KAFKA_PORT}`))) return `KAFKA_BROKERS (${BROKERS}) does not name the broker on KAFKA_PORT ${KAFKA_PORT}`;
  const status = spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'status'], { env: { ...process.env, KAFKA_PORT }, encoding: 'utf8' });
  if (status.status !== 0) return `no broker of scripts/kafka.sh runs on port ${KAFKA_PORT} (${status.stdout.trim()})`;
  return undefined;
}

const describeOffsets = async (admin: KafkajsAdmin) => {
  const ends = await admin.fetchTopicOffsets(state.input);
  const committed = await committedOffsets(admin, state.group, state.input);
  return {
    done: ends.every((p) => committed.get(p.partition) === p.high),
    text: ends.sort((a, b) => a.partition - b.partition).map((p) => `partition ${p.partition}: committed ${committed.get(p.partition)}, end ${p.high}`).join('; '),
  };
};

const requireRecovered = () => {
  if (!state.recovered) throw new Error('the run did not complete: see the first test of this suite');
};

const restart = suite('kafka broker restart: the processor recovers by itself, nothing lost');

restart.after(async () => {
  if (state.processor && !state.processor.exit) await state.processor.stop('SIGKILL');
  if (state.admin) {
    await state.admin.deleteTopics({ topics: [state.input, state.output, state.dlq] }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  // a failure keeps the processor's log and the configuration for inspection
  if (state.dir && state.passed === TESTS) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the processor's log: sluice.log)`);
});

const why = brokerList.length > 0 ? cannotRestart() : undefined;
if (why) console.log(`  broker-restart.test.ts: skipped: ${why}`);
const register = why ? (name: string, _: () => Promise<void>) => restart.skip(name, () => undefined) : restart;

register('scripts/kafka.sh restart during a run of 30k events: the same process delivers every one (nothing lost, no dead letter)', async () => {
  requireEnvironment();
  ensureBuilt();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
  Object.assign(state, campaignTopics(unique));
  const generated = campaignEvents(MESSAGES, false);
  const files = [generated.lines.slice(0, FIRST), generated.lines.slice(FIRST)].map((lines, i) => {
    const file = join(state.dir, `events-${i}.ndjson`);
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    return file;
  });
  const config = join(state.dir, 'restart.conf');
  // production's setting: an idempotent producer's sequence numbers must survive the restart
  const idempotent = ['flows.campaign.sink.idempotent = true', 'flows.campaign.dead-letter.idempotent = true'];
  writeCampaignOverlay(config, state, { partitions: PARTITIONS, log: join(state.dir, 'sluice.log'), lines: idempotent });
  sluice(['topics', 'create', '--config', config]);
  const produce = (file: string) => sluice(['produce', '--brokers', BROKERS, '--topic', state.input, '--file', file, '--key', 'userId', '--batch-size', '2000']);
  produce(files[0]!);
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, maxRetryTime: 2000 } });
  const admin = (state.admin = kafka.admin());
  await admin.connect();
  // this test's own admin client reconnects after the restart: its errors mean "not yet"
  let observerError = '';
  const observe = async <T>(what: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await what();
    } catch (error) {
      observerError = (error as Error).message;
      return undefined;
    }
  };

  const processor = (state.processor = new Processor(config, join(state.dir, 'sluice.log')));
  await waitFor('a fifth of the first outputs', async () => {
    if (processor.exit) throw new Error(`sluice exited:\n${processor.explain()}`);
    return (await endOffsets(admin, state.output)) >= FIRST / 5;
  }, 60_000, 20).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${processor.explain()}`);
  });
  const before = await endOffsets(admin, state.output);
  const stopping = Date.now();
  const restarted = spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'restart'], { env: { ...process.env, KAFKA_PORT }, encoding: 'utf8', timeout: 180_000 });
  assert.is(restarted.status, 0, `scripts/kafka.sh restart:\n${restarted.stdout}\n${restarted.stderr}`);
  console.log(`  ${elapsed()}: broker restarted at ${before} outputs of ${FIRST} (down and up again in ${((Date.now() - stopping) / 1000).toFixed(1)} s)`);
  assert.not.ok(processor.exit, `the processor exited while the broker restarted:\n${processor.explain()}`);
  produce(files[1]!);

  // done: every event has its output, and the count no longer grows
  let last = -1;
  let stableSince = Date.now();
  await waitFor(`${MESSAGES} outputs, the count stable for 2 s`, async () => {
    if (processor.exit) throw new Error(`the processor exited after the broker restart (it must recover by itself):\n${processor.explain()}`);
    const outputs = await observe(async () => (await endOffsets(admin, state.output)) + (await endOffsets(admin, state.dlq)));
    if (outputs === undefined) return false;
    if (outputs !== last) [last, stableSince] = [outputs, Date.now()];
    return outputs >= MESSAGES && Date.now() - stableSince >= 2000;
  }, 90_000, 200).catch(async (error: unknown) => {
    const offsets = await observe(() => describeOffsets(admin));
    throw new Error(`${(error as Error).message}: ${last} outputs and dead letters; ${offsets?.text ?? `(offsets unknown: ${observerError})`}\n${processor.explain()}`);
  });

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
  assert.is(missing.length, 0, `${explainMissing(missing, dead)}\n${processor.explain()}`);
  const wanted = new Set(want);
  assert.equal([...counts.keys()].filter((id) => !wanted.has(id)).slice(0, 20), [], 'no output for an eventId that was not produced');
  assert.is(letters.length, 0, `no dead letter (valid events whose placement exists), got ${letters.length}: ${[...new Set(dead.values())].slice(0, 3).join(' | ')}`);
  console.log(`  ${elapsed()}: ${outputs.length} outputs for ${MESSAGES} inputs (${outputs.length - counts.size} duplicates), the processor never restarted (pid ${processor.child.pid})`);
  state.recovered = true;
  state.passed++;
});

register('after the restart the committed offsets reach the end of every input partition (and never go back)', async () => {
  requireRecovered();
  const admin = state.admin!;
  let offsets = await describeOffsets(admin);
  // delivered offsets are committed every commit-interval-ms (1 s)
  for (const deadline = Date.now() + 10_000; !offsets.done && Date.now() < deadline; ) {
    await sleep(250);
    offsets = await describeOffsets(admin);
  }
  assert.ok(offsets.done, `every delivered offset committed 10 s after the last output: ${offsets.text}\n${state.processor!.explain()}`);
  state.passed++;
});

register('SIGTERM after the restart: exit 0 with the summary, the offsets still at the end', async () => {
  requireRecovered();
  const processor = state.processor!;
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  assert.match(processor.stdout, /^campaign: \d+ read/m, 'the summary');
  const offsets = await describeOffsets(state.admin!);
  assert.ok(offsets.done, `committed offsets after the exit: ${offsets.text}`);
  state.passed++;
});

restart.run();
