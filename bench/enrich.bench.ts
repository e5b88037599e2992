// Enrichment benchmark, local mode: one flow of the shipped local configuration (its rules and
// stages, enrich-http included) fed by an open-loop generator at a set rate, each service it calls
// played by Sluice's lookup server in a process of its own answering after a fixed delay; and
// optionally an outage of one service mid-run (killed: connections refused; or frozen with
// SIGSTOP: connections hang) and its recovery.
//   npm run bench:enrich -- --flow campaign --rate 10000 --seconds 30 --delay-ms 5 [--no-cache]
//   npm run bench:enrich -- --flow campaign --seconds 70 --outage campaign-manager --outage-at 20 --outage-seconds 30
// Latency runs from each message's intended send time (carried in its key) to the acknowledged
// write of its output or dead letter, so a stalled pipeline cannot hide queueing (no coordinated
// omission). Prints a per-second timeline (offered, written, dead-lettered, p99, breaker states)
// and the totals; writes bench/results/enrich-<name>.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Histogram } from 'hdr-histogram-js';
import { pino } from 'pino';
import { loadConfig, resourcesOf } from '../src/pipeline/load.ts';
import { packageRoot } from '../src/package-root.ts';
import { buildFlows } from '../src/pipeline/build.ts';
import type { InputMessage, OutboundMessage, Sink, Source } from '../src/component/types.ts';
import { resultHeader } from './meta.ts';

const { values: args } = parseArgs({
  options: {
    flow: { type: 'string', default: 'campaign' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    'delay-ms': { type: 'string', default: '5' },
    /** Per-attempt timeout of every service (local.conf's 10 s suit a server sharing the process; base.conf's are 300-500 ms). */
    'timeout-ms': { type: 'string', default: '500' },
    /** Strip the stages' caches: every record calls its services. */
    'no-cache': { type: 'boolean', default: false },
    /** Seconds at the start left out of the steady-state percentiles (cold caches, JIT). */
    warmup: { type: 'string', default: '2' },
    outage: { type: 'string' },
    'outage-at': { type: 'string', default: '20' },
    'outage-seconds': { type: 'string', default: '30' },
    'outage-kind': { type: 'string', default: 'kill' },
    /** Extra HOCON lines for the configuration, e.g. "services.campaign-manager.max-concurrency = 256". */
    set: { type: 'string', multiple: true, default: [] },
    name: { type: 'string' },
  },
});
const flowName = args.flow!;
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const delayMs = Number(args['delay-ms']);
const outageAt = Number(args['outage-at']);
const outageSeconds = Number(args['outage-seconds']);
const outageKind = args['outage-kind']!;
if (outageKind !== 'kill' && outageKind !== 'stop') throw new Error('--outage-kind is kill (connections refused) or stop (connections hang)');
const name = args.name ?? `${flowName}${args.outage ? `-outage-${outageKind}` : ''}${args['no-cache'] ? '-no-cache' : ''}`;

const dir = mkdtempSync(join(tmpdir(), 'sluice-enrich-'));
const logFile = join(dir, 'sluice.log');
const localConf = join(packageRoot, 'config', 'local.conf');

function overlay(file: string, lines: string[]): string {
  writeFileSync(file, [`include "${localConf}"`, `log { level = warn, destination = "${logFile}" }`, ...lines].join('\n'));
  return file;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

// the services the flow calls, and the lookup routes (local-services.lookup) that play them
const shipped = await loadConfig(overlay(join(dir, 'shipped.conf'), []));
const topology = shipped.flows.find((f) => f.flow === flowName);
if (!topology) throw new Error(`no flow ${flowName} in ${localConf}`);
const lookupRoutes = shipped.settings['local-services'].lookup?.routes ?? {};
const routesOf = new Map<string, Record<string, { file: string; key: string }>>();
for (const node of topology.nodes.filter((n) => n.kind === 'enrich-http')) {
  const { service, url } = node.config as { service: string; url: string };
  const route = lookupRoutes[url];
  if (!route) throw new Error(`stage ${node.name}: no lookup route for ${url}`);
  const file = resolve(shipped.dirOf(['local-services', 'lookup', 'routes', url, 'file']), route.file);
  routesOf.set(service, { ...routesOf.get(service), [url]: { file, key: route.key } });
}
if (args.outage !== undefined && !routesOf.has(args.outage)) throw new Error(`--outage: flow ${flowName} calls ${[...routesOf.keys()].join(', ')}`);

interface Server {
  readonly port: number;
  process: ChildProcess;
}

async function startServer(port: number, routes: Record<string, { file: string; key: string }>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', 'lookup-server.ts'), String(port), String(delayMs), JSON.stringify(routes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && ready());
    child.once('exit', (code) => fail(new Error(`lookup server exited with ${code}`)));
  });
  return child;
}

const servers = new Map<string, Server>();
for (const [service, routes] of routesOf) {
  const port = await freePort();
  servers.set(service, { port, process: await startServer(port, routes) });
}

const config = await loadConfig(
  overlay(
    join(dir, 'bench.conf'),
    [
      ...[...servers].flatMap(([service, { port }]) => [`services.${service}.base-url = "http://127.0.0.1:${port}"`, `services.${service}.timeout-ms = ${args['timeout-ms']}`]),
      ...args.set!,
    ],
  ),
);
const benchTopology = config.flows.find((f) => f.flow === flowName)!;
const flowTopology = {
  ...benchTopology,
  nodes: benchTopology.nodes.map((n) => (args['no-cache'] && n.kind === 'enrich-http' ? { ...n, config: { ...n.config, cache: undefined } } : n)),
};

// ------------------------------------------------------------------------------------ the load
const sampleLines = readFileSync(join(packageRoot, 'samples', `${flowName}.ndjson`))
  .toString('latin1')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => new Uint8Array(Buffer.from(l, 'latin1')));
const total = Math.round(rate * seconds);
const started = performance.now();
const startedEpoch = Date.now();
const offeredPerSecond = new Array<number>(Math.ceil(seconds) + 1).fill(0);
let closed = false;

/** Open loop: every message is due at its own time; whatever is due is handed over at once. */
const source: Source = {
  async *[Symbol.asyncIterator]() {
    let sent = 0;
    while (sent < total && !closed) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      if (due <= sent) {
        await new Promise((wake) => setTimeout(wake, 1));
        continue;
      }
      const count = Math.min(due - sent, 1024);
      const intended = new Float64Array(count);
      const messages: InputMessage[] = new Array(count);
      for (let i = 0; i < count; i++, sent++) {
        intended[i] = started + (sent * 1000) / rate;
        messages[i] = {
          value: sampleLines[sent % sampleLines.length]!,
          key: new Uint8Array(intended.buffer, i * 8, 8),
          headers: {},
          timestamp: undefined,
          origin: { kind: 'file', file: 'generator', line: sent + 1 },
          receivedAt: intended[i]!,
        };
      }
      offeredPerSecond[Math.floor((sent - 1) / rate)]! += count;
      yield { messages, done: async () => undefined };
    }
  },
  close: async () => void (closed = true),
};

// ------------------------------------------------------------------------------------ the sinks
const histogram = () => build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000_000 });
interface Second {
  written: number;
  /** Dead letters of the validation (the samples' invalid lines). */
  invalid: number;
  /** Dead letters of the stages, by reason. */
  failed: Record<string, number>;
  latency: Histogram;
}
const timeline: Second[] = [];
const overall = { written: histogram(), deadLettered: histogram(), steady: histogram() };
const steadyFrom = started + Number(args.warmup) * 1000;
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function record(batch: readonly OutboundMessage[], into: Histogram, letters: boolean): void {
  const now = performance.now();
  const second = Math.floor((now - started) / 1000);
  const slot = (timeline[second] ??= { written: 0, invalid: 0, failed: {}, latency: histogram() });
  for (const message of batch) {
    scratchBytes.set(message.key!);
    const micros = Math.max(1, Math.round((now - scratch[0]!) * 1000));
    into.recordValue(micros);
    if (scratch[0]! >= steadyFrom) overall.steady.recordValue(micros);
    slot.latency.recordValue(micros);
    if (!letters) slot.written++;
    else if (String(message.headers['sluice.stage']).endsWith('.validate')) slot.invalid++;
    else {
      const reason = String(message.headers['sluice.reason']);
      slot.failed[reason] = (slot.failed[reason] ?? 0) + 1;
    }
  }
}

const sink = (into: Histogram, letters: boolean): Sink => ({
  encoding: 'json',
  write: async (batch) => record(batch, into, letters),
  close: async () => undefined,
});

// ------------------------------------------------------------------------------------ the run
const logger = pino({ level: 'warn' }, pino.destination({ dest: logFile, sync: false }));
const [flow] = buildFlows([flowTopology], resourcesOf(config, logger, { io: () => ({ source, sink: sink(overall.written, false), deadLetters: sink(overall.deadLettered, true) }) }));
const outageTimers: NodeJS.Timeout[] = [];
if (args.outage !== undefined) {
  const server = servers.get(args.outage)!;
  outageTimers.push(
    setTimeout(() => server.process.kill(outageKind === 'kill' ? 'SIGKILL' : 'SIGSTOP'), outageAt * 1000),
    setTimeout(async () => {
      if (outageKind === 'stop') server.process.kill('SIGCONT');
      else server.process = await startServer(server.port, routesOf.get(args.outage!)!);
    }, (outageAt + outageSeconds) * 1000),
  );
}
const cpuBefore = process.cpuUsage();
await flow!.run();
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
for (const timer of outageTimers) clearTimeout(timer);
logger.flush();
await new Promise((done) => setTimeout(done, 200));
for (const { process: child } of servers.values()) {
  child.kill('SIGCONT');
  child.kill('SIGKILL');
}

// breaker transitions, from the log (seconds since the start)
const transitions = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter((l) => l.includes('"circuit breaker"'))
  .map((l) => JSON.parse(l) as { time: number; service: string; state: string })
  .map((e) => ({ second: Math.round((e.time - startedEpoch) / 100) / 10, service: e.service, state: e.state }));
const stateAt = (service: string, second: number) => {
  let state = 'closed';
  for (const t of transitions) if (t.service === service && t.second < second + 1) state = t.state;
  return state;
};

const ms = (h: Histogram, p: number) => Math.round(h.getValueAtPercentile(p) / 10) / 100;
const services = [...servers.keys()];
const rows = Array.from({ length: timeline.length }, (_, second) => timeline[second]).map((s, second) => ({
  t: second,
  offered: offeredPerSecond[second] ?? 0,
  written: s?.written ?? 0,
  invalid: s?.invalid ?? 0,
  'stage failures': Object.entries(s?.failed ?? {}).map(([r, n]) => `${r} ${n}`).join(', '),
  'p50 ms': s ? ms(s.latency, 50) : 0,
  'p99 ms': s ? ms(s.latency, 99) : 0,
  ...Object.fromEntries(services.map((service) => [service, stateAt(service, second)])),
}));
console.table(rows);

const summary = flow!.stats;
const failedByReason: Record<string, number> = {};
for (const s of timeline) for (const [reason, n] of Object.entries(s?.failed ?? {})) failedByReason[reason] = (failedByReason[reason] ?? 0) + n;
const latency = (h: Histogram) => ({ p50: ms(h, 50), p90: ms(h, 90), p99: ms(h, 99), p999: ms(h, 99.9), max: Math.round(h.maxValue / 10) / 100 });
const result = {
  ...resultHeader('enrich', {
    name,
    flow: flowName,
    offered: rate,
    seconds,
    serviceDelayMs: delayMs,
    timeoutMs: Number(args['timeout-ms']),
    warmupSeconds: Number(args.warmup),
    cache: !args['no-cache'],
    set: args.set,
    services,
    outage: args.outage === undefined ? undefined : { service: args.outage, atSecond: outageAt, seconds: outageSeconds, kind: outageKind },
  }),
  totals: {
    offered: total,
    read: summary.read,
    written: summary.written,
    filtered: summary.filtered,
    invalid: summary.invalid,
    deadLettered: summary.deadLettered,
    stageFailuresByReason: failedByReason,
    dropped: summary.dropped,
    seconds: Math.round(elapsed * 100) / 100,
    messagesPerSecond: Math.round(summary.read / elapsed),
    outputsPerSecond: Math.round(summary.written / elapsed),
  },
  latencyMs: { outputs: latency(overall.written), deadLetters: latency(overall.deadLettered), afterWarmup: latency(overall.steady) },
  breakerTransitions: transitions,
  processor: { cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) },
  timeline: rows,
};
console.log(JSON.stringify({ totals: result.totals, latencyMs: result.latencyMs, breakerTransitions: transitions, processor: result.processor }, null, 2));
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(join(packageRoot, 'bench', 'results', `enrich-${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
