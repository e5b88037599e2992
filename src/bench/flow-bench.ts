// `sluice bench` on the memory transport: one flow of a configuration, with its real rules, core,
// stages, services and sink encoder, fed from an NDJSON file replayed in a loop and written to
// sinks that only count. Open loop at a rate (latency from each message's intended time, so a
// stalled flow cannot hide its backlog: no coordinated omission) or saturation (as fast as the
// flow takes batches). Beside it, in the same process, a reference on the same input (JSON.parse
// + ajv on the flow's rules) that the gate divides by, so a shared machine's speed cancels out.
import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { arch, cpus, platform, release, totalmem, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pino } from 'pino';
import { SluiceError } from '../errors.ts';
import { startLocalServices } from '../io/http/local-server.ts';
import { startProgress } from '../observe/progress.ts';
import { FlowStats } from '../observe/stats.ts';
import { packageRoot } from '../package-root.ts';
import { buildFlows } from '../pipeline/build.ts';
import { loadConfig, resourcesOf } from '../pipeline/load.ts';
import { flowFingerprint } from '../pipeline/supervisor.ts';
import type { FlowTopology, TopologyNode } from '../pipeline/topology.ts';
import { countingSink, freshening, ownInput, readInput, Reference, ReplaySource } from './replay-input.ts';

export interface FlowBenchOptions {
  readonly config: string;
  readonly flow: string;
  /** NDJSON input; default: the flow's own file source. */
  readonly input?: string | undefined;
  /** Messages per second offered (open loop); undefined: saturation. */
  readonly rate?: number | undefined;
  /** Measured seconds, after the warm-up. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Answer every enrichment call from a stub after this many ms instead of the flow's services. */
  readonly stubServicesMs?: number | undefined;
  /** A live progress line on stderr. */
  readonly progress: boolean;
  /**
   * CPU spent per message written or dead-lettered, in the bench's sinks (never in a flow): how
   * the gate's demonstration injects a known slowdown ($SLUICE_BENCH_INJECT_DELAY_NS). 0: none.
   */
  readonly injectDelayNs: number;
}

export type Percentiles = { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };

export interface FlowBenchResult {
  readonly suite: 'flow';
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly os: string };
  readonly runtime: { readonly name: string; readonly version: string; readonly v8: string; readonly sluice: string };
  readonly config: {
    readonly file: string;
    readonly flow: string;
    /** sha256 of the flow's topology with every resolved setting: equal when the flow is the same. */
    readonly fingerprint: string;
    readonly input: string;
    readonly inputMessages: number;
    readonly transport: 'memory' | 'kafka';
    /** kafka: the input and output topics' partitions. */
    readonly partitions?: number;
    readonly load: 'open-loop' | 'saturation';
    readonly rate: number | null;
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly stubServicesMs: number | null;
    readonly injectDelayNs: number;
    /** Runs measured; the figures are of the median one (see medianRound). */
    readonly rounds: number;
  };
  /** Each round's normalised figures, when there were several. */
  readonly rounds?: readonly FlowBenchResult['normalised'][];
  /** Of the measured window. */
  readonly messages: { readonly read: number; readonly written: number; readonly deadLettered: number; readonly filtered: number };
  /** Input hand-over (open loop: intended time) -> written, of the outputs. */
  readonly latencyMs: Percentiles;
  /** [percentile, ms] pairs for the plot. */
  readonly latencyCurve: readonly (readonly [number, number])[];
  readonly throughput: { readonly perSecond: number };
  /** Process CPU (every thread) per message read. */
  readonly cpuMicrosPerMessage: number;
  readonly rssPeakBytes: number;
  /** JSON.parse + ajv on the same input in the same process: what the gate divides by. */
  readonly reference: { readonly name: string; readonly cpuMicrosPerMessage: number; readonly microsPerMessage: number };
  readonly normalised: {
    /** cpuMicrosPerMessage / reference cpu per message (lower is better). */
    readonly cpuPerMessage: number;
    /** Saturation: throughput x reference seconds per message, the flow's speed in reference units (higher is better). */
    readonly throughput: number | null;
  };
}

export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

/** A server on 127.0.0.1 answering every call after `delayMs` with the fields the stages merge. */
export async function startStub(topology: FlowTopology, delayMs: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const body: Record<string, unknown> = {};
  for (const node of topology.nodes) {
    const merge = node.kind === 'enrich-http' ? node.config.merge : undefined;
    if (merge && typeof merge === 'object') {
      for (const path of Object.values(merge as Record<string, string>)) {
        const steps = path.split('.');
        let at = body;
        for (const step of steps.slice(0, -1)) at = (at[step] ??= {}) as Record<string, unknown>;
        at[steps.at(-1)!] = 'stub';
      }
    }
  }
  const answer = JSON.stringify(body);
  const server: Server = createServer((_request, response) => {
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(answer), delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise<void>((closed) => {
      server.closeAllConnections();
      server.close(() => closed());
    }),
  };
}

/** The topology with every service an enrichment calls pointed at `url`. */
export function withServicesAt(topology: FlowTopology, url: string): FlowTopology {
  const nodes = topology.nodes.map((node): TopologyNode => {
    if (!node.services) return node;
    const services = Object.fromEntries(Object.entries(node.services).map(([name, settings]) => [name, { ...settings, 'base-url': url }]));
    return { ...node, services };
  });
  return { ...topology, nodes };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** The flow to bench, of its configuration, and the input lines it is fed (--input, or its own file). */
export async function flowToBench(options: FlowBenchOptions) {
  const config = await loadConfig(options.config);
  const found = config.flows.find((f) => f.flow === options.flow);
  if (!found) throw new SluiceError('SLC_USAGE', `${options.config} has no flow "${options.flow}" (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
  const inputFile = options.input ? resolve(options.input) : ownInput(found);
  if (!inputFile) throw new SluiceError('SLC_USAGE', `flow "${options.flow}" reads no file: give --input FILE.ndjson`);
  return { config, found, inputFile, lines: readInput(inputFile) };
}

export async function benchFlow(options: FlowBenchOptions): Promise<FlowBenchResult> {
  const { config, found, inputFile, lines } = await flowToBench(options);
  const stub = options.stubServicesMs === undefined ? undefined : await startStub(found, options.stubServicesMs);
  const topology = stub ? withServicesAt(found, stub.url) : found;
  const sourceNode = topology.nodes.find((n) => n.role === 'source');
  const batchSize = typeof sourceNode?.config['batch-size'] === 'number' ? sourceNode.config['batch-size'] : 1024;
  const sinkNode = topology.nodes.find((n) => n.role === 'sink');
  const sink = countingSink(sinkNode?.config.encoding === 'protobuf' ? 'protobuf' : 'json', options.injectDelayNs);
  const deadLetters = countingSink('json', options.injectDelayNs);
  const stats = new FlowStats(topology.flow);
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));

  const reference = new Reference(topology, lines);
  let window: { at: number; cpu: NodeJS.CpuUsage; written: number; letters: number; filtered: number } | undefined;
  const source = new ReplaySource(lines, {
    freshening: freshening(topology),
    batchSize,
    rate: options.rate,
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
    reference,
    onMeasuring: () => {
      stats.latency.reset();
      reference.reset();
      window = { at: performance.now(), cpu: process.cpuUsage(), written: sink.count, letters: deadLetters.count, filtered: stats.filtered };
    },
  });
  const localServices = stub ? undefined : await startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file']));
  const stopProgress = options.progress ? startProgress([stats]) : undefined;
  let ended: number;
  let cpu: NodeJS.CpuUsage;
  try {
    const [flow] = buildFlows(
      [topology],
      resourcesOf(config, pino({ level: 'silent' }), {
        io: () => ({ source, sink, deadLetters }),
        localUrls: localServices?.urls,
        stats: () => stats,
        stateDir,
        scratchState: true,
      }),
    );
    await flow!.run();
    ended = performance.now();
    cpu = process.cpuUsage(window?.cpu);
  } finally {
    stopProgress?.();
    await Promise.all([localServices?.stop(), stub?.stop()]);
    rmSync(stateDir, { recursive: true, force: true });
  }
  if (!window) throw new SluiceError('SLC_USAGE', `the run ended before its measured window (--warmup ${options.warmupSeconds} s)`);

  const latency = stats.latency;
  const ms = (micros: number) => round3(micros / 1000);
  // a percentile is its HDR bucket's upper bound, which may lie above the exact maximum
  const curve = CURVE_PERCENTILES.map((p) => [p, ms(Math.min(latency.getValueAtPercentile(p), latency.maxValue))] as const);
  return resultOf({
    options,
    topology: found,
    transport: 'memory',
    input: options.input ?? relative(process.cwd(), inputFile),
    inputMessages: lines.length,
    read: source.handedOver - source.warmupMessages,
    written: sink.count - window.written,
    deadLettered: deadLetters.count - window.letters,
    filtered: stats.filtered - window.filtered,
    cpu,
    wallMs: ended - window.at,
    reference,
    curve,
    maxMs: ms(latency.maxValue),
  });
}

/** What a transport measured, into a result. */
export interface Measured {
  readonly options: FlowBenchOptions;
  /** The flow as configured (its fingerprint), whatever the transport replaced. */
  readonly topology: FlowTopology;
  readonly transport: FlowBenchResult['config']['transport'];
  readonly partitions?: number;
  readonly input: string;
  readonly inputMessages: number;
  /** Of the measured window. */
  readonly read: number;
  readonly written: number;
  readonly deadLettered: number;
  readonly filtered: number;
  /** The process's CPU over the window, the reference's slices included. */
  readonly cpu: NodeJS.CpuUsage;
  readonly wallMs: number;
  readonly reference: Reference;
  /** [percentile, ms] at CURVE_PERCENTILES. */
  readonly curve: readonly (readonly [number, number])[];
  readonly maxMs: number;
}

export function resultOf(m: Measured): FlowBenchResult {
  const { options, reference, read } = m;
  // the reference's slices ran in the window: their CPU and time are not the flow's
  const cpuMicrosPerMessage = (m.cpu.user + m.cpu.system - reference.cpuMicros) / Math.max(read, 1);
  const perSecond = read / ((m.wallMs - reference.wallMs) / 1000);
  const { cpu: referenceCpu, wall: referenceWall } = reference.perMessage();
  const at = (p: number) => m.curve.find(([q]) => q === p)![1];
  const saturation = options.rate === undefined;
  const fingerprint = createHash('sha256').update(flowFingerprint(m.topology)).digest('hex');
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    suite: 'flow',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()} ${arch()}` },
    runtime: { name: 'Deno' in globalThis ? 'deno' : 'node', version: process.versions.node, v8: process.versions.v8, sluice: manifest.version },
    config: {
      file: options.config,
      flow: options.flow,
      fingerprint,
      // as given, or the flow's own file relative to the working directory (no machine paths in a committed baseline)
      input: m.input,
      inputMessages: m.inputMessages,
      transport: m.transport,
      ...(m.partitions === undefined ? {} : { partitions: m.partitions }),
      load: saturation ? 'saturation' : 'open-loop',
      rate: options.rate ?? null,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      stubServicesMs: options.stubServicesMs ?? null,
      injectDelayNs: options.injectDelayNs,
      rounds: 1,
    },
    messages: { read, written: m.written, deadLettered: m.deadLettered, filtered: m.filtered },
    latencyMs: { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: m.maxMs },
    latencyCurve: m.curve,
    throughput: { perSecond: Math.round(perSecond) },
    cpuMicrosPerMessage: round3(cpuMicrosPerMessage),
    rssPeakBytes: process.resourceUsage().maxRSS * 1024,
    reference: { name: reference.name, cpuMicrosPerMessage: round3(referenceCpu), microsPerMessage: round3(referenceWall) },
    normalised: {
      cpuPerMessage: round3(cpuMicrosPerMessage / referenceCpu),
      throughput: saturation ? round3((perSecond * referenceWall) / 1e6) : null,
    },
  };
}

/**
 * Several rounds as one result: the round with the median CPU per message against the reference
 * (of an even count, the upper one: the stricter), with the median throughput against the
 * reference; every round's normalised figures are kept.
 * A median moves less with a shared machine's bursts than one run does, either way.
 */
export function medianRound(rounds: readonly FlowBenchResult[]): FlowBenchResult {
  if (rounds.length === 1) return rounds[0]!;
  const middle = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const byCpu = [...rounds].sort((a, b) => a.normalised.cpuPerMessage - b.normalised.cpuPerMessage);
  const chosen = byCpu[rounds.length >> 1]!;
  const throughputs = rounds.map((r) => r.normalised.throughput).filter((t): t is number => t !== null);
  return {
    ...chosen,
    config: { ...chosen.config, rounds: rounds.length },
    rounds: rounds.map((r) => r.normalised),
    normalised: { cpuPerMessage: chosen.normalised.cpuPerMessage, throughput: throughputs.length > 0 ? middle(throughputs) : null },
  };
}
