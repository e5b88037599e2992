// A peer against Sluice on a real broker, one job at a time (--job, default campaign); --peer is
// kafka-streams (bench/peers/kafka-streams, every job) or flink (bench/peers/flink, campaign only):
//   campaign            every line of samples/campaign.ndjson goes through the peer; each must be
//                       dead-lettered with Sluice's reason, or not, as samples/campaign.expected.ndjson
//                       says (E_LOOKUP_MISS is the lookup stage's: the stateless peer delivers those),
//                       and each output must equal, key and value, what Sluice's campaign flow without
//                       enrichment and lookup writes.
//   campaign-stateful   every line twice (all of them, then all again), the placements topic fed from
//                       samples/placements.ndjson (a row with "_deleted" is a tombstone): the peer's
//                       outputs must equal, each exactly once, those of Sluice's campaign flow with a
//                       dedupe by eventId and the placements lookup on the same doubled input, each
//                       input partition's lines on their own (a dedupe store is a partition's).
//   engagement          the lines on one partition (one task: stream time in line order), then an
//                       event far later that closes every window: the peer's window results must equal
//                       a reference computed here from the lines it did not dead-letter (1-minute
//                       tumbling windows, 10 s grace, late events dropped as Kafka Streams drops them).
//   KAFKA_BROKERS=127.0.0.1:9192 tsx bench/peers/conformance.ts [--job campaign-stateful] [--peer flink]
// Prints the differences; exits 1 when there are more than the known ones (README: duplicate keys,
// "$" before a final newline: 3 lines).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../../src/pipeline/load.ts';
import { createTopics } from '../../src/io/kafka/tools.ts';
import { packageRoot } from '../../src/package-root.ts';
import { runFlow, type TestInput } from '../../src/testing/driver.ts';
import { rawLines } from '../../scripts/support/lines.ts';
import { engagementReference, type EngagementWindow, GRACE_MS } from './engagement-reference.ts';

const { values: args } = parseArgs({ options: { job: { type: 'string', default: 'campaign' }, peer: { type: 'string', default: 'kafka-streams' } } });
const job = args.job!;
if (!['campaign', 'campaign-stateful', 'engagement'].includes(job)) throw new Error(`--job is campaign, campaign-stateful or engagement, not ${job}`);
const peerName = args.peer!;
if (peerName !== 'kafka-streams' && peerName !== 'flink') throw new Error(`--peer is kafka-streams or flink, not ${peerName}`);
if (peerName === 'flink' && job !== 'campaign') throw new Error(`the Flink peer has the campaign job only, not ${job}`);

const KNOWN_DIFFERENCES = 3;
/** Engagement: the latest time the rules allow; an event then closes every window but the last one. */
const CLOSING_TIME = 4_102_444_800_000;
/** The broker refuses messages over 1 MB: the E_SIZE lines stay out. */
const MAX_MESSAGE = 900_000;

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9192').split(',');
const peerDir = join(packageRoot, 'bench', 'peers', peerName);
if (spawnSync('mvn', ['-q', '-B', 'package'], { cwd: peerDir, stdio: 'inherit' }).status !== 0) throw new Error('mvn package failed');

const name = `peer-conformance-${job}-${Date.now().toString(36)}`;
const inputPartitions = job === 'engagement' ? 1 : 4;
await createTopics(brokers, { [`${name}.in`]: inputPartitions, [`${name}.dlq`]: 1 }, pino({ level: 'silent' }));
const kafka = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING });
// window results carry event time, and Kafka 4 brokers refuse a timestamp over an hour ahead of
// their clock by default (the samples have events years ahead)
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: `${name}.out`, numPartitions: 4, configEntries: [{ name: 'message.timestamp.after.max.ms', value: '9223372036854775807' }] }] });
await admin.disconnect();
const lines = rawLines(join(packageRoot, 'samples', 'campaign.ndjson'));
const expected = readFileSync(join(packageRoot, 'samples', 'campaign.expected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; reason?: string });
const sent = lines.map((value, i) => ({ key: String(i + 1), value })).filter((m) => m.value.length < MAX_MESSAGE);
/** What goes to the input topic, in order: the lines (twice for the stateful job; the closing event for engagement). */
const input: { key: string; value: Buffer }[] = job === 'campaign-stateful' ? [...sent, ...sent] : [...sent];
if (job === 'engagement') input.splice(0, 0, ...windowTraffic()), input.push(closer());

const producer = kafka.producer();
await producer.connect();
if (job === 'campaign-stateful') {
  await createTopics(brokers, { [`${name}.placements`]: 1 }, pino({ level: 'silent' }));
  const rows = readFileSync(join(packageRoot, 'samples', 'placements.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { placementId: string; _deleted?: boolean });
  await producer.send({ topic: `${name}.placements`, messages: rows.map((row) => ({ key: row.placementId, value: row._deleted ? null : JSON.stringify(row) })) });
}
for (let i = 0; i < input.length; i += 200) await producer.send({ topic: `${name}.in`, messages: input.slice(i, i + 200) });
await producer.disconnect();

const stateDir = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
const topicArgs = [`bootstrap=${brokers.join(',')}`, `input=${name}.in`, `output=${name}.out`, `dlq=${name}.dlq`, `schema=${join(packageRoot, 'config', 'rules', 'campaign.schema.json')}`];
const peer = spawn(
  'java',
  peerName === 'flink'
    ? ['-jar', join(peerDir, 'target', 'flink-peer.jar'), ...topicArgs, `parallelism=${inputPartitions}`, `group-id=${name}`]
    : ['-jar', join(peerDir, 'target', 'campaign-peer.jar'), `job=${job}`, ...topicArgs, `application-id=${name}`, `placements=${name}.placements`, `state-dir=${stateDir}`],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
/** Dead letters by line: how many times each line was dead-lettered, with the reason. */
const dead = new Map<number, { reason: string; times: number }>();
const outputs: { key: string; value: Record<string, unknown> }[] = [];
let arrived = 0;
const consumer = kafka.consumer({ groupId: `${name}-reader` });
await consumer.connect();
await consumer.subscribe({ topics: [`${name}.dlq`, `${name}.out`], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, message }) => {
    arrived++;
    if (topic.endsWith('.dlq')) {
      const line = Number(message.key!.toString());
      dead.set(line, { reason: message.headers!['sluice.reason']!.toString(), times: (dead.get(line)?.times ?? 0) + 1 });
    } else outputs.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) as Record<string, unknown> });
  },
});
// every line arrives somewhere but the filtered ones: wait until arrivals start, then stop growing;
// window results come once the closing event got through and the windows' cache was flushed (at a
// commit: every 30 s at-least-once), so the engagement job waits for outputs first
const deadline = Date.now() + 180_000;
for (let last = -1; (arrived === 0 || arrived !== last || (job === 'engagement' && outputs.length === 0)) && Date.now() < deadline; ) {
  last = arrived;
  await new Promise((resolve) => setTimeout(resolve, 5000));
}
await consumer.disconnect();
peer.kill('SIGTERM');
await new Promise((resolve) => peer.once('exit', resolve));
rmSync(stateDir, { recursive: true, force: true });

let differences = 0;
const renamed = new Map<string, number>();
for (const { key } of sent) {
  const line = Number(key);
  const outcome = expected[line - 1]!;
  // a lookup miss is the lookup stage's, which only the stateful job has
  const deadLettered = !outcome.ok && (outcome.reason !== 'E_LOOKUP_MISS' || job === 'campaign-stateful');
  if (deadLettered !== dead.has(line)) {
    differences++;
    console.log(`line ${line}: Sluice ${outcome.ok ? 'ok' : outcome.reason}, the peer ${dead.get(line)?.reason ?? 'ok'}`);
  } else if (deadLettered && dead.get(line)!.reason !== outcome.reason) {
    const pair = `${outcome.reason} -> ${dead.get(line)!.reason}`;
    renamed.set(pair, (renamed.get(pair) ?? 0) + 1);
  }
}
console.log(`${sent.length} lines${job === 'campaign-stateful' ? ' (each sent twice)' : ''}, ${dead.size} dead-lettered, ${differences} other outcomes; codes named differently:`, Object.fromEntries(renamed));

let failed = differences > KNOWN_DIFFERENCES;
if (job === 'engagement') failed = compareWindows() || failed;
else failed = (await compareOutputs()) || failed;
process.exit(failed ? 1 : 0);

/** The peer's outputs against Sluice's flow in memory on the same input; true when they differ. */
async function compareOutputs(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
  const campaign = (await loadConfig(join(packageRoot, 'config', 'local.conf'))).settings.flows.campaign!.stages;
  const stages =
    job === 'campaign'
      ? campaign.filter((s) => s.kind !== 'enrich-http' && s.kind !== 'lookup' && s.kind !== 'dedupe') // stateless: the re-sent lines go through twice
      : [
          campaign.find((s) => s.kind === 'filter')!,
          { kind: 'dedupe', name: 'dedupe-event-id', key: 'eventId', retention: '24h', backend: 'memory' },
          ...campaign.filter((s) => s.kind === 'map' || s.kind === 'lookup'),
        ];
  writeFileSync(join(dir, 'peer.conf'), `include "${join(packageRoot, 'config', 'local.conf')}"\nlog.level = silent\nflows.campaign.stages = ${JSON.stringify(stages)}\n`);
  // a dedupe store is a partition's (the peer's as Sluice's on Kafka): Sluice runs on each
  // partition's input alone, and a line re-sent under another key, on another partition, passes twice
  const sluice = { outputs: [] as Awaited<ReturnType<typeof runFlow>>['outputs'] };
  for (const part of job === 'campaign' ? [input] : byPartition(input)) {
    sluice.outputs.push(...(await runFlow(join(dir, 'peer.conf'), 'campaign', part.map((m): TestInput => ({ key: m.key, value: m.value })))).outputs);
  }
  rmSync(dir, { recursive: true, force: true });
  const theirs = new Map<string, { key: string; value: unknown }[]>();
  for (const output of outputs) theirs.set(String(output.value.eventId), [...(theirs.get(String(output.value.eventId)) ?? []), output]);
  let unequal = 0;
  let missing = 0; // lines the peer dead-letters and Sluice does not (counted above)
  // each Sluice output takes one equal peer output of its eventId: the samples re-send some lines,
  // which the stateless job delivers as often as they come
  for (const output of sluice.outputs) {
    const value = output.value as { eventId: string; userId: string };
    const peerOutputs = theirs.get(value.eventId) ?? [];
    const equal = peerOutputs.findIndex((theirs) => theirs.key === value.userId && isDeepStrictEqual(theirs.value, value));
    if (equal >= 0) {
      peerOutputs.splice(equal, 1);
      continue;
    }
    if (peerOutputs.length === 0) missing++;
    else if (++unequal <= 5) console.log(`output ${value.eventId}: Sluice ${JSON.stringify(value)}, the peer ${JSON.stringify(peerOutputs)}`);
  }
  /** Peer outputs no Sluice output took: repeated, or of lines Sluice dead-letters (counted above). */
  const extra = [...theirs.values()].reduce((n, left) => n + left.length, 0) - unequal;
  console.log(`${sluice.outputs.length} Sluice outputs, ${outputs.length} from the peer: ${missing} missing, ${unequal} unequal, ${extra} more`);
  return missing > differences || unequal > 0 || extra > differences;
}

/** The input split as the producer above partitioned it (kafkajs's default partitioner: murmur2 of the key, as Java's), each part in order. */
function byPartition(messages: readonly { key: string; value: Buffer }[]): { key: string; value: Buffer }[][] {
  const partitionOf = kafkajs.Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: inputPartitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const parts = partitionMetadata.map((): { key: string; value: Buffer }[] => []);
  for (const message of messages) parts[partitionOf({ topic: `${name}.in`, partitionMetadata, message })]!.push(message);
  return parts;
}

function event(key: string, fields: { eventId: string; type: string; occurredAt: number; itemId: string; value?: number }): { key: string; value: Buffer } {
  return { key, value: Buffer.from(JSON.stringify({ campaignId: 'cmp-0001', placementId: 'plc-001', userId: 'conformance', ...fields })) };
}

/**
 * Before the samples (whose items seldom repeat in a minute, and whose times run to the schema's
 * maximum): 300 events on 3 items over 3 minutes of 2020, mixed types and values, every 10th 8 s
 * early (out of order within grace) and every 25th 75 s early (late past the grace where it crosses
 * a window's close).
 */
function windowTraffic(): { key: string; value: Buffer }[] {
  const base = 1_600_000_020_000;
  const types = ['impression', 'impression', 'click', 'conversion'];
  return Array.from({ length: 300 }, (_, k) =>
    event(`window-${k}`, {
      eventId: `00000000-0000-4000-8000-${k.toString(16).padStart(12, '0')}`,
      type: types[k % types.length]!,
      occurredAt: base + k * 600 - (k % 25 === 0 ? 75_000 : k % 10 === 0 ? 8_000 : 0),
      itemId: `cnt-90000${k % 3}`,
      ...(k % 4 === 3 || k % 11 === 0 ? { value: (k % 7) * 1.25 + 0.1 } : {}),
    }),
  );
}

function closer(): { key: string; value: Buffer } {
  return event('closer', { eventId: '00000000-0000-4000-8000-ffffffffffff', type: 'impression', occurredAt: CLOSING_TIME, itemId: 'cnt-999999' });
}

/** The peer's windows against the reference; true when they differ. */
function compareWindows(): boolean {
  const events = input.filter((m) => !dead.has(Number(m.key))).map((m) => m.value);
  const reference = engagementReference(events).filter((w) => w.windowEnd + GRACE_MS <= CLOSING_TIME); // the last windows never close
  const id = (w: EngagementWindow) => `${w.itemId}@${w.windowStart}`;
  const peerWindows = new Map(outputs.map((o) => [id(o.value as unknown as EngagementWindow), o]));
  let unequal = 0;
  for (const window of reference) {
    const theirs = peerWindows.get(id(window));
    if (theirs && theirs.key === window.itemId && isDeepStrictEqual(theirs.value, window)) continue;
    unequal++;
    if (unequal <= 5) console.log(`window ${id(window)}: reference ${JSON.stringify(window)}, the peer ${JSON.stringify(theirs)}`);
  }
  const extra = outputs.length - (reference.length - unequal);
  console.log(`${reference.length} windows in the reference (${reference.reduce((n, w) => n + w.impressions + w.clicks + w.conversions, 0)} events), ${outputs.length} from the peer: ${unequal} missing or unequal, ${extra} more`);
  return unequal > 0 || extra !== 0;
}
