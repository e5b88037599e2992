// Hostile inputs through a real flow on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs
// starts one), in both delivery modes, with a watchdog: the flow either delivers every message (an
// output, or a dead letter with its reason) or fails fast and loudly (exits); it never stalls while
// /readyz says ready.
//   - one input topic (1 partition) holds: fixed adversarial messages (numbers past a maximum, long
//     strings, deep nesting at and over max-depth, invalid UTF-8, NUL, a BOM, not JSON, at and over
//     max-size), 300 random ones (mutations of a valid message and random bytes, seeded), the two
//     oversized samples (1,100,317 and 1,048,577 bytes, more than the dead-letter topic accepts:
//     their letters lose their value, header sluice.value-omitted), and 5,000 sample lines per codec
//     produced by kcat as one multi-megabyte batch each (gzip, snappy, lz4);
//   - a flow with its own rules passes valid messages through unchanged: each input's outcome is
//     the verdict of the same core, run here on the same bytes; the outputs are the valid inputs in
//     order, byte for byte; each invalid input has its dead letter with the verdict's reason;
//   - exactly-once commits with at most a few refused transactions (the oversized letters);
//   - the counts of each outcome are printed.
// An output larger than its topic accepts (a valid message, incompressible): the flow fails within
// seconds, exit 70, naming the topic, in both modes. Then a batch stuck in a stage (an enrichment service that never answers): /readyz 503 naming the
// flow and the partition after max-stall-ms, sluice_flow_stalled 1, one log line, exit 70 after
// stall-timeout-ms; and SIGTERM with a stuck batch: exit 70 after shutdown-timeout-ms naming what
// was left undelivered, which a restart delivers.
//
// The inputs of issue 20's defects 1-3 (long numbers, nesting far past max-depth, a zstd batch
// over 1 MiB without a content size) are in `defectInputs`: each once stalled or crashed a flow.
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_DEPTH_LIMIT } from '../../../src/core/limits.ts';
import { compileSchema } from '../../../src/core/validator.ts';
import {
  brokerList, BROKERS, campaignEvents, campaignTopics, committedOffsets, endOffsets, ensureBuilt, KAFKA_CLIENT, kcat, kcatRead, Processor, type Received,
  requireEnvironment, SAMPLES, sleep, sluice, uniqueNames, waitFor, writeCampaignOverlay,
} from './harness.ts';
import { rawLines } from '../../../scripts/support/lines.ts';
import { prng } from '../../../scripts/support/random.ts';

const unique = uniqueNames('h');

const RULES = {
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    n: { type: 'number', maximum: 10 },
    e: { enum: ['a', 'b', 1.5] },
    s: { type: 'string' },
  },
};
const MAX_SIZE = 1024 * 1024;
/** Every lane must show progress within this long while the process says it is ready. */
const WATCHDOG_MS = 30_000;
const SAMPLE_LINES_PER_CODEC = 5_000;


interface InputBatch {
  readonly label: string;
  readonly codec: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  readonly messages: readonly Buffer[];
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const nested = (depth: number) => Buffer.from(`{"id":"deep-${depth}","d":${'['.repeat(depth)}${']'.repeat(depth)}}`);
/** A message of exactly `size` bytes (a long string, compressible). */
const ofSize = (size: number, id: string) => {
  const head = `{"id":"${id}","s":"`;
  return Buffer.from(`${head}${'a'.repeat(size - head.length - 2)}"}`);
};

/** The fixed adversarial messages: every one a single line (no 0x0a byte: kcat splits on it). */
function adversarial(): Buffer[] {
  return [
    json({ id: 'plain', n: 5, e: 'a', s: 'ok' }),
    json({ id: 'over-maximum', n: 11 }),
    json({ id: 'big-double', n: 1e300 }),
    Buffer.from('{"id":"long-fraction","n":1.' + '5'.repeat(2_000) + '}'),
    Buffer.from('{"id":"digits-2k","n":1' + '0'.repeat(2_000) + '}'),
    json({ id: 'enum-miss', e: 'c' }),
    json({ id: 'long-string', s: 'x'.repeat(500_000) }),
    json({ id: 'x'.repeat(65) }),
    nested(60),
    nested(64),
    nested(65),
    nested(6_000),
    Buffer.from('{"id":"bad-utf8","s":"\xff\xfe\xfd"}', 'latin1'),
    Buffer.from('{"id":"overlong-utf8","s":"\xc0\xaf"}', 'latin1'),
    Buffer.from('{"id":"lone-surrogate","s":"\xed\xa0\x80"}', 'latin1'),
    Buffer.from('{"id":"nul","s":"a\u0000b"}', 'latin1'),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ id: 'bom' })]),
    Buffer.from('{"id":"escaped-nul","s":"a\\u0000b"}'),
    Buffer.from('\u0000'),
    Buffer.from('not json at all'),
    Buffer.from('{"id":"truncated","s":"abc'),
    Buffer.from('{"id":"dup","id":"dup"}'),
    Buffer.from('[1,2,3]'),
    Buffer.from('{"id":"trailing"} x'),
    ofSize(MAX_SIZE - 100, 'under-max-size'),
    ofSize(MAX_SIZE, 'at-max-size'),
    ofSize(MAX_SIZE + 1, 'over-max-size'),
  ];
}

/** Random messages: mutations of a valid one (bytes replaced, inserted, cut) and random bytes. */
function randomMessages(count: number, seed: number): Buffer[] {
  const next = prng(seed);
  const byte = () => {
    const b = Math.floor(next() * 256);
    return b === 0x0a ? 0x20 : b;
  };
  const base = json({ id: 'random', n: 3, e: 'b', s: 'some text with \u00e9 and \u{1f600}' });
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 3) {
      out.push(Buffer.from(Array.from({ length: 1 + Math.floor(next() * 200) }, byte)));
      continue;
    }
    const bytes = [...base];
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * bytes.length);
      if (kind === 0) bytes[at] = byte();
      else if (kind === 1) bytes.splice(at, 0, byte());
      else bytes.length = Math.max(1, at);
    }
    out.push(Buffer.from(bytes));
  }
  return out;
}

/** `count` sample lines (campaign and content, the ~1 MB ones left out), cycling. */
function sampleLines(count: number): Buffer[] {
  const lines = [...rawLines(join(SAMPLES, 'campaign.ndjson')), ...rawLines(join(SAMPLES, 'content.ndjson'))].filter((l) => l.length > 0 && l.length < 100_000);
  return Array.from({ length: count }, (_, i) => lines[i % lines.length]!);
}

function inputBatches(): InputBatch[] {
  const oversized = rawLines(join(SAMPLES, 'campaign.ndjson')).filter((l) => l.length > MAX_SIZE);
  const batches: InputBatch[] = [
    { label: 'adversarial', codec: 'gzip', messages: adversarial() },
    { label: 'random', codec: 'none', messages: randomMessages(300, 20_261_205) },
    { label: 'oversized samples', codec: 'gzip', messages: oversized },
    ...(['gzip', 'snappy', 'lz4'] as const).map((codec) => ({ label: `${codec} batch`, codec, messages: sampleLines(SAMPLE_LINES_PER_CODEC) })),
  ];
  return [...batches, ...defectInputs()];
}

/** Inputs of issue 20's defects 1-3: each once stopped or crashed a flow. */
function defectInputs(): InputBatch[] {
  return [
    // defect 1: a long number under a numeric rule (RangeError in the validator)
    { label: 'defect 1: long numbers', codec: 'gzip', messages: [Buffer.from('{"id":"huge","n":1' + '0'.repeat(130_000) + '}'), Buffer.from('{"id":"huge-enum","e":1.' + '5'.repeat(130_000) + '}')] },
    // defect 2: nesting deeper than the core's stack once overflowed at (the flow's limit is the highest allowed)
    { label: 'defect 2: deep nesting', codec: 'gzip', messages: [nested(6_000), nested(9_999)] },
    // defect 3: a zstd batch without a content size, over 1 MiB
    { label: 'defect 3: zstd batch', codec: 'zstd', messages: sampleLines(SAMPLE_LINES_PER_CODEC) },
  ];
}

const sha = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/** One Prometheus sample's value (summed over the series matching every label given). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

async function opsPort(processor: Processor): Promise<number> {
  let port = 0;
  await waitFor('the ops server', () => {
    if (processor.exit) throw new Error(`the processor exited before its ops server listened:\n${processor.explain()}`);
    port = (processor.log().find((l) => String(l.msg).startsWith('ops server listening'))?.port as number | undefined) ?? 0;
    return port > 0;
  }, 60_000);
  return port;
}

const state: {
  dir: string;
  input: string;
  inputs: Received[];
  topics: string[];
  processors: Processor[];
  admin?: KafkajsAdmin;
  servers: Server[];
  passed: number;
} = { dir: '', input: '', inputs: [], topics: [], processors: [], servers: [], passed: 0 };

const hostile = suite(`hostile inputs through a real flow on a real broker (${KAFKA_CLIENT})`);

hostile.before(async () => {
  requireEnvironment();
  ensureBuilt();
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-hostile-'));
  state.admin = new kafkajs.Kafka({ brokers: brokerList, clientId: 'sluice-hostile-test', logLevel: kafkajs.logLevel.NOTHING }).admin();
  await state.admin.connect();
});

hostile.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  for (const server of state.servers) {
    server.closeAllConnections();
    server.close();
  }
  if (state.admin) {
    await state.admin.deleteTopics({ topics: state.topics }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  if (state.dir && state.passed === TESTS) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the processors' logs)`);
});

const TESTS = 6;

hostile('the hostile inputs are on the input topic, each batch with its codec (multi-megabyte batches by kcat)', async () => {
  state.input = unique('in');
  state.topics.push(state.input);
  await state.admin!.createTopics({ waitForLeaders: true, topics: [{ topic: state.input, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(4 * MAX_SIZE) }] }] });
  let count = 0;
  for (const batch of inputBatches()) {
    assert.ok(batch.messages.every((m) => m.length > 0 && !m.includes(0x0a)), `${batch.label}: single-line messages`);
    const file = join(state.dir, `${batch.label.replace(/\W+/g, '-')}.lines`);
    writeFileSync(file, Buffer.concat(batch.messages.flatMap((m) => [m, Buffer.from('\n')])));
    kcat(['-P', '-t', state.input, '-z', batch.codec, '-X', 'linger.ms=2000', '-X', 'batch.size=8000000', '-X', 'message.max.bytes=8000000', '-l', file]);
    count += batch.messages.length;
  }
  state.inputs = kcatRead(state.input, false);
  assert.is(state.inputs.length, count, 'every input on the topic');
  state.passed++;
});

for (const delivery of ['at-least-once', 'exactly-once'] as const) {
  hostile(`${delivery}: every message is an output or a dead letter with the core's reason; never stalled while ready`, async () => {
    assert.ok(state.inputs.length > 0, 'the inputs were produced (first test)');
    const maxDepth = MAX_DEPTH_LIMIT;
    const reference = compileSchema(RULES, { maxDepth, maxSize: MAX_SIZE });
    const verdicts = state.inputs.map((m) => reference.validate(m.value ?? new Uint8Array(0)));
    const output = unique(`${delivery}-out`);
    const dlq = unique(`${delivery}-dlq`);
    const group = unique(`${delivery}-group`);
    state.topics.push(output, dlq);
    const config = join(state.dir, `${delivery}.conf`);
    const log = join(state.dir, `${delivery}.log`);
    writeFileSync(
      config,
      [
        `kafka.brokers = "${BROKERS}"`,
        `kafka.topics { "${output}" = 1, "${dlq}" = 1 }`,
        `log { level = info, destination = "${log}" }`,
        'progress = off',
        'observe.http.port = 0',
        'flows.hostile {',
        `  delivery = ${delivery}`,
        `  rules = ${JSON.stringify(RULES)}`,
        `  limits { max-depth = ${maxDepth}, max-size = ${MAX_SIZE} }`,
        // a stall shows on /readyz well before the watchdog's limit
        '  max-stall-ms = 10000',
        `  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${state.input}", group-id = "${group}", max-bytes-per-partition = 4194304 }`,
        `  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${output}", compression = gzip }`,
        `  dead-letter { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${dlq}" }`,
        '}',
      ].join('\n') + '\n',
    );
    sluice(['topics', 'create', '--config', config]);
    const processor = new Processor(config, log);
    state.processors.push(processor);
    const port = await opsPort(processor);
    // the watchdog: every input accounted for by the flow's own counters, or a loud exit; no
    // stretch of WATCHDOG_MS without progress while /readyz answers 200
    let settled = 0;
    let lastProgress = Date.now();
    let metrics = '';
    for (;;) {
      if (processor.exit) assert.unreachable(`the flow stopped (exit ${JSON.stringify(processor.exit)}) with ${settled} of ${state.inputs.length} inputs settled:\n${processor.explain()}`);
      metrics = (await get(port, '/metrics')).body;
      const now = ['sluice_messages_out_total', 'sluice_messages_dead_lettered_total', 'sluice_messages_dropped_total'].reduce((sum, name) => sum + metric(metrics, name, { flow: 'hostile' }), 0);
      if (now !== settled) {
        settled = now;
        lastProgress = Date.now();
      }
      if (settled >= state.inputs.length) break;
      if (Date.now() - lastProgress > WATCHDOG_MS) {
        const ready = await get(port, '/readyz');
        assert.is.not(ready.status, 200, `no progress for ${WATCHDOG_MS / 1000} s at ${settled} of ${state.inputs.length} settled, and /readyz says ready:\n${processor.explain()}`);
        assert.unreachable(`stalled at ${settled} of ${state.inputs.length} (not ready: ${ready.body})`);
      }
      await sleep(250);
    }
    assert.is((await get(port, '/readyz')).status, 200, 'ready once every input is delivered');
    const exit = await processor.stop('SIGTERM');
    assert.equal(exit, { code: 0, signal: null }, `SIGTERM: exit 0\n${processor.explain()}`);

    // the outputs: the valid inputs, in order, byte for byte
    const outputs = kcatRead(output, false);
    const wanted = state.inputs.filter((_, i) => verdicts[i]!.ok);
    assert.is(outputs.length, wanted.length, 'one output per valid input');
    const firstDifferent = outputs.findIndex((o, i) => sha(o.value!) !== sha(wanted[i]!.value!));
    assert.is(firstDifferent, -1, `output ${firstDifferent} differs from the valid input it should be`);

    // the dead letters: one per invalid input, with the core's reason; the value kept unless the
    // dead-letter topic refused it as too large
    const letters = kcatRead(dlq, true);
    const byOffset = new Map<string, Received[]>();
    for (const letter of letters) {
      const at = letter.headers['sluice.source.offset']!;
      byOffset.set(at, [...(byOffset.get(at) ?? []), letter]);
    }
    const reasons = new Map<string, number>();
    let omitted = 0;
    state.inputs.forEach((input, i) => {
      const verdict = verdicts[i]!;
      const found = byOffset.get(input.offset.toString()) ?? [];
      if (verdict.ok) {
        assert.is(found.length, 0, `valid input at offset ${input.offset} has no dead letter`);
        return;
      }
      assert.is(found.length, 1, `invalid input at offset ${input.offset} (${verdict.code}) has one dead letter`);
      const letter = found[0]!;
      assert.is(letter.headers['sluice.reason'], verdict.code, `offset ${input.offset}: the core's reason`);
      if (letter.headers['sluice.value-omitted'] !== undefined) {
        omitted++;
        assert.ok(input.value!.length > MAX_SIZE, `offset ${input.offset}: only an oversized letter loses its value (${input.value!.length} bytes)`);
        assert.is(letter.value?.length ?? 0, 0);
      } else assert.is(sha(letter.value!), sha(input.value!), `offset ${input.offset}: the letter keeps the input's bytes`);
      reasons.set(verdict.code, (reasons.get(verdict.code) ?? 0) + 1);
    });
    assert.is(letters.length, state.inputs.length - wanted.length, 'no other dead letter');
    assert.ok(omitted >= 2, `the oversized samples' letters lost their value (${omitted})`);
    const aborted = metric(metrics, 'sluice_kafka_transactions_total', { flow: 'hostile', outcome: 'aborted' });
    if (delivery === 'exactly-once') assert.ok(aborted <= 4, `${aborted} aborted transactions: only those refused as too large`);
    console.log(
      `  ${delivery}: ${state.inputs.length} inputs -> ${outputs.length} outputs, ${letters.length} dead letters (${omitted} without their value) by reason ${JSON.stringify(Object.fromEntries(reasons))}; ${aborted} transactions aborted`,
    );
    state.passed++;
  });
}

hostile('an output larger than its topic accepts: the flow fails fast and says so (exit 70), in both modes', async () => {
  const input = unique('big-in');
  const output = unique('big-out');
  const dlq = unique('big-dlq');
  state.topics.push(input, output, dlq);
  await state.admin!.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '10000' }] },
      { topic: dlq, numPartitions: 1 },
    ],
  });
  // valid, and incompressible: no codec brings it under the output topic's limit
  const file = join(state.dir, 'big.lines');
  writeFileSync(file, `${JSON.stringify({ id: 'big', s: randomBytesHex(20_000) })}\n`);
  kcat(['-P', '-t', input, '-l', file]);
  for (const delivery of ['at-least-once', 'exactly-once'] as const) {
    const config = join(state.dir, `big-${delivery}.conf`);
    const log = join(state.dir, `big-${delivery}.log`);
    writeFileSync(
      config,
      [
        `log { level = info, destination = "${log}" }`,
        'progress = off',
        'observe.http.port = 0',
        'flows.big {',
        `  delivery = ${delivery}`,
        `  rules = ${JSON.stringify(RULES)}`,
        `  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${input}", group-id = "${unique(`big-${delivery}`)}" }`,
        `  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${output}" }`,
        `  dead-letter { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${dlq}" }`,
        '}',
      ].join('\n') + '\n',
    );
    const processor = new Processor(config, log);
    state.processors.push(processor);
    const exit = await Promise.race([processor.exited, sleep(60_000).then(() => ({ code: null, signal: null }))]);
    assert.is(exit.code, 70, `${delivery}: exit 70\n${processor.explain()}`);
    assert.match(processor.stderr, `more than ${output} accepts`, `${delivery}: the error names the topic`);
    assert.not.match(processor.stderr, 'internal fault', `${delivery}: a named failure, not an internal fault`);
    console.log(`  ${delivery}: exit 70 ${Date.now() - processor.startedAt} ms after the start: ${processor.stderr.trim().split('\n').at(-1)!.slice(0, 200)}`);
  }
  state.passed++;
});

const randomBytesHex = (bytes: number) => randomBytes(bytes / 2).toString('hex');

/** An HTTP server that takes requests and never answers them; counts them. */
async function silentServer(): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const held: ServerResponse[] = [];
  const server = createServer((_request, response) => {
    requests++;
    held.push(response);
  });
  state.servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, requests: () => requests };
}

/** The campaign flow (qal.conf) on its own topics with an enrichment service that never answers. */
async function stuckCampaign(name: string, lines: readonly string[]) {
  const run = campaignTopics((what) => unique(`${name}-${what}`));
  state.topics.push(run.input, run.output, run.dlq);
  const server = await silentServer();
  const config = join(state.dir, `${name}.conf`);
  const log = join(state.dir, `${name}.log`);
  const stuck = [`services.recommender-api { base-url = "http://127.0.0.1:${server.port}", timeout-ms = 600000, retry.max-attempts = 1 }`];
  writeCampaignOverlay(config, run, { partitions: 1, log, shortSession: true, lines: [...stuck, ...lines] });
  sluice(['topics', 'create', '--config', config]);
  const events = campaignEvents(200, false);
  const file = join(state.dir, `${name}.ndjson`);
  writeFileSync(file, Buffer.concat(events.lines.flatMap((l) => [l, Buffer.from('\n')])));
  sluice(['produce', '--config', config, '--topic', run.input, '--file', file]);
  return { run, server, config, log, events };
}

hostile('a batch stuck in a stage: /readyz 503 naming the flow and partition, sluice_flow_stalled, one log line; exit 70 after stall-timeout-ms', async () => {
  const { run, server, config, log } = await stuckCampaign('stall', ['flows.campaign { max-stall-ms = 1500, stall-timeout-ms = 8000 }']);
  const processor = new Processor(config, log);
  state.processors.push(processor);
  const port = await opsPort(processor);
  await waitFor('a call to the silent service', () => server.requests() > 0, 60_000);
  let body = '';
  await waitFor('/readyz 503 naming the stall', async () => {
    if (processor.exit) throw new Error(`exited before the stall was reported:\n${processor.explain()}`);
    const ready = await get(port, '/readyz');
    body = ready.body;
    return ready.status === 503 && body.includes('flow campaign is stalled');
  }, 10_000);
  assert.match(body, `${run.input} partition 0 delivered nothing for`);
  const metrics = (await get(port, '/metrics')).body;
  assert.is(metric(metrics, 'sluice_flow_stalled', { flow: 'campaign' }), 1, 'sluice_flow_stalled: one lane');
  const exit = await Promise.race([processor.exited, sleep(30_000).then(() => ({ code: null, signal: null }))]);
  assert.is(exit.code, 70, `exit 70 after stall-timeout-ms\n${processor.explain()}`);
  assert.match(processor.stderr, /stall-timeout-ms \(8000 ms\)/);
  assert.match(processor.stderr, `${run.input} partition 0`);
  const stallLines = processor.log().filter((l) => String(l.msg).startsWith('flow campaign is stalled'));
  assert.is(stallLines.length, 1, 'one log line for the stall, not one per check or message');
  assert.ok(Date.now() - processor.startedAt < 60_000, 'failed within a minute');
  state.passed++;
});

hostile('SIGTERM with a batch stuck: exit 70 after shutdown-timeout-ms naming what was left undelivered; a restart delivers it', async () => {
  const { run, server, config, log, events } = await stuckCampaign('shutdown', ['shutdown-timeout-ms = 2000', 'flows.campaign.stall-timeout-ms = 0']);
  const processor = new Processor(config, log);
  state.processors.push(processor);
  await opsPort(processor);
  await waitFor('a call to the silent service', () => server.requests() > 0, 60_000);
  const signalled = Date.now();
  const exit = await processor.stop('SIGTERM', 20_000);
  const tookMs = Date.now() - signalled;
  assert.is(exit.code, 70, `exit 70\n${processor.explain()}`);
  assert.ok(tookMs >= 2000 && tookMs < 8000, `exited ${tookMs} ms after SIGTERM (shutdown-timeout-ms 2000)`);
  assert.match(processor.stderr, /shutdown not finished after shutdown-timeout-ms \(2000 ms\)/);
  assert.match(processor.stderr, new RegExp(`${run.input} partition 0: \\d+ messages in \\d+ batches from offset 0`));

  // restarted with the service answering (the built-in lookup server): everything is delivered
  const restart = join(state.dir, 'shutdown-restart.conf');
  writeCampaignOverlay(restart, run, { partitions: 1, log: `${log}.restart`, shortSession: true });
  const again = new Processor(restart, `${log}.restart`);
  state.processors.push(again);
  const admin = state.admin!;
  const end = await endOffsets(admin, run.input);
  await waitFor('the committed offset at the end of the input', async () => {
    if (again.exit) throw new Error(`the restarted processor exited:\n${again.explain()}`);
    return Number((await committedOffsets(admin, run.group, run.input)).get(0)) === end;
  }, 90_000);
  assert.equal(await again.stop('SIGTERM'), { code: 0, signal: null }, again.explain());
  const outputs = new Set(kcatRead(run.output, false).map((m) => (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId));
  const missing = events.written.filter((id): id is string => id !== null && !outputs.has(id));
  assert.equal(missing, [], 'every event left undelivered at the timeout is delivered after the restart');
  state.passed++;
});

hostile.run();
