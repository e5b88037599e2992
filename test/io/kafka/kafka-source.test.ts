// The kafka source on its own (io/kafka/kafka-source.ts), on a real broker (KAFKA_BROKERS; npm
// test starts one): its settings' defaults and refusals, readiness (not ready until the group
// assigns it partitions), batches carrying each record's bytes, key, headers, timestamp and Kafka
// coordinates, and the commit path: nothing is committed before done(), close() commits what was
// delivered, and a new member of the group resumes right after it (a marker produced later is
// the first thing it reads).
import kafkajs, { type Admin as KafkajsAdmin, type Producer as KafkajsProducer } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComponentContext, SourceBatch } from '../../../src/component/types.ts';
import { kafkaSource } from '../../../src/io/kafka/kafka-source.ts';
import type { Metrics } from '../../../src/observe/metrics.ts';
import { componentContext } from '../../support/component.ts';
import { brokerList, committedOffsets, KAFKA_CLIENT, requireEnvironment, uniqueNames } from './harness.ts';

const unique = uniqueNames('source');
const source = suite('kafka source');
const state: { admin?: KafkajsAdmin; producer?: KafkajsProducer; topics: string[] } = { topics: [] };
const LIMITS = { maxCircuitOpenMs: 60_000, maxBrokerSilenceMs: 60_000 };

source.before(async () => {
  requireEnvironment();
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('test'), logLevel: kafkajs.logLevel.NOTHING });
  state.admin = kafka.admin();
  state.producer = kafka.producer();
  await Promise.all([state.admin.connect(), state.producer.connect()]);
});

source.after(async () => {
  if (state.topics.length > 0) await state.admin?.deleteTopics({ topics: state.topics }).catch(() => undefined);
  await Promise.all([state.admin?.disconnect(), state.producer?.disconnect()]);
});

async function topic(what: string): Promise<string> {
  const name = unique(what);
  await state.admin!.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1 }] });
  state.topics.push(name);
  return name;
}

function build(name: string, group: string, context: ComponentContext, more: Record<string, unknown> = {}) {
  const options = kafkaSource.config.parse({ brokers: brokerList, topic: name, 'group-id': group, client: KAFKA_CLIENT, 'session-timeout-ms': 6000, 'heartbeat-interval-ms': 500, ...more });
  return kafkaSource.create(options, context);
}

/** Reads batches until `count` messages came; fails after 30 s. */
async function take(iterator: AsyncIterator<SourceBatch>, count: number): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${count} messages not handed over in 30 s`)), 30_000)));
  try {
    while (batches.reduce((n, b) => n + b.messages.length, 0) < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error('the source ended');
      batches.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return batches;
}

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));

source('defaults: from the beginning, read committed, commit every second or 5000 messages; instance-id refused on kafkajs and with spaces', () => {
  const parsed = kafkaSource.config.parse({ brokers: '127.0.0.1:9092', topic: 't', 'group-id': 'g' });
  assert.equal(
    [parsed['from-beginning'], parsed['read-committed'], parsed['commit-interval-ms'], parsed['commit-interval-messages'], parsed['max-wait-ms'], parsed['partitions-in-flight'], parsed['session-timeout-ms']],
    [true, true, 1000, 5000, 100, 8, 30_000],
  );
  const kafkajsStatic = kafkaSource.config.safeParse({ brokers: '127.0.0.1:9092', topic: 't', 'group-id': 'g', client: 'kafkajs', 'instance-id': 'pod-0' });
  assert.not.ok(kafkajsStatic.success);
  assert.equal(kafkajsStatic.error?.issues.map((i) => i.path), [['instance-id']]);
  assert.not.ok(kafkaSource.config.safeParse({ brokers: '127.0.0.1:9092', topic: 't', 'group-id': 'g', 'instance-id': 'pod 0' }).success);
  assert.not.ok(kafkaSource.config.safeParse({ brokers: '127.0.0.1:9092', topic: 't', 'group-id': 'g', 'session-timeout-ms': 1000 }).success, 'below the broker minimum');
});

source('records arrive with their bytes, key, headers, timestamp and coordinates; not ready until partitions are assigned', async () => {
  const name = await topic('records');
  await state.producer!.send({
    topic: name,
    messages: [
      { key: 'k-1', value: '{"a":1}', headers: { trace: 't-1' }, timestamp: '1700000000123' },
      { key: null, value: Buffer.from([0, 0xff, 10]) },
      { key: 'k-3', value: '{"c":"é"}', headers: { a: 'x', b: 'y' } },
    ],
  });
  const context = componentContext(process.cwd());
  const metrics = context.metrics as Metrics; // componentContext's: a whole registry, whose readiness can be asked
  const kafka = build(name, unique('g'), context);
  const iterator = kafka[Symbol.asyncIterator]();
  const first = take(iterator, 3);
  metrics.readiness.flowRunning(() => undefined); // the process part of readiness: one flow runs
  assert.equal(metrics.readiness.problems(LIMITS), [`flow test: not a member of its consumer group (no partitions assigned yet)`]);
  const batches = await first;
  assert.equal(metrics.readiness.problems(LIMITS), [], 'assigned and in contact: ready');
  const messages = batches.flatMap((b) => b.messages);
  assert.equal(messages.map((m) => text(m.key)), ['k-1', null, 'k-3']);
  assert.equal(messages.map((m) => [...m.value]), [[...Buffer.from('{"a":1}')], [0, 0xff, 10], [...Buffer.from('{"c":"é"}')]]);
  assert.equal(messages.map((m) => Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, text(v as Uint8Array)]))), [{ trace: 't-1' }, {}, { a: 'x', b: 'y' }]);
  assert.is(messages[0]!.timestamp, '1700000000123');
  assert.ok(messages.every((m) => typeof m.timestamp === 'string' && /^\d+$/.test(m.timestamp)), 'every record has its timestamp');
  assert.equal(messages.map((m) => m.origin), [0n, 1n, 2n].map((offset) => ({ kind: 'kafka', topic: name, partition: 0, offset })));
  assert.ok(batches.every((b) => b.lane === `${name}\u00000`), 'one lane per partition');
  assert.is(batches[0]!.deliverAtomically, undefined, 'at-least-once: acknowledged with done()');
  for (const b of batches) await b.done();
  await kafka.close();
});

source('the commit path: nothing committed before done(); close() commits what was delivered; the next member resumes right after it', async () => {
  const name = await topic('commits');
  const group = unique('g');
  await state.producer!.send({ topic: name, messages: Array.from({ length: 5 }, (_, i) => ({ value: `{"n":${i}}` })) });
  // by time only, and not within the test: what is committed comes from close()
  const settings = { 'commit-interval-ms': 600_000, 'commit-interval-messages': 0 };
  const first = build(name, group, componentContext(process.cwd()), settings);
  const batches = await take(first[Symbol.asyncIterator](), 5);
  assert.equal(await committedOffsets(state.admin!, group, name), new Map([[0, '-1']]), 'handed over, not delivered: nothing committed');
  for (const b of batches) await b.done();
  await first.close();
  assert.equal(await committedOffsets(state.admin!, group, name), new Map([[0, '5']]), 'close() commits the next offset after the delivered ones');
  // the marker: produced after, it is the first record the next member reads
  await state.producer!.send({ topic: name, messages: [{ value: '{"marker":true}' }] });
  const second = build(name, group, componentContext(process.cwd()), { 'commit-interval-ms': 0 });
  const [resumed] = await take(second[Symbol.asyncIterator](), 1);
  assert.equal(resumed!.messages.map((m) => [m.origin.kind === 'kafka' ? m.origin.offset : -1n, text(m.value)]), [[5n, '{"marker":true}']], 'nothing delivered is read again');
  await resumed!.done();
  assert.equal(await committedOffsets(state.admin!, group, name), new Map([[0, '6']]), 'commit-interval-ms = 0: committed as done() resolves');
  await second.close();
});

source.run();
