// dedupe on its own: a key seen within retention is filtered (or dead-lettered), one or more key
// fields, a missing or non-scalar key field is a failure of its own, an on-disk store keeps keys
// across runs and forgets them after retention, and the purge of expired keys goes round a large
// store a slice at a time (on a manual clock: time moves when the test says).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { stages } from '../../src/pipeline/registry.ts';
import { dedupeStage, PURGE_SLICE } from '../../src/stages/dedupe.ts';
import { ManualClock } from '../../src/testing/clock.ts';
import { openFlowStore } from '../../src/state/local.ts';
import { stageUnderTest } from '../support/stage.ts';

const rules = {
  type: 'object',
  properties: { eventId: { type: 'string' }, userId: { type: 'integer' }, campaignId: { type: 'string' }, meta: { type: 'object' } },
};

const describe = (outcome: { kind: string; code?: string; deadLetter?: boolean }) => (outcome.kind === 'fail' ? `fail:${outcome.code}:${outcome.deadLetter ? 'dlq' : 'drop'}` : outcome.kind);

async function outcomes(stage: ReturnType<typeof stageUnderTest>, messages: unknown[]): Promise<string[]> {
  const out: string[] = [];
  for (const message of messages) out.push(describe((await stage.run(message)).outcome as never));
  return out;
}

test('the registry lists dedupe', () => {
  assert.is(stages.dedupe, dedupeStage);
});

test('a key seen before is filtered; other keys continue', async () => {
  const dedupe = stageUnderTest(dedupeStage, { key: 'eventId', backend: 'memory' }, rules);
  assert.equal(await outcomes(dedupe, [{ eventId: 'a' }, { eventId: 'b' }, { eventId: 'a' }, { eventId: 'c' }, { eventId: 'b' }]), ['continue', 'continue', 'filtered', 'continue', 'filtered']);
  await dedupe.close();
});

test('several key fields make one key; on-duplicate = dlq dead-letters with E_DUPLICATE', async () => {
  const dedupe = stageUnderTest(dedupeStage, { key: ['userId', 'campaignId'], 'on-duplicate': 'dlq', backend: 'memory' }, rules);
  assert.equal(await outcomes(dedupe, [{ userId: 1, campaignId: 'x' }, { userId: 1, campaignId: 'y' }, { userId: 2, campaignId: 'x' }, { userId: 1, campaignId: 'x' }]), [
    'continue',
    'continue',
    'continue',
    'fail:E_DUPLICATE:dlq',
  ]);
});

test('a missing or non-scalar key field is E_DEDUPE_KEY (dead-lettered), never a crash, and is not remembered', async () => {
  const dedupe = stageUnderTest(dedupeStage, { key: ['eventId', 'meta'], backend: 'memory' }, rules);
  assert.equal(await outcomes(dedupe, [{ eventId: 'a' }, { eventId: 'a', meta: { x: 1 } }, { eventId: 'a', meta: { x: 1 } }]), ['fail:E_DEDUPE_KEY:dlq', 'fail:E_DEDUPE_KEY:dlq', 'fail:E_DEDUPE_KEY:dlq']);
});

test('a key field the rules do not define: SLC_MAPPING at key[1], before any message', () => {
  try {
    stageUnderTest(dedupeStage, { key: ['eventId', 'colour'] }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['key[1]']);
  }
});

test('retention takes ms or a unit; a bad one is refused', () => {
  assert.is(dedupeStage.config.parse({ key: 'eventId' }).retention, 86_400_000);
  assert.is(dedupeStage.config.parse({ key: 'eventId', retention: '10m' }).retention, 600_000);
  assert.is(dedupeStage.config.parse({ key: 'eventId', retention: 1500 }).retention, 1500);
  assert.not.ok(dedupeStage.config.safeParse({ key: 'eventId', retention: '10 weeks' }).success);
});

test('a key counts as new once retention has passed on the clock, not a millisecond before', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const dedupe = stageUnderTest(dedupeStage, { key: 'eventId', retention: '10m', backend: 'memory' }, rules, { clock });
  assert.equal(await outcomes(dedupe, [{ eventId: 'a' }]), ['continue']);
  clock.advance(600_000 - 1);
  assert.equal(await outcomes(dedupe, [{ eventId: 'a' }, { eventId: 'b' }]), ['filtered', 'continue']);
  clock.advance(1);
  // a's sighting is 10 min old: it counts as new and is remembered from now; b is 1 ms old
  assert.equal(await outcomes(dedupe, [{ eventId: 'a' }, { eventId: 'b' }, { eventId: 'a' }]), ['continue', 'filtered', 'filtered']);
  await dedupe.close();
});

test('on disk: the store keeps its keys across runs, and forgets them after retention', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-dedupe-'));
  const clock = new ManualClock(1_700_000_000_000);
  try {
    const first = stageUnderTest(dedupeStage, { key: 'eventId', retention: '1s' }, rules, { stateDir, clock });
    assert.equal(await outcomes(first, [{ eventId: 'a' }, { eventId: 'b' }]), ['continue', 'continue']);
    await first.close();
    clock.advance(500);
    const second = stageUnderTest(dedupeStage, { key: 'eventId', retention: '1s' }, rules, { stateDir, clock });
    assert.equal(await outcomes(second, [{ eventId: 'a' }, { eventId: 'c' }]), ['filtered', 'continue']);
    await second.close();
    // a and b were seen 1 s ago, c 0.5 s ago: opening purges a and b, and a counts as new
    clock.advance(500);
    const later = stageUnderTest(dedupeStage, { key: 'eventId', retention: '1s' }, rules, { stateDir, clock });
    assert.equal(await outcomes(later, [{ eventId: 'a' }]), ['continue']);
    await later.close();
    const store = openFlowStore(stateDir, 'test', 'dedupe', 'lmdb', pino({ level: 'silent' }));
    assert.equal([...store.entries()].map(([key]) => Buffer.from(key).toString()).sort(), ['"a"', '"c"']); // b purged, a seen again
    await store.close();
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

for (const [backend, expired] of [['memory', 1000], ['lmdb', 200]] as const) {
  test(`${backend}: the purge goes round a store of ${expired} expired keys a slice at a time — at most ${PURGE_SLICE} deleted per record, all gone within a pass, none unexpired`, async () => {
    const stateDir = backend === 'lmdb' ? mkdtempSync(join(tmpdir(), 'sluice-dedupe-purge-')) : undefined;
    const clock = new ManualClock(1_700_000_000_000);
    const dedupe = stageUnderTest(dedupeStage, { key: 'eventId', retention: '1s' }, rules, { stateDir, clock });
    try {
      // the first record's pass (over an empty store) ends at once: the next begins a retention later
      for (let i = 0; i < expired; i++) await dedupe.run({ eventId: `old-${i}` });
      clock.advance(600);
      const fresh = Array.from({ length: 20 }, (_, i) => `fresh-${i}`);
      for (const eventId of fresh) await dedupe.run({ eventId });
      clock.advance(400); // the old keys are 1 s old now: expired; the fresh ones 0.4 s
      assert.is(dedupe.storeKeys().length, expired + fresh.length);
      const deletedPerRecord: number[] = [];
      let keys = expired + fresh.length;
      for (let n = 0; dedupe.storeKeys().some((key) => key.startsWith('"old-')); n++) {
        assert.ok(n <= Math.ceil((expired + fresh.length + n) / PURGE_SLICE), `the pass is over after ${n} records, old keys are left`);
        assert.equal(await outcomes(dedupe, [{ eventId: `new-${n}` }]), ['continue']);
        const now = dedupe.storeKeys().length;
        deletedPerRecord.push(keys + 1 - now);
        keys = now;
      }
      assert.ok(deletedPerRecord.length >= Math.ceil(expired / PURGE_SLICE), `the purge took ${deletedPerRecord.length} records: not one go`);
      assert.ok(deletedPerRecord.every((n) => n <= PURGE_SLICE), `deleted per record: ${deletedPerRecord}`);
      assert.is(deletedPerRecord.reduce((a, b) => a + b, 0), expired);
      const left = dedupe.storeKeys();
      for (const eventId of fresh) assert.ok(left.includes(JSON.stringify(eventId)), `${eventId} (not expired) was purged`);
      assert.is(left.length, fresh.length + deletedPerRecord.length);
      // still remembered: within retention, a fresh key is a duplicate
      assert.equal(await outcomes(dedupe, [{ eventId: 'fresh-0' }]), ['filtered']);
    } finally {
      await dedupe.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }
  });
}

test.run();
