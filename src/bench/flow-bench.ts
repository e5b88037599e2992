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
import { JsValidator } from '../core/js-validator.ts';
import { SluiceError } from '../errors.ts';
import { startLocalServices } from '../io/http/local-server.ts';
import { startProgress } from '../observe/progress.ts';
import { FlowStats } from '../observe/stats.ts';
import { packageRoot } from '../package-root.ts';
import { buildFlows } from '../pipeline/flow.ts';
import { loadConfig, resourcesOf } from '../pipeline/load.ts';
import { flowFingerprint } from '../pipeline/supervisor.ts';
import { type FlowTopology, type TopologyNode, validateSettings } from '../pipeline/topology.ts';
import type { InputMessage, OutboundMessage, Sink, Source, SourceBatch } from '../component/types.ts';

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
    readonly transport: 'memory';
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

const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

/** The flow's NDJSON file source, if it reads one. */
function ownInput(topology: FlowTopology): string | undefined {
  const source = topology.nodes.find((n) => n.role === 'source');
  return source?.kind === 'file' && typeof source.config.path === 'string' ? resolve(source.baseDir, source.config.path) : undefined;
}

function readInput(file: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SluiceError('SLC_USAGE', `--input ${file}: cannot read: ${(cause as Error).message}`, { cause });
  }
  const encoder = new TextEncoder();
  const lines = text.split('\n').filter((line) => line.trim() !== '').map((line) => encoder.encode(line));
  if (lines.length === 0) throw new SluiceError('SLC_USAGE', `${file}: no messages (an NDJSON file, one message a line)`);
  return lines;
}

/** Dotted field paths of every dedupe stage's key: replayed rounds get fresh values there. */
function dedupeKeys(topology: FlowTopology): string[] {
  return topology.nodes.filter((n) => n.role === 'stage' && n.kind === 'dedupe').flatMap((n) => {
    const key = n.config.key;
    return typeof key === 'string' ? [key] : Array.isArray(key) ? key.map(String) : [];
  });
}

/**
 * Round `round` of the input with fresh dedupe keys (`<value>~<round>`), so a replay is not all
 * duplicates. Lines that are not JSON objects (invalid on purpose) stay as they are.
 */
function freshRound(lines: readonly Uint8Array[], keys: readonly string[], round: number): Uint8Array[] {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return lines.map((line) => {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(line));
    } catch {
      return line;
    }
    if (value === null || typeof value !== 'object') return line;
    for (const key of keys) {
      const path = key.split('.');
      let parent = value as Record<string, unknown>;
      for (const step of path.slice(0, -1)) {
        const next = parent[step];
        if (next === null || typeof next !== 'object') break;
        parent = next as Record<string, unknown>;
      }
      const last = path.at(-1)!;
      if (typeof parent[last] === 'string' || typeof parent[last] === 'number') parent[last] = `${String(parent[last])}~${round}`;
    }
    return encoder.encode(JSON.stringify(value));
  });
}

/**
 * A sink that counts and forgets (after the flow's encoder ran), with the injected work, if any:
 * a loop until the process has spent that much more CPU (not wall time, which a busy machine
 * would spend descheduled).
 */
function countingSink(encoding: Sink['encoding'], injectDelayNs: number): Sink & { count: number } {
  const microsPerMessage = injectDelayNs / 1000;
  const sink = {
    encoding,
    count: 0,
    write: async (batch: readonly OutboundMessage[]) => {
      sink.count += batch.length;
      if (microsPerMessage > 0) {
        const from = process.cpuUsage();
        const target = microsPerMessage * batch.length;
        for (let spent = 0; spent < target; ) {
          const used = process.cpuUsage(from);
          spent = used.user + used.system;
        }
      }
    },
    close: async () => undefined,
  };
  return sink;
}

/** The replayed input as a source, and the moment its measured window opened. */
class ReplaySource implements Source {
  readonly #lines: readonly Uint8Array[];
  /** The round being replayed with fresh dedupe keys (round 0 is the input itself). */
  #fresh: { round: number; lines: Uint8Array[] } | undefined;
  readonly #freshKeys: readonly string[];
  readonly #batchSize: number;
  readonly #rate: number | undefined;
  readonly #warmupMs: number;
  readonly #measuredMs: number;
  readonly #onMeasuring: () => void;
  readonly #reference: Reference;
  #closed = false;
  /** Messages handed over before the measured window, and in all. */
  warmupMessages = 0;
  handedOver = 0;
  /** Messages of the batches the flow acknowledged (delivered). */
  #acknowledged = 0;
  /** Wakes the wait for the warm-up's batches to be delivered. */
  #onAcknowledged: (() => void) | undefined;

  constructor(
    lines: Uint8Array[],
    parts: { freshKeys: readonly string[]; batchSize: number; rate: number | undefined; warmupSeconds: number; seconds: number; reference: Reference; onMeasuring: () => void },
  ) {
    this.#lines = lines;
    this.#freshKeys = parts.freshKeys;
    this.#batchSize = parts.batchSize;
    this.#rate = parts.rate;
    this.#warmupMs = parts.warmupSeconds * 1000;
    this.#measuredMs = parts.seconds * 1000;
    this.#onMeasuring = parts.onMeasuring;
    this.#reference = parts.reference;
  }

  /** The i-th message of the replay (round by round through the input). */
  #valueAt(sequence: number): Uint8Array {
    const lines = this.#lines;
    const round = Math.floor(sequence / lines.length);
    if (this.#freshKeys.length === 0 || round === 0) return lines[sequence % lines.length]!;
    // one round at a time, made when first needed (its cost is the harness's, before the hand-over)
    if (this.#fresh?.round !== round) this.#fresh = { round, lines: freshRound(lines, this.#freshKeys, round) };
    return this.#fresh.lines[sequence % lines.length]!;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SourceBatch> {
    const rate = this.#rate;
    const started = performance.now();
    const intervalMs = rate === undefined ? 0 : 1000 / rate;
    const warmupCount = rate === undefined ? 0 : Math.round((this.#warmupMs / 1000) * rate);
    const total = rate === undefined ? Number.POSITIVE_INFINITY : warmupCount + Math.round((this.#measuredMs / 1000) * rate);
    let measuring = false;
    let endsAt = Number.POSITIVE_INFINITY;
    for (let sequence = 0; !this.#closed && sequence < total; ) {
      // saturation warms up for its seconds and at least one pass over the input (caches filled)
      if (!measuring && (rate === undefined ? performance.now() - started >= this.#warmupMs && sequence >= this.#lines.length : sequence >= warmupCount)) {
        measuring = true;
        // saturation: the warm-up's batches in flight are delivered first, so that the window's
        // CPU is spent on the window's messages alone (open loop: few in flight at a rate it keeps up with)
        if (rate === undefined) {
          while (this.#acknowledged < sequence) await new Promise<void>((wake) => (this.#onAcknowledged = wake));
          this.#onAcknowledged = undefined;
        }
        this.warmupMessages = sequence;
        if (rate === undefined) endsAt = performance.now() + this.#measuredMs;
        this.#onMeasuring();
      }
      this.#reference.tick(performance.now());
      // read after the waits and the reference's slice: a saturation batch's latency starts here
      const now = performance.now();
      if (now >= endsAt) break;
      let count = this.#batchSize;
      if (rate !== undefined) {
        const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1) - sequence;
        if (due <= 0) {
          await new Promise((wake) => setTimeout(wake, Math.max(1, started + sequence * intervalMs - now)));
          continue;
        }
        count = Math.min(due, this.#batchSize);
      }
      // the measured window starts on a batch of its own
      if (rate !== undefined && !measuring) count = Math.min(count, warmupCount - sequence);
      const messages: InputMessage[] = new Array(count);
      for (let i = 0; i < count; i++, sequence++) {
        messages[i] = {
          value: this.#valueAt(sequence),
          key: null,
          headers: {},
          timestamp: undefined,
          origin: { kind: 'file', file: '(bench input)', line: (sequence % this.#lines.length) + 1 },
          // open loop: when it was due, not when the flow got round to taking it
          receivedAt: rate === undefined ? now : started + sequence * intervalMs,
        };
      }
      this.handedOver = sequence;
      yield {
        messages,
        done: async () => {
          this.#acknowledged += count;
          this.#onAcknowledged?.();
        },
      };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** A server on 127.0.0.1 answering every call after `delayMs` with the fields the stages merge. */
async function startStub(topology: FlowTopology, delayMs: number): Promise<{ url: string; stop: () => Promise<void> }> {
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
function withServicesAt(topology: FlowTopology, url: string): FlowTopology {
  const nodes = topology.nodes.map((node): TopologyNode => {
    if (!node.services) return node;
    const services = Object.fromEntries(Object.entries(node.services).map(([name, settings]) => [name, { ...settings, 'base-url': url }]));
    return { ...node, services };
  });
  return { ...topology, nodes };
}

/** Messages per slice of the reference, and how often a slice runs (its share of the run: ~5 %). */
const REFERENCE_SLICE = 256;
const REFERENCE_EVERY_MS = 50;

/**
 * JSON.parse + ajv on the flow's rules over the same input, run in short slices between the
 * flow's batches: it meets the same neighbours on a shared machine as the flow does, and the
 * gate divides by it. Its CPU and time are taken out of the flow's.
 */
class Reference {
  readonly name = 'JSON.parse + ajv';
  readonly #validator: JsValidator;
  readonly #slices: Uint8Array[][];
  #next = 0;
  #dueAt = 0;
  /** Totals, taken out of the flow's CPU and time. */
  cpuMicros = 0;
  wallMs = 0;
  /** Each slice's CPU and wall µs per message: their medians are the reference (a GC pause of the flow's garbage may land in any one slice). */
  readonly #cpuPerMessage: number[] = [];
  readonly #wallPerMessage: number[] = [];

  constructor(topology: FlowTopology, lines: readonly Uint8Array[]) {
    const settings = validateSettings(topology);
    this.#validator = new JsValidator(topology.rules, { maxDepth: settings['max-depth'], maxSize: settings['max-size'], assertFormats: true });
    const slices = Math.max(1, Math.ceil(lines.length / REFERENCE_SLICE));
    this.#slices = Array.from({ length: slices }, (_, s) => Array.from({ length: REFERENCE_SLICE }, (_, i) => lines[(s * REFERENCE_SLICE + i) % lines.length]!));
    // compiled and warmed before anything is measured
    for (let i = 0; i < 2 * slices; i++) this.slice();
    this.reset();
  }

  /** Runs a slice when one is due. */
  tick(now: number): void {
    if (now < this.#dueAt) return;
    this.#dueAt = now + REFERENCE_EVERY_MS;
    this.slice();
  }

  slice(): void {
    const messages = this.#slices[this.#next]!;
    this.#next = (this.#next + 1) % this.#slices.length;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let start = 0; start < messages.length; ) start += this.#validator.check(messages, start);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    this.wallMs += wallMs;
    this.cpuMicros += used.user + used.system;
    this.#cpuPerMessage.push((used.user + used.system) / messages.length);
    this.#wallPerMessage.push((wallMs * 1000) / messages.length);
  }

  reset(): void {
    this.cpuMicros = 0;
    this.wallMs = 0;
    this.#cpuPerMessage.length = 0;
    this.#wallPerMessage.length = 0;
  }

  /** Median CPU and wall µs per message of the slices since the last reset. */
  perMessage(): { cpu: number; wall: number } {
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;
    return { cpu: median(this.#cpuPerMessage), wall: median(this.#wallPerMessage) };
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export async function benchFlow(options: FlowBenchOptions): Promise<FlowBenchResult> {
  const config = await loadConfig(options.config);
  const found = config.flows.find((f) => f.flow === options.flow);
  if (!found) throw new SluiceError('SLC_USAGE', `${options.config} has no flow "${options.flow}" (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
  const inputFile = options.input ? resolve(options.input) : ownInput(found);
  if (!inputFile) throw new SluiceError('SLC_USAGE', `flow "${options.flow}" reads no file: give --input FILE.ndjson`);
  const lines = readInput(inputFile);
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
    freshKeys: dedupeKeys(topology),
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

  const read = source.handedOver - source.warmupMessages;
  // the reference's slices ran in the window: their CPU and time are not the flow's
  const cpuMicrosPerMessage = (cpu.user + cpu.system - reference.cpuMicros) / Math.max(read, 1);
  const perSecond = read / ((ended - window.at - reference.wallMs) / 1000);
  const { cpu: referenceCpu, wall: referenceWall } = reference.perMessage();
  const latency = stats.latency;
  const ms = (micros: number) => round3(micros / 1000);
  // a percentile is its HDR bucket's upper bound, which may lie above the exact maximum
  const percentile = (p: number) => ms(Math.min(latency.getValueAtPercentile(p), latency.maxValue));
  const saturation = options.rate === undefined;
  const fingerprint = createHash('sha256').update(flowFingerprint(found)).digest('hex');
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
      input: options.input ?? relative(process.cwd(), inputFile),
      inputMessages: lines.length,
      transport: 'memory',
      load: saturation ? 'saturation' : 'open-loop',
      rate: options.rate ?? null,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      stubServicesMs: options.stubServicesMs ?? null,
      injectDelayNs: options.injectDelayNs,
      rounds: 1,
    },
    messages: { read, written: sink.count - window.written, deadLettered: deadLetters.count - window.letters, filtered: stats.filtered - window.filtered },
    latencyMs: {
      p50: percentile(50),
      p90: percentile(90),
      p99: percentile(99),
      p999: percentile(99.9),
      max: ms(latency.maxValue),
    },
    latencyCurve: CURVE_PERCENTILES.map((p) => [p, percentile(p)] as const),
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
