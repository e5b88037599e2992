// Interactive queries on the ops endpoint of `sluice run` (the built CLI as a child process, its ops
// server on 127.0.0.1, port 0), over a flow with dedupe (by eventId) and latest (version per id):
//   - local mode, the file source on a FIFO the test holds open (the run lasts until it closes it):
//     a key's value and partition 0, the store's size, a key never seen and unknown flows and stores
//     404 naming what exists, a windowed query of a store that is not windowed 400;
//   - Kafka on the real broker, a 2-partition input keyed by id, lmdb stores: one processor owns
//     both partitions and answers every key; once a second joins, each owns one, and every key is
//     answered by exactly one of them (its partition, the one Kafka's partitioner gives its record
//     key), the other answering 404 naming the partition it searched; no broker address in a body.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { keyHash } from '../../src/io/kafka/key-hash.ts';
import { changelogTopic } from '../../src/state/changelog.ts';
import { brokerList, BROKERS, committedOffsets, ensureBuilt, kcat, KAFKA_CLIENT, Processor, requireEnvironment, sluice, uniqueNames, waitFor } from '../io/kafka/harness.ts';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

async function get(port: number, path: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  assert.is(response.headers.get('content-type'), 'application/json', `${path}: JSON`);
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text };
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

const RULES = 'rules { type = object, required = [id, eventId, version], properties { id { type = string }, eventId { type = string }, version { type = integer } } }';
const stages = (backend: string) => `stages = [ { kind = dedupe, key = eventId, store = seen, backend = ${backend} }, { kind = latest, key = id, version = version, store = versions, backend = ${backend} } ]`;
const line = (id: string, eventId: string, version: number) => JSON.stringify({ id, eventId, version });

// ------------------------------------------------------------------------------------ local mode

const local = suite('state route: local mode (file source on a FIFO)');

local('a key\'s value and partition, the store\'s size, 404 naming what exists', async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-route-'));
  const fifo = join(dir, 'in.fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const config = join(dir, 'local.conf');
  writeFileSync(config, [
    `log { level = info, destination = "${join(dir, 'sluice.log')}" }`,
    'progress = off',
    'observe.http.port = 0',
    'flows.items {',
    '  on-invalid = drop',
    `  ${RULES}`,
    `  ${stages('memory')}`,
    `  source { kind = file, path = "${fifo}", batch-size = 1 }`,
    `  sink { kind = file, path = "${join(dir, 'out.ndjson')}" }`,
    '}',
  ].join('\n'));
  const processor = new Processor(config, join(dir, 'sluice.log'));
  let writer: FileHandle | undefined;
  let passed = false;
  try {
    const port = await opsPort(processor);
    const before = await get(port, '/state/items/versions/a');
    assert.is(before.status, 404, 'no partition open before the first batch');
    assert.match(String(before.body.error), /owns no partition of flow items/);
    writer = await open(fifo, 'w');
    await writer.write([line('a', 'e1', 1), line('b', 'e2', 5), line('a', 'e3', 3), line('a', 'e1', 9), line('b', 'e4', 2), ''].join('\n'));
    // e1 again is a duplicate (dropped before latest); b's version 2 is stale
    await waitFor('every line settled', async () => {
      const seen = await get(port, '/state/items/seen');
      return (seen.body.partitions as { keys: number }[] | undefined)?.[0]?.keys === 4;
    }, 30_000, 50);
    const a = await get(port, '/state/items/versions/a');
    assert.equal(a.body, { flow: 'items', store: 'versions', partition: 0, key: 'a', value: { version: 3 } });
    assert.equal((await get(port, '/state/items/versions/b')).body.value, { version: 5 }, 'a stale version is not stored');
    assert.equal((await get(port, '/state/items/versions/%22b%22')).body.value, { version: 5 }, 'the key as JSON text');
    const e1 = await get(port, '/state/items/seen/e1');
    assert.is(e1.status, 200);
    const firstSeen = e1.body.value as { firstSeen: string; firstSeenMs: number };
    assert.is(new Date(firstSeen.firstSeen).getTime(), firstSeen.firstSeenMs, 'first seen: one time, twice written');
    assert.ok(Math.abs(firstSeen.firstSeenMs - Date.now()) < 120_000, 'first seen: now');
    const size = await get(port, '/state/items/versions');
    assert.is(size.status, 200);
    assert.is(size.body.backend, 'memory');
    const [partition] = size.body.partitions as { partition: number; keys: number; bytes: number }[];
    assert.equal([partition!.partition, partition!.keys], [0, 2]);
    assert.ok(partition!.bytes > 0, 'bytes counted');
    assert.equal((await get(port, '/state/items')).body, { flow: 'items', stores: ['seen', 'versions'] });

    const missing = await get(port, '/state/items/versions/zz');
    assert.is(missing.status, 404);
    assert.equal(missing.body.searched, [0]);
    assert.match(String(missing.body.error), /key "zz" is in none of the partitions of store versions this instance owns \(searched 0\)/);
    const flow = await get(port, '/state/nope/versions/a');
    assert.is(flow.status, 404);
    assert.match(String(flow.body.error), /no flow "nope" with state stores here: flows with stores: items/);
    const store = await get(port, '/state/items/nope/a');
    assert.is(store.status, 404);
    assert.match(String(store.body.error), /flow items has no store "nope": its stores: seen, versions/);
    const windowed = await get(port, '/state/items/versions/a?from=0&to=10');
    assert.is(windowed.status, 400);
    assert.match(String(windowed.body.error), /store versions of flow items is not windowed/);
    for (const answer of [a, e1, size, missing, flow, store, windowed]) assert.not.ok(answer.text.includes(dir), 'no path in a body');

    await writer.close();
    writer = undefined;
    assert.equal(await processor.exited, { code: 0, signal: null }, processor.explain());
    passed = true;
  } finally {
    await writer?.close();
    if (!processor.exit) await processor.stop('SIGKILL');
    if (passed) rmSync(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}\n${processor.explain()}`);
  }
});

local.run();

// ------------------------------------------------------------------------------------ Kafka

const unique = uniqueNames('sq', 3);
const kafka = suite('state route: Kafka, 2 partitions, two processors');
let admin: KafkajsAdmin;

kafka.before(async () => {
  requireEnvironment();
  ensureBuilt();
  admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
});

kafka.after(async () => {
  await admin?.disconnect();
});

kafka('an owned key answers its value and partition; a key of the other instance\'s partition 404s naming the partition searched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-route-kafka-'));
  const input = unique('in');
  const output = unique('out');
  const group = unique('group');
  const write = (name: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, [
      `log { level = info, destination = "${join(dir, `${name}.log`)}" }`,
      'progress = off',
      'observe.http.port = 0',
      `kafka { brokers = "${BROKERS}", topics { "${input}" = 2, "${output}" = 2 } }`,
      'flows.items {',
      '  on-invalid = drop',
      `  ${RULES}`,
      `  ${stages('lmdb')}`,
      `  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${input}", group-id = "${group}", state-dir = "${join(dir, `${name}-state`)}", session-timeout-ms = 6000, heartbeat-interval-ms = 1000, commit-interval-ms = 200 }`,
      `  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${output}", key = id, encoding = json }`,
      '}',
    ].join('\n'));
    return file;
  };
  const processors: Processor[] = [];
  let passed = false;
  try {
    const fileA = write('a');
    sluice(['topics', 'create', '--config', fileA]);
    const ids = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    const produced = join(dir, 'produce.txt');
    writeFileSync(produced, ids.map((id, i) => `${id}\t${line(id, `ev-${i}`, i + 1)}\n`).join(''));
    kcat(['-P', '-X', 'topic.partitioner=murmur2_random', '-t', input, '-K', '\t', '-l', produced]); // Kafka's default partitioner, as the Java client's
    const partitionOf = (id: string) => keyHash(Buffer.from(id)) % 2;
    assert.equal(new Set(ids.map(partitionOf)), new Set([0, 1]), 'ids on both partitions');

    const a = new Processor(fileA, join(dir, 'a.log'));
    processors.push(a);
    const portA = await opsPort(a);
    await waitFor('every input committed', async () => {
      const committed = await committedOffsets(admin, group, input);
      const ends = await admin.fetchTopicOffsets(input);
      return ends.every((p) => committed.get(p.partition) === p.high);
    }, 60_000, 100);
    for (const [i, id] of ids.entries()) {
      const answer = await get(portA, `/state/items/versions/${id}`);
      assert.equal(answer.body, { flow: 'items', store: 'versions', partition: partitionOf(id), key: id, value: { version: i + 1 } }, `${id} from the only member`);
    }
    const size = await get(portA, '/state/items/versions');
    assert.equal((size.body.partitions as { partition: number; keys: number }[]).map((p) => [p.partition, p.keys]), [0, 1].map((p) => [p, ids.filter((id) => partitionOf(id) === p).length]));

    const b = new Processor(write('b'), join(dir, 'b.log'));
    processors.push(b);
    const portB = await opsPort(b);
    const owned = async (port: number) => ((await get(port, '/state/items/versions')).body.partitions as { partition: number }[]).map((p) => p.partition);
    await waitFor('one partition each, restored', async () => {
      const [ofA, ofB] = [await owned(portA), await owned(portB)];
      return ofA.length === 1 && ofB.length === 1 && ofA[0] !== ofB[0];
    }, 60_000, 200);
    const bodies: string[] = [];
    for (const [i, id] of ids.entries()) {
      const answers = [await get(portA, `/state/items/versions/${id}`), await get(portB, `/state/items/versions/${id}`)];
      const found = answers.filter((x) => x.status === 200);
      assert.is(found.length, 1, `${id}: answered by one member`);
      assert.equal(found[0]!.body, { flow: 'items', store: 'versions', partition: partitionOf(id), key: id, value: { version: i + 1 } });
      const other = answers.find((x) => x.status === 404)!;
      assert.equal(other.body.searched, [1 - partitionOf(id)], `${id}: the other member searched its own partition`);
      assert.match(String(other.body.error), new RegExp(`searched ${1 - partitionOf(id)}\\): another instance may own its partition`));
      bodies.push(...answers.map((x) => x.text));
    }
    for (const body of bodies) for (const value of [...brokerList, ...brokerList.map((x) => `:${x.split(':')[1]!}`), dir]) assert.not.ok(body.includes(value), `a body shows "${value}"`);
    assert.equal(await b.stop('SIGTERM'), { code: 0, signal: null }, b.explain());
    assert.equal(await a.stop('SIGTERM'), { code: 0, signal: null }, a.explain());
    passed = true;
  } finally {
    for (const p of processors) if (!p.exit) await p.stop('SIGKILL');
    await admin.deleteTopics({ topics: [input, output, changelogTopic(group, 'seen'), changelogTopic(group, 'versions')] }).catch(() => undefined);
    if (passed) rmSync(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}\n${processors.map((p) => p.explain()).join('\n')}`);
  }
});

kafka.run();
