// Hot reload of `sluice run` on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
// one): both flows of config/qal.conf on this run's own 1-partition topics, the configuration an
// overlay in a temporary directory; campaign events are produced at a steady rate all along.
//   (c) SIGHUP with the configuration unchanged: the log says `reload unchanged`; no flow stops or
//       starts again;
//   (b) the file rewritten with an invalid value: the log names the file and key path, the flows
//       run on (outputs keep coming);
//   (a) the file rewritten with the campaign mapping changed (its enrichment no longer merges
//       `slot`): only campaign is drained and restarted (content is not: one `flow started` and one
//       partition assignment in its log); the outputs switch once from records with a slot to
//       records without one; at the end every input event is in the output exactly once.
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';
import {
  brokerList,
  BROKERS,
  campaignEvents,
  childEnv,
  CLI,
  committedOffsets,
  deadLetteredEvents,
  endOffsets,
  ensureBuilt,
  explainMissing,
  kcatRead,
  Processor,
  requireEnvironment,
  SAMPLES,
  sluice,
  uniqueNames,
  waitFor,
} from '../io/kafka/harness.ts';

const unique = uniqueNames('r');

const MESSAGES = 8_000;
const RATE = 400;

const state: {
  dir: string;
  topics: string[];
  processor?: Processor;
  producer?: ChildProcess;
  admin?: KafkajsAdmin;
  passed: boolean;
} = { dir: '', topics: [], passed: false };

interface Names {
  campaignIn: string;
  campaignOut: string;
  campaignDlq: string;
  contentIn: string;
  contentOut: string;
  contentDlq: string;
}

/** The overlay: `merge` is the campaign enrichment's merge block; `extra` lines go last. */
function overlay(file: string, log: string, n: Names, group: string, merge: string, extra: string[] = []): void {
  writeFileSync(
    file,
    [
      `include "${join(packageRoot, 'config', 'qal.conf')}"`,
      `kafka.brokers = "${BROKERS}"`,
      'kafka.topics = null',
      `kafka.topics { ${[n.campaignIn, n.campaignOut, n.campaignDlq, n.contentIn, n.contentOut, n.contentDlq].map((t) => `"${t}" = 1`).join(', ')} }`,
      'log.level = info',
      `log.destination = "${log}"`,
      'progress = off',
      `flows.content.source { topic = "${n.contentIn}", group-id = "${group}-content" }`,
      `flows.content.sink.topic = "${n.contentOut}"`,
      `flows.content.dead-letter.topic = "${n.contentDlq}"`,
      `flows.campaign.source { topic = "${n.campaignIn}", group-id = "${group}-campaign" }`,
      `flows.campaign.sink.topic = "${n.campaignOut}"`,
      `flows.campaign.dead-letter.topic = "${n.campaignDlq}"`,
      'flows.campaign.stages = [',
      '  { kind = filter, name = drop-heartbeats, drop-if { field = type, in = [heartbeat] } }',
      '  { kind = map, name = to-event-record, target = "sluice.recommender.v1.EventRecord", fields {',
      '      event_id = eventId, event_type = type, campaign_id = campaignId, placement_id = placementId, user_id = userId,',
      '      occurred_at_ms = occurredAt, value = value, currency = currency, item_id = itemId, device_os = "device.os", consent = consent } }',
      `  { kind = enrich-http, name = placement, service = campaign-manager, url = "/placements/{placementId}", merge { ${merge} }, on-failure = dlq, cache { ttl-ms = 60000, max-entries = 10000 } }`,
      ']',
      ...extra,
    ].join('\n') + '\n',
  );
}

const reload = suite('hot reload: SIGHUP unchanged, an invalid file, a changed flow swapped with nothing lost or duplicated');

reload.after(async () => {
  if (state.processor && !state.processor.exit) await state.processor.stop('SIGKILL');
  if (state.producer && state.producer.exitCode === null) state.producer.kill('SIGKILL');
  if (state.admin) {
    await state.admin.deleteTopics({ topics: state.topics }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  if (state.dir && state.passed) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the log and the configurations)`);
});

reload('SIGHUP unchanged: no restart; invalid file: problems logged, flows run on; changed campaign mapping: campaign alone swapped, every event once', async () => {
  requireEnvironment();
  ensureBuilt();
  const dir = (state.dir = mkdtempSync(join(tmpdir(), 'sluice-reload-')));
  const n: Names = {
    campaignIn: unique('events-in'),
    campaignOut: unique('events-out'),
    campaignDlq: unique('events-dlq'),
    contentIn: unique('items-in'),
    contentOut: unique('items-out'),
    contentDlq: unique('items-dlq'),
  };
  state.topics = Object.values(n);
  const group = unique('group');
  const config = join(dir, 'reload.conf');
  const log = join(dir, 'sluice.log');
  const withSlot = 'surface = surface, slot = slot';
  overlay(config, log, n, group, withSlot);
  sluice(['topics', 'create', '--config', config]);
  sluice(['produce', '--brokers', BROKERS, '--topic', n.contentIn, '--file', join(SAMPLES, 'content.ndjson'), '--key', 'id']);
  const generated = campaignEvents(MESSAGES, false);
  const inputFile = join(dir, 'events.ndjson');
  writeFileSync(inputFile, Buffer.concat(generated.lines.flatMap((l) => [l, Buffer.from('\n')])));
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = (state.admin = kafka.admin());
  await admin.connect();

  const p = (state.processor = new Processor(config, log));
  const alive = () => {
    if (p.exit) throw new Error(`sluice run exited:\n${p.explain()}`);
  };
  const lines = (msg: string, flow?: string) => p.log().filter((l) => l.msg === msg && (flow === undefined || l.flow === flow));
  const explained = (error: unknown) => {
    throw new Error(`${(error as Error).message}\n${p.explain()}`);
  };
  await waitFor('both flows to own their partition', () => {
    alive();
    return p.assignments('content').length > 0 && p.assignments('campaign').length > 0;
  }, 45_000).catch(explained);

  const producer = (state.producer = spawn(process.execPath, [CLI, 'produce', '--brokers', BROKERS, '--topic', n.campaignIn, '--file', inputFile, '--key', 'userId', '--rate', String(RATE)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let produced = '';
  producer.stdout!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  producer.stderr!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  const producerExit = new Promise<number | null>((resolve) => producer.once('exit', (code) => resolve(code)));
  const outputsReach = (count: number) =>
    waitFor(`${count} campaign outputs`, async () => {
      alive();
      return (await endOffsets(admin, n.campaignOut)) >= count;
    }, 60_000).catch(explained);

  // (c) SIGHUP, nothing changed
  await outputsReach(MESSAGES / 8);
  p.child.kill('SIGHUP');
  await waitFor('reload unchanged', () => (alive(), lines('reload unchanged').length === 1), 20_000).catch(explained);
  const unchanged = lines('reload unchanged')[0]!.reload as { trigger: string; unchanged: string[] };
  assert.is(unchanged.trigger, 'signal');
  assert.equal(unchanged.unchanged.sort(), ['campaign', 'content']);
  assert.is(lines('flow started').length, 2, 'SIGHUP with the same configuration restarts nothing');
  assert.is(lines('flow stopped: drained and committed').length, 0);

  // (b) an invalid value: rejected with its file and key path; the flows run on
  overlay(config, log, n, group, withSlot, ['flows.content.on-invalid = sometimes']);
  await waitFor('reload rejected', () => (alive(), lines('reload rejected: the configuration is invalid, the flows run on unchanged').length > 0), 20_000).catch(explained);
  const rejected = lines('reload rejected: the configuration is invalid, the flows run on unchanged')[0]!;
  const problems = rejected.problems as { file?: string; path: string; message: string }[];
  assert.ok(
    problems.some((x) => x.file === config && x.path === 'flows.content.on-invalid'),
    `the problem names ${config} and flows.content.on-invalid: ${JSON.stringify(problems)}`,
  );
  assert.is((rejected.reload as { trigger: string }).trigger, 'file-change');
  const outputsAtRejection = await endOffsets(admin, n.campaignOut);
  await outputsReach(outputsAtRejection + 200);
  assert.is(lines('flow started').length, 2, 'an invalid configuration restarts nothing');

  // (a) the campaign mapping changes: campaign alone is drained and restarted
  overlay(config, log, n, group, 'surface = surface');
  await waitFor('reload applied', () => (alive(), lines('reload applied').length > 0), 60_000).catch(explained);
  const applied = lines('reload applied')[0]!.reload as { trigger: string; restarted: string[]; unchanged: string[]; started: string[]; stopped: string[] };
  assert.equal([applied.restarted, applied.unchanged, applied.started, applied.stopped], [['campaign'], ['content'], [], []]);
  assert.ok(producer.exitCode === null, 'the swap came while events were still produced');
  assert.is(await producerExit, 0, `sluice produce:\n${produced}`);

  // done: every input offset committed and the output count no longer growing
  let last = -1;
  let stableSince = Date.now();
  await waitFor('every input offset committed and the output count stable for 3 s', async () => {
    alive();
    const outputs = await endOffsets(admin, n.campaignOut);
    if (outputs !== last) [last, stableSince] = [outputs, Date.now()];
    const ends = await admin.fetchTopicOffsets(n.campaignIn);
    const committed = await committedOffsets(admin, `${group}-campaign`, n.campaignIn);
    return ends.every((x) => committed.get(x.partition) === x.high) && Date.now() - stableSince >= 3000;
  }, 120_000, 200).catch(explained);
  assert.is(lines('flow started', 'content').length, 1, 'content is not restarted');
  assert.is(p.assignments('content').length, 1, 'content is not rebalanced');
  assert.is(lines('flow started', 'campaign').length, 2, 'campaign is restarted once');
  assert.is(lines('flow stopped: drained and committed', 'campaign').length, 1);
  assert.equal(await p.stop('SIGTERM'), { code: 0, signal: null }, p.explain());

  const outputs = kcatRead(n.campaignOut, false);
  const counts = new Map<string, number>();
  const slotted: boolean[] = [];
  for (const m of outputs) {
    const record = JSON.parse(m.value!.toString('utf8')) as { eventId: string; slot?: string };
    counts.set(record.eventId, (counts.get(record.eventId) ?? 0) + 1);
    slotted.push(record.slot !== undefined);
  }
  const want = generated.written.filter((id): id is string => id !== null);
  const letters = kcatRead(n.campaignDlq, true);
  const missing = want.filter((id) => !counts.has(id));
  assert.is(missing.length, 0, explainMissing(missing, deadLetteredEvents(letters)));
  const wanted = new Set(want);
  assert.equal([...counts.keys()].filter((id) => !wanted.has(id)).slice(0, 20), [], 'no output for an eventId that was not produced');
  assert.is(letters.length, 0, 'no dead letter');
  const duplicates = outputs.length - counts.size;
  // one partition, in offset order: records with a slot up to the swap, none after it
  const firstWithout = slotted.indexOf(false);
  assert.ok(firstWithout >= 0, 'records after the swap carry no slot');
  assert.ok(firstWithout > 0, 'records before the swap carry a slot');
  assert.is(slotted.slice(firstWithout).indexOf(true), -1, 'after the swap no record carries a slot: the mapping switched once');
  console.log(`  ${outputs.length} outputs for ${MESSAGES} inputs, ${duplicates} duplicates; the swap at output ${firstWithout}, ${applied.trigger} reload in ${(lines('reload applied')[0]!.reload as { durationMs: number }).durationMs} ms`);
  assert.is(duplicates, 0, 'a drained and committed flow hands over with no duplicate');
  state.passed = true;
});

reload.run();
