// Changelog and restore on a real broker (KAFKA_BROKERS; npm test starts one): batch transactions
// write a compacted changelog through the transport port; a store rebuilt from it holds what the
// writer's store held; a checkpoint makes restore read only what came after it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin as LibraryAdmin, ConfigResourceTypes } from '@platformatic/kafka';
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { platformaticTransport } from '../../src/io/kafka/platformatic/index.ts';
import type { KafkaTransport } from '../../src/io/kafka/transport.ts';
import { changelogProducer, changelogTopic, changelogTopicSpec } from '../../src/state/changelog.ts';
import { lmdbBackend } from '../../src/state/lmdb.ts';
import { memoryBackend } from '../../src/state/memory.ts';
import { PartitionStore } from '../../src/state/partition.ts';
import { StateManager } from '../../src/state/manager.ts';
import { restorePartition } from '../../src/state/restore.ts';
import { brokerList, requireEnvironment, uniqueNames } from '../io/kafka/harness.ts';

const KEYS = 50_000;
const BATCH = 5_000;
const PARTITION = 1;
const logger = pino({ level: 'warn' });
const unique = uniqueNames('state');
const key = (i: number) => Buffer.from(`key-${i}`);
const value = (i: number, version: number) => Buffer.from(`value-${i}-v${version}`);

/** The topic's cleanup.policy as the broker describes it. */
async function cleanupPolicy(topic: string): Promise<string | null | undefined> {
  const admin = new LibraryAdmin({ clientId: unique('describe'), bootstrapBrokers: brokerList });
  try {
    const [described] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['cleanup.policy'] }] });
    return described?.configs.find((c) => c.name === 'cleanup.policy')?.value;
  } finally {
    await admin.close();
  }
}

const test = suite<{ transport: KafkaTransport; dirs: string[] }>('state: changelog and restore on a real broker', { transport: undefined as never, dirs: [] });
test.before((context) => {
  requireEnvironment();
  context.transport = platformaticTransport({ brokers: brokerList, clientId: unique('client'), logger });
});
test.after((context) => {
  for (const dir of context.dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (dirs: string[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-restore-'));
  dirs.push(dir);
  return dir;
};

test('a store rebuilt from its compacted changelog holds what the writer held; a checkpoint skips what is there', async ({ transport, dirs }) => {
  const group = unique('group');
  const topic = changelogTopic(group, 'seen');
  const admin = transport.admin();
  const producer = transport.producer({ compression: 'lz4', acks: -1, idempotent: true });
  const reader = transport.partitionReader!();
  try {
    assert.equal(await admin.createTopics([changelogTopicSpec(group, 'seen', 2)]), [topic]);
    assert.is(await cleanupPolicy(topic), 'compact');
    const send = changelogProducer(producer, topic);
    const writerDir = tempDir(dirs);
    const writer = PartitionStore.open(lmdbBackend, writerDir, 'seen', PARTITION, topic, logger);
    // KEYS keys in batches, then every tenth key overwritten and every hundredth deleted
    let offset = 0n;
    for (let first = 0; first < KEYS; first += BATCH) {
      const tx = writer.begin();
      for (let i = first; i < first + BATCH; i++) tx.put(key(i), value(i, 1), offset++);
      await tx.prepare(send);
      tx.flush();
    }
    const tx = writer.begin();
    for (let i = 0; i < KEYS; i += 10) tx.put(key(i), value(i, 2), offset++);
    for (let i = 5; i < KEYS; i += 100) tx.delete(key(i), offset++);
    await tx.prepare(send);
    tx.flush();
    const expectedKeys = KEYS - KEYS / 100;
    assert.is(writer.store.count(), expectedKeys);
    // every record went to the store's own partition
    assert.is(await reader.endOffset(topic, 0), 0n);
    const end = await reader.endOffset(topic, PARTITION);
    assert.is(end, BigInt(KEYS + KEYS / 10 + KEYS / 100));
    writer.checkpoint(end);
    await writer.close();

    // a fresh state dir: the store is missing, restored in full
    const fresh = PartitionStore.open(lmdbBackend, tempDir(dirs), 'seen', PARTITION, topic, logger);
    const full = await restorePartition(fresh, reader, logger);
    assert.is(full.from, 0n);
    assert.is(full.until, end);
    assert.is(full.restored, Number(end)); // nothing compacted yet: every record read
    assert.is(fresh.store.count(), expectedKeys);
    for (const i of [0, 1, 5, 10, 105, 49_999, 49_990]) {
      const expected = i % 100 === 5 ? undefined : String(value(i, i % 10 === 0 ? 2 : 1));
      const got = fresh.store.get(key(i));
      assert.is(got === undefined ? undefined : Buffer.from(got).toString(), expected, `key ${i}`);
    }
    console.log(`  restored ${full.restored} records in ${full.seconds.toFixed(2)} s: ${Math.round(full.restored / full.seconds)} records/s`);
    await fresh.close();

    // the writer's own dir: its checkpoint says it has everything
    const reopened = PartitionStore.open(lmdbBackend, writerDir, 'seen', PARTITION, topic, logger);
    assert.is(reopened.position, end);
    const skipped = await restorePartition(reopened, reader, logger);
    assert.is(skipped.restored, 0);
    await reopened.close();

    // writes after the checkpoint (a crash before the next one): restore reads only those
    const later = PartitionStore.open(memoryBackend, tempDir(dirs), 'seen', PARTITION, topic, logger);
    const more = later.begin();
    for (let i = 0; i < 10; i++) more.put(key(KEYS + i), value(KEYS + i, 1), offset++);
    await more.prepare(send);
    const again = PartitionStore.open(lmdbBackend, writerDir, 'seen', PARTITION, topic, logger);
    const tail = await restorePartition(again, reader, logger);
    assert.is(tail.from, end);
    assert.is(tail.restored, 10);
    assert.is(again.store.count(), expectedKeys + 10);
    assert.is(again.position, end + 10n);
    await again.close();
    await later.close();
  } finally {
    await Promise.all([admin.close(), producer.close(), reader.close()]);
  }
});

test('state manager: stores restored on assignment, a moved partition rebuilt elsewhere, a restart reads only what followed its checkpoint', async ({ transport, dirs }) => {
  const group = unique('group');
  const admin = transport.admin();
  const producer = transport.producer({ compression: 'none', acks: -1, idempotent: true });
  const reader = transport.partitionReader!();
  try {
    await admin.createTopics([changelogTopicSpec(group, 'seen', 2), changelogTopicSpec(group, 'latest', 2)]);
    const options = { group, stores: [{ name: 'seen', backend: 'lmdb' as const }, { name: 'latest', backend: 'lmdb' as const }], reader, log: logger };
    const dirA = tempDir(dirs);
    const a = new StateManager({ ...options, stateDir: dirA });
    assert.equal((await a.assign([0, 1])).map((r) => r.restored), [0, 0, 0, 0]);
    await a.refresh([0, 1]); // as each partition's first batch does: until then a checkpoint skips its stores
    const write = async (manager: StateManager, name: string, partition: number, keys: number[], version: number) => {
      const tx = manager.store(name, partition)!.begin();
      for (const i of keys) tx.put(key(i), value(i, version), BigInt(i));
      await tx.prepare(changelogProducer(producer, changelogTopic(group, name)));
      tx.flush();
    };
    await write(a, 'seen', 0, [1, 2, 3], 1);
    await write(a, 'seen', 1, [4, 5], 1);
    await write(a, 'latest', 1, [6], 1);
    await a.checkpoint();
    await write(a, 'seen', 0, [7, 8], 1); // after the last commit's checkpoint
    // a crash: the stores close with no checkpoint written
    for (const partition of [0, 1]) for (const name of ['seen', 'latest']) await a.store(name, partition)!.close();

    // partition 1 moves to another instance with an empty state dir: rebuilt from its changelogs
    const b = new StateManager({ ...options, stateDir: tempDir(dirs) });
    assert.equal((await b.assign([1])).map((r) => r.restored), [2, 1]);
    assert.is(Buffer.from(b.store('seen', 1)!.store.get(key(5))!).toString(), String(value(5, 1)));
    assert.is(b.store('latest', 1)!.store.count(), 1);
    await b.revoke([1]);
    assert.is(b.store('seen', 1), undefined);
    // revoked with a checkpoint: taking it back reads nothing
    assert.equal((await b.assign([1])).map((r) => r.restored), [0, 0]);
    await b.close();

    // the first instance restarts with partition 0: only the two writes after its checkpoint are read
    const again = new StateManager({ ...options, stateDir: dirA });
    const restored = await again.assign([0]);
    assert.equal(restored.map((r) => r.restored), [2, 0]);
    assert.is(again.store('seen', 0)!.store.count(), 5);
    await again.close();
  } finally {
    await Promise.all([admin.close(), producer.close(), reader.close()]);
  }
});

test('a rebalance that lands after the state manager closed for a shutdown opens nothing, and closing again reads nothing', async ({ transport, dirs }) => {
  const group = unique('group');
  const admin = transport.admin();
  const reader = transport.partitionReader!();
  try {
    await admin.createTopics([changelogTopicSpec(group, 'seen', 2)]);
    const manager = new StateManager({ group, stores: [{ name: 'seen', backend: 'lmdb' }], reader, log: logger, stateDir: tempDir(dirs) });
    await manager.assign([0]);
    await manager.close();
    await reader.close(); // as the Kafka source closes it after the state
    assert.equal(await manager.assign([0, 1]), []);
    assert.is(manager.store('seen', 1), undefined);
    await manager.close(); // the flow's own close after the source's: no changelog end to read
  } finally {
    await admin.close();
  }
});

test('steady load, a batch always in flight: each checkpoint after a commit writes the changelog end the one before read, once the batches then in flight ended', async ({ transport, dirs }) => {
  const group = unique('group');
  const admin = transport.admin();
  const producer = transport.producer({ compression: 'none', acks: -1, idempotent: true });
  const reader = transport.partitionReader!();
  try {
    await admin.createTopics([changelogTopicSpec(group, 'seen', 1)]);
    const dir = tempDir(dirs);
    const manager = new StateManager({ group, stores: [{ name: 'seen', backend: 'lmdb' }], reader, log: logger, stateDir: dir });
    await manager.assign([0]);
    await manager.refresh([0]);
    const store = manager.store('seen', 0)!;
    const send = changelogProducer(producer, changelogTopic(group, 'seen'));
    const checkpointFile = () => (JSON.parse(readFileSync(join(dir, 'seen', '0', 'checkpoint.json'), 'utf8')) as { offset: string }).offset;
    // each round: the next batch begins while the current one is delivered (its one changelog
    // record acknowledged, then the store written), then a commit's checkpoint — `next` in flight
    let current = store.begin();
    current.put(key(0), value(0, 1), 0n);
    const positions: bigint[] = [];
    for (let round = 1; round <= 4; round++) {
      const next = store.begin();
      next.put(key(round), value(round, 1), BigInt(round));
      await current.prepare(send);
      current.flush();
      assert.is(store.inFlight.length, 1, 'a batch in flight at every checkpoint');
      await manager.checkpoint();
      positions.push(store.position);
      current = next;
    }
    // the first call read end 1 with `next` in flight; the second, that batch ended, wrote it; …
    assert.equal(positions, [0n, 1n, 2n, 3n]);
    assert.is(checkpointFile(), '3', 'the checkpoint file holds the last position');
    // the batch still in flight never made it: a restart restores what followed the checkpoint
    current.fail();
    await manager.close();
  } finally {
    await Promise.all([admin.close(), producer.close(), reader.close()]);
  }
});

test('a changelog topic that does not exist is a configuration error naming it', async ({ transport, dirs }) => {
  const topic = changelogTopic(unique('group'), 'seen');
  const reader = transport.partitionReader!();
  try {
    const store = PartitionStore.open(memoryBackend, tempDir(dirs), 'seen', 0, topic, logger);
    const error = await restorePartition(store, reader, logger).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof SluiceError && error.code === 'SLC_CONFIG' && error.message.includes(topic), String(error));
  } finally {
    await reader.close();
  }
});

test.run();
