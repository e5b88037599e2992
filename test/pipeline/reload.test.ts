// Hot reload of `sluice run` (under Node, then under Deno) on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
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
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  DENO,
  DenoProcessor,
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

/** What the runs leave behind, cleaned up after the suite (the directories only of passed runs). */
const state: {
  topics: string[];
  processors: Processor[];
  producers: ChildProcess[];
  admins: KafkajsAdmin[];
  kept: string[];
} = { topics: [], processors: [], producers: [], admins: [], kept: [] };

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
      'flows.engagement.enabled = false',
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

async function hotReload(runtime: 'node' | 'deno'): Promise<void> {
  requireEnvironment();
  if (runtime === 'node') ensureBuilt();
  else if (!existsSync(DENO)) throw new Error(`deno not found at ${DENO} (npm ci installs it)`);
  const dir = mkdtempSync(join(tmpdir(), `sluice-reload-${runtime}-`));
  state.kept.push(dir);
  const n: Names = {
    campaignIn: unique('events-in'),
    campaignOut: unique('events-out'),
    campaignDlq: unique('events-dlq'),
    contentIn: unique('items-in'),
    contentOut: unique('items-out'),
    contentDlq: unique('items-dlq'),
  };
  state.topics.push(...Object.values(n));
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
  const admin = kafka.admin();
  state.admins.push(admin);
  await admin.connect();

  const p = runtime === 'node' ? new Processor(config, log) : new DenoProcessor(config, log);
  state.processors.push(p);
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

  const producer = spawn(process.execPath, [CLI, 'produce', '--brokers', BROKERS, '--topic', n.campaignIn, '--file', inputFile, '--key', 'userId', '--rate', String(RATE)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  state.producers.push(producer);
  let produced = '';
  producer.stdout!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  producer.stderr!.on('data', (chunk: Buffer) => (produced += chunk.toString()));
  const producerExit = new Promise<number | null>((resolve) => producer.once('exit', (code) => resolve(code)));
  let progress = '';
  const outputsReach = (count: number) =>
    waitFor(`${count} campaign outputs`, async () => {
      alive();
      const [written, input] = [await endOffsets(admin, n.campaignOut), await endOffsets(admin, n.campaignIn)];
      progress = ` (${written} outputs of ${input} inputs so far)`;
      return written >= count;
    }, 120_000).catch((error: unknown) => explained(new Error(`${(error as Error).message}${progress}`)));

  // (c) SIGHUP, nothing changed
  await outputsReach(MESSAGES / 8);
  p.child.kill('SIGHUP');
  await waitFor('reload unchanged', () => (alive(), lines('reload unchanged').length === 1), 60_000).catch(explained);
  const unchanged = lines('reload unchanged')[0]!.reload as { trigger: string; unchanged: string[] };
  assert.is(unchanged.trigger, 'signal');
  assert.equal(unchanged.unchanged.sort(), ['campaign', 'content']);
  assert.is(lines('flow started').length, 2, 'SIGHUP with the same configuration restarts nothing');
  assert.is(lines('flow stopped: drained and committed').length, 0);

  // (b) an invalid value: rejected with its file and key path; the flows run on
  overlay(config, log, n, group, withSlot, ['flows.content.on-invalid = sometimes']);
  await waitFor('reload rejected', () => (alive(), lines('reload rejected: the configuration is invalid, the flows run on unchanged').length > 0), 60_000).catch(explained);
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
  const producingAtSwap = producer.exitCode === null;
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
  // one partition, in offset order: records with a slot up to the swap, none after it (both
  // present: the swap came mid-stream, whether or not the producer had finished by then)
  const firstWithout = slotted.indexOf(false);
  assert.ok(firstWithout >= 0, 'records after the swap carry no slot');
  assert.ok(firstWithout > 0, 'records before the swap carry a slot');
  assert.is(slotted.slice(firstWithout).indexOf(true), -1, 'after the swap no record carries a slot: the mapping switched once');
  const swap = lines('reload applied')[0]!.reload as { durationMs: number };
  console.log(
    `  ${runtime}: ${outputs.length} outputs for ${MESSAGES} inputs, ${duplicates} duplicates; the swap (${swap.durationMs} ms) at output ${firstWithout}, ${producingAtSwap ? 'while' : 'after'} the producer ran`,
  );
  assert.is(duplicates, 0, 'a drained and committed flow hands over with no duplicate');
  rmSync(dir, { recursive: true, force: true });
  state.kept.splice(state.kept.indexOf(dir), 1);
}

const reload = suite('hot reload: SIGHUP unchanged, an invalid file, a changed flow swapped with nothing lost or duplicated');

reload.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  for (const producer of state.producers) if (producer.exitCode === null) producer.kill('SIGKILL');
  for (const admin of state.admins) {
    await admin.deleteTopics({ topics: state.topics }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  for (const dir of state.kept) console.log(`  kept ${dir} (the log and the configurations)`);
});

const WHAT = 'SIGHUP unchanged: no restart; invalid file: problems logged, flows run on; changed campaign mapping: campaign alone swapped, every event once';
reload(`node: ${WHAT}`, () => hotReload('node'));
// Deno runs node:fs watch and SIGHUP through its Node compatibility layer
reload(`deno: ${WHAT}`, () => hotReload('deno'));

reload.run();
