// End-to-end benchmark against a real broker: one Sluice processor (a child process, as deployed)
// between an open-loop load generator and a consumer of its output.
//   npm run bench:e2e [-- --delivery exactly-once --rate 10000 --seconds 20 --saturation 200000]
// Latency is measured from each message's intended send time (its Kafka timestamp, which Sluice
// passes through to the output) to its arrival in the output topic, so a stalled generator or
// processor cannot hide queueing (no coordinated omission). Saturation: the input topic is filled
// first, then the processor drains it; throughput is counted at the output.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'hdr-histogram-js';
import kafkajs from 'kafkajs';
import { createTopics } from '../src/io/kafka/tools.ts';
import { packageRoot } from '../src/package-root.ts';
import { buildCorpus } from './corpus.ts';
import { resultHeader } from './meta.ts';

const { values: args } = parseArgs({
  options: {
    delivery: { type: 'string', default: 'at-least-once' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    saturation: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    /** Extra HOCON lines for the processor's configuration, e.g. "flows.campaign.source.max-wait-ms = 10". */
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
  },
});
const delivery = args.delivery!;
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const saturationCount = Number(args.saturation);
const partitions = Number(args.partitions);

const { Kafka, logLevel, Partitioners } = kafkajs;
const port = process.env.SLUICE_BENCH_KAFKA_PORT ?? '9192';
const ownBroker = !process.env.KAFKA_BROKERS;
const brokers = process.env.KAFKA_BROKERS ?? `127.0.0.1:${port}`;
const brokerEnv = { ...process.env, KAFKA_PORT: port };
if (ownBroker && spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'start'], { stdio: 'inherit', env: brokerEnv }).status !== 0) {
  throw new Error('the broker did not start');
}

const kafka = new Kafka({ clientId: 'sluice-bench', brokers: brokers.split(','), logLevel: logLevel.ERROR });
const corpus = buildCorpus('campaign', 4 << 20).messages.filter((m) => m.length < 64 * 1024);
const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));

interface Run {
  mode: string;
  offered?: number;
  messages: number;
  outputs: number;
  seconds: number;
  messagesPerSecond: number;
  latencyMs: Record<string, number>;
  processor: { cpuSeconds: number; maxRssMiB: number };
}

async function runOnce(name: string, load: 'open-loop' | 'saturation'): Promise<Run> {
  const suffix = `${name}-${Date.now().toString(36)}`;
  const input = `bench.in.${suffix}`;
  const output = `bench.out.${suffix}`;
  const dead = `bench.dlq.${suffix}`;
  await createTopics([brokers], { [input]: partitions, [output]: partitions, [dead]: 1 }, silentLogger);
  const config = join(dir, `${suffix}.conf`);
  writeFileSync(
    config,
    `include "${join(packageRoot, 'config', 'qal.conf')}"
log.level = warn
log.destination = "${join(dir, `${suffix}.log`)}"
progress = off
kafka.brokers = "${brokers}"
flows.content.enabled = false
flows.campaign {
  delivery = ${delivery}
  source { topic = "${input}", group-id = "bench-${suffix}" }
  sink { topic = "${output}", compression = none }
  dead-letter { topic = "${dead}" }
}
${args.set!.join('\n')}
`,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const send = (count: number, from: number, timestamp: number) =>
    producer.send({
      topic: input,
      acks: 1,
      messages: Array.from({ length: count }, (_, i) => ({
        key: String((from + i) % 1000),
        value: Buffer.from(corpus[(from + i) % corpus.length]!),
        timestamp: String(timestamp),
      })),
    });

  const histogram = build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000 });
  let outputs = 0;
  let lastArrival = 0;
  const consumer = kafka.consumer({ groupId: `bench-reader-${suffix}`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [output, dead], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) histogram.recordValue(Math.max(1, now - Number(message.timestamp)));
      outputs += batch.messages.length;
      lastArrival = performance.now();
    },
  });

  let sent = 0;
  if (load === 'saturation') {
    for (let i = 0; i < saturationCount; i += 2000) {
      await send(Math.min(2000, saturationCount - i), i, Date.now());
    }
    sent = saturationCount;
  }
  const processor = spawn(process.execPath, [join(packageRoot, 'dist', 'src', 'cli.js'), 'run', '--config', config, '--summary-json', join(dir, `${suffix}.json`)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (load === 'open-loop') {
    // the processor starts and joins its group first: a warm-up trickle until outputs flow, then
    // the measured schedule (else the first seconds measure the start-up, not the pipeline)
    for (let i = 0; outputs === 0; i++) {
      await send(10, saturationCount + i * 10, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    histogram.reset();
    outputs = 0;
  }
  const started = performance.now();
  if (load === 'open-loop') {
    // open loop: every 5 ms, send what the schedule says is due, stamped with when it was due
    const total = rate * seconds;
    const t0 = Date.now();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
      if (due > sent) {
        const count = due - sent;
        await send(count, sent, t0 + Math.round((sent / rate) * 1000));
        sent += count;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  // done when everything arrived, or nothing arrived for 10 s
  while (outputs < sent && (lastArrival === 0 || performance.now() - lastArrival < 10_000)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const elapsed = ((lastArrival || performance.now()) - started) / 1000;
  const usage = processUsage(processor.pid!);
  const exited = new Promise((resolve) => processor.once('exit', resolve));
  processor.kill('SIGTERM');
  await exited;
  await consumer.disconnect();
  await producer.disconnect();
  const percentile = (p: number) => histogram.getValueAtPercentile(p);
  return {
    mode: `${delivery} ${load}`,
    ...(load === 'open-loop' ? { offered: rate } : {}),
    messages: sent,
    outputs,
    seconds: Math.round(elapsed * 100) / 100,
    messagesPerSecond: Math.round(outputs / elapsed),
    latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99), p999: percentile(99.9), max: histogram.maxValue },
    processor: usage,
  };
}

/** CPU seconds used and peak RSS of a live process, from /proc (Linux). */
function processUsage(pid: number): { cpuSeconds: number; maxRssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, maxRssMiB: Math.round(Number(peak?.[1] ?? 0) / 1024) };
}

const silentLogger = (await import('pino')).pino({ level: 'silent' });
const results: Run[] = [];
try {
  results.push(await runOnce('open', 'open-loop'));
  if (saturationCount > 0) results.push(await runOnce('sat', 'saturation'));
} finally {
  if (ownBroker) spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'stop'], { stdio: 'inherit', env: brokerEnv });
}
console.table(
  results.map((r) => ({
    mode: r.mode,
    offered: r.offered ?? 'max',
    outputs: r.outputs,
    'msg/s': r.messagesPerSecond,
    ...Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [`${k} ms`, v])),
    'cpu s': r.processor.cpuSeconds,
    'rss MiB': r.processor.maxRssMiB,
  })),
);
const out = args.out ?? join(packageRoot, 'bench', 'results', `e2e-${delivery}.json`);
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ ...resultHeader('e2e', { delivery, partitions, rate, seconds, saturation: saturationCount, set: args.set }), delivery, partitions, results }, null, 2)}\n`);
console.log(`results written to ${out}`);
process.exit(0);
