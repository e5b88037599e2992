// The state-store interface a stage sees (src/state/ implements it): byte keys and values,
// synchronous reads and writes (the stores are embedded: no I/O wait on the hot path).

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

/** Where a store keeps its data: a Map, or LMDB files under the state dir. */
export type StoreBackendName = 'memory' | 'lmdb';
