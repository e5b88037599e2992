// The kafka sink on its own (io/kafka/kafka-sink.ts), on a real broker (KAFKA_BROKERS; npm test
// starts one): its settings' defaults, what it tells the flow (encoding, the transaction it can
// join), outputs landing byte for byte with their key, headers and timestamp once write()
// resolves, and what a topic too small for a message does: a dead letter loses its value (marked,
// its headers kept), an output fails the write naming the topic.
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { OutboundMessage } from '../../../src/component/types.ts';
import { SluiceError } from '../../../src/errors.ts';
import { kafkaSink } from '../../../src/io/kafka/kafka-sink.ts';
import { componentContext } from '../../support/component.ts';
import { brokerList, KAFKA_CLIENT, kcat, kcatRead, requireEnvironment, uniqueNames } from './harness.ts';

const unique = uniqueNames('sink');
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const sink = suite('kafka sink');
const state: { admin?: KafkajsAdmin; topics: string[] } = { topics: [] };

sink.before(async () => {
  requireEnvironment();
  state.admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await state.admin.connect();
});

sink.after(async () => {
  if (state.topics.length > 0) await state.admin?.deleteTopics({ topics: state.topics }).catch(() => undefined);
  await state.admin?.disconnect();
});

/** A new topic of one partition; `maxMessageBytes` sets max.message.bytes. */
async function topic(what: string, maxMessageBytes?: number): Promise<string> {
  const name = unique(what);
  const configEntries = maxMessageBytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(maxMessageBytes) }];
  await state.admin!.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1, configEntries }] });
  state.topics.push(name);
  return name;
}

const build = (name: string, role: 'output' | 'dead-letter', more: Record<string, unknown> = {}) =>
  kafkaSink.create(kafkaSink.config.parse({ brokers: brokerList, topic: name, client: KAFKA_CLIENT, ...more }), componentContext(process.cwd()), role);

sink('defaults: json, no compression, acks from all replicas, not idempotent; the key field is the key setting', () => {
  const parsed = kafkaSink.config.parse({ brokers: '127.0.0.1:9092', topic: 't' });
  assert.equal([parsed.encoding, parsed.compression, parsed.acks, parsed.idempotent, parsed['client-id'], parsed.client], ['json', 'none', -1, false, 'sluice', 'platformatic']);
  assert.equal(parsed.brokers, ['127.0.0.1:9092']);
  assert.is(kafkaSink.keyField?.(parsed), undefined, 'no key setting: the input key is kept');
  assert.is(kafkaSink.keyField?.(kafkaSink.config.parse({ brokers: '127.0.0.1:9092', topic: 't', key: 'userId' })), 'userId');
  assert.not.ok(kafkaSink.config.safeParse({ brokers: 'no-port', topic: 't' }).success, 'a broker is host:port');
  assert.not.ok(kafkaSink.config.safeParse({ brokers: '127.0.0.1:9092', topic: 't', acks: 2 }).success);
});

sink('outputs land in order, byte for byte, with key, headers and timestamp, once write() resolves', async () => {
  const name = await topic('out');
  const out = build(name, 'output', { compression: 'lz4', encoding: 'protobuf' });
  assert.is(out.encoding, 'protobuf');
  assert.equal(out.transactional, { topic: name, compression: 'lz4' }, 'an output joins a transaction as an output');
  const binary = new Uint8Array([0, 1, 0xfe, 0xff, 10]);
  const batch: OutboundMessage[] = [
    { key: utf8('k-1'), value: utf8('{"a":1,"text":"é ☕"}'), headers: { trace: 't-1', origin: 'test' }, timestamp: '1700000000123' },
    { key: null, value: binary, headers: {} },
    { key: utf8(''), value: utf8('{}'), headers: { empty: '' }, timestamp: '1700000000456' },
  ];
  await out.write(batch);
  // acknowledged by the broker: readable at once, no waiting
  const read = kcatRead(name, true);
  assert.equal(read.map((m) => m.offset), [0n, 1n, 2n]);
  assert.equal(read.map((m) => (m.key === null ? null : m.key.toString('utf8'))), ['k-1', null, '']);
  assert.equal(read.map((m) => [...m.value!]), batch.map((m) => [...m.value]));
  assert.equal(read.map((m) => m.headers), [{ trace: 't-1', origin: 'test' }, {}, { empty: '' }]);
  const timestamps = kcat(['-C', '-t', name, '-e', '-q', '-f', '%T\n']).toString().trim().split('\n');
  assert.equal([timestamps[0], timestamps[2]], ['1700000000123', '1700000000456'], 'the given timestamps are kept');
  await out.close();
});

sink('dead letters: a letter larger than the topic takes is written without its value, marked, headers kept; the others whole', async () => {
  const name = await topic('dlq', 4096);
  const letters = build(name, 'dead-letter');
  assert.equal(letters.transactional, { topic: name, compression: 'none', deadLetters: true }, 'a dead-letter sink joins a transaction as such');
  const large = new Uint8Array(randomBytes(20_000));
  await letters.write([
    { key: utf8('a'), value: utf8('{"bad":'), headers: { 'sluice.reason': 'E_UNTERMINATED', 'sluice.source.line': '1' } },
    { key: utf8('b'), value: large, headers: { 'sluice.reason': 'E_TYPE', 'sluice.source.line': '2' } },
    { key: utf8('c'), value: utf8('[]'), headers: { 'sluice.reason': 'E_TYPE', 'sluice.source.line': '3' } },
  ]);
  const read = kcatRead(name, true);
  assert.equal(read.map((m) => m.key!.toString()), ['a', 'b', 'c'], 'every letter once, in order');
  assert.equal(read.map((m) => m.value?.length ?? 0), [7, 0, 2]);
  assert.equal(read.map((m) => m.headers['sluice.reason']), ['E_UNTERMINATED', 'E_TYPE', 'E_TYPE']);
  assert.equal(read.map((m) => m.headers['sluice.source.line']), ['1', '2', '3']);
  assert.match(read[1]!.headers['sluice.value-omitted'] ?? '', /^20000 bytes, more than .*: the original is at the source coordinates$/);
  assert.is(read[0]!.headers['sluice.value-omitted'], undefined);
  await letters.close();
});

sink('outputs: one larger than the topic takes fails the write with SLC_IO naming the topic and the size; nothing of it is written', async () => {
  const name = await topic('too-large', 4096);
  const out = build(name, 'output');
  try {
    await out.write([{ key: null, value: new Uint8Array(randomBytes(20_000)), headers: {} }]);
    assert.unreachable('written');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_IO');
    assert.match((error as Error).message, new RegExp(`more than ${name} accepts \\(max\\.message\\.bytes; the largest of the batch: 20000 bytes\\)`));
  }
  assert.equal(kcatRead(name, false), []);
  await out.close();
});

sink.run();
