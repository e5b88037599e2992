// The operations endpoint of `sluice run` (the built CLI as a child process), scraped over HTTP
// while the run goes on:
//   - local mode, the content flow reading a FIFO (a real file the test holds open, so the run
//     lasts until the test closes it): every counter equals the run's counts
//     (samples/content.expected.ndjson), per stage too; /healthz and /readyz 200; no configuration
//     value in any body; the summary agrees;
//   - Kafka on the real broker, a 2-partition input: the same counts, a lag series per partition
//     that ends at 0, partitions assigned, commits counted; exactly-once with invalid messages
//     dropped: transactions counted (no plain commits), dropped by reason;
//   - Kafka with the enrichment service (a real HTTP server) failing: /readyz 503 naming the service
//     whose breaker stays open, 200 again once it recovers and the breaker closes;
//   - Kafka with no broker answering: /readyz 503 (no group membership, no partitions assigned);
//   - a taken port: exit 2 naming observe.http.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';
import { STAGE_TIMING_SAMPLE } from '../../src/pipeline/flow.ts';
import { changelogTopic } from '../../src/state/changelog.ts';
import { documents, HttpFixture } from '../stages/http-fixture.ts';
import { brokerList, BROKERS, CLI, childEnv, ensureBuilt, type Expected, expectedOutcomes, Processor, requireEnvironment, SAMPLES, sluice, STAGE_FAILURES, uniqueNames, waitFor } from '../io/kafka/harness.ts';

const unique = uniqueNames('ops');
const LINES = readFileSync(join(SAMPLES, 'content.ndjson'));
const EXPECTED = expectedOutcomes('content');
const count = (predicate: (e: Expected) => boolean) => EXPECTED.filter(predicate).length;
const INVALID_BY_REASON = new Map<string, number>();
for (const e of EXPECTED) if (!e.ok && !STAGE_FAILURES.has(e.reason!)) INVALID_BY_REASON.set(e.reason!, (INVALID_BY_REASON.get(e.reason!) ?? 0) + 1);
const STAGE_FAILED = count((e) => !e.ok && STAGE_FAILURES.has(e.reason!));
const FILTERED = count((e) => e.ok && e.filtered === true && e.reason === undefined);
/** Stale versions: filtered by the latest stage. */
const STALE = count((e) => e.ok && e.filtered === true && e.reason === 'E_STALE');
const WRITTEN = count((e) => e.ok && !e.filtered);

// ------------------------------------------------------------------------------------ helpers

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The sum of a metric's samples whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.select(name, labels).reduce((n, s) => n + s.value, 0);
  }

  select(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** label value -> sum, over the samples matching `labels`. */
  by(name: string, label: string, labels: Record<string, string> = {}): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.select(name, labels)) out.set(s.labels[label]!, (out.get(s.labels[label]!) ?? 0) + s.value);
    return out;
  }
}

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') ?? '' };
}

async function scrape(port: number): Promise<Scrape> {
  const { status, body, type } = await get(port, '/metrics');
  assert.is(status, 200);
  assert.match(type, 'text/plain');
  return new Scrape(parse(body));
}

/** The port the processor's ops server listens on (from its log). */
async function opsPort(processor: Processor): Promise<number> {
  let port = 0;
  await waitFor('the ops server', () => {
    if (processor.exit) throw new Error(`sluice exited:\n${processor.explain()}`);
    port = (processor.log().find((l) => String(l.msg).startsWith('ops server listening'))?.port as number | undefined) ?? 0;
    return port > 0;
  }, 30_000);
  return port;
}

/** Every input accounted for: written, dead-lettered (any stage) or filtered. */
const settled = (s: Scrape, flow: string) =>
  s.sum('sluice_messages_out_total', { flow }) + s.sum('sluice_messages_dead_lettered_total', { flow }) + s.sum('sluice_messages_filtered_total', { flow });

/** The counts of the content flow on samples/content.ndjson. */
function assertContentCounts(s: Scrape): void {
  const flow = { flow: 'content' };
  assert.is(s.sum('sluice_messages_in_total', flow), EXPECTED.length, 'in = the sample lines');
  assert.is(s.sum('sluice_messages_valid_total', flow), count((e) => e.ok) + STAGE_FAILED, 'valid');
  assert.equal(Object.fromEntries(s.by('sluice_messages_invalid_total', 'reason', flow)), Object.fromEntries(INVALID_BY_REASON), 'invalid by reason = the expected outcomes');
  assert.equal(Object.fromEntries(s.by('sluice_messages_dead_lettered_total', 'reason', { ...flow, stage: 'validate' })), Object.fromEntries(INVALID_BY_REASON), 'dead-lettered at validation, by reason');
  assert.is(s.sum('sluice_messages_dead_lettered_total', { ...flow, stage: 'content-document', reason: 'E_LOOKUP_MISS' }), STAGE_FAILED, 'dead-lettered by the enrichment');
  assert.is(s.sum('sluice_messages_dropped_total', flow), 0, 'nothing dropped');
  assert.is(s.sum('sluice_messages_filtered_total', { ...flow, stage: 'drop-drafts' }), FILTERED, 'filtered by drop-drafts');
  assert.is(s.sum('sluice_messages_filtered_total', { ...flow, stage: 'drop-stale-versions' }), STALE, 'filtered by drop-stale-versions');
  assert.is(s.sum('sluice_messages_out_total', flow), WRITTEN, 'out = written');
  // per stage: each stage takes in what the one before passed on
  const stages = ['drop-drafts', 'drop-stale-versions', 'to-item-record', 'content-document'];
  assert.is(s.sum('sluice_stage_messages_in_total', { ...flow, stage: stages[0]! }), s.sum('sluice_messages_valid_total', flow));
  for (let i = 1; i < stages.length; i++) {
    assert.is(s.sum('sluice_stage_messages_in_total', { ...flow, stage: stages[i]! }), s.sum('sluice_stage_messages_out_total', { ...flow, stage: stages[i - 1]! }), `${stages[i]} in`);
  }
  assert.is(s.sum('sluice_stage_messages_out_total', { ...flow, stage: 'content-document' }), WRITTEN, 'the last stage passes on what is written');
  // one record in STAGE_TIMING_SAMPLE is timed through the stages it enters
  const timed = stages.map((stage) => s.sum('sluice_stage_duration_seconds_count', { ...flow, stage }));
  assert.is(timed[0], Math.ceil(s.sum('sluice_messages_valid_total', flow) / STAGE_TIMING_SAMPLE), 'records timed');
  for (let i = 1; i < stages.length; i++) assert.ok(timed[i]! > 0 && timed[i]! <= timed[i - 1]!, `${stages[i]}: timed ${timed[i]}`);
  assert.is(s.sum('sluice_end_to_end_latency_seconds_count', flow), WRITTEN, 'one latency per written record');
  assert.is(s.sum('sluice_end_to_end_latency_seconds_bucket', { ...flow, le: '+Inf' }), WRITTEN);
  assert.ok(s.sum('sluice_core_batch_duration_seconds_count', flow) > 0, 'core time per batch');
  assert.ok(s.sum('sluice_enrichment_calls_total', { service: 'content-api', outcome: 'ok' }) > 0, 'enrichment calls');
  assert.is(s.sum('sluice_circuit_breaker_state', { service: 'content-api' }), 0, 'breaker closed');
  assert.ok(s.select('sluice_process_cpu_seconds_total').length === 1, 'process metrics, prefixed');
}

/** No configuration value in an endpoint's body. */
function assertNoConfiguration(body: string, values: readonly string[]): void {
  for (const value of [...values, 'http://', '127.0.0.1']) assert.not.ok(body.includes(value), `a body shows "${value}"`);
}

// ------------------------------------------------------------------------------------ local mode

const local = suite('ops endpoint: local mode (file source on a FIFO)');

local('counters equal the run\'s counts while it runs; /healthz and /readyz 200; no configuration shown; the summary agrees', async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ops-local-'));
  const fifo = join(dir, 'content.fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const config = join(dir, 'local.conf');
  writeFileSync(config, [
    `include "${join(packageRoot, 'config', 'local.conf')}"`,
    `log.destination = "${join(dir, 'sluice.log')}"`,
    'progress = off',
    'flows.campaign.enabled = false',
    'flows.engagement.enabled = false',
    // a batch per line: every line is handed over while the FIFO stays open (a larger batch waits to fill up)
    `flows.content.source { path = "${fifo}", batch-size = 1 }`,
    `flows.content.sink.path = "${join(dir, 'content.ndjson')}"`,
    `flows.content.dead-letter.path = "${join(dir, 'content.dlq.ndjson')}"`,
  ].join('\n'));
  const processor = new Processor(config, join(dir, 'sluice.log'), ['--summary-json', join(dir, 'summary.json')]);
  let passed = false;
  let writer: FileHandle | undefined;
  try {
    const port = await opsPort(processor);
    assert.equal(await get(port, '/healthz'), { status: 200, body: '{"status":"alive"}\n', type: 'application/json' });
    writer = await open(fifo, 'w');
    await writer.write(LINES);
    let s = await scrape(port);
    await waitFor('every line written, dead-lettered or filtered', async () => settled((s = await scrape(port)), 'content') === EXPECTED.length, 60_000, 100);
    assertContentCounts(s);
    const ready = await get(port, '/readyz');
    assert.equal([ready.status, ready.body], [200, '{"status":"ready"}\n'], 'ready while the flow runs');
    const text = (await get(port, '/metrics')).body;
    for (const body of [text, ready.body]) assertNoConfiguration(body, [dir, fifo]);
    assert.is(processor.exit, undefined, 'still running: scraped during the run');
    await writer.close();
    writer = undefined;
    assert.equal(await processor.exited, { code: 0, signal: null }, processor.explain());
    const [summary] = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { read: number; written: number; deadLettered: number; filtered: number }[];
    assert.equal(
      [summary!.read, summary!.written, summary!.deadLettered, summary!.filtered],
      [s.sum('sluice_messages_in_total'), s.sum('sluice_messages_out_total'), s.sum('sluice_messages_dead_lettered_total'), s.sum('sluice_messages_filtered_total')],
      'the summary and the metrics agree',
    );
    passed = true;
  } finally {
    await writer?.close();
    if (!processor.exit) await processor.stop('SIGKILL');
    if (passed) rmSync(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}`);
  }
});

local('a port in use: exit 2 naming observe.http', async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ops-port-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const config = join(dir, 'local.conf');
    writeFileSync(config, [
      `include "${join(packageRoot, 'config', 'local.conf')}"`,
      `log.destination = "${join(dir, 'sluice.log')}"`,
      'progress = off',
      'flows.engagement.enabled = false',
      `observe.http.port = ${(taken.address() as { port: number }).port}`,
    ].join('\n'));
    const result = spawnSync(process.execPath, [CLI, 'run', '--config', config], { cwd: packageRoot, env: childEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.is(result.status, 2, result.stderr);
    assert.match(result.stderr, /observe\.http: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  } finally {
    taken.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

local.run();

// ------------------------------------------------------------------------------------ Kafka

const kafka = suite('ops endpoint: Kafka runs on the real broker');

const state: { admin?: KafkajsAdmin; topics: string[]; processors: Processor[]; dirs: string[]; fixture?: HttpFixture } = { topics: [], processors: [], dirs: [] };

kafka.before(async () => {
  requireEnvironment();
  ensureBuilt();
  state.admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await state.admin.connect();
});

kafka.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  await state.fixture?.close();
  await state.admin?.deleteTopics({ topics: state.topics }).catch(() => undefined);
  await state.admin?.disconnect();
  for (const dir of state.dirs) rmSync(dir, { recursive: true, force: true });
});

/** A content flow on its own topics (input with `partitions`) and an overlay of qal.conf running it; `extra` lines appended. */
async function contentRun(partitions: number, extra: string[] = [], brokers = BROKERS): Promise<{ dir: string; config: string; input: string; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ops-kafka-'));
  state.dirs.push(dir);
  const [input, output, dlq, group] = [unique('in'), unique('out'), unique('dlq'), unique('group')];
  if (brokers === BROKERS) {
    await state.admin!.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: partitions }, { topic: output, numPartitions: 1 }, { topic: dlq, numPartitions: 1 }] });
    state.topics.push(input, output, dlq);
  }
  const config = join(dir, 'kafka.conf');
  const log = join(dir, 'sluice.log');
  writeFileSync(config, [
    `include "${join(packageRoot, 'config', 'qal.conf')}"`,
    `kafka.brokers = "${brokers}"`,
    `log.destination = "${log}"`,
    'log.level = info',
    'progress = off',
    'flows.campaign.enabled = false',
    'flows.engagement.enabled = false',
    // the input's partitions (its store's changelog has as many)
    'kafka.topics = null',
    `kafka.topics { "${input}" = ${partitions} }`,
    `flows.content.source { topic = "${input}", group-id = "${group}", state-dir = "${join(dir, 'state')}" }`,
    `flows.content.sink.topic = "${output}"`,
    `flows.content.dead-letter.topic = "${dlq}"`,
    ...extra,
  ].join('\n'));
  if (brokers === BROKERS) {
    // the changelog of the content flow's latest stage
    sluice(['topics', 'create', '--config', config]);
    state.topics.push(changelogTopic(group, 'content-versions'));
  }
  return { dir, config, input, log };
}

const produce = (topic: string) => sluice(['produce', '--brokers', BROKERS, '--topic', topic, '--file', join(SAMPLES, 'content.ndjson'), '--key', 'id']);

/** The samples' well-formed items with a version above any sent before (the flow's latest stage drops a version it has seen). */
function produceNewerVersions(dir: string, topic: string): void {
  const file = join(dir, 'newer.ndjson');
  const items = readFileSync(join(SAMPLES, 'content.ndjson'), 'utf8').split('\n').flatMap((line) => {
    try {
      const item = JSON.parse(line) as { version?: unknown };
      return typeof item.version === 'number' ? [JSON.stringify({ ...item, version: item.version + 1_000_000 })] : [];
    } catch {
      return [];
    }
  });
  writeFileSync(file, `${items.join('\n')}\n`);
  sluice(['produce', '--brokers', BROKERS, '--topic', topic, '--file', file, '--key', 'id']);
}

kafka('counters equal the run\'s counts; a lag series per partition ending at 0; /readyz 200 once assigned; no broker or URL shown', async () => {
  const run = await contentRun(2);
  produce(run.input);
  const processor = new Processor(run.config, run.log);
  state.processors.push(processor);
  const port = await opsPort(processor);
  const statuses: number[] = [];
  await waitFor('/readyz 200', async () => {
    const { status, body } = await get(port, '/readyz');
    statuses.push(status);
    if (status === 503) assert.match(body, /"failing":\[.*"flow content: not a member of its consumer group/);
    return status === 200;
  }, 60_000, 20);
  let s = await scrape(port);
  await waitFor('every message settled and the lag at 0 on both partitions', async () => {
    s = await scrape(port);
    const lag = s.by('sluice_kafka_consumer_lag', 'partition', { flow: 'content', topic: run.input });
    return settled(s, 'content') === EXPECTED.length && lag.size === 2 && [...lag.values()].every((v) => v === 0);
  }, 60_000, 100).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nlast scrape: ${JSON.stringify(s.samples.filter((x) => x.name.startsWith('sluice_kafka') || x.name.startsWith('sluice_messages')))}\n${processor.explain()}`);
  });
  assertContentCounts(s);
  assert.equal([...s.by('sluice_kafka_consumer_lag', 'partition', { flow: 'content' }).keys()].sort(), ['0', '1'], 'one lag series per partition');
  assert.is(s.sum('sluice_kafka_partitions_assigned', { flow: 'content' }), 2);
  await waitFor('a commit', async () => (await scrape(port)).sum('sluice_kafka_commits_total', { flow: 'content', outcome: 'ok' }) > 0, 10_000, 100);
  s = await scrape(port);
  assert.is(s.sum('sluice_kafka_commit_duration_seconds_count', { flow: 'content' }), s.sum('sluice_kafka_commits_total', { flow: 'content', outcome: 'ok' }));
  const bodies = [(await get(port, '/metrics')).body, (await get(port, '/readyz')).body, (await get(port, '/healthz')).body];
  for (const body of bodies) assertNoConfiguration(body, [...brokerList, ...brokerList.map((b) => b.split(':')[1]!).map((p) => `:${p}`), run.dir]);
  console.log(`  /readyz answers before 200: ${statuses.slice(0, -1).join(' ') || '(none: joined before the first poll)'}`);
  assert.equal(await processor.stop('SIGTERM'), { code: 0, signal: null }, processor.explain());
});

kafka('two members of a group: each reports lag for the partitions it owns only, so the sum over both is the group\'s lag (0 once all is read)', async () => {
  const run = await contentRun(4, ['flows.content.source.max-bytes-per-partition = 4096']);
  produce(run.input);
  const a = new Processor(run.config, run.log);
  state.processors.push(a);
  const portA = await opsPort(a);
  const series = (s: Scrape) => s.select('sluice_kafka_consumer_lag', { flow: 'content', topic: run.input }).map((x) => `${run.input}-${x.labels.partition}`).sort();
  await waitFor('A alone: a lag series for each of the 4 partitions', async () => series(await scrape(portA)).length === 4, 60_000, 100);
  // B joins the group while A delivers (small fetches: batches in flight when the partitions move)
  const logB = join(run.dir, 'b.log');
  const configB = join(run.dir, 'b.conf');
  writeFileSync(configB, `include "${run.config}"\nlog.destination = "${logB}"\n`);
  const b = new Processor(configB, logB);
  state.processors.push(b);
  const portB = await opsPort(b);
  produce(run.input);
  const owned = (p: Processor) => [...(p.assignments('content').at(-1)?.assigned ?? [])].sort();
  // a member reports a partition's lag once a batch of it arrived: one that joined after the other
  // had read everything may report none, but never a partition it does not own
  const within = (reported: string[], own: string[]) => reported.every((partition) => own.includes(partition));
  let last = '';
  await waitFor('the group settled on both, each reporting its own partitions only, everything read', async () => {
    const [sa, sb] = await Promise.all([scrape(portA), scrape(portB)]);
    const [ownA, ownB] = [owned(a), owned(b)];
    last = JSON.stringify({ ownA, ownB, seriesA: series(sa), seriesB: series(sb), lagA: sa.sum('sluice_kafka_consumer_lag'), lagB: sb.sum('sluice_kafka_consumer_lag'), settled: settled(sa, 'content') + settled(sb, 'content') });
    return (
      ownA.length > 0 &&
      ownB.length > 0 &&
      [...ownA, ...ownB].sort().join() === [0, 1, 2, 3].map((p) => `${run.input}-${p}`).join() &&
      series(sa).length > 0 &&
      within(series(sa), ownA) &&
      within(series(sb), ownB) &&
      sa.sum('sluice_kafka_consumer_lag') + sb.sum('sluice_kafka_consumer_lag') === 0 &&
      settled(sa, 'content') + settled(sb, 'content') >= 2 * EXPECTED.length
    );
  }, 90_000, 200).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nlast: ${last}\n=== A\n${a.explain()}\n=== B\n${b.explain()}`);
  });
  // and it stays so: a batch of a partition A gave up finishing late does not bring its series back
  const [sa, sb] = await Promise.all([scrape(portA), scrape(portB)]);
  assert.ok(within(series(sa), owned(a)), last);
  assert.ok(within(series(sb), owned(b)), last);
  assert.equal(await b.stop('SIGTERM'), { code: 0, signal: null }, b.explain());
  assert.equal(await a.stop('SIGTERM'), { code: 0, signal: null }, a.explain());
});

kafka('exactly-once with invalid messages dropped: transactions counted, no plain commits, dropped by reason, the lag at 0', async () => {
  const run = await contentRun(1, ['flows.content.delivery = exactly-once', 'flows.content.on-invalid = drop']);
  produce(run.input);
  const processor = new Processor(run.config, run.log);
  state.processors.push(processor);
  const port = await opsPort(processor);
  const flow = { flow: 'content' };
  let s = await scrape(port);
  await waitFor('every message settled and the lag at 0', async () => {
    s = await scrape(port);
    const settledOrDropped = settled(s, 'content') + s.sum('sluice_messages_dropped_total', flow);
    return settledOrDropped === EXPECTED.length && s.sum('sluice_kafka_consumer_lag', { ...flow, topic: run.input, partition: '0' }) === 0 && s.select('sluice_kafka_consumer_lag', flow).length === 1;
  }, 60_000, 100).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${processor.explain()}`);
  });
  assert.equal(Object.fromEntries(s.by('sluice_messages_dropped_total', 'reason', { ...flow, stage: 'validate' })), Object.fromEntries(INVALID_BY_REASON), 'dropped at validation, by reason');
  assert.is(s.sum('sluice_messages_dead_lettered_total', { ...flow, stage: 'validate' }), 0);
  assert.is(s.sum('sluice_messages_out_total', flow), WRITTEN);
  const committed = s.sum('sluice_kafka_transactions_total', { ...flow, outcome: 'committed' });
  assert.ok(committed > 0, 'transactions committed');
  assert.is(s.sum('sluice_kafka_transaction_duration_seconds_count', flow), committed, 'one duration per committed transaction');
  assert.is(s.sum('sluice_kafka_transactions_total', { ...flow, outcome: 'aborted' }), 0);
  assert.is(s.sum('sluice_kafka_commits_total', flow), 0, 'offsets go in the transactions');
  assert.equal(await processor.stop('SIGTERM'), { code: 0, signal: null }, processor.explain());
});

kafka('the enrichment service failing: /readyz 503 naming it while its breaker stays open; 200 once it recovers', async () => {
  const fixture = (state.fixture = await new HttpFixture(() => ({ status: 503 })).start());
  const run = await contentRun(1, [
    `services.content-api { base-url = "${fixture.base}", timeout-ms = 2000, retry { max-attempts = 2, initial-delay-ms = 1, max-delay-ms = 5 } }`,
    'services.content-api.circuit-breaker { consecutive-failures = 3, half-open-after-ms = 300 }',
    'observe.readiness.max-circuit-open-ms = 200',
  ]);
  produce(run.input);
  const processor = new Processor(run.config, run.log);
  state.processors.push(processor);
  const port = await opsPort(processor);
  let failing = '';
  await waitFor('/readyz 503 naming the service', async () => {
    const { status, body } = await get(port, '/readyz');
    failing = body;
    return status === 503 && body.includes('service content-api: circuit breaker not closed');
  }, 60_000, 50).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last /readyz: ${failing}\n${processor.explain()}`);
  });
  assertNoConfiguration(failing, [fixture.base, `:${fixture.port}`]);
  let s = await scrape(port);
  assert.ok(s.sum('sluice_circuit_breaker_state', { service: 'content-api' }) >= 1, 'breaker open or half-open');
  assert.ok(s.sum('sluice_enrichment_calls_total', { service: 'content-api', outcome: 'unavailable' }) >= 3, 'failed calls counted');
  const retries = s.sum('sluice_enrichment_retries_total', { service: 'content-api' });
  assert.ok(retries >= 3 && retries <= fixture.requests.length, `retries ${retries}, requests ${fixture.requests.length}`);
  await waitFor('calls refused by the open breaker', async () => (await scrape(port)).sum('sluice_enrichment_calls_total', { service: 'content-api', outcome: 'circuit_open' }) > 0, 30_000, 100);

  // the service recovers; new messages (newer versions) carry the half-open probe that closes the breaker
  fixture.handler = documents;
  produceNewerVersions(run.dir, run.input);
  await waitFor('/readyz 200 again', async () => (await get(port, '/readyz')).status === 200, 60_000, 50);
  s = await scrape(port);
  assert.is(s.sum('sluice_circuit_breaker_state', { service: 'content-api' }), 0, 'breaker closed');
  assert.ok(s.sum('sluice_enrichment_calls_total', { service: 'content-api', outcome: 'ok' }) > 0);
  assert.equal(await processor.stop('SIGTERM'), { code: 0, signal: null }, processor.explain());
});

kafka('no broker answering: /readyz 503, the flow not a member of its group; /healthz 200', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const run = await contentRun(1, [], `127.0.0.1:${deadPort}`);
  const processor = new Processor(run.config, run.log);
  state.processors.push(processor);
  const port = await opsPort(processor);
  for (let i = 0; i < 5; i++) {
    const { status, body } = await get(port, '/readyz');
    assert.is(status, 503);
    assert.equal(JSON.parse(body), { status: 'not ready', failing: ['flow content: not a member of its consumer group (no partitions assigned yet)'] });
    assert.not.ok(body.includes(String(deadPort)), 'the broker address is not shown');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.is((await get(port, '/healthz')).status, 200);
  await processor.stop('SIGKILL');
});

kafka.run();
