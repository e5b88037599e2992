// The same store tests against every backend (real files in a temp dir for lmdb), then the
// partition store: transactions, checkpoints, a missing or corrupt store, an unwritable state dir.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSluiceError, SluiceError } from '../../src/errors.ts';
import type { ChangelogRecord } from '../../src/state/changelog.ts';
import { lmdbBackend } from '../../src/state/lmdb.ts';
import { memoryBackend } from '../../src/state/memory.ts';
import { PartitionStore } from '../../src/state/partition.ts';
import type { StoreBackend } from '../../src/state/store.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : Buffer.from(value).toString('utf8'));

/** A logger whose lines the test reads. */
function recordingLog() {
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { log, lines };
}

for (const backend of [memoryBackend, lmdbBackend] as StoreBackend[]) {
  const test = suite<{ dir: string }>(`store: ${backend.name}`, { dir: '' });
  test.before.each((context) => {
    context.dir = mkdtempSync(join(tmpdir(), 'sluice-state-'));
  });
  test.after.each((context) => rmSync(context.dir, { recursive: true, force: true }));

  test('put, get, delete in one write; a missing key is undefined', async ({ dir }) => {
    const store = backend.open(join(dir, 'store'));
    store.write([[bytes('a'), bytes('1')], [bytes('b'), bytes('2')], [bytes('c'), bytes('3')]]);
    store.write([[bytes('b'), null], [bytes('a'), bytes('one')]]);
    assert.is(text(store.get(bytes('a'))), 'one');
    assert.is(store.get(bytes('b')), undefined);
    assert.is(store.get(bytes('nope')), undefined);
    assert.is(store.count(), 2);
    await store.close();
  });

  test('entries come in key byte order, binary keys included', async ({ dir }) => {
    const store = backend.open(join(dir, 'store'));
    const keys = [Uint8Array.of(0xff, 0), Uint8Array.of(0), Uint8Array.of(0x7f, 1), Uint8Array.of(0x80)];
    store.write(keys.map((k, i) => [k, Uint8Array.of(i)] as const));
    assert.equal([...store.entries()].map(([k]) => [...k]), [[0], [0x7f, 1], [0x80], [0xff, 0]]);
    assert.equal([...store.entries()].map(([, v]) => v[0]), [1, 2, 3, 0]);
    await store.close();
  });

  test('a scan goes over every entry once, a bounded slice at a time, across writes and deletes; a closed store ends it', async ({ dir }) => {
    const store = backend.open(join(dir, 'store'));
    const keys = Array.from({ length: 250 }, (_, i) => `k-${String(i).padStart(3, '0')}`);
    store.write(keys.map((k) => [bytes(k), bytes('v')] as const));
    const scan = store.scan();
    const seen: string[] = [];
    for (let slice = scan.next(64); slice.length > 0; slice = scan.next(64)) {
      assert.ok(slice.length <= 64, `a slice of ${slice.length}`);
      seen.push(...slice.map(([k]) => text(k)!));
      // between slices: a key seen is deleted, a key not seen yet is rewritten
      store.write([[slice[0]![0], null], [bytes('k-249'), bytes('w')]]);
    }
    assert.equal([...seen].sort(), keys, 'every entry there all along, once');
    assert.equal(scan.next(64), [], 'over');
    const unfinished = store.scan();
    assert.is(unfinished.next(10).length, 10);
    await store.close();
    assert.equal(unfinished.next(10), [], 'a scan of a closed store ends');
  });

  test('a value written is a copy: the caller may reuse its buffer', async ({ dir }) => {
    const store = backend.open(join(dir, 'store'));
    const value = bytes('first');
    store.write([[bytes('k'), value]]);
    value.set(bytes('XXXXX'));
    assert.is(text(store.get(bytes('k'))), 'first');
    await store.close();
  });

  test('transaction: reads its own writes, the store sees them only after prepare and flush', async ({ dir }) => {
    const { log } = recordingLog();
    const partition = PartitionStore.open(backend, dir, 'dedupe', 3, 'g-dedupe-changelog', log);
    partition.store.write([[bytes('old'), bytes('o')]]);
    const tx = partition.begin();
    assert.is(tx.status, 'STARTED');
    tx.put(bytes('k1'), bytes('v1'), 10n);
    tx.put(bytes('k1'), bytes('v1b'), 11n);
    tx.delete(bytes('old'), 12n);
    assert.is(text(tx.get(bytes('k1'))), 'v1b');
    assert.is(tx.get(bytes('old')), undefined);
    assert.is(partition.store.get(bytes('k1')), undefined);
    const sent: { partition: number; records: readonly ChangelogRecord[] }[] = [];
    await tx.prepare(async (p, records) => void sent.push({ partition: p, records }));
    assert.is(tx.status, 'PREPARED');
    // one changelog record per key written, with the source offset of its last write
    assert.equal(sent.map((s) => s.partition), [3]);
    assert.equal(sent[0]!.records.map((r) => [text(r.key), r.value === null ? null : text(r.value), r.sourceOffset]), [['k1', 'v1b', 11n], ['old', null, 12n]]);
    assert.is(partition.store.get(bytes('k1')), undefined);
    tx.flush();
    assert.is(tx.status, 'COMPLETE');
    assert.is(text(partition.store.get(bytes('k1'))), 'v1b');
    assert.is(partition.store.get(bytes('old')), undefined);
    assert.throws(() => tx.put(bytes('x'), bytes('y'), 13n), (e: unknown) => isSluiceError(e, 'SLC_STATE'));
    await partition.close();
  });

  test('transaction: a changelog send that fails leaves the store untouched and the transaction FAILED for good', async ({ dir }) => {
    const { log } = recordingLog();
    const partition = PartitionStore.open(backend, dir, 'dedupe', 0, 'g-dedupe-changelog', log);
    const tx = partition.begin();
    tx.put(bytes('k'), bytes('v'), 1n);
    const refused = await tx.prepare(async () => Promise.reject(new Error('broker down'))).then(() => undefined, (e: unknown) => e);
    assert.match(String(refused), /broker down/);
    assert.is(tx.status, 'FAILED');
    assert.is(partition.store.get(bytes('k')), undefined);
    assert.throws(() => tx.flush(), (e: unknown) => isSluiceError(e, 'SLC_STATE'));
    assert.throws(() => tx.get(bytes('k')), (e: unknown) => isSluiceError(e, 'SLC_STATE'));
    const failed = partition.begin();
    failed.put(bytes('k'), bytes('v'), 2n);
    failed.fail();
    assert.throws(() => failed.put(bytes('k'), bytes('v'), 3n), (e: unknown) => isSluiceError(e, 'SLC_STATE'));
    assert.is(partition.store.get(bytes('k')), undefined);
    await partition.close();
  });

  test.run();
}

const disk = suite<{ dir: string }>('store: lmdb files, checkpoints and faults', { dir: '' });
disk.before.each((context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'sluice-state-'));
});
disk.after.each((context) => rmSync(context.dir, { recursive: true, force: true }));

disk('a store reopened keeps its keys and the position its checkpoint gives', async ({ dir }) => {
  const { log, lines } = recordingLog();
  const first = PartitionStore.open(lmdbBackend, dir, 'seen', 1, 'g-seen-changelog', log);
  assert.ok(lines.some((l) => l.msg === 'state store missing: rebuilding it from the changelog'));
  first.store.write([[bytes('k'), bytes('v')]]);
  first.checkpoint(42n);
  await first.close();
  const again = PartitionStore.open(lmdbBackend, dir, 'seen', 1, 'g-seen-changelog', log);
  assert.is(again.position, 42n);
  assert.is(text(again.store.get(bytes('k'))), 'v');
  await again.close();
});

disk('a checkpoint of another changelog, or a corrupt one, is ignored: the store starts over, emptied', async ({ dir }) => {
  const { log, lines } = recordingLog();
  const first = PartitionStore.open(lmdbBackend, dir, 'seen', 1, 'g-seen-changelog', log);
  first.store.write([[bytes('k'), bytes('v')]]);
  first.checkpoint(42n);
  await first.close();
  const other = PartitionStore.open(lmdbBackend, dir, 'seen', 1, 'other-seen-changelog', log);
  assert.is(other.position, 0n);
  assert.is(other.store.count(), 0);
  assert.ok(lines.some((l) => l.msg.startsWith('state checkpoint names another changelog partition')));
  await other.close();
  writeFileSync(join(dir, 'seen', '1', 'checkpoint.json'), '{"changelog": "g-seen');
  const corrupt = PartitionStore.open(lmdbBackend, dir, 'seen', 1, 'g-seen-changelog', log);
  assert.is(corrupt.position, 0n);
  assert.ok(lines.some((l) => l.msg.startsWith('state checkpoint is corrupt')));
  await corrupt.close();
});

/** What the machine going down looks like to the next boot: the files as the process left them, the checkpoint written on another boot. */
function bootAgain(dir: string, partition: number): void {
  const path = join(dir, 'seen', String(partition), 'checkpoint.json');
  const checkpoint = JSON.parse(readFileSync(path, 'utf8')) as { boot: string };
  assert.ok(checkpoint.boot.length > 0, 'the checkpoint names the boot it was written on');
  writeFileSync(path, JSON.stringify({ ...checkpoint, boot: 'an-earlier-boot' }));
}

disk('a store left open (the process killed) is trusted on the same boot; after the machine restarted, it is rebuilt', async ({ dir }) => {
  const { log, lines } = recordingLog();
  const first = PartitionStore.open(lmdbBackend, dir, 'seen', 2, 'g-seen-changelog', log);
  first.store.write([[bytes('k'), bytes('v')]]);
  first.checkpoint(42n);
  first.store.write([[bytes('later'), bytes('not flushed')]]);
  await first.store.close(); // the files closed, the partition store never: as a killed process leaves them
  const sameBoot = PartitionStore.open(lmdbBackend, dir, 'seen', 2, 'g-seen-changelog', log);
  assert.is(sameBoot.position, 42n);
  assert.is(text(sameBoot.store.get(bytes('later'))), 'not flushed');
  await sameBoot.store.close();
  bootAgain(dir, 2);
  const rebooted = PartitionStore.open(lmdbBackend, dir, 'seen', 2, 'g-seen-changelog', log);
  assert.ok(lines.some((l) => l.msg === 'state store was left open when the machine went down (it may be torn): rebuilding it from the changelog'), JSON.stringify(lines));
  assert.is(rebooted.position, 0n);
  assert.is(rebooted.store.count(), 0);
  await rebooted.close();
});

disk('a store closed cleanly is trusted after the machine restarted', async ({ dir }) => {
  const { log, lines } = recordingLog();
  const first = PartitionStore.open(lmdbBackend, dir, 'seen', 3, 'g-seen-changelog', log);
  first.store.write([[bytes('k'), bytes('v')]]);
  first.checkpoint(42n);
  await first.close();
  bootAgain(dir, 3);
  const rebooted = PartitionStore.open(lmdbBackend, dir, 'seen', 3, 'g-seen-changelog', log);
  assert.is(rebooted.position, 42n);
  assert.is(text(rebooted.store.get(bytes('k'))), 'v');
  assert.not.ok(lines.some((l) => l.msg.includes('left open')));
  // open again, it is written without a flush per write: a crash from here on must not find it "closed"
  await rebooted.store.close();
  bootAgain(dir, 3);
  const again = PartitionStore.open(lmdbBackend, dir, 'seen', 3, 'g-seen-changelog', log);
  assert.is(again.position, 0n);
  await again.close();
});

disk('a store closed with a batch in flight is not marked closed, and no batch begins on a closed store', async ({ dir }) => {
  const { log, lines } = recordingLog();
  const first = PartitionStore.open(lmdbBackend, dir, 'seen', 4, 'g-seen-changelog', log);
  first.checkpoint(7n);
  const batch = first.begin();
  batch.put(bytes('k'), bytes('v'), 7n);
  batch.sent();
  const closing = first.close();
  batch.flush(); // written while the close flushes: the files may hold more than that flush
  await closing;
  assert.throws(() => first.begin(), (e: unknown) => isSluiceError(e, 'SLC_STATE'));
  bootAgain(dir, 4);
  const rebooted = PartitionStore.open(lmdbBackend, dir, 'seen', 4, 'g-seen-changelog', log);
  assert.is(rebooted.position, 0n);
  assert.ok(lines.some((l) => l.msg.includes('left open when the machine went down')));
  await rebooted.close();
});

for (const [damage, harm] of [
  ['truncated', (path: string) => truncateSync(path, 5000)],
  ['zeroed', (path: string) => writeFileSync(path, Buffer.alloc(16384))],
  ['random bytes', (path: string) => writeFileSync(path, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)))],
] as const) {
  disk(`a ${damage} store file is rebuilt from the changelog with a log line (not a crash)`, async ({ dir }) => {
    const { log, lines } = recordingLog();
    const first = PartitionStore.open(lmdbBackend, dir, 'seen', 0, 'g-seen-changelog', log);
    first.store.write(Array.from({ length: 3000 }, (_, i) => [bytes(`key-${i}`), Buffer.alloc(100, i)] as const));
    first.checkpoint(3000n);
    await first.close();
    harm(join(dir, 'seen', '0', 'data', 'data.mdb'));
    const rebuilt = PartitionStore.open(lmdbBackend, dir, 'seen', 0, 'g-seen-changelog', log);
    assert.ok(lines.some((l) => l.msg === 'state store corrupt: rebuilding it from the changelog'), JSON.stringify(lines));
    assert.is(rebuilt.position, 0n);
    assert.is(rebuilt.store.count(), 0);
    rebuilt.store.write([[bytes('k'), bytes('v')]]);
    assert.is(text(rebuilt.store.get(bytes('k'))), 'v');
    await rebuilt.close();
  });
}

disk('a state dir that cannot be a directory is a SluiceError naming the path', ({ dir }) => {
  const { log } = recordingLog();
  const blocked = join(dir, 'not-a-dir');
  writeFileSync(blocked, 'a file where the state dir should be');
  assert.throws(
    () => PartitionStore.open(lmdbBackend, blocked, 'seen', 0, 'g-seen-changelog', log),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLC_IO' && e.message.includes(join(blocked, 'seen', '0', 'data')),
  );
});

disk('a full disk is a SluiceError naming the store (a 256 KiB tmpfs; needs root to mount)', async ({ dir }) => {
  const mountPoint = join(dir, 'small-disk');
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    console.log(`  skipped: cannot mount a tmpfs here (${mounted.stderr.trim()})`);
    return;
  }
  try {
    const { log } = recordingLog();
    const store = PartitionStore.open(lmdbBackend, mountPoint, 'seen', 0, 'g-seen-changelog', log);
    let failure: unknown;
    try {
      for (let batch = 0; batch < 100; batch++) store.store.write(Array.from({ length: 1000 }, (_, i) => [bytes(`k${batch}-${i}`), Buffer.alloc(100)] as const));
    } catch (error) {
      failure = error;
    }
    assert.instance(failure, SluiceError);
    assert.is((failure as SluiceError).message, `state store ${join(mountPoint, 'seen', '0', 'data')}: cannot write: the disk is full`);
    await store.close();
  } finally {
    spawnSync('umount', [mountPoint]);
  }
});

disk.run();
