// `sluice bench --transport kafka` through the built command against the suite's real broker: a
// short open-loop run of a shipped flow on topics of its own writes the same result and plot as
// the memory transport, and deletes its topics; without a broker or Java it says what to do.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FlowBenchResult } from '../../src/bench/flow-bench.ts';
import { packageRoot } from '../../src/package-root.ts';

const cli = join(packageRoot, 'dist', 'src', 'cli.js');
const localConf = join(packageRoot, 'config', 'local.conf');
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafka-test-'));
const env: NodeJS.ProcessEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_'))), KAFKA_BROKERS: brokers };

/** The command, run to its end without blocking the event loop. */
function sluice(args: readonly string[], environment = env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: packageRoot, env: environment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function benchTopics(): Promise<string[]> {
  const admin = new kafkajs.Kafka({ clientId: 'bench-test', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((topic) => topic.startsWith('sluice-bench.'));
  } finally {
    await admin.disconnect();
  }
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('an open-loop run on the broker measures the flow on topics of its own, then deletes them', async () => {
  const before = await benchTopics();
  const out = join(dir, 'kafka.json');
  const run = await sluice(['bench', '--config', localConf, '--flow', 'content', '--transport', 'kafka', '--partitions', '2', '--rate', '1000', '--seconds', '1', '--warmup', '0.5', '--stub-services', '0', '--out', out]);
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /sluice bench: flow content of .*local\.conf, kafka transport \(2 partitions\), open loop at 1,000 msg\/s/);
  const result = JSON.parse(readFileSync(out, 'utf8')) as FlowBenchResult;
  assert.is(result.config.transport, 'kafka');
  assert.is(result.config.partitions, 2);
  assert.is(result.config.load, 'open-loop');
  assert.ok(result.messages.read > 0 && result.messages.written > 0, JSON.stringify(result.messages));
  // every finished message is an output, a dead letter or filtered (the content flow drops none)
  assert.is(result.messages.written + result.messages.deadLettered + result.messages.filtered, result.messages.read);
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max'] as const) assert.ok(result.latencyMs[key] >= 0, key);
  assert.ok(result.latencyMs.p50 <= result.latencyMs.p99 && result.latencyMs.p99 <= result.latencyMs.max);
  assert.ok(result.cpuMicrosPerMessage > 0 && result.reference.cpuMicrosPerMessage > 0 && result.normalised.cpuPerMessage > 0);
  assert.match(readFileSync(join(dir, 'kafka.svg'), 'utf8'), /<polyline points="/);
  assert.equal(await benchTopics(), before, 'the run deleted its topics');
});

test('a baseline of the memory transport is no baseline for the kafka one', async () => {
  const memory = join(dir, 'memory.json');
  const first = await sluice(['bench', '--config', localConf, '--flow', 'content', '--seconds', '0.3', '--warmup', '0.1', '--stub-services', '0', '--rate', '1000', '--out', memory]);
  assert.is(first.status, 0, first.stdout + first.stderr);
  const run = await sluice(['bench', '--config', localConf, '--flow', 'content', '--transport', 'kafka', '--rate', '1000', '--seconds', '1', '--baseline', memory]);
  assert.is(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /the baseline ran on the memory transport, this run on kafka/);
});

test('without KAFKA_BROKERS and without Java, it says what to do (exit 2, no stack trace)', async () => {
  const { KAFKA_BROKERS: _, ...withoutBrokers } = env;
  const run = await sluice(['bench', '--config', localConf, '--flow', 'content', '--transport', 'kafka', '--seconds', '1'], { ...withoutBrokers, JAVA_HOME: join(dir, 'no-java') });
  assert.is(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /set KAFKA_BROKERS to a broker to run against, or install Java \(17\+\)/);
  assert.not.match(run.stderr, /\n\s+at /);
});

test.run();
