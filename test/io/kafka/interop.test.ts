// Interoperability with an independent Kafka client, kcat (librdkafka), on a real broker (the one
// KAFKA_BROKERS names; scripts/test.mjs starts one):
//   - what kcat produces with each codec (keys, headers) the port consumes unchanged, and what the
//     port produces with each codec kcat reads unchanged;
//   - the real content flow of Sluice (the built CLI as a child process, kafka source, kafka sink
//     keyed by id with lz4, kafka dead letters; without its latest stage, which would take each
//     codec's copy of an item for a stale version) on the first 300 sample lines fed by kcat with
//     every codec: outcomes per samples/content.expected.ndjson, read back with kcat; SIGTERM ends
//     it with exit 0, a summary and the input offsets committed;
//   - the same flow on batches of over 1 MiB that kcat lingers into one batch per codec (gzip,
//     snappy, lz4, zstd: librdkafka's zstd frames state no content size), and hostile messages
//     (numbers of 130,000 digits under numeric rules, nesting 6,000 deep): every message delivered,
//     the hostile ones as dead letters with their reason (or an output when valid).
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTopics } from '../../../src/io/kafka/tools.ts';
import { loadConfig } from '../../../src/pipeline/load.ts';
import type { Compression, ConsumerOptions, KafkaRecord, KafkaTransport } from '../../../src/io/kafka/transport.ts';
import { packageRoot } from '../../../src/package-root.ts';
import { clientLines, KAFKA_CLIENT, testTransport } from './harness.ts';
import type { CampaignTopics } from './harness.ts';
import { rawLines } from '../../../scripts/support/lines.ts';

const BROKERS = process.env.KAFKA_BROKERS ?? '';
const brokerList = BROKERS.split(',').map((b) => b.trim()).filter((b) => b !== '');
const KCAT = process.env.KCAT ?? '/usr/bin/kcat';
const logger = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });
const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const CODEC_ID: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
const cli = join(packageRoot, 'dist', 'src', 'cli.js');

function requireEnvironment(): void {
  if (brokerList.length === 0) {
    throw new Error('KAFKA_BROKERS is not set: these tests need a real broker (npm test starts one; or KAFKA_PORT=39092 bash scripts/kafka.sh start and KAFKA_BROKERS=127.0.0.1:39092)');
  }
  if (!existsSync(KCAT)) throw new Error(`kcat not found at ${KCAT} (apt-get install kcat, or set KCAT)`);
}

// ------------------------------------------------------------------------------------ helpers

const unique = (what: string) => `sluice-i-${what}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const hex = (bytes: Uint8Array | null | undefined) => (bytes === null ? 'null' : bytes === undefined ? 'undefined' : Buffer.from(bytes).toString('hex'));
const text = (bytes: Uint8Array | null | undefined) => (bytes === null || bytes === undefined ? String(bytes) : Buffer.from(bytes).toString('utf8'));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}


function kcat(args: string[], input?: Buffer): Buffer {
  const result = spawnSync(KCAT, ['-b', BROKERS, ...args], { input, maxBuffer: 256 << 20, timeout: 60_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr.toString()}`);
  return result.stdout;
}

/** kcat -P: one message per line `key:value`, the same headers on every message. */
function kcatProduce(topic: string, codec: Compression, messages: readonly { key: string; value: Buffer }[], headers: Record<string, string>): void {
  for (const m of messages) {
    assert.not.ok(m.value.includes(10), 'a kcat line holds no newline');
    assert.not.ok(m.key.includes(':'), 'a kcat key holds no delimiter');
  }
  const input = Buffer.concat(messages.flatMap((m) => [Buffer.from(`${m.key}:`), m.value, Buffer.from('\n')]));
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  kcat(['-P', '-t', topic, '-z', codec, '-K:', ...headerArgs], input);
}

interface KcatMessage {
  partition: number;
  offset: bigint;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, string][];
}

/**
 * Everything in a topic, read by kcat: keys and values binary-safe (a -f format with their
 * lengths), headers from -J (kcat's -f %h cannot be split unambiguously).
 */
function kcatConsume(topic: string): KcatMessage[] {
  const raw = kcat(['-C', '-t', topic, '-e', '-q', '-f', '%p %o %T %K %S\n%k%s\n']);
  const messages: KcatMessage[] = [];
  for (let at = 0; at < raw.length; ) {
    const eol = raw.indexOf(10, at);
    const [partition, offset, timestamp, keyLength, valueLength] = raw.subarray(at, eol).toString('latin1').split(' ').map((x) => x.trim());
    at = eol + 1;
    const k = Number(keyLength);
    const key = k < 0 ? null : raw.subarray(at, at + k);
    at += Math.max(k, 0);
    const v = Number(valueLength);
    const value = v < 0 ? null : raw.subarray(at, at + v);
    at += Math.max(v, 0);
    assert.is(raw[at], 10, `kcat -f output well framed at byte ${at}`);
    at += 1;
    messages.push({ partition: Number(partition), offset: BigInt(offset!), timestamp: timestamp!, key, value, headers: [] });
  }
  const byCoordinates = new Map(messages.map((m) => [`${m.partition}/${m.offset}`, m]));
  // kcat -e has once stopped a -J read short of what its -f read of the same topic saw (CI: the
  // first record's headers came back empty): read again until every record has its headers
  const headersRead = new Set<string>();
  for (let attempt = 1; headersRead.size < messages.length && attempt <= 5; attempt++) {
    if (attempt > 1) console.log(`  (kcat -J read ${headersRead.size} of ${messages.length} records of ${topic}: reading again)`);
    for (const line of kcat(['-C', '-t', topic, '-e', '-q', '-J']).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const json = JSON.parse(line) as { partition: number; offset: number; headers?: string[] };
      const coordinates = `${json.partition}/${json.offset}`;
      const m = byCoordinates.get(coordinates);
      assert.ok(m, `kcat -J and -f see the same message ${coordinates}`);
      if (headersRead.has(coordinates)) continue;
      headersRead.add(coordinates);
      const flat = json.headers ?? [];
      for (let i = 0; i < flat.length; i += 2) m.headers.push([flat[i]!, flat[i + 1]!]);
    }
  }
  assert.is(headersRead.size, messages.length, 'kcat -J read every record kcat -f read');
  return messages.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

const headerMap = (headers: readonly [string, string][]) => Object.fromEntries(headers);

/** The record batches of a partition on the broker's disk (codec, record count), when its run dir is local. */
function batchesOnDisk(topic: string, partition: number): { codec: number; records: number }[] | undefined {
  const port = process.env.KAFKA_PORT ?? /^(?:127\.0\.0\.1|localhost):(\d+)$/.exec(brokerList[0] ?? '')?.[1];
  if (!port) return undefined;
  const run = process.env.SLUICE_KAFKA_RUN ?? `/tmp/sluice-kafka-${port}`;
  const properties = join(run, 'server.properties');
  if (!existsSync(properties) || !readFileSync(properties, 'utf8').includes(`PLAINTEXT://127.0.0.1:${port}`)) return undefined;
  const dir = join(run, 'data', `${topic}-${partition}`);
  if (!existsSync(dir)) return undefined;
  const batches: { codec: number; records: number }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    const log = readFileSync(join(dir, file));
    // a batch header: baseOffset, length, leader epoch, magic, crc, attributes (at 21), ..., record count (at 57)
    for (let at = 0; at + 61 <= log.length; ) {
      const length = log.readInt32BE(at + 8);
      if (length <= 0) break;
      batches.push({ codec: log.readInt16BE(at + 21) & 7, records: log.readInt32BE(at + 57) });
      at += 12 + length;
    }
  }
  return batches;
}

/** Compression codecs of a partition's record batches on the broker's disk, when its run dir is local. */
function codecsOnDisk(topic: string, partition: number): number[] | undefined {
  return batchesOnDisk(topic, partition)?.map((b) => b.codec);
}

function consumerOptions(topic: string): ConsumerOptions {
  return {
    groupId: unique('g'),
    topics: [topic],
    fromBeginning: true,
    readCommitted: true,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    maxBytesPerPartition: 1 << 20,
    maxWaitMs: 100,
    partitionsInFlight: 4,
    prefetch: true,
  };
}

/** The header of the records that mark the end of a topic's content (see portConsume). */
const END = 'x-test-end';

/**
 * Every record of a topic of `partitions` partitions, consumed with the port: an end marker is
 * produced on each partition, and once the consumer has them all (a partition is read in order)
 * nothing sent before is left to arrive. The markers are left out of the result.
 */
async function portConsume(transport: KafkaTransport, topic: string, partitions: number): Promise<(KafkaRecord & { partition: number })[]> {
  const producer = transport.producer({ compression: 'none', acks: -1, idempotent: true });
  try {
    await producer.send(topic, Array.from({ length: partitions }, (_, partition) => ({ key: null, value: new Uint8Array(0), headers: { [END]: '' }, partition })));
  } finally {
    await producer.close();
  }
  const consumer = transport.consumer(consumerOptions(topic));
  const records: (KafkaRecord & { partition: number })[] = [];
  let ends = 0;
  let failed: unknown;
  void consumer
    .run(async (batch) => {
      for (const r of batch.records) {
        if (r.headers[END] !== undefined) ends++;
        else records.push({ ...r, partition: batch.partition });
      }
    })
    .catch((error: unknown) => (failed = error));
  try {
    await waitFor(`the end of ${topic} (${ends} of ${partitions} end markers, ${records.length} records)`, () => {
      if (failed) throw failed;
      return ends >= partitions;
    }, 20_000);
  } finally {
    await consumer.stop().catch(() => undefined);
    await consumer.close();
  }
  return records;
}

// ------------------------------------------------------------------------------------ kcat ⇄ port

const clients = suite(`interop: kcat and the ${KAFKA_CLIENT} port, every codec`);
let transport: KafkaTransport | undefined;

// uvu 0.5 swallows an error thrown by a before() hook (the suite then "passes" with 0 tests run
// and exit 0): the checks and the setup go in before.each, whose errors fail each test
clients.before.each(() => {
  requireEnvironment();
  transport ??= testTransport(unique('client'), logger);
});

/** ~500 bytes per line: UTF-8 text, some invalid UTF-8, never a newline. */
function line(i: number): Buffer {
  const body = Buffer.from(`{"n":${i},"text":"${'Où partir en week-end — größte 🚆 '.repeat(12)}"}`, 'utf8');
  return i % 7 === 3 ? Buffer.concat([body, Buffer.from([0xc3, 0x28, 0xff, 0xfe])]) : body;
}

for (const codec of CODECS) {
  clients(`kcat -z ${codec} -K: -H: keys, values and headers reach the port unchanged`, async () => {
    const topic = unique(`kcat-${codec}`);
    await createTopics(brokerList, { [topic]: 2 }, logger);
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `key-${i}-ü`, value: line(i) }));
    const headers = { 'x-codec': codec, 'x-text': 'välue ✓ = ok', 'x-empty': '' };
    kcatProduce(topic, codec, sent, headers);
    const onDisk = [0, 1].map((p) => codecsOnDisk(topic, p));
    if (onDisk.includes(undefined)) console.log(`  (${codec}: the broker's log dir is not on this machine; codec on disk not checked)`);
    else assert.equal([...new Set(onDisk.flat())], [CODEC_ID[codec]], `kcat wrote ${codec} batches`);

    const records = await portConsume(transport!, topic, 2);
    assert.is(records.length, sent.length, 'each message once');
    const byKey = new Map(records.map((r) => [text(r.key), r]));
    assert.is(byKey.size, sent.length, 'distinct keys');
    for (const m of sent) {
      const r = byKey.get(m.key);
      assert.ok(r, `${m.key} received`);
      assert.is(hex(r.value), hex(m.value), `${m.key}: value`);
      assert.equal(Object.keys(r.headers).sort(), Object.keys(headers).sort(), `${m.key}: header names`);
      for (const [name, value] of Object.entries(headers)) assert.is(text(r.headers[name] as Uint8Array), value, `${m.key}: header ${name}`);
    }
    // the timestamps kcat's producer stamped
    const seen = kcatConsume(topic);
    const stamps = new Map(seen.map((m) => [`${m.partition}/${m.offset}`, m.timestamp]));
    for (const r of records) assert.is(r.timestamp, stamps.get(`${r.partition}/${r.offset}`), 'timestamp as kcat reads it');
  });
}

clients('kcat: a tombstone (-Z) reaches the port as a null value, an empty key as an empty key', async () => {
  const topic = unique('kcat-tombstone');
  await createTopics(brokerList, { [topic]: 1 }, logger);
  // -Z sends an empty key as NULL too: the empty key goes without it
  kcat(['-P', '-t', topic, '-K:', '-Z'], Buffer.from('gone:\n'));
  kcat(['-P', '-t', topic, '-K:'], Buffer.from(':no key\n'));
  const records = await portConsume(transport!, topic, 1);
  assert.equal(records.map((r) => [text(r.key), r.value === null ? null : text(r.value)]), [['gone', null], ['', 'no key']]);
  assert.ok(records[1]!.key !== null && records[1]!.key.length === 0, 'an empty key is not a null key');
});

for (const codec of CODECS) {
  clients(`port compression ${codec}: kcat reads keys, values and headers unchanged`, async () => {
    const topic = unique(`port-${codec}`);
    await createTopics(brokerList, { [topic]: 1 }, logger);
    const producer = transport!.producer({ compression: codec, acks: -1, idempotent: false });
    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: i % 10 === 0 ? null : new Uint8Array(Buffer.from(`k-${i}`)),
      value: new Uint8Array(Buffer.concat([line(i), randomBytes(i % 50)])),
      headers: { 'x-codec': codec, 'x-n': String(i) },
      timestamp: String(1_700_000_000_000 + i),
    }));
    try {
      await producer.send(topic, sent.slice(0, 150));
      await producer.send(topic, sent.slice(150));
    } finally {
      await producer.close();
    }
    const read = kcatConsume(topic);
    assert.is(read.length, sent.length);
    read.forEach((m, i) => {
      const s = sent[i]!;
      assert.is(m.offset, BigInt(i));
      assert.is(hex(m.key), hex(s.key), `#${i}: key`);
      assert.is(hex(m.value), hex(s.value), `#${i}: value`);
      assert.is(m.timestamp, s.timestamp, `#${i}: timestamp`);
      assert.equal(headerMap(m.headers), s.headers, `#${i}: headers`);
    });
  });
}

clients.run();

// ------------------------------------------------------------------------------------ the content flow

interface Expected {
  ok: boolean;
  filtered?: boolean;
  reason?: string;
  path?: string;
}

const LINES = 300;
const flow = suite('interop: the content flow (sluice run) on kcat-produced input, read back with kcat');
const state: CampaignTopics & {
  dir: string;
  lines: Buffer[];
  expected: Expected[];
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  stdout: string;
  stderr: string;
  inputMessages: KcatMessage[];
} = { dir: '', input: '', output: '', dlq: '', group: '', lines: [], expected: [], stdout: '', stderr: '', inputMessages: [] };

/** Filtered by the flow as this suite runs it: by a filter, not by the state it leaves out (a stale version is written here). */
const filteredHere = (e: Expected) => e.filtered === true && e.reason === undefined;
const expectedWritten = () => state.expected.filter((e) => e.ok && !filteredHere(e)).length;
const expectedDead = () => state.expected.filter((e) => !e.ok).length;
const explain = () => `exit ${JSON.stringify(state.exit)}\n--- stdout\n${state.stdout}\n--- stderr\n${state.stderr.slice(-4000)}\n--- log (last lines)\n${logTail()}`;
const logTail = () => {
  const file = join(state.dir, 'sluice.log');
  // the run's own lines (start, stop, commits, failures), not one line per dead letter
  return existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.includes('"stage":')).slice(-12).join('\n')
    : '(no log)';
};

/** Builds dist/ when a source file is newer than the built CLI. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0)));
  if (existsSync(cli) && statSync(cli).mtimeMs >= Math.max(newest(join(packageRoot, 'src')), newest(join(packageRoot, 'schemas')))) return;
  const build = spawnSync('npm', ['run', 'build:ts'], { cwd: packageRoot, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build:ts failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
}

async function endOffsets(admin: KafkajsAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** The content flow's stages of config/local.conf but its `latest` (as HOCON: JSON), loaded once. */
let statelessStages: string | undefined;
async function loadStatelessStages(): Promise<void> {
  const content = (await loadConfig(join(packageRoot, 'config', 'local.conf'))).flows.find((f) => f.flow === 'content')!;
  const stages = content.nodes.filter((n) => n.role === 'stage' && n.kind !== 'latest');
  statelessStages = JSON.stringify(stages.map((n) => ({ kind: n.kind, name: n.name.slice('content.'.length), ...n.config })));
}

/**
 * `sluice run` (the built CLI) of the content flow of config/local.conf from a kafka topic to a
 * kafka sink (JSON keyed by id, lz4) with kafka dead letters, in `dir` (its log there too).
 */
function startContentFlow(dir: string, topics: { input: string; output: string; dlq: string; group: string }): ChildProcess {
  const overlay = join(dir, 'kafka.conf');
  if (statelessStages === undefined) throw new Error('the content stages are not loaded yet');
  writeFileSync(
    overlay,
    `include "${join(packageRoot, 'config', 'local.conf')}"
log.destination = "${join(dir, 'sluice.log')}"
log.level = info
progress = off
flows.campaign.enabled = false
flows.engagement.enabled = false
flows.content.source = null
flows.content.source {
  kind = kafka
  brokers = "${BROKERS}"
  topic = "${topics.input}"
  group-id = "${topics.group}"
  # only the shutdown commit can commit: SIGTERM must commit what was delivered
  commit-interval-ms = 60000
}
flows.content.sink = null
flows.content.sink { kind = kafka, brokers = "${BROKERS}", topic = "${topics.output}", key = id, encoding = json, compression = lz4 }
flows.content.dead-letter = null
flows.content.dead-letter { kind = kafka, brokers = "${BROKERS}", topic = "${topics.dlq}" }
${clientLines('content').join('\n')}
flows.content.stages = ${statelessStages}
`,
  );
  // no SLUICE_* variables from the environment: the overlay says everything
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_')));
  return spawn(process.execPath, [cli, 'run', '--config', overlay], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs Sluice once; every test of the suite awaits it (and fails with its error). */
let ran: Promise<void> | undefined;
flow.before.each(() => (ran ??= runSluice()));

async function runSluice(): Promise<void> {
  requireEnvironment();
  ensureBuilt();
  await loadStatelessStages();
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-interop-'));
  state.input = unique('content-in');
  state.output = unique('content-out');
  state.dlq = unique('content-dlq');
  state.group = unique('content-group');
  await createTopics(brokerList, { [state.input]: 3, [state.output]: 3, [state.dlq]: 1 }, logger);
  state.lines = rawLines(join(packageRoot, 'samples', 'content.ndjson')).slice(0, LINES);
  state.expected = readFileSync(join(packageRoot, 'samples', 'content.expected.ndjson'), 'utf8')
    .split('\n')
    .slice(0, LINES)
    .map((l) => JSON.parse(l) as Expected);
  // the same 300 lines once per codec, keyed `<codec>-<line>`
  for (const codec of CODECS) {
    kcatProduce(state.input, codec, state.lines.map((value, i) => ({ key: `${codec}-${i + 1}`, value })), { 'x-codec': codec, 'x-origin': 'kcat' });
  }
  state.inputMessages = kcatConsume(state.input);
  assert.is(state.inputMessages.length, LINES * CODECS.length, 'input produced');

  const child = startContentFlow(state.dir, state);
  child.stdout!.on('data', (chunk: Buffer) => (state.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (state.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then((e) => (state.exit = e));

  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      `${expectedWritten() * CODECS.length} outputs and ${expectedDead() * CODECS.length} dead letters`,
      async () => {
        if (state.exit) throw new Error(`sluice exited before its outputs were complete:\n${explain()}`);
        return (await endOffsets(admin, state.output)) >= expectedWritten() * CODECS.length && (await endOffsets(admin, state.dlq)) >= expectedDead() * CODECS.length;
      },
      40_000,
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${explain()}`);
    });
  } finally {
    await admin.disconnect();
  }
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  state.exit = await exited;
  clearTimeout(timeout);
}

flow.after(() => {
  if (state.dir) rmSync(state.dir, { recursive: true, force: true });
});

flow('SIGTERM: exit 0 with the summary of the run', () => {
  assert.equal(state.exit, { code: 0, signal: null }, explain());
  const invalid = state.expected.filter((e) => !e.ok && e.reason !== 'E_LOOKUP_MISS').length * CODECS.length;
  const read = LINES * CODECS.length;
  const filtered = state.expected.filter(filteredHere).length * CODECS.length;
  const summary = `content: ${read} read, ${read - invalid} valid, ${invalid} invalid, ${filtered} filtered, ${expectedWritten() * CODECS.length} written, ${expectedDead() * CODECS.length} dead-lettered, 0 dropped`;
  assert.ok(state.stdout.includes(summary), `summary line "${summary}" expected in:\n${state.stdout}`);
  assert.not.ok(/campaign:/.test(state.stdout), 'the disabled campaign flow did not run');
});

flow('outputs (read with kcat): JSON records keyed by their itemId, one per expected line and codec, headers and timestamps passed through', () => {
  const outputs = kcatConsume(state.output);
  assert.is(outputs.length, expectedWritten() * CODECS.length, 'records written');
  const inputByKey = new Map(state.inputMessages.map((m) => [text(m.key), m]));
  const want: string[] = [];
  state.expected.forEach((e, i) => {
    if (!e.ok || filteredHere(e)) return;
    const id = (JSON.parse(state.lines[i]!.toString('utf8')) as { id: string }).id;
    for (const codec of CODECS) want.push(`${codec} ${id} ${inputByKey.get(`${codec}-${i + 1}`)!.timestamp}`);
  });
  const got: string[] = [];
  for (const m of outputs) {
    assert.ok(m.value !== null, 'an output value');
    const record = JSON.parse(m.value.toString('utf8')) as { itemId?: string };
    assert.type(record.itemId, 'string', `itemId in ${m.value.toString('utf8')}`);
    assert.is(text(m.key), record.itemId, 'the output key is the itemId');
    const headers = headerMap(m.headers);
    assert.is(headers['x-origin'], 'kcat', 'input headers pass through');
    got.push(`${headers['x-codec']} ${record.itemId} ${m.timestamp}`);
  }
  assert.equal(got.sort(), want.sort(), 'per codec: the itemIds of the expected lines, with the input timestamps');
});

flow('dead letters (read with kcat): the original key, value and headers, with the reason and the source coordinates', () => {
  const letters = kcatConsume(state.dlq);
  assert.is(letters.length, expectedDead() * CODECS.length, 'dead letters');
  const inputByKey = new Map(state.inputMessages.map((m) => [text(m.key), m]));
  const seen = new Set<string>();
  for (const letter of letters) {
    const key = text(letter.key);
    const match = /^(\w+)-(\d+)$/.exec(key);
    assert.ok(match, `the original key is kept: ${key}`);
    const [, codec, lineNo] = match;
    const index = Number(lineNo) - 1;
    const expected = state.expected[index]!;
    assert.not.ok(expected.ok, `line ${lineNo} (${codec}) should not be dead-lettered (${JSON.stringify(expected)})`);
    assert.not.ok(seen.has(key), `one dead letter for ${key}`);
    seen.add(key);
    assert.is(hex(letter.value), hex(state.lines[index]), `${key}: the original value, byte for byte`);
    const headers = headerMap(letter.headers);
    assert.is(headers['x-codec'], codec, `${key}: original header x-codec`);
    assert.is(headers['x-origin'], 'kcat', `${key}: original header x-origin`);
    assert.is(headers['sluice.reason'], expected.reason, `${key}: sluice.reason`);
    if (expected.path !== undefined) assert.is(headers['sluice.path'], expected.path, `${key}: sluice.path`);
    const input = inputByKey.get(key)!;
    assert.is(headers['sluice.source.topic'], state.input, `${key}: sluice.source.topic`);
    assert.is(headers['sluice.source.partition'], String(input.partition), `${key}: sluice.source.partition`);
    assert.is(headers['sluice.source.offset'], String(input.offset), `${key}: sluice.source.offset`);
    for (const name of ['sluice.message', 'sluice.stage', 'sluice.time']) assert.ok(headers[name], `${key}: ${name}`);
  }
  const want = state.expected.flatMap((e, i) => (e.ok ? [] : CODECS.map((c) => `${c}-${i + 1}`)));
  assert.equal([...seen].sort(), want.sort(), 'every failing line of every codec, once');
});

flow('codecs on the broker: the input holds batches of every codec, the output lz4 batches', () => {
  const input = [0, 1, 2].map((p) => codecsOnDisk(state.input, p));
  const output = [0, 1, 2].map((p) => codecsOnDisk(state.output, p));
  if (input.includes(undefined) || output.includes(undefined)) {
    console.log("  (the broker's log dir is not on this machine: codecs on disk not checked)");
    return;
  }
  assert.equal([...new Set(input.flat())].sort(), CODECS.map((c) => CODEC_ID[c]).sort(), 'kcat wrote batches of every codec');
  assert.equal([...new Set(output.flat())], [CODEC_ID.lz4], 'the sink wrote lz4 batches');
});

flow('SIGTERM: the delivered input offsets are committed (a restart would not read them again)', async () => {
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(state.input);
    const [committed] = await admin.fetchOffsets({ groupId: state.group, topics: [state.input] });
    const byPartition = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
    assert.equal(
      ends.map((p) => `${p.partition}:${byPartition.get(p.partition)}`).sort(),
      ends.map((p) => `${p.partition}:${p.high}`).sort(),
      `committed offsets (-1: none) equal the end of every input partition\n--- log (last lines)\n${logTail()}`,
    );
  } finally {
    await admin.disconnect();
  }
});

flow.run();

// ------------------------------------------------------------------------------------ multi-megabyte batches

// librdkafka compresses a whole batch into one frame; its zstd frames state no content size, and
// the wasm zstd's one-shot decompress assumed 1 MiB: a larger batch failed every fetch. Here kcat
// lingers so that each codec's 5,000 lines (~1.7 MB) land in one or two batches of one partition.
const BIG_LINES = 5_000;
const BIG_CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const big = suite(`interop: multi-megabyte kcat batches of every codec through the content flow (${KAFKA_CLIENT})`);
const bigRun = { dir: '', input: '', output: '', dlq: '', group: '', stdout: '', stderr: '', written: 0, dead: 0, exit: undefined as { code: number | null; signal: NodeJS.Signals | null } | undefined };
/** Hostile values of fields the content rules bound (durationSec <= 86400, 0 <= rating < 5.01), in a valid sample line, and their outcome. */
const HOSTILE: Record<string, { field: string; raw: string; reason: string }> = {
  'hostile-huge': { field: 'durationSec', raw: `1${'0'.repeat(130_000)}`, reason: 'E_MAXIMUM' },
  'hostile-huge-fraction': { field: 'rating', raw: `9.${'9'.repeat(130_000)}`, reason: 'E_EXCLUSIVE_MAXIMUM' },
  'hostile-tiny-fraction': { field: 'rating', raw: `0.${'0'.repeat(130_000)}1`, reason: 'OK' },
  'hostile-deep': { field: 'extra', raw: `${'['.repeat(6_000)}${']'.repeat(6_000)}`, reason: 'E_DEPTH' },
};
let bigRan: Promise<void> | undefined;
big.before.each(() => (bigRan ??= runBigBatches()));
big.after(() => {
  if (bigRun.dir) rmSync(bigRun.dir, { recursive: true, force: true });
});

async function runBigBatches(): Promise<void> {
  requireEnvironment();
  ensureBuilt();
  await loadStatelessStages();
  bigRun.dir = mkdtempSync(join(tmpdir(), 'sluice-interop-big-'));
  Object.assign(bigRun, { input: unique('big-in'), output: unique('big-out'), dlq: unique('big-dlq'), group: unique('big-group') });
  await createTopics(brokerList, { [bigRun.input]: 1, [bigRun.output]: 1, [bigRun.dlq]: 1 }, logger);
  const samples = rawLines(join(packageRoot, 'samples', 'content.ndjson'));
  const expected = readFileSync(join(packageRoot, 'samples', 'content.expected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Expected);
  for (let i = 0; i < BIG_LINES; i++) {
    const outcome = expected[i % samples.length]!;
    if (!outcome.ok) bigRun.dead += BIG_CODECS.length;
    else if (!filteredHere(outcome)) bigRun.written += BIG_CODECS.length;
  }
  for (const codec of BIG_CODECS) {
    const input = Buffer.concat(Array.from({ length: BIG_LINES }, (_, i) => [Buffer.from(`${codec}-${i}:`), samples[i % samples.length]!, Buffer.from('\n')]).flat());
    kcat(['-P', '-t', bigRun.input, '-z', codec, '-K:', '-X', 'linger.ms=2000', '-X', 'batch.size=5000000', '-X', 'message.max.bytes=10000000'], input);
  }
  // and the hostile messages that once stalled a partition: numbers of 130,000 digits, nesting past the core's stack
  const valid = samples[expected.findIndex((e, i) => e.ok && !e.filtered && !/"(durationSec|rating)"/.test(samples[i]!.toString('utf8')))]!.toString('utf8');
  const withField = (field: string, raw: string) => valid.replace(/}\s*$/, `,"${field}":${raw}}`);
  const hostile = Object.entries(HOSTILE).map(([key, { field, raw }]) => `${key}:${withField(field, raw)}\n`).join('');
  kcat(['-P', '-t', bigRun.input, '-z', 'zstd', '-K:', '-X', 'message.max.bytes=10000000'], Buffer.from(hostile));
  for (const { reason } of Object.values(HOSTILE)) {
    if (reason === 'OK') bigRun.written++;
    else bigRun.dead++;
  }
  const child = startContentFlow(bigRun.dir, bigRun);
  child.stdout!.on('data', (chunk: Buffer) => (bigRun.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (bigRun.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then((e) => (bigRun.exit = e));
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const explainBig = () => `exit ${JSON.stringify(bigRun.exit)}\n--- stdout\n${bigRun.stdout}\n--- stderr\n${bigRun.stderr.slice(-4000)}`;
  try {
    await waitFor(
      `${bigRun.written} outputs and ${bigRun.dead} dead letters`,
      async () => {
        if (bigRun.exit) throw new Error(`sluice exited before its outputs were complete:\n${explainBig()}`);
        return (await endOffsets(admin, bigRun.output)) >= bigRun.written && (await endOffsets(admin, bigRun.dlq)) >= bigRun.dead;
      },
      60_000,
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${explainBig()}`);
    });
  } finally {
    await admin.disconnect();
  }
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  bigRun.exit = await exited;
  clearTimeout(timeout);
}

big('kcat wrote batches of over 1 MiB of every codec', async () => {
  await bigRan;
  const batches = batchesOnDisk(bigRun.input, 0);
  if (batches === undefined) {
    console.log("  (the broker's log dir is not on this machine: batch sizes not checked)");
    return;
  }
  const lineBytes = rawLines(join(packageRoot, 'samples', 'content.ndjson')).reduce((sum, l) => sum + l.length, 0) / 3000;
  for (const codec of BIG_CODECS) {
    const largest = Math.max(...batches.filter((b) => b.codec === CODEC_ID[codec]).map((b) => b.records));
    assert.ok(largest * lineBytes > 1 << 20, `${codec}: the largest batch holds ${largest} records (~${Math.round(largest * lineBytes)} bytes)`);
  }
});

big('every message of every codec is delivered: outputs and dead letters as expected, exit 0 on SIGTERM', async () => {
  await bigRan;
  assert.equal(bigRun.exit, { code: 0, signal: null }, bigRun.stderr);
  const read = BIG_LINES * BIG_CODECS.length + Object.keys(HOSTILE).length;
  assert.match(bigRun.stdout, new RegExp(`content: ${read} read, .* ${bigRun.written} written, ${bigRun.dead} dead-lettered, 0 dropped`));
  const outputs = kcatConsume(bigRun.output);
  assert.is(outputs.length, bigRun.written);
});

big('the hostile messages are dead letters with their reason, or outputs when valid', async () => {
  await bigRan;
  const letters = new Map(kcatConsume(bigRun.dlq).filter((m) => text(m.key).startsWith('hostile-')).map((m) => [text(m.key), headerMap(m.headers)]));
  for (const [key, { field, reason }] of Object.entries(HOSTILE)) {
    if (reason === 'OK') {
      assert.not.ok(letters.has(key), `${key} is valid: ${JSON.stringify(letters.get(key))}`);
      continue;
    }
    assert.is(letters.get(key)?.['sluice.reason'], reason, `${key}: ${JSON.stringify(letters.get(key))}`);
    if (reason !== 'E_DEPTH') assert.is(letters.get(key)?.['sluice.path'], `/${field}`);
  }
});

big.run();
