// A reload's hand-over of a flow's stores in local mode, with real lmdb files: the flow replaced
// hands its open stores to its successor when it closes (the successor's first batch works in the
// very same stores: nothing reopened), a store the successor does not take is closed, and without
// a hand-over the successor opens the files again and finds what was delivered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StoreDeclaration } from '../../src/component/state.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { FlowState } from '../../src/state/flow-state.ts';

const logger = pino({ level: 'silent' });
const STORES: StoreDeclaration[] = [{ name: 'seen', backend: 'lmdb' }, { name: 'recent', backend: 'memory' }];
const bytes = (text: string) => Buffer.from(text);

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-handover-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const flowState = (metrics = new Metrics()) => new FlowState({ flow: 'items', stores: STORES, stateDir: dir, log: logger, metrics });

/** One delivered batch writing `key` in both stores (local mode: remembered at once). */
async function deliver(state: FlowState, key: string): Promise<void> {
  const batch = state.begin(0, 0n);
  batch.view(0).put(bytes(key), bytes('1'));
  batch.view(1).put(bytes(key), bytes('1'));
  await batch.remember();
}

test('handed over: the successor works in the same open stores, the memory store keeps its keys', async () => {
  const before = flowState();
  await deliver(before, 'a');
  const open = STORES.map((s) => before.partitions(s.name)[0]!.store);
  const after = flowState();
  before.handOverTo(after);
  await before.close();
  assert.equal(before.partitions('seen'), [], 'the replaced flow holds no store');
  await deliver(after, 'b');
  assert.ok(STORES.every((s, i) => after.partitions(s.name)[0]!.store === open[i]), 'the very same stores: nothing reopened');
  assert.equal(STORES.map((s) => after.partitions(s.name)[0]!.store.count()), [2, 2], 'the memory store kept its key across the swap');
  await after.close();
  assert.equal(after.partitions('seen'), []);
});

test('not handed over: the stores are closed; the successor reopens the lmdb files (the memory store starts empty)', async () => {
  const before = flowState();
  await deliver(before, 'c');
  const open = before.partitions('seen')[0]!.store;
  await before.close();
  const after = flowState();
  await deliver(after, 'd');
  assert.is.not(after.partitions('seen')[0]!.store, open, 'reopened');
  assert.ok(after.partitions('seen')[0]!.store.get(bytes('c')) !== undefined, 'the delivered key is in the files');
  assert.is(after.partitions('recent')[0]!.store.get(bytes('c')), undefined, 'memory: gone with the flow');
  await after.close();
});

test('a successor that never runs closes what it was handed', async () => {
  const before = flowState();
  await deliver(before, 'e');
  const after = flowState();
  before.handOverTo(after);
  await before.close();
  await after.close(); // the reload was skipped (the process stopping): nothing left open
  const again = flowState();
  await deliver(again, 'f');
  assert.equal(again.partitions('seen')[0]!.store.count(), 6, 'the files hold every delivered key (a..f), reopened after the close');
  await again.close();
});

test.run();
