// The store interface lives in the contract (component/state.ts) so that stages can hold one;
// a backend opens one store (one store of one input partition) in a directory.
import type { KeyValueStore, StoreBackendName } from '../component/state.ts';

export type { KeyValueStore, StoreWrite } from '../component/state.ts';

/**
 * When a store's writes reach the disk: on every write (what a store with no changelog behind it
 * needs); when `sync` is called (a partition store, before its checkpoint: the changelog holds the
 * rest); never (a store the next run empties: local mode on a file source).
 */
export type StoreFlush = 'every-write' | 'on-sync' | 'never';

export interface StoreBackend {
  readonly name: StoreBackendName;
  /** Opens the store in `dir`, creating it when absent; its writes are flushed on every write unless `flush` says otherwise. */
  open(dir: string, options?: { flush?: StoreFlush }): KeyValueStore;
  /** Imports its library now rather than at the first open (`sluice run`, before its flows start). */
  load?(): void;
}
