// `sluice bench --transport kafka`: the flow with its source, sink and dead letters on topics of
// its own (created for the run, deleted after) of KAFKA_BROKERS, or of a broker it starts with
// scripts/kafka.sh. The flow runs in this process on its real Kafka client; the load (producer,
// and a reader of the outputs measuring each message's stamp -> arrival) runs in a child process
// (src/bench/kafka-load.ts), so the CPU per message is the flow's and its client's alone.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { SluiceError } from '../errors.ts';
import { startLocalServices } from '../io/http/local-server.ts';
import { startProgress } from '../observe/progress.ts';
import { FlowStats } from '../observe/stats.ts';
import { packageRoot } from '../package-root.ts';
import { changelogsOf } from '../pipeline/changelogs.ts';
import { buildFlows } from '../pipeline/build.ts';
import type { Flow } from '../pipeline/flow.ts';
import { resourcesOf } from '../pipeline/load.ts';
import { sinks, sources } from '../pipeline/registry.ts';
import type { FlowTopology, TopologyNode } from '../pipeline/topology.ts';
import { CURVE_PERCENTILES, type FlowBenchOptions, type FlowBenchResult, flowToBench, resultOf, startStub, withServicesAt } from './flow-bench.ts';
import type { LoadCommand, LoadEvent, LoadPlan } from './kafka-load.ts';
import { freshening, Reference } from './replay-input.ts';

export interface KafkaBenchOptions extends FlowBenchOptions {
  /** Partitions of the input and output topics (the flow's parallelism on the broker). */
  readonly partitions: number;
  /** Bootstrap brokers (benchBrokers). */
  readonly brokers: string[];
}

/**
 * Saturation fills the input topic first with this many messages per second of the run (warm-up
 * included): more than the flow can take on a small machine, so that it never waits for input.
 */
const SATURATION_FILL_PER_SECOND = 120_000;
/** Room in an input record batch besides its largest message (the load sends chunks of 2,000). */
const INPUT_BATCH_BYTES = 8 * 2 ** 20;
/** The port of a broker the bench starts ($SLUICE_BENCH_KAFKA_PORT). */
const OWN_BROKER_PORT = '9192';

/** The brokers to use, and how to stop the one started here, if it was: once for all the rounds of a command. */
export function benchBrokers(): { list: string[]; stop?: () => void } {
  const given = process.env.KAFKA_BROKERS;
  if (given) return { list: given.split(',').map((b) => b.trim()).filter((b) => b !== '') };
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  if (spawnSync(java, ['-version'], { stdio: 'ignore' }).status !== 0) {
    throw new SluiceError('SLC_USAGE', '--transport kafka: set KAFKA_BROKERS to a broker to run against, or install Java (17+) for the bench to start one with scripts/kafka.sh');
  }
  const port = process.env.SLUICE_BENCH_KAFKA_PORT ?? OWN_BROKER_PORT;
  const script = join(packageRoot, 'scripts', 'kafka.sh');
  const env = { ...process.env, KAFKA_PORT: port };
  // its log goes to stderr: stdout is the bench's report
  if (spawnSync('bash', [script, 'start', '--purge'], { stdio: ['ignore', process.stderr, 'inherit'], env }).status !== 0) {
    throw new SluiceError('SLC_IO', `--transport kafka: scripts/kafka.sh could not start a broker on 127.0.0.1:${port} (see above; $SLUICE_BENCH_KAFKA_PORT picks another port)`);
  }
  return { list: [`127.0.0.1:${port}`], stop: () => void spawnSync('bash', [script, 'stop', '--purge'], { stdio: ['ignore', process.stderr, 'inherit'], env }) };
}

/** The flow with its source, sink and dead letters on the bench's topics; the rest as configured. */
function onTopics(topology: FlowTopology, list: string[], topics: { input: string; output: string; dead: string; group: string }): FlowTopology {
  /** A kafka node's own settings (tuning, client) are kept; where it connects is the bench's. */
  const own = (node: TopologyNode, keep: readonly string[]) =>
    node.kind === 'kafka' ? Object.fromEntries(Object.entries(node.config).filter(([key]) => keep.includes(key))) : {};
  const nodes = topology.nodes.map((node): TopologyNode => {
    if (node.role === 'source') {
      const config = sources.kafka!.config.parse({
        ...own(node, ['client', 'max-bytes-per-partition', 'max-wait-ms', 'partitions-in-flight', 'commit-interval-ms', 'commit-interval-messages', 'transaction-timeout-ms']),
        brokers: list,
        topic: topics.input,
        'group-id': topics.group,
      });
      return { ...node, kind: 'kafka', config: config as Record<string, unknown> };
    }
    if (node.role === 'sink' || node.role === 'dead-letter') {
      const encoding = node.role === 'sink' && node.config.encoding === 'protobuf' ? 'protobuf' : 'json';
      const config = sinks.kafka!.config.parse({
        ...own(node, ['client', 'key', 'compression', 'acks', 'idempotent']),
        brokers: list,
        topic: node.role === 'sink' ? topics.output : topics.dead,
        encoding,
      });
      return { ...node, kind: 'kafka', config: config as Record<string, unknown> };
    }
    return node;
  });
  return { ...topology, nodes };
}

/** The load process, its events as they come. */
class Load {
  readonly #child: ChildProcess;
  readonly #events: LoadEvent[] = [];
  #wake: (() => void) | undefined;
  #exited = false;

  constructor() {
    // the module beside this one, as compiled (dist) or as source (tsx): the child inherits the loader
    const here = fileURLToPath(import.meta.url);
    this.#child = fork(join(here, '..', `kafka-load${extname(here)}`), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (event: LoadEvent) => {
      this.#events.push(event);
      this.#wake?.();
    });
    this.#child.once('exit', () => {
      this.#exited = true;
      this.#wake?.();
    });
  }

  send(command: LoadCommand): void {
    this.#child.send(command);
  }

  async next<T extends LoadEvent['type']>(type: T): Promise<Extract<LoadEvent, { type: T }>> {
    for (;;) {
      const failed = this.#events.find((e) => e.type === 'failed');
      if (failed?.type === 'failed') throw new SluiceError('SLC_IO', `sluice bench: the load process failed: ${failed.message}`);
      const found = this.#events.findIndex((e) => e.type === type);
      if (found >= 0) return this.#events.splice(found, 1)[0] as Extract<LoadEvent, { type: T }>;
      if (this.#exited) throw new SluiceError('SLC_IO', `sluice bench: the load process exited before "${type}"`);
      await new Promise<void>((wake) => (this.#wake = wake));
    }
  }

  stop(): void {
    if (!this.#exited) this.#child.kill();
  }
}

/** Resolves when `done()` holds, checked every few ms (the flow's counters have no events). */
const until = (done: () => boolean, failed: () => unknown) =>
  new Promise<void>((resolve, reject) => {
    const check = () => {
      const failure = failed();
      if (failure !== undefined) return reject(failure);
      if (done()) return resolve();
      setTimeout(check, 5);
    };
    check();
  });

export async function benchFlowOnKafka(options: KafkaBenchOptions): Promise<FlowBenchResult> {
  const { config, found, inputFile, lines } = await flowToBench(options);
  const broker = { list: options.brokers };
  const logger = pino({ level: 'silent' });
  const id = `sluice-bench.${options.flow}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const topics = { input: `${id}.in`, output: `${id}.out`, dead: `${id}.dlq`, group: id };
  const stub = options.stubServicesMs === undefined ? undefined : await startStub(found, options.stubServicesMs);
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  const changelogs: string[] = [];
  let load: Load | undefined;
  let flow: Flow | undefined;
  let running: Promise<unknown> | undefined;
  let localServices: Awaited<ReturnType<typeof startLocalServices>> | undefined;
  try {
    // the input may hold messages larger than a topic takes by default (the samples' oversized
    // ones): its record batches take them with room for a chunk of the others
    const largest = lines.reduce((max, line) => Math.max(max, line.length), 0);
    const topology = onTopics(stub ? withServicesAt(found, stub.url) : found, broker.list, topics);
    // the stateful stages' changelogs, named after the run's group: compacted, as topics create makes them
    changelogs.push(...changelogsOf(topology).map((c) => c.topic));
    await createTopics(broker.list, [
      { topic: topics.input, numPartitions: options.partitions, configEntries: [{ name: 'max.message.bytes', value: String(largest + INPUT_BATCH_BYTES) }] },
      { topic: topics.output, numPartitions: options.partitions },
      { topic: topics.dead, numPartitions: 1 },
      ...changelogs.map((topic) => ({ topic, numPartitions: options.partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })),
    ]);
    // the Kafka client each replaced node names (loadConfig loaded only the configured nodes')
    for (const node of topology.nodes) {
      if (node.role === 'source') await sources.kafka!.load?.(node.config);
      if (node.role === 'sink' || node.role === 'dead-letter') await sinks.kafka!.load?.(node.config);
    }
    const stats = new FlowStats(topology.flow);
    const reference = new Reference(topology, lines);
    localServices = stub ? undefined : await startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file']));
    [flow] = buildFlows([topology], resourcesOf(config, logger, { localUrls: localServices?.urls, stats: () => stats, stateDir }));
    const saturation = options.rate === undefined;
    const plan: LoadPlan = {
      brokers: broker.list,
      input: topics.input,
      outputs: [topics.output, topics.dead],
      file: inputFile,
      freshening: freshening(topology),
      rate: options.rate ?? null,
      prefill: saturation ? Math.max(lines.length, Math.ceil((options.warmupSeconds + options.seconds) * SATURATION_FILL_PER_SECOND)) : 0,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
      percentiles: CURVE_PERCENTILES,
    };
    load = new Load();
    load.send({ type: 'plan', plan });
    let runFailure: unknown;
    const startRun = () => {
      running = flow!.run().catch((error: unknown) => {
        runFailure = error ?? new Error('the flow failed');
        // a wait on the load ends with it (the flow's failure is what is reported)
        load?.stop();
      });
    };
    const failed = () => runFailure;
    // the reference's slices run beside the flow, as on the memory transport
    const referenceTimer = setInterval(() => reference.tick(performance.now()), 10);
    const stopProgress = options.progress ? startProgress([stats]) : undefined;
    /** Every message read was delivered: written, dead-lettered, filtered or dropped. */
    const drained = (sent: number) => stats.read >= sent && stats.written + stats.deadLettered + stats.filtered + stats.dropped >= stats.read;
    let window: { at: number; cpu: NodeJS.CpuUsage; finished: number; written: number; letters: number; filtered: number };
    const open = () => {
      reference.reset();
      return { at: performance.now(), cpu: process.cpuUsage(), finished: stats.written + stats.deadLettered + stats.filtered + stats.dropped, written: stats.written, letters: stats.deadLettered, filtered: stats.filtered };
    };
    try {
      if (saturation) {
        const { sent } = await load.next('ready');
        startRun();
        await until(() => stats.written + stats.deadLettered > 0, failed);
        const warmEnds = performance.now() + options.warmupSeconds * 1000;
        await until(() => performance.now() >= warmEnds || drained(sent), failed);
        window = open();
        load.send({ type: 'measure' });
        const endsAt = window.at + options.seconds * 1000;
        await until(() => performance.now() >= endsAt || drained(sent), failed);
      } else {
        startRun();
        await load.next('ready');
        await load.next('measuring');
        window = open();
        const { sent } = await load.next('sent');
        await until(() => drained(sent), failed);
      }
    } catch (error) {
      throw runFailure ?? error;
    } finally {
      clearInterval(referenceTimer);
      stopProgress?.();
    }
    const ended = performance.now();
    const cpu = process.cpuUsage(window.cpu);
    // the messages the flow finished in the window: a batch read before it and delivered in it counts
    const finished = () => stats.written + stats.deadLettered + stats.filtered + stats.dropped;
    const measured = { read: finished() - window.finished, written: stats.written - window.written, deadLettered: stats.deadLettered - window.letters, filtered: stats.filtered - window.filtered };
    await flow!.stop();
    await running;
    running = undefined;
    if (runFailure !== undefined) throw runFailure;
    load.send({ type: 'finish', arrivals: stats.written + stats.deadLettered });
    const result = await load.next('result');
    if (result.measured === 0) throw new SluiceError('SLC_IO', 'sluice bench: no output of the measured window arrived');
    return resultOf({
      options,
      topology: found,
      transport: 'kafka',
      partitions: options.partitions,
      input: options.input ?? relative(process.cwd(), inputFile),
      inputMessages: lines.length,
      ...measured,
      cpu,
      wallMs: ended - window.at,
      reference,
      curve: result.curve,
      maxMs: result.max,
    });
  } finally {
    // a run cut short by a failure stops the flow before its topics go
    if (running) {
      await flow!.stop();
      await running;
    }
    load?.stop();
    await Promise.all([localServices?.stop(), stub?.stop(), deleteTopics(broker.list, [topics.input, topics.output, topics.dead, ...changelogs])]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const admin = (list: string[]) => new kafkajs.Kafka({ clientId: 'sluice-bench-admin', brokers: list, logLevel: kafkajs.logLevel.NOTHING }).admin();

async function createTopics(list: string[], topics: kafkajs.ITopicConfig[]): Promise<void> {
  const client = admin(list);
  try {
    await client.connect();
    await client.createTopics({ topics, waitForLeaders: true });
  } catch (cause) {
    throw new SluiceError('SLC_IO', `sluice bench: could not create its topics on ${list.join(',')}: ${(cause as Error).message}`, { cause });
  } finally {
    await client.disconnect();
  }
}

/** The run's topics go when it ends (a broker the bench started goes whole). */
async function deleteTopics(list: string[], topics: string[]): Promise<void> {
  const client = admin(list);
  try {
    await client.connect();
    await client.deleteTopics({ topics });
  } catch {
    // a topic the run did not get to create; the group expires with the broker's offsets retention
  } finally {
    await client.disconnect();
  }
}
