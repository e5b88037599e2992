// A flow waits for its source's next batch; a failure found meanwhile (a batch that cannot be
// delivered, a stall past its timeout) must end the flow now, not when the next batch comes,
// which may be never: the failed batch's partition is not fetched again.

const INTERRUPTED: unique symbol = Symbol('interrupted');

/**
 * Iterates `source` until `interrupted` settles, then ends at once, even while the source is
 * still waiting for its next item (it is then left to finish on its own: it may never).
 */
export async function* untilInterrupted<T>(source: AsyncIterable<T>, interrupted: Promise<void>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  // one reaction on `interrupted` for the whole run: a Promise.race with it per item would add a
  // reaction per item to a promise that lives as long as the flow, each holding its item
  let wake: ((value: typeof INTERRUPTED) => void) | undefined;
  let stopped = false;
  void interrupted.then(() => {
    stopped = true;
    wake?.(INTERRUPTED);
  });
  let waiting = false;
  let done = false;
  try {
    for (;;) {
      if (stopped) return;
      waiting = true;
      const next = await new Promise<IteratorResult<T> | typeof INTERRUPTED>((resolve, reject) => {
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      wake = undefined;
      if (next === INTERRUPTED) return; // the source's next item still pending
      waiting = false;
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // a source still waiting for its next item runs its own cleanup once that settles
    if (!done) {
      if (waiting) void iterator.return?.()?.catch(() => undefined);
      else await iterator.return?.();
    }
  }
}
