// The store interface lives in the contract (component/state.ts) so that stages can hold one;
// a backend opens one store (one store of one input partition) in a directory.
import type { KeyValueStore, StoreBackendName } from '../component/state.ts';

export type { KeyValueStore, StoreWrite } from '../component/state.ts';

export interface StoreBackend {
  readonly name: StoreBackendName;
  /**
   * Opens the store in `dir`, creating it when absent. `scratch`: the next run empties it (local
   * mode on a file source), so its writes need not reach the disk.
   */
  open(dir: string, options?: { scratch?: boolean }): KeyValueStore;
}
