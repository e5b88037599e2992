// One interface for every state store backend: byte keys and values, synchronous reads and
// writes (both backends are embedded and answer without I/O waits on the hot path).

/** A write to a store: a value, or null to delete the key. */
export type StoreWrite = readonly [key: Uint8Array, value: Uint8Array | null];

export interface KeyValueStore {
  /** The value stored for `key`, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Applies every write at once: after a crash either all are there or none. */
  write(writes: Iterable<StoreWrite>): void;
  /** Every entry in key byte order (purging, debugging): not for the hot path. */
  entries(): Iterable<readonly [key: Uint8Array, value: Uint8Array]>;
  /** Number of keys. */
  count(): number;
  close(): Promise<void>;
}

/** Opens one store (one store of one input partition) in `dir`, creating it when absent. */
export interface StoreBackend {
  readonly name: 'memory' | 'lmdb';
  open(dir: string): KeyValueStore;
}
