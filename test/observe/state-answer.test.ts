// The ops route's answers over in-memory stores (src/observe/state-route.ts), without a process:
// a store keyed by the records' keys (aggregate) names the partition of a key another instance
// owns (where the input puts a record with that key); a store keyed by a field of the record
// (dedupe, latest) cannot know it and says which partitions it searched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueryableState, StoreCodec, StoreDeclaration } from '../../src/component/state.ts';
import { keyPartition } from '../../src/io/kafka/key-hash.ts';
import { answerStateQuery } from '../../src/observe/state-route.ts';
import { MemoryStore } from '../../src/state/memory.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec: StoreCodec = { key: (text) => encoder.encode(text), value: (bytes) => decoder.decode(bytes) };

/** Partition 0 of 2 open here, holding `keys` (each key's value is its text reversed). */
function flowOwningPartition0(keys: readonly string[], declaration: StoreDeclaration, partitions: number | undefined): QueryableState {
  const store = new MemoryStore();
  store.write(keys.map((key) => [encoder.encode(key), encoder.encode([...key].reverse().join(''))] as const));
  return {
    flow: 'items',
    stores: [declaration],
    partitions: () => [{ partition: 0, store }],
    ...(partitions === undefined ? {} : { keyPartition: (key: string) => keyPartition(encoder.encode(key), partitions) }),
  };
}

const ask = (flow: QueryableState, key: string, window: { from?: string; to?: string } = {}) =>
  answerStateQuery({ flows: () => [flow] }, { flow: 'items', store: 'counts', key, ...window });

// keys on each side of Kafka's default partitioner over 2 partitions
const keys = Array.from({ length: 40 }, (_, i) => `item-${i}`);
const mine = keys.filter((k) => keyPartition(encoder.encode(k), 2) === 0);
const theirs = keys.filter((k) => keyPartition(encoder.encode(k), 2) === 1);

test('a store keyed by the records\' keys: a key of a partition another instance owns is a 404 naming its partition', () => {
  assert.ok(mine.length > 0 && theirs.length > 0, 'keys on both partitions');
  const flow = flowOwningPartition0(mine, { name: 'counts', backend: 'memory', codec, keyedByRecord: true }, 2);
  const found = ask(flow, mine[0]!);
  assert.equal(found, { status: 200, body: { flow: 'items', store: 'counts', partition: 0, key: mine[0], value: [...mine[0]!].reverse().join('') } });
  const elsewhere = ask(flow, theirs[0]!);
  assert.is(elsewhere.status, 404);
  assert.equal([elsewhere.body.partition, elsewhere.body.searched], [1, [0]]);
  assert.match(String(elsewhere.body.error), `key "${theirs[0]}" of store counts belongs to partition 1`);
  assert.match(String(elsewhere.body.error), 'ask the instance that owns partition 1');
  // a windowed query is sent to the same owner
  assert.equal(ask(flow, theirs[0]!, { from: '0', to: '10' }).body.partition, 1);
  // a key of an owned partition that is not stored: searched here, no partition to send it to
  const absent = keys.map((k) => `${k}-new`).find((k) => keyPartition(encoder.encode(k), 2) === 0)!;
  const none = ask(flow, absent);
  assert.is(none.status, 404);
  assert.equal([none.body.partition, none.body.searched], [undefined, [0]]);
});

test('a store keyed by a field (dedupe, latest) or in local mode: every owned partition searched, none named', () => {
  const byField = flowOwningPartition0(mine, { name: 'counts', backend: 'memory', codec }, 2);
  const answer = ask(byField, theirs[0]!);
  assert.is(answer.status, 404);
  assert.equal([answer.body.partition, answer.body.searched], [undefined, [0]]);
  assert.match(String(answer.body.error), 'another instance may own its partition');
  const local = flowOwningPartition0(mine, { name: 'counts', backend: 'memory', codec, keyedByRecord: true }, undefined);
  assert.equal(ask(local, theirs[0]!).body.searched, [0]);
});

test.run();
