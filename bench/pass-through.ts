// The pass-through contender of bench:peers: Sluice's own Kafka client (its transport port on the
// default adapter, @platformatic/kafka, with the kafka source's default settings) consuming the
// input topic and producing each record's bytes unchanged to the output topic, no parsing, no
// validation: what the client and the broker can move on this machine, the limit of a processor.
// At-least-once: a batch's offsets are committed (every second, as the source does) once its
// records are acknowledged; exactly-once: one transaction per batch, offsets included.
//   node --import tsx bench/pass-through.ts bootstrap=HOST:PORT input=T output=T group=G delivery=at-least-once|exactly-once
import { pino } from 'pino';
import { loadClient, transportFor } from '../src/io/kafka/connection.ts';
import { FETCH_BYTES_PER_PARTITION } from '../src/io/kafka/kafka-source.ts';
import type { FetchedBatch, ProducedRecord, TopicPartition } from '../src/io/kafka/transport.ts';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split(/=(.*)/s, 2) as [string, string]));
for (const name of ['bootstrap', 'input', 'output', 'group', 'delivery']) if (!args[name]) throw new Error(`pass-through: ${name}= is missing`);
const exactlyOnce = args.delivery === 'exactly-once';
const COMMIT_INTERVAL_MS = 1000;

await loadClient('platformatic');
const logger = pino({ level: 'warn' });
const transport = transportFor({ brokers: args.bootstrap!.split(','), 'client-id': 'sluice-pass-through', client: 'platformatic' }, { logger, baseDir: process.cwd() });
const consumer = transport.consumer({
  groupId: args.group!,
  topics: [args.input!],
  fromBeginning: true,
  readCommitted: true,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
  maxWaitMs: 100,
  partitionsInFlight: 8,
  prefetch: !exactlyOnce,
});
const producer = exactlyOnce ? undefined : transport.producer({ compression: 'none', acks: -1, idempotent: false });
const transactional = exactlyOnce ? transport.transactionalProducer(`${args.group}.tx`, { transactionTimeoutMs: 20_000 }) : undefined;
await transactional?.init();

/** The records as they came: key, value, headers and timestamp unchanged. */
const asProduced = (batch: FetchedBatch): ProducedRecord[] =>
  batch.records.map((r) => ({ key: r.key, value: r.value ?? new Uint8Array(0), headers: r.headers, timestamp: r.timestamp }));

/** At-least-once: delivered offsets waiting for the next commit, by partition. */
const delivered = new Map<string, TopicPartition & { next: bigint }>();
const commitTimer = setInterval(() => {
  if (delivered.size === 0) return;
  const offsets = [...delivered.values()];
  delivered.clear();
  consumer.commit(offsets).catch((error: unknown) => logger.error({ error }, 'pass-through: commit failed'));
}, COMMIT_INTERVAL_MS);

await consumer.run(async (batch) => {
  if (batch.records.length === 0) return;
  const records = asProduced(batch);
  if (transactional) {
    await transactional.commitBatch([{ topic: args.output!, messages: records, compression: 'none' }], { topic: batch.topic, partition: batch.partition, next: batch.next }, args.group!, batch.membership);
    return;
  }
  await producer!.send(args.output!, records);
  delivered.set(`${batch.topic}:${batch.partition}`, { topic: batch.topic, partition: batch.partition, next: batch.next });
});

const stop = async () => {
  clearInterval(commitTimer);
  await consumer.stop();
  await Promise.all([producer?.close(), transactional?.close()]);
  await consumer.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
