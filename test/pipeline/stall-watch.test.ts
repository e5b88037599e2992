// The stall watch on a controlled clock: a lane with work and no delivery for max-stall-ms is a
// stall (named, counted in the gauge), a delivery ends it, an aborted batch coming back does not
// restart the clock, a lane that went elsewhere after an abort is no stall, stall-timeout-ms fails
// the flow; what is undelivered is said per lane. And untilInterrupted ends a wait for a source
// that never yields.
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SluiceError } from '../../src/errors.ts';
import { untilInterrupted } from '../../src/pipeline/interruptible.ts';
import { StallWatch } from '../../src/pipeline/stall-watch.ts';
import type { Origin } from '../../src/component/types.ts';

const test = suite('stall watch');

function watch(limits = { maxStallMs: 1000, stallTimeoutMs: 5000 }) {
  const clock = { now: 0 };
  const gauge = { value: -1, set(v: number) { this.value = v; } };
  const failures: SluiceError[] = [];
  const w = new StallWatch({ flow: 'f', limits, logger: pino({ level: 'silent' }), gauge, fail: (e) => failures.push(e), now: () => clock.now });
  return { w, clock, gauge, failures };
}

const at = (offset: bigint): Origin => ({ kind: 'kafka', topic: 't', partition: 3, offset });

test('work without a delivery for max-stall-ms is a stall naming the partition; a delivery ends it', () => {
  const { w, clock, gauge } = watch();
  w.handedOver('t\u00003', 10, at(100n));
  clock.now = 999;
  assert.is(w.problem(), undefined);
  clock.now = 1500;
  assert.is(w.problem(), 'flow f is stalled: t partition 3 delivered nothing for 2 s');
  assert.is(gauge.value, 1);
  w.settled('t\u00003', true);
  assert.is(w.problem(), undefined);
  assert.is(gauge.value, 0);
});

test('an idle lane is no stall; new work starts its clock', () => {
  const { w, clock } = watch();
  w.handedOver('a', 1, at(0n));
  w.settled('a', true);
  clock.now = 10_000;
  assert.is(w.problem(), undefined);
  w.handedOver('a', 1, at(1n));
  clock.now = 10_500;
  assert.is(w.problem(), undefined);
});

test('aborted batches coming back keep the clock running, and say so; a lane gone elsewhere is no stall', () => {
  const { w, clock } = watch();
  w.handedOver('a', 5, at(7n));
  for (let i = 1; i <= 3; i++) {
    clock.now = i * 400;
    w.settled('a', false);
    w.handedOver('a', 5, at(7n));
  }
  clock.now = 1300;
  assert.match(w.problem() ?? '', '3 deliveries failed in a row (transactions aborted)');
  w.settled('a', false); // aborted, and the partition goes to another member: no more hand-overs
  assert.ok(w.problem() !== undefined, 'still counted while it may come back');
  clock.now = 1200 + 1000;
  assert.is(w.problem(), undefined);
});

test('stalled for stall-timeout-ms: the flow fails, naming the stall; 0 never fails', () => {
  const { w, clock, failures } = watch();
  w.handedOver('a', 1, at(0n));
  clock.now = 4999;
  w.problem();
  assert.is(failures.length, 0);
  clock.now = 5000;
  w.problem();
  assert.is(failures.length, 1);
  assert.match(failures[0]!.message, /flow f is stalled: t partition 3 delivered nothing for 5 s: failing after stall-timeout-ms \(5000 ms\)/);
  const never = watch({ maxStallMs: 1000, stallTimeoutMs: 0 });
  never.w.handedOver('a', 1, at(0n));
  never.clock.now = 1e9;
  assert.ok(never.w.problem() !== undefined);
  assert.is(never.failures.length, 0);
});

test('undelivered: per lane, messages, batches and the first offset', () => {
  const { w } = watch();
  w.handedOver('t\u00003', 10, at(100n));
  w.handedOver('t\u00003', 5, at(110n));
  w.handedOver('file', 2, { kind: 'file', file: 'in.ndjson', line: 7 });
  w.handedOver('done', 1, at(0n));
  w.settled('done', true);
  assert.equal(w.undelivered(), ['flow f: t partition 3: 15 messages in 2 batches from offset 100', 'flow f: in.ndjson: 2 messages in 1 batches from line 7']);
});

test('untilInterrupted ends at once while the source waits for ever', async () => {
  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  async function* source() {
    yield 1;
    await new Promise(() => undefined);
  }
  const seen: number[] = [];
  for await (const n of untilInterrupted(source(), interrupted)) {
    seen.push(n);
    interrupt(); // the source's next item never comes: the loop must end all the same
  }
  assert.equal(seen, [1]);
});

test.run();
