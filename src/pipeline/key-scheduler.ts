// Ordering per key for stages that call out: the records of a batch run concurrently, except that
// records with the same key run one after the other, in input order — also across the batches in
// flight (a later batch's record waits for the earlier batch's record of its key).
import { latin1 } from '../component/fields.ts';

const DONE = Promise.resolve();

/** A message key as a map key (bytes to a string, one char per byte). */
export function keyText(key: Uint8Array): string {
  return latin1(key, 0, key.length);
}

export class KeyScheduler {
  /** The last task of each key still running, across the calls in flight. */
  readonly #lastOfKey = new Map<string, Promise<void>>();

  /** Keys with a task still running (none once every call has settled). */
  get pendingKeys(): number {
    return this.#lastOfKey.size;
  }

  /**
   * Runs `task` on every item: items with equal keys one after the other in input order, the
   * others concurrently; items without a key at once. Results come back in input order.
   */
  async run<T, R>(items: readonly T[], keyOf: (item: T) => Uint8Array | null, task: (item: T) => R | Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    const lastOfKey = this.#lastOfKey;
    const tasks = items.map((item, i) => {
      const run = async () => {
        results[i] = await task(item);
      };
      const bytes = keyOf(item);
      if (bytes === null) return run();
      const key = keyText(bytes);
      const next: Promise<void> = (lastOfKey.get(key) ?? DONE).then(run).finally(() => {
        if (lastOfKey.get(key) === next) lastOfKey.delete(key);
      });
      lastOfKey.set(key, next);
      return next;
    });
    await Promise.all(tasks);
    return results;
  }
}
