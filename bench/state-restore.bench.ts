// Restore from a changelog on a real broker: N keys (default 1,000,000) written to a compacted
// changelog partition, then restored into an empty store (no checkpoint), into the store that has
// them (its checkpoint at the end: nothing to read) and into one checkpointed at 90 %.
//   KAFKA_BROKERS=127.0.0.1:9092 npm run bench:state:restore [-- --keys 1000000 --backend lmdb|memory]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { platformaticTransport } from '../src/io/kafka/platformatic/index.ts';
import { changelogProducer, changelogTopic, changelogTopicSpec } from '../src/state/changelog.ts';
import { lmdbBackend } from '../src/state/lmdb.ts';
import { memoryBackend } from '../src/state/memory.ts';
import { PartitionStore } from '../src/state/partition.ts';
import { restorePartition } from '../src/state/restore.ts';

const { values: args } = parseArgs({ options: { keys: { type: 'string', default: '1000000' }, backend: { type: 'string', default: 'lmdb' } } });
const keyCount = Number(args.keys);
const backend = args.backend === 'memory' ? memoryBackend : lmdbBackend;
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((b) => b !== '');
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set (KAFKA_PORT=59092 bash scripts/kafka.sh start)');

const logger = pino({ level: 'warn' });
const transport = platformaticTransport({ brokers, clientId: 'sluice-bench-restore', logger });
const group = `sluice-bench-restore-${randomBytes(4).toString('hex')}`;
const topic = changelogTopic(group, 'seen');
const admin = transport.admin();
const producer = transport.producer({ compression: 'lz4', acks: -1, idempotent: true });
const reader = transport.partitionReader!();
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-restore-'));
try {
  await admin.createTopics([changelogTopicSpec(group, 'seen', 1)]);
  const send = changelogProducer(producer, topic);
  const writeStart = performance.now();
  const value = Buffer.alloc(24, 7);
  for (let first = 0; first < keyCount; first += 10_000) {
    const records = [];
    for (let i = first; i < Math.min(first + 10_000, keyCount); i++) records.push({ key: Buffer.from(`evt-${i.toString(36).padStart(8, '0')}-0000000000000000000000`), value, sourceOffset: BigInt(i) });
    await send(0, records);
  }
  console.log(`wrote ${keyCount} changelog records in ${((performance.now() - writeStart) / 1000).toFixed(1)} s`);

  const full = PartitionStore.open(backend, join(dir, 'full'), 'seen', 0, topic, logger);
  const cold = await restorePartition(full, reader, logger);
  console.log(`${backend.name}: restore without a checkpoint: ${cold.restored} records in ${cold.seconds.toFixed(2)} s = ${Math.round(cold.restored / cold.seconds)} records/s (${full.store.count()} keys)`);
  await full.close();

  const warm = PartitionStore.open(backend, join(dir, 'full'), 'seen', 0, topic, logger);
  const skipped = await restorePartition(warm, reader, logger);
  console.log(`${backend.name}: restore with the checkpoint at the end: ${skipped.restored} records in ${(skipped.seconds * 1000).toFixed(0)} ms (${warm.store.count()} keys)`);
  await warm.close();

  const partial = PartitionStore.open(backend, join(dir, 'partial'), 'seen', 0, topic, logger);
  partial.checkpoint(BigInt(Math.floor(keyCount * 0.9)));
  const tail = await restorePartition(partial, reader, logger);
  console.log(`${backend.name}: restore with a checkpoint at 90 %: ${tail.restored} records in ${tail.seconds.toFixed(2)} s`);
  await partial.close();
} finally {
  await Promise.all([admin.close(), producer.close(), reader.close()]);
  rmSync(dir, { recursive: true, force: true });
}
