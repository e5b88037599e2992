// End-to-end benchmark against a real broker: a processor (a child process, as deployed) between an
// open-loop load generator and a consumer of its output.
//   npm run bench:e2e [-- --delivery exactly-once --rate 10000 --seconds 20 --saturation 200000]
//   npm run bench:peers [-- same options]   (= --compare)
// Latency is measured from each message's intended send time (its Kafka timestamp, which the
// processor passes through to the output) to its arrival in the output topic, so a stalled
// generator or processor cannot hide queueing (no coordinated omission). Saturation: the input
// topic is filled first, then the processor drains it; throughput is counted at the output from the
// first arrival (start-up is reported apart).
// --compare runs, on the same broker, input and offered rate: the broker floor (no processor: the
// reader reads the input topic, which shows what the generator, broker and reader add), Sluice on
// its WebAssembly core and on the plain-JS validator (validator = js), each with and without the
// enrichment stage, Sluice on the kafkajs client, and the Kafka Streams peer
// (bench/peers/kafka-streams, no enrichment), and the pass-through (bench/pass-through.ts: Sluice's
// Kafka client moving the same bytes, no processing); then it prints the ratios, Sluice /
// pass-through at saturation among them. --only picks processors; the Flink peer
// (bench/peers/flink, campaign workload only) runs only when picked: --only 'sluice-wasm,flink'.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FetchIsolationLevels, MessagesStreamModes, Consumer as PlatformaticConsumer } from '@platformatic/kafka';
import { build } from 'hdr-histogram-js';
import kafkajs from 'kafkajs';
import { loadConfig } from '../src/pipeline/load.ts';
import { JsValidator } from '../src/core/js-validator.ts';
import { compileSchema, type MessageValidator } from '../src/core/validator.ts';
import { createTopics } from '../src/io/kafka/tools.ts';
import { changelogTopicSpec } from '../src/state/changelog.ts';
import { repartitionTopic } from '../src/pipeline/repartition.ts';
import { packageRoot } from '../src/package-root.ts';
import { decodeSpan } from '../src/component/fields.ts';
import { buildCorpus } from './corpus.ts';
import { resultHeader, sluiceNodeFlags } from './meta.ts';
import { closingEvents, engagementCorpus, engagementMessage, SATURATION_EVENTS_PER_MS, windowArrival, type WindowResult } from './engagement-workload.ts';
import { feedPlacements, statefulCorpus, statefulExpected, statefulKeyIndex, statefulMessage, statefulOverlay } from './stateful-workload.ts';

const { values: args } = parseArgs({
  options: {
    delivery: { type: 'string', default: 'at-least-once' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    saturation: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    /** Extra HOCON lines for Sluice's configuration, e.g. "flows.campaign.source.max-wait-ms = 10". */
    set: { type: 'string', multiple: true, default: [] },
    /** Sluice (wasm and js, with and without enrichment) and the Kafka Streams peer side by side. */
    compare: { type: 'boolean', default: false },
    /** Open loop: seconds at the offered rate before measuring (JIT, connections, group settling). */
    warmup: { type: 'string', default: '5' },
    /** Stream threads of the Kafka Streams peer. */
    'peer-threads': { type: 'string', default: '1' },
    /**
     * The Flink peer's checkpoint interval (default 1000 at-least-once, 100 exactly-once, as Kafka
     * Streams commits exactly-once): exactly-once, its outputs become visible when a checkpoint completes.
     */
    'flink-checkpoint-ms': { type: 'string' },
    /** How long the enrichment services (a lookup server in a process of its own) take to answer. */
    'enrich-delay-ms': { type: 'string', default: '0' },
    /** Node.js flags for Sluice's processes, after those of `npm start` (a later flag wins), e.g. "--max-old-space-size=160" or "--cpu-prof --cpu-prof-dir=DIR". */
    'node-options': { type: 'string', default: '' },
    /** Only these processors, by their label: e.g. "sluice-wasm,sluice-wasm [kafkajs],kafka-streams". */
    only: { type: 'string' },
    /**
     * Every contender this many times, the order rotated each round (no contender always first);
     * each figure reported is its median over the rounds, the rounds kept in the result file.
     */
    rounds: { type: 'string', default: '1' },
    /** Seconds of an unmeasured open-loop run of the first contender before the first measured one (0: none). */
    'warm-run': { type: 'string', default: '20' },
    /**
     * campaign: the campaign flow, stateless; stateful: with a dedupe by eventId and the placements
     * lookup on a Kafka topic, against the peer's campaign-stateful job (bench/stateful-workload.ts);
     * engagement: the engagement flow's window results against the peer's engagement job
     * (bench/engagement-workload.ts).
     */
    workload: { type: 'string', default: 'campaign' },
    out: { type: 'string' },
  },
});
const delivery = args.delivery!;
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const saturationCount = Number(args.saturation);
const partitions = Number(args.partitions);
const warmupSeconds = Number(args.warmup);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds is a whole number from 1, not ${args.rounds}`);
if (delivery !== 'at-least-once' && delivery !== 'exactly-once') throw new Error(`--delivery is at-least-once or exactly-once, not ${delivery}`);
const workload = args.workload!;
if (workload !== 'campaign' && workload !== 'stateful' && workload !== 'engagement') throw new Error(`--workload is campaign, stateful or engagement, not ${workload}`);
const flinkCheckpointMs = Number(args['flink-checkpoint-ms'] ?? (delivery === 'exactly-once' ? 100 : 1000));

const { Kafka, logLevel, Partitioners } = kafkajs;
const port = process.env.SLUICE_BENCH_KAFKA_PORT ?? '9192';
const ownBroker = !process.env.KAFKA_BROKERS;
const brokers = process.env.KAFKA_BROKERS ?? `127.0.0.1:${port}`;
const brokerEnv = { ...process.env, KAFKA_PORT: port };

/**
 * broker-floor: no processor, the reader reads the input topic: what the harness and broker add.
 * pass-through: Sluice's Kafka client moving the same bytes, no processing (bench/pass-through.ts).
 */
type Implementation = 'broker-floor' | 'sluice-wasm' | 'sluice-js' | 'kafka-streams' | 'flink' | 'pass-through';

/** A processor under test (see startProcessor). */
interface Contender {
  implementation: Implementation;
  /** Calls the enrichment service (Sluice's enrich-http stage on the local lookup server). */
  enrichment: boolean;
  /** Sluice's Kafka client when not its default (@platformatic/kafka). */
  client?: 'kafkajs';
}

const label = (c: Contender) => `${c.implementation}${c.client ? ` [${c.client}]` : ''}${c.enrichment ? ' +enrich' : ''}`;

interface Run extends Contender {
  mode: string;
  offered?: number;
  messages: number;
  outputs: number;
  /** Output and dead letters expected: the messages less those the flow filters out. */
  expected: number;
  /** Stateful workload: the duplicates among the messages (dropped by the dedupe). */
  duplicates?: number;
  seconds: number;
  messagesPerSecond: number;
  /** From the processor's start to its first output (saturation runs). */
  startupSeconds?: number;
  latencyMs: Record<string, number>;
  /** cpuSeconds: the whole process life; measuredCpuSeconds (open loop): the measured schedule only. */
  processor: { cpuSeconds: number; maxRssMiB: number; measuredCpuSeconds?: number };
  /** The processor's RSS every 10 s from its start: [seconds, MiB] (a soak shows whether it is flat). */
  rssTimeline: [number, number][];
  /** Cores busy while measured (saturation: first to last output), by whom: what the machine had left. */
  cores: CoresBusy;
}

interface CoresBusy {
  processor: number;
  /** The broker this bench started (absent with KAFKA_BROKERS). */
  broker?: number;
  /** This process: load generator and reader. */
  harness: number;
  /** Every process on the machine. */
  machine: number;
  /** Cores the machine has. */
  of: number;
  /**
   * Sluice's event-loop thread: the share of the time it ran, and the share it was ready to run
   * but waited for a core (run queue). Together near 1: CPU-bound, and short of a core that long.
   */
  loopThread?: { running: number; waiting: number };
}

const PEER_DIR = join(packageRoot, 'bench', 'peers', 'kafka-streams');
const PEER_JAR = join(PEER_DIR, 'target', 'campaign-peer.jar');
const FLINK_DIR = join(packageRoot, 'bench', 'peers', 'flink');
const FLINK_JAR = join(FLINK_DIR, 'target', 'flink-peer.jar');

/**
 * Builds a peer's jar when a source is newer (Maven Central dependencies, cached in ~/.m2); the
 * Flink peer compiles the Kafka Streams peer's CampaignCheck.java, Rejected.java and Arguments.java too (bench/peers/flink/pom.xml).
 */
function buildPeer(dir: string, jar: string, name: string, sources: string[]): void {
  const newest = (path: string): number =>
    statSync(path).isDirectory() ? Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e)))) : statSync(path).mtimeMs;
  if (existsSync(jar) && statSync(jar).mtimeMs >= Math.max(...sources.map(newest))) return;
  console.log(`building the ${name} peer (mvn package)...`);
  const built = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: dir, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`mvn package failed in ${dir} (exit ${built.status})`);
}

const qal = await loadConfig(join(packageRoot, 'config', 'qal.conf'));
/** The campaign flow's stages but its dedupe by eventId (the stateful workload measures state): the campaign workload's job. */
const statelessStages = qal.settings.flows.campaign!.stages.filter((s) => s.kind !== 'dedupe');
/** Without enrichment and the placements lookup too: the stateless peer's job. */
const withoutEnrichment = JSON.stringify(statelessStages.filter((s) => s.kind !== 'enrich-http' && s.kind !== 'lookup'));

/**
 * The enrichment services (the lookup server on qal.conf's routes) in a process of their own, as
 * remote services are: in Sluice's process the built-in server would share its event loop and CPU.
 * Resolves to the base URL every service is called at.
 */
async function startLookupServer(): Promise<{ url: string; server: ChildProcess }> {
  const routes = qal.settings['local-services'].lookup?.routes ?? {};
  const files = Object.fromEntries(
    Object.entries(routes).map(([url, route]) => [url, { file: resolve(qal.dirOf(['local-services', 'lookup', 'routes', url, 'file']), route.file), key: route.key }]),
  );
  const server = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', 'lookup-server.ts'), '0', args['enrich-delay-ms']!, JSON.stringify(files)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((ready, fail) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      const listening = /listening (\d+)/.exec(chunk.toString());
      if (listening) ready(Number(listening[1]));
    });
    server.once('exit', (code) => fail(new Error(`the lookup server exited with ${code}`)));
  });
  // its first thousands of requests run cold (JIT): the first contender with enrichment paid for
  // them (p99 512 ms, against 35 ms for the next one), so they are spent here
  const url = `http://127.0.0.1:${port}`;
  const paths = Object.keys(routes);
  for (let round = 0; round < 200; round++) {
    await Promise.all(Array.from({ length: 25 }, (_, i) => fetch(url + paths[i % paths.length]!.replace(/\{[^}]+\}/g, `warm-up-${round}-${i}`)).then((r) => r.arrayBuffer())));
  }
  return { url, server };
}

/** The campaign rules judging as a flow's do: formats asserted (src/pipeline/build.ts); `sluice-js` on the plain-JS validator. */
function campaignValidator(extract: string[], implementation?: Implementation): MessageValidator {
  const schema = JSON.parse(readFileSync(join(packageRoot, 'config', 'rules', 'campaign.schema.json'), 'utf8'));
  const options = { assertFormats: true, extract };
  return implementation === 'sluice-js' ? new JsValidator(schema, options) : compileSchema(schema, options);
}

/** Stateful workload: outputs and dead letters expected of the first `count` messages, and the duplicates among them. */
function statefulCount(count: number): { expected: number; duplicates: number } {
  const validator = campaignValidator(['/type']);
  const valid = new Uint8Array(corpus.length);
  const heartbeat = new Uint8Array(corpus.length);
  for (let start = 0; start < corpus.length; ) {
    const n = validator.check(corpus, start);
    const spans = validator.spans(n);
    for (let i = 0; i < n; i++) {
      if (!validator.ok(i)) continue;
      valid[start + i] = 1;
      const type = validator.values(i)?.[0] ?? (spans[i * 2]! < 0 ? undefined : decodeSpan(corpus[start + i]!, spans[i * 2]!, spans[i * 2 + 1]!));
      if (type === 'heartbeat') heartbeat[start + i] = 1;
    }
    start += n;
  }
  return statefulExpected(stateful!, corpus.length, count, (k) => valid[k] === 1 && heartbeat[k] === 0, (k) => valid[k] === 0);
}

/**
 * Messages of the first `count` sent the flow filters out (heartbeats it finds valid): they arrive
 * nowhere. Decided by the contender's validator (the plain-JS one accepts duplicate keys).
 */
function filteredCount(messages: readonly Uint8Array[], count: number, implementation: Implementation): number {
  const validator = campaignValidator(['/type'], implementation);
  let filtered = 0;
  for (let start = 0; start < messages.length; ) {
    const n = validator.check(messages, start);
    const spans = validator.spans(n);
    for (let i = 0; i < n; i++) {
      if (!validator.ok(i)) continue;
      const type = validator.values(i)?.[0] ?? (spans[i * 2]! < 0 ? undefined : decodeSpan(messages[start + i]!, spans[i * 2]!, spans[i * 2 + 1]!));
      if (type !== 'heartbeat') continue;
      // message k of the corpus is sent once per full pass, and once more when k < count % length
      const k = start + i;
      filtered += Math.floor(count / messages.length) + (k < count % messages.length ? 1 : 0);
    }
    start += n;
  }
  return filtered;
}

if (ownBroker && spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'start', '--purge'], { stdio: 'inherit', env: brokerEnv }).status !== 0) {
  throw new Error('the broker did not start');
}

const kafka = new Kafka({ clientId: 'sluice-bench', brokers: brokers.split(','), logLevel: logLevel.ERROR });
const corpus = buildCorpus('campaign', 4 << 20).messages.filter((m) => m.length < 64 * 1024);

/**
 * A new broker creates its internal topics (__consumer_offsets, and __transaction_state with its
 * 50 partitions) on first use, which takes seconds: done here, or the first contender pays for it
 * (its exactly-once p99 was 2.3 s against 0.14 s for the same pipeline run second).
 */
async function warmBroker(): Promise<void> {
  const topic = `bench.warmup.${Date.now().toString(36)}`;
  await createTopics([brokers], { [topic]: 1 }, silentLogger);
  const producer = kafka.producer({ transactionalId: `${topic}.tx`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const transaction = await producer.transaction();
  await transaction.send({ topic, messages: [{ value: 'warm-up' }] });
  await transaction.sendOffsets({ consumerGroupId: `${topic}.group`, topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }] });
  await transaction.commit();
  await producer.disconnect();
}
const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
const all: Contender[] = workload === 'engagement' ? [
  { implementation: 'sluice-wasm', enrichment: false },
  { implementation: 'kafka-streams', enrichment: false },
] : workload === 'stateful' ? [
  { implementation: 'broker-floor', enrichment: false },
  { implementation: 'sluice-wasm', enrichment: false },
  { implementation: 'kafka-streams', enrichment: false },
] : [
  { implementation: 'broker-floor', enrichment: false },
  { implementation: 'sluice-wasm', enrichment: true },
  { implementation: 'sluice-js', enrichment: true },
  { implementation: 'sluice-wasm', enrichment: false },
  { implementation: 'sluice-wasm', enrichment: false, client: 'kafkajs' },
  { implementation: 'sluice-js', enrichment: false },
  { implementation: 'kafka-streams', enrichment: false },
  { implementation: 'pass-through', enrichment: false },
  { implementation: 'flink', enrichment: false },
];
const only = args.only?.split(',').map((name) => name.trim());
if (only?.includes('flink') && workload !== 'campaign') throw new Error(`the Flink peer (bench/peers/flink) has the campaign workload's job only, not --workload ${workload}`);
const unknown = only?.filter((name) => !all.some((c) => label(c) === name));
if (unknown?.length) throw new Error(`--only: no processor ${unknown.map((n) => `"${n}"`).join(', ')}; they are ${all.map((c) => `"${label(c)}"`).join(', ')}`);
// the Flink peer only when picked: a mini-cluster's start and a cold build of its 87 MB jar
const contenders = only ? all.filter((c) => only.includes(label(c))) : args.compare ? all.filter((c) => c.implementation !== 'flink') : [all[1]!];
const lookup = contenders.some((c) => c.enrichment) ? await startLookupServer() : undefined;
/** Stateful workload: fresh eventIds (some repeated) and the placements table's topic. */
const stateful = workload === 'stateful' ? statefulCorpus(corpus) : undefined;
const placementsTopic = `bench.placements.${Date.now().toString(36)}`;
if (stateful) await feedPlacements(kafka, placementsTopic);
/** Engagement workload: where each corpus message's occurredAt is rewritten. */
const engagement = workload === 'engagement' ? engagementCorpus(corpus) : undefined;
const run = workload === 'engagement' ? runEngagement : runOnce;
if (contenders.some((c) => c.implementation === 'kafka-streams')) buildPeer(PEER_DIR, PEER_JAR, 'Kafka Streams', [join(PEER_DIR, 'src'), join(PEER_DIR, 'pom.xml')]);
if (contenders.some((c) => c.implementation === 'flink')) {
  buildPeer(FLINK_DIR, FLINK_JAR, 'Flink', [join(FLINK_DIR, 'src'), join(FLINK_DIR, 'pom.xml'), join(PEER_DIR, 'src', 'main', 'java', 'sluice', 'peer')]);
}

function startProcessor(contender: Contender, suffix: string, topics: { input: string; output: string; dead: string }): ChildProcess | undefined {
  if (contender.implementation === 'broker-floor') return undefined;
  if (contender.implementation === 'pass-through') return startPassThrough(suffix, topics);
  // the Java peers take the same topics and rules; each names its exactly-once guarantee its own way
  const peer = (jar: string, exactlyOnce: string, rest: string[]) =>
    spawn(
      'java',
      [
        '-jar', jar,
        `bootstrap=${brokers}`, `input=${topics.input}`, `output=${topics.output}`, `dlq=${topics.dead}`,
        `schema=${join(packageRoot, 'config', 'rules', 'campaign.schema.json')}`,
        `guarantee=${delivery === 'exactly-once' ? exactlyOnce : 'at_least_once'}`,
        ...rest,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  if (contender.implementation === 'kafka-streams') {
    return peer(PEER_JAR, 'exactly_once_v2', [
      `application-id=bench-${suffix}`, `threads=${args['peer-threads']}`,
      ...(workload === 'engagement' ? ['job=engagement'] : []),
      ...(stateful ? ['job=campaign-stateful', `placements=${placementsTopic}`, `state-dir=${join(dir, `${suffix}-state`)}`] : []),
    ]);
  }
  if (contender.implementation === 'flink') {
    return peer(FLINK_JAR, 'exactly_once', [`parallelism=${partitions}`, `group-id=bench-${suffix}`, `checkpoint-ms=${flinkCheckpointMs}`]);
  }
  const config = join(dir, `${suffix}.conf`);
  if (workload === 'engagement') {
    writeFileSync(config, engagementConfig(suffix, topics));
    // its internal topics (repartition, changelogs), as an operator creates them
    const created = spawnSync(process.execPath, [join(packageRoot, 'dist', 'src', 'cli.js'), 'topics', 'create', '--config', config], { stdio: 'inherit' });
    if (created.status !== 0) throw new Error(`sluice topics create failed (exit ${created.status})`);
    return startSluice(config, suffix);
  }
  const client = contender.client ? `, client = ${contender.client}` : '';
  writeFileSync(
    config,
    `include "${join(packageRoot, 'config', 'qal.conf')}"
log.level = warn
log.destination = "${join(dir, `${suffix}.log`)}"
progress = off
kafka.brokers = "${brokers}"
flows.content.enabled = false
flows.engagement.enabled = false
flows.campaign {
  delivery = ${delivery}
  validator = ${contender.implementation === 'sluice-js' ? 'js' : 'wasm'}
  source { topic = "${topics.input}", group-id = "bench-${suffix}"${client} }
  sink { topic = "${topics.output}", compression = none${client} }
  dead-letter { topic = "${topics.dead}"${client} }
}
${stateful ? statefulOverlay(qal.settings.flows.campaign!.stages, brokers, placementsTopic, join(dir, `${suffix}-state`)) : `flows.campaign.stages = ${contender.enrichment ? JSON.stringify(statelessStages) : withoutEnrichment}`}
${args.set!.join('\n')}
`,
  );
  return startSluice(config, suffix);
}

/** Sluice's configuration for the engagement workload: the shipped engagement flow on the bench's topics. */
function engagementConfig(suffix: string, topics: { input: string; output: string; dead: string }): string {
  if (!qal.settings.flows.engagement) {
    throw new Error('config/qal.conf has no engagement flow yet (issue 17): run the engagement workload with --only kafka-streams until it has');
  }
  return `include "${join(packageRoot, 'config', 'qal.conf')}"
log.level = warn
log.destination = "${join(dir, `${suffix}.log`)}"
progress = off
kafka.brokers = "${brokers}"
# the input's partitions: its stores' changelogs have as many (sluice topics create)
kafka.topics = null
kafka.topics { "${topics.input}" = ${partitions} }
flows.content.enabled = false
flows.campaign.enabled = false
flows.engagement {
  delivery = ${delivery}
  # the peer's job: no dedupe by eventId (the replayed corpus repeats its eventIds)
  stages = ${JSON.stringify(qal.settings.flows.engagement.stages.filter((s) => s.kind !== 'dedupe'))}
  source { topic = "${topics.input}", group-id = "bench-${suffix}", state-dir = "${join(dir, `${suffix}-state`)}" }
  sink { topic = "${topics.output}", compression = none }
  dead-letter { topic = "${topics.dead}" }
}
${args.set!.join('\n')}
`;
}

/** Sluice as a child process on `config`. */
function startSluice(config: string, suffix: string): ChildProcess {
  const nodeFlags = [...sluiceNodeFlags(), ...args['node-options']!.split(/\s+/).filter((flag) => flag !== '')];
  return spawn(process.execPath, [...nodeFlags, join(packageRoot, 'dist', 'src', 'cli.js'), 'run', '--config', config, '--summary-json', join(dir, `${suffix}.json`)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...(lookup ? { CONTENT_API_URL: lookup.url, CAMPAIGN_MANAGER_URL: lookup.url, RECOMMENDER_API_URL: lookup.url } : {}) },
  });
}

/** Sluice's own Kafka client consuming and producing the same bytes, as Sluice runs (its node flags). */
function startPassThrough(suffix: string, topics: { input: string; output: string }): ChildProcess {
  const nodeFlags = [...sluiceNodeFlags(), ...args['node-options']!.split(/\s+/).filter((flag) => flag !== '')];
  return spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', join(packageRoot, 'bench', 'pass-through.ts'), `bootstrap=${brokers}`, `input=${topics.input}`, `output=${topics.output}`, `group=bench-${suffix}`, `delivery=${delivery}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function runOnce(contender: Contender, load: 'open-loop' | 'saturation', measuredSeconds = seconds): Promise<Run> {
  const suffix = `${contender.implementation}${contender.client ? `-${contender.client}` : ''}-${contender.enrichment ? 'enrich' : 'plain'}-${load === 'open-loop' ? 'open' : 'sat'}-${Date.now().toString(36)}`;
  const topics = { input: `bench.in.${suffix}`, output: `bench.out.${suffix}`, dead: `bench.dlq.${suffix}` };
  if (stateful) stateful.nonce = randomBytes(4).toString('hex'); // eventIds of this run's own
  // Sluice's dedupe store's changelog is created beforehand, as `sluice topics create` does
  const changelog = stateful && contender.implementation === 'sluice-wasm' ? [changelogTopicSpec(`bench-${suffix}`, 'dedupe', partitions)] : [];
  await createTopics([brokers], { [topics.input]: partitions, [topics.output]: partitions, [topics.dead]: 1 }, silentLogger, undefined, changelog);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  /**
   * Sends messages from..from+count, message i stamped with stampOf(i): when it was due. At most
   * 1000 a request: after a stall of the generator the schedule owes many more, and a request over
   * the broker's 1 MB per partition batch is refused (MESSAGE_TOO_LARGE).
   */
  const send = async (count: number, from: number, stampOf: (i: number) => number) => {
    for (let first = 0; first < count; first += 1000) {
      await producer.send({
        topic: topics.input,
        acks: 1,
        messages: Array.from({ length: Math.min(1000, count - first) }, (_, j) => ({
          // a duplicate keeps its original's key: same partition, as a producer's retry (stores are per partition)
          key: String((stateful ? statefulKeyIndex(from + first + j) : from + first + j) % 1000),
          value: stateful ? statefulMessage(stateful, corpus, from + first + j) : Buffer.from(corpus[(from + first + j) % corpus.length]!),
          timestamp: String(stampOf(first + j)),
        })),
      });
    }
  };

  const histogram = build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000 });
  /** Messages stamped before this (the warm-up's) are not measured. */
  let measureFrom = load === 'open-loop' ? Number.POSITIVE_INFINITY : 0;
  let arrivals = 0;
  let outputs = 0;
  let firstArrival = 0;
  let lastArrival = 0;
  let processor: ChildProcess | undefined;
  /** CPU used so far when the measured window opened (saturation: at the first output). */
  let windowOpened: CpuSnapshot | undefined;
  // the reader is @platformatic/kafka: the kafkajs consumer alone adds about 25 ms at the median
  // (measured against kcat on this broker), which would hide the processor's own latency
  const reader = new PlatformaticConsumer({ clientId: 'sluice-bench-reader', bootstrapBrokers: brokers.split(','), groupId: `bench-reader-${suffix}` });
  const stream = await reader.consume({
    topics: contender.implementation === 'broker-floor' ? [topics.input] : [topics.output, topics.dead],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
    maxWaitTime: 20,
    minBytes: 1,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  stream.on('data', (message: { timestamp: bigint }) => {
    arrivals++;
    const stamped = Number(message.timestamp);
    if (stamped < measureFrom) return;
    const now = Date.now();
    histogram.recordValue(Math.max(1, now - stamped));
    outputs++;
    lastArrival = performance.now();
    if (firstArrival === 0) {
      firstArrival = lastArrival;
      if (load === 'saturation') windowOpened = cpuSnapshot(processor, contender);
    }
  });
  let sent = 0;
  if (load === 'saturation') {
    for (let i = 0; i < saturationCount; i += 2000) {
      const now = Date.now();
      await send(Math.min(2000, saturationCount - i), i, () => now);
    }
    sent = saturationCount;
  }
  const spawned = performance.now();
  processor = startProcessor(contender, suffix, topics);
  const rssTimeline: [number, number][] = [];
  const sampler = setInterval(() => {
    const rss = processor && currentRssMiB(processor.pid!);
    if (rss !== undefined) rssTimeline.push([Math.round((performance.now() - spawned) / 1000), rss]);
  }, 10_000);
  /** Open loop: every 5 ms, send what the schedule says is due, each message stamped with when it was due. */
  const schedule = async (total: number, from: number) => {
    const t0 = Date.now();
    for (let done = 0; done < total; ) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
      if (due > done) {
        await send(due - done, from + done, (i) => t0 + Math.round(((done + i) / rate) * 1000));
        done = due;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  let cpuBefore: number | undefined;
  if (load === 'open-loop') {
    // the processor starts and joins its group first: a trickle until outputs flow, then the
    // offered rate for the warm-up; the messages stamped before the measured schedule are not
    // counted (else the first seconds measure the start-up, not the pipeline)
    for (let i = 0; arrivals === 0; i++) {
      failIfExited(processor, contender);
      const now = Date.now();
      await send(10, saturationCount + i * 10, () => now);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await schedule(Math.round(rate * warmupSeconds), saturationCount);
    measureFrom = Date.now();
    // the measured messages count from 0 again: new eventIds, or they would repeat the warm-up's
    if (stateful) stateful.nonce = randomBytes(4).toString('hex');
    cpuBefore = processUsage(processor).cpuSeconds;
    windowOpened = cpuSnapshot(processor, contender);
  }
  let started = performance.now();
  if (load === 'open-loop') {
    await schedule(rate * measuredSeconds, 0);
    sent = rate * measuredSeconds;
  }
  // the open-loop messages start at corpus index 0 as the saturation ones do: same expected count
  const expected =
    contender.implementation === 'broker-floor' || contender.implementation === 'pass-through' ? sent : stateful ? statefulCount(sent).expected : sent - filteredCount(corpus, sent, contender.implementation);
  // done when every output and dead letter arrived, or nothing arrived for 10 s
  while (outputs < expected && (lastArrival === 0 || performance.now() - lastArrival < 10_000)) {
    if (lastArrival === 0) failIfExited(processor, contender);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const windowClosed = cpuSnapshot(processor, contender);
  if (load === 'saturation' && firstArrival > 0) started = firstArrival;
  const elapsed = ((lastArrival || performance.now()) - started) / 1000;
  const usage = processUsage(processor);
  clearInterval(sampler);
  if (processor) {
    const exited = new Promise((resolve) => processor.once('exit', resolve));
    processor.kill('SIGTERM');
    await exited;
  }
  await stream.close();
  await reader.close();
  await producer.disconnect();
  const percentile = (p: number) => histogram.getValueAtPercentile(p);
  return {
    mode: `${delivery} ${load}`,
    ...contender,
    ...(load === 'open-loop' ? { offered: rate } : { startupSeconds: Math.round((firstArrival - spawned) / 10) / 100 }),
    messages: sent,
    outputs,
    expected,
    ...(stateful ? { duplicates: statefulCount(sent).duplicates } : {}),
    seconds: Math.round(elapsed * 100) / 100,
    messagesPerSecond: Math.round(outputs / elapsed),
    latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99), p999: percentile(99.9), max: histogram.maxValue },
    processor: cpuBefore === undefined ? usage : { ...usage, measuredCpuSeconds: Math.round((usage.cpuSeconds - cpuBefore) * 100) / 100 },
    rssTimeline,
    cores: coresBusy(windowOpened ?? windowClosed, windowClosed),
  };
}

/**
 * Engagement workload: the events a run's messages count in windows (valid once their occurredAt
 * is set, not heartbeats, with an itemId and an occurredAt to set; the rules want a conversion's
 * numeric value). Judged as sent: a message whose occurredAt broke the rules (below its minimum)
 * is valid with the time the run gives it.
 */
function countableEvents(from: number, count: number): number {
  const validator = campaignValidator([]);
  const now = Date.now();
  const sent = corpus.map((_, k) => engagementMessage(engagement!, corpus, k, now));
  const countable = new Uint8Array(corpus.length);
  for (let start = 0; start < sent.length; ) {
    const n = validator.check(sent, start);
    for (let i = 0; i < n; i++) {
      if (!validator.ok(i) || engagement!.offsets[start + i]! < 0) continue;
      const event = JSON.parse(sent[start + i]!.toString()) as { type: string; itemId?: string };
      if (event.type !== 'heartbeat' && event.itemId !== undefined) countable[start + i] = 1;
    }
    start += n;
  }
  let events = 0;
  for (let i = from; i < from + count; i++) events += countable[i % corpus.length]!;
  return events;
}

/**
 * Saturation: resolves once the contender's first part has written every record it forwards to
 * its repartition topic (the sum of the partitions' end offsets; exactly-once, the transaction
 * markers count too, so it may resolve a few transactions early), or wrote none for 20 s.
 */
async function repartitioned(contender: Contender, suffix: string, records: number): Promise<void> {
  const topic = contender.implementation === 'kafka-streams' ? `bench-${suffix}-by-item-repartition` : repartitionTopic(`bench-${suffix}`, 'engagement', 'by-item');
  const admin = kafka.admin();
  await admin.connect();
  try {
    let last = -1;
    let since = performance.now();
    for (;;) {
      const written = await admin.fetchTopicOffsets(topic).then((offsets) => offsets.reduce((n, p) => n + Number(p.high), 0), () => 0);
      if (written >= records) return;
      if (written !== last) [last, since] = [written, performance.now()];
      else if (written > 0 && performance.now() - since > 20_000) {
        console.warn(`${label(contender)}: ${written} of ${records} records on ${topic}, none for 20 s: the closing events go in now`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * One run of the engagement workload: as runOnce, but what arrives are window results. Open loop:
 * every message's occurredAt is when it was due, and a trickle of invalid messages (dead letters,
 * counted nowhere) shows the processor is up; saturation: the topic is filled first, with
 * SATURATION_EVENTS_PER_MS events a millisecond of event time, and the run lasts from the
 * processor's start to the last result. Then closing events move stream time past every window. Outputs are the
 * events the windows count; latency (open loop) is from a window's end + grace to its arrival, for
 * the windows the traffic itself closed (not the closing events).
 */
async function runEngagement(contender: Contender, load: 'open-loop' | 'saturation', measuredSeconds = seconds): Promise<Run> {
  const suffix = `engagement-${contender.implementation}-${load === 'open-loop' ? 'open' : 'sat'}-${Date.now().toString(36)}`;
  const topics = { input: `bench.in.${suffix}`, output: `bench.out.${suffix}`, dead: `bench.dlq.${suffix}` };
  await createTopics([brokers], { [topics.input]: partitions, [topics.output]: partitions, [topics.dead]: 1 }, silentLogger);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const send = async (count: number, from: number, timeOf: (i: number) => number) => {
    for (let first = 0; first < count; first += 1000) {
      await producer.send({
        topic: topics.input,
        acks: 1,
        messages: Array.from({ length: Math.min(1000, count - first) }, (_, j) => {
          const time = timeOf(first + j);
          return { key: String((from + first + j) % 1000), value: engagementMessage(engagement!, corpus, from + first + j, time), timestamp: String(time) };
        }),
      });
    }
  };
  const histogram = build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000 });
  let arrivals = 0;
  let events = 0;
  let firstArrival = 0;
  let lastArrival = 0;
  let processor: ChildProcess | undefined;
  let windowOpened: CpuSnapshot | undefined;
  const reader = new PlatformaticConsumer({ clientId: 'sluice-bench-reader', bootstrapBrokers: brokers.split(','), groupId: `bench-reader-${suffix}` });
  const stream = await reader.consume({
    topics: [topics.output, topics.dead],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
    maxWaitTime: 20,
    minBytes: 1,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  stream.on('data', (message: { topic: string; value: Buffer }) => {
    arrivals++;
    if (message.topic !== topics.output) return;
    const arrival = windowArrival(JSON.parse(message.value.toString()) as WindowResult, Date.now());
    if (!arrival) return;
    events += arrival.events;
    if (load === 'open-loop' && closedByTraffic(arrival.latencyMs)) histogram.recordValue(Math.max(1, arrival.latencyMs));
    lastArrival = performance.now();
    if (firstArrival === 0) {
      firstArrival = lastArrival;
      if (load === 'saturation') windowOpened = cpuSnapshot(processor, contender);
    }
  });
  const sent = load === 'saturation' ? saturationCount : rate * measuredSeconds;
  let lastEventTime = Number.POSITIVE_INFINITY;
  /** A result arriving `latencyMs` after its window's end + grace: closed by the traffic, not the closing events. */
  const closedByTraffic = (latencyMs: number) => Date.now() - latencyMs <= lastEventTime;
  const expected = countableEvents(0, sent);
  if (load === 'saturation') {
    const span = Math.ceil(saturationCount / SATURATION_EVENTS_PER_MS);
    const base = Date.now() - 120_000 - span;
    for (let i = 0; i < saturationCount; i += 2000) await send(Math.min(2000, saturationCount - i), i, (j) => base + Math.floor((i + j) / SATURATION_EVENTS_PER_MS));
    lastEventTime = base + span;
  }
  const spawned = performance.now();
  processor = startProcessor(contender, suffix, topics);
  if (load === 'saturation') {
    // the closing events go in once the backlog is through the first part: sent with it, they
    // would close windows on the re-keyed partitions while other input partitions were still
    // behind, and everything still to come of those would be dropped as late
    await repartitioned(contender, suffix, expected);
    await producer.send({ topic: topics.input, acks: 1, messages: closingEvents(lastEventTime + 75_000) });
  }
  let cpuBefore: number | undefined;
  let started = performance.now();
  if (load === 'open-loop') {
    while (arrivals === 0) {
      await producer.send({ topic: topics.input, acks: 1, messages: [{ key: 'trickle', value: '{}' }] });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    cpuBefore = processUsage(processor).cpuSeconds;
    windowOpened = cpuSnapshot(processor, contender);
    started = performance.now();
    const t0 = Date.now();
    for (let done = 0; done < sent; ) {
      const due = Math.min(sent, Math.floor(((Date.now() - t0) / 1000) * rate));
      if (due > done) {
        const from = done;
        await send(due - done, from, (i) => t0 + Math.round(((from + i) / rate) * 1000));
        done = due;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    lastEventTime = Date.now();
    await producer.send({ topic: topics.input, acks: 1, messages: closingEvents(lastEventTime + 75_000) });
  }
  // done when every event was counted in a window, or nothing arrived for 45 s after the closing
  // events went in (Kafka Streams flushes its window cache at commits, every 30 s at-least-once);
  // before them a 1-minute window may close nothing for longer than that
  const closingSent = performance.now();
  while (events < expected && (lastArrival === 0 ? performance.now() - spawned < 300_000 : performance.now() - Math.max(lastArrival, closingSent) < 45_000)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const windowClosed = cpuSnapshot(processor, contender);
  if (load === 'saturation') started = spawned;
  const elapsed = ((lastArrival || performance.now()) - started) / 1000;
  const usage = processUsage(processor);
  const exited = new Promise((resolve) => processor!.once('exit', resolve));
  processor!.kill('SIGTERM');
  await exited;
  await stream.close();
  await reader.close();
  await producer.disconnect();
  const percentile = (p: number) => histogram.getValueAtPercentile(p);
  return {
    mode: `${delivery} ${load}`,
    ...contender,
    ...(load === 'open-loop' ? { offered: rate } : { startupSeconds: Math.round((firstArrival - spawned) / 10) / 100 }),
    messages: sent,
    outputs: events,
    expected,
    seconds: Math.round(elapsed * 100) / 100,
    messagesPerSecond: Math.round(events / elapsed),
    latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99), p999: percentile(99.9), max: histogram.maxValue },
    processor: cpuBefore === undefined ? usage : { ...usage, measuredCpuSeconds: Math.round((usage.cpuSeconds - cpuBefore) * 100) / 100 },
    rssTimeline: [],
    cores: coresBusy(windowOpened ?? windowClosed, windowClosed),
  };
}

/** A processor that exited before its first output (its error is on stderr) would be waited for forever. */
function failIfExited(processor: ChildProcess | undefined, contender: Contender): void {
  if (processor && (processor.exitCode !== null || processor.signalCode !== null)) {
    throw new Error(`${label(contender)} exited (${processor.exitCode ?? processor.signalCode}) before its first output`);
  }
}

/** CPU seconds used and peak RSS of a live process, from /proc (Linux). */
function currentRssMiB(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/status`)) return undefined; // exited: its failure is reported where it is awaited
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return rss ? Math.round(Number(rss[1]) / 1024) : undefined;
}

function processUsage(processor: ChildProcess | undefined): { cpuSeconds: number; maxRssMiB: number } {
  if (!processor) return { cpuSeconds: 0, maxRssMiB: 0 };
  const pid = processor.pid!;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, maxRssMiB: Math.round(Number(peak?.[1] ?? 0) / 1024) };
}

/** CPU seconds so far of the processor, the broker, this process and the whole machine. */
interface CpuSnapshot {
  at: number;
  processor: number;
  /** Sluice's main thread: [ns run, ns waited on a run queue] (/proc schedstat); absent for the Java peers. */
  loopThread: [number, number] | undefined;
  broker: number | undefined;
  harness: number;
  machine: number;
}

const brokerPidFile = join(process.env.SLUICE_KAFKA_RUN ?? `/tmp/sluice-kafka-${port}`, 'pid');

function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ ticks
  } catch {
    return undefined;
  }
}

function threadSchedule(pid: number | undefined): [number, number] | undefined {
  if (pid === undefined) return undefined;
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return [running!, waiting!];
  } catch {
    return undefined; // a kernel without schedstats
  }
}

function cpuSnapshot(processor: ChildProcess | undefined, contender: Contender): CpuSnapshot {
  // /proc/stat's first line: all cores' user nice system idle iowait irq softirq steal ticks
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!;
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    processor: cpuSecondsOf(processor?.pid) ?? 0,
    loopThread: contender.implementation === 'kafka-streams' || contender.implementation === 'flink' ? undefined : threadSchedule(processor?.pid),
    broker: ownBroker && existsSync(brokerPidFile) ? cpuSecondsOf(Number(readFileSync(brokerPidFile, 'utf8').trim())) : undefined,
    harness: (own.user + own.system) / 1e6,
    machine: busy / 100,
  };
}

function coresBusy(from: CpuSnapshot, to: CpuSnapshot): CoresBusy {
  const seconds = Math.max(0.001, (to.at - from.at) / 1000);
  const cores = (a: number, b: number) => Math.round(((b - a) / seconds) * 100) / 100;
  return {
    processor: cores(from.processor, to.processor),
    ...(from.broker !== undefined && to.broker !== undefined ? { broker: cores(from.broker, to.broker) } : {}),
    harness: cores(from.harness, to.harness),
    machine: cores(from.machine, to.machine),
    of: availableParallelism(),
    ...(from.loopThread && to.loopThread
      ? { loopThread: { running: Math.round((to.loopThread[0] - from.loopThread[0]) / (seconds * 1e7)) / 100, waiting: Math.round((to.loopThread[1] - from.loopThread[1]) / (seconds * 1e7)) / 100 } }
      : {}),
  };
}

interface Ratio {
  load: string;
  enrichment: boolean;
  /** Sluice's WebAssembly core against the named contender. */
  versus: string;
  /** Throughput: Sluice / contender (above 1: Sluice is faster). */
  throughput: number;
  /** p99 latency: contender / Sluice (above 1: Sluice is quicker). */
  p99: number;
  /** CPU seconds per message (of the measured schedule in open loop): contender / Sluice. */
  cpuPerMessage: number;
}

function ratios(runs: readonly Run[]): Ratio[] {
  const out: Ratio[] = [];
  const round = (n: number) => Math.round(n * 100) / 100;
  const cpuPerMessage = (r: Run) => (r.processor.measuredCpuSeconds ?? r.processor.cpuSeconds) / Math.max(1, r.outputs);
  const isReference = (r: Run) => r.implementation === 'sluice-wasm' && !r.client;
  for (const sluice of runs.filter(isReference)) {
    const others = runs.filter((r) => !isReference(r) && r.implementation !== 'broker-floor' && r.mode === sluice.mode && r.enrichment === sluice.enrichment);
    for (const other of others) {
      out.push({
        load: sluice.mode,
        enrichment: sluice.enrichment,
        versus: label(other),
        throughput: round(sluice.messagesPerSecond / other.messagesPerSecond),
        p99: round(other.latencyMs.p99! / sluice.latencyMs.p99!),
        cpuPerMessage: round(cpuPerMessage(other) / cpuPerMessage(sluice)),
      });
    }
  }
  return out;
}

/** Cores busy as processor/broker/harness/machine (`-`: a broker this bench did not start). */
const coresText = (c: CoresBusy) => `${c.processor}/${c.broker ?? '-'}/${c.harness}/${c.machine} of ${c.of}`;
/** Sluice's event-loop thread: ran / waited for a core, as shares of the time. */
const loopText = (c: CoresBusy) => (c.loopThread ? `${c.loopThread.running}/${c.loopThread.waiting}` : '');

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Every number of `figures` to 2 decimals (a median of an even count is a mean of two). */
const hundredths = <T extends object>(figures: T): T =>
  Object.fromEntries(Object.entries(figures).map(([key, value]) => [key, typeof value === 'number' ? Math.round(value * 100) / 100 : value])) as T;

/** One contender's runs of one load over the rounds, as one run: each figure its median; outputs the fewest. */
function medianRun(runs: readonly Run[]): Run {
  if (runs.length === 1) return runs[0]!;
  const byThroughput = [...runs].sort((a, b) => a.messagesPerSecond - b.messagesPerSecond);
  const of = <T extends object>(pick: (run: Run) => T): T =>
    Object.fromEntries(Object.keys(pick(runs[0]!)).map((key) => [key, median(runs.map((r) => (pick(r) as Record<string, number>)[key]!))])) as T;
  return {
    ...byThroughput[byThroughput.length >> 1]!, // its RSS timeline
    outputs: Math.min(...runs.map((r) => r.outputs)),
    messagesPerSecond: median(runs.map((r) => r.messagesPerSecond)),
    latencyMs: of((r) => r.latencyMs),
    processor: of((r) => r.processor),
    cores: {
      ...hundredths(of(({ cores: { loopThread: _, ...numbers } }) => numbers)),
      ...(runs.every((r) => r.cores.loopThread) ? { loopThread: hundredths(of((r) => r.cores.loopThread!)) } : {}),
    },
    ...(runs[0]!.startupSeconds !== undefined ? { startupSeconds: median(runs.map((r) => r.startupSeconds!)) } : {}),
  };
}

const silentLogger = (await import('pino')).pino({ level: 'silent' });
const roundRuns: Run[][] = [];
try {
  await warmBroker();
  // the first run of a bench measured worse, whichever contender it was (p99 328 ms against 28-70
  // for the same contenders later): the broker and the services warm up first, unmeasured
  if (args['warm-run'] !== '0') {
    console.log('warm-up run (not measured)');
    await run(contenders[0]!, 'open-loop', Math.min(seconds, Number(args['warm-run'])));
  }
  for (let round = 0; round < rounds; round++) {
    if (rounds > 1) console.log(`round ${round + 1} of ${rounds}`);
    const runs: Run[] = [];
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + round) % contenders.length]!;
      runs.push(await run(contender, 'open-loop'));
      if (saturationCount > 0 && contender.implementation !== 'broker-floor') runs.push(await run(contender, 'saturation'));
    }
    roundRuns.push(runs);
  }
} finally {
  lookup?.server.kill();
  if (ownBroker) spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'stop', '--purge'], { stdio: 'inherit', env: brokerEnv });
}
const results: Run[] = contenders.flatMap((contender) =>
  ['open-loop', 'saturation'].flatMap((load) => {
    const runs = roundRuns.flat().filter((r) => label(r) === label(contender) && r.mode.endsWith(load));
    return runs.length > 0 ? [medianRun(runs)] : [];
  }),
);
if (rounds > 1) console.log(`medians of ${rounds} rounds:`);
console.table(
  results.map((r) => ({
    processor: label(r),
    mode: r.mode,
    offered: r.offered ?? 'max',
    'outputs/expected': `${r.outputs}/${r.expected}`,
    ...(r.duplicates !== undefined ? { duplicates: r.duplicates } : {}),
    'msg/s': r.messagesPerSecond,
    ...Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [`${k} ms`, v])),
    'cpu s': r.processor.cpuSeconds,
    'rss MiB': r.processor.maxRssMiB,
    'rss end MiB': r.rssTimeline.at(-1)?.[1] ?? '',
    'cores p/b/h/all': coresText(r.cores),
    'loop ran/waited': loopText(r.cores),
  })),
);
const comparison = args.compare ? ratios(results) : undefined;
if (comparison) {
  console.log('Sluice (WebAssembly core) against: throughput ratio Sluice/other, p99 and CPU per message other/Sluice (above 1: Sluice ahead)');
  console.table(comparison.map((r) => ({ load: r.load, enrichment: r.enrichment, versus: r.versus, throughput: r.throughput, p99: r.p99, 'cpu/msg': r.cpuPerMessage })));
  // how close the processor comes to what its client and the broker can move (issue 18's goal: >= 0.8 at saturation)
  for (const r of comparison.filter((c) => c.versus === 'pass-through' && c.load.endsWith('saturation'))) console.log(`Sluice / pass-through, ${r.load}: throughput ${r.throughput}`);
}
const out = args.out ?? join(packageRoot, 'bench', 'results', `e2e-${args.compare ? 'peers-' : ''}${workload === 'campaign' ? '' : `${workload}-`}${delivery}.json`);
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ ...resultHeader('e2e', { workload, delivery, partitions, rate, seconds, warmupSeconds, saturation: saturationCount, rounds, peerThreads: Number(args['peer-threads']), flinkCheckpointMs, set: args.set, nodeOptions: [...sluiceNodeFlags(), args['node-options']].join(' ').trim(), enrichDelayMs: Number(args['enrich-delay-ms']), compare: args.compare }), delivery, partitions, results, ...(comparison ? { comparison } : {}), ...(rounds > 1 ? { rounds: roundRuns } : {}) }, null, 2)}\n`,
);
console.log(`results written to ${out}`);
process.exit(0);
