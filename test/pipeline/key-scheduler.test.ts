// The per-key scheduler of stages that call out: same key in input order (also across calls in
// flight), different keys and keyless items concurrently, results in input order. Tasks finish
// when the test resolves them, so the order they run in is observed, not timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyScheduler, keyText } from '../../src/pipeline/key-scheduler.ts';

const bytes = (text: string | null) => (text === null ? null : new TextEncoder().encode(text));

interface Item {
  readonly id: string;
  readonly key: Uint8Array | null;
}

/** Tasks that start when the scheduler runs them and end when the test says so. */
function controlled() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const task = (item: Item) =>
    new Promise<string>((resolve) => {
      started.push(item.id);
      finish.set(item.id, () => resolve(`done ${item.id}`));
    });
  /** Lets pending promise callbacks run (a task that may now start, starts). */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { started, task, settle, end: async (id: string) => (finish.get(id)!(), settle()) };
}

const items = (...specs: [string, string | null][]): Item[] => specs.map(([id, key]) => ({ id, key: bytes(key) }));

test('one key runs in input order, other keys and keyless items at once; results in input order', async () => {
  const scheduler = new KeyScheduler();
  const { started, task, settle, end } = controlled();
  const run = scheduler.run(items(['a1', 'a'], ['b1', 'b'], ['a2', 'a'], ['n1', null], ['a3', 'a']), (i) => i.key, task);
  await settle();
  assert.equal([...started].sort(), ['a1', 'b1', 'n1'], 'the first of each key and the keyless one start at once');
  await end('b1');
  await end('n1');
  assert.equal([...started].sort(), ['a1', 'b1', 'n1'], 'a2 waits for a1, whatever the other keys do');
  await end('a1');
  assert.equal(started.slice(3), ['a2']);
  await end('a2');
  await end('a3');
  assert.equal(await run, ['done a1', 'done b1', 'done a2', 'done n1', 'done a3']);
  assert.is(scheduler.pendingKeys, 0, 'nothing is kept once every task ended');
});

test('across calls in flight: a later call waits for the earlier call of its key', async () => {
  const scheduler = new KeyScheduler();
  const { started, task, settle, end } = controlled();
  const first = scheduler.run(items(['x1', 'x']), (i) => i.key, task);
  const second = scheduler.run(items(['x2', 'x'], ['y1', 'y']), (i) => i.key, task);
  await settle();
  assert.equal(started, ['x1', 'y1']);
  await end('y1');
  await end('x1');
  assert.equal(started, ['x1', 'y1', 'x2']);
  await end('x2');
  assert.equal([await first, await second], [['done x1'], ['done x2', 'done y1']]);
});

test('a failed task rejects its call and does not hold its key', async () => {
  const scheduler = new KeyScheduler();
  const failing = scheduler.run(items(['f', 'k']), (i) => i.key, () => Promise.reject(new Error('boom')));
  const error = await failing.then(() => undefined, (e: unknown) => e);
  assert.instance(error, Error);
  assert.is((error as Error).message, 'boom');
  assert.equal(await scheduler.run(items(['g', 'k']), (i) => i.key, (i) => i.id), ['g']);
  assert.is(scheduler.pendingKeys, 0);
});

test('keyText: one char per byte, long keys too', () => {
  assert.is(keyText(new Uint8Array([0x61, 0xff, 0x00])), 'a\u00ff\u0000');
  const long = new Uint8Array(5000).fill(0xe9);
  assert.is(keyText(long), '\u00e9'.repeat(5000));
});

test.run();
