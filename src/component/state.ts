// The state-store interfaces (src/state/ implements them): byte keys and values, synchronous
// reads and writes (the stores are embedded: no I/O wait on the hot path). A stage declares its
// store when it is built and, per record, works in the view of the record's input partition in
// the record's batch (local mode: partition 0, without changelog). What the batch wrote is
// remembered only with its delivery: in its transaction (exactly-once), after its outputs are
// acknowledged (at-least-once).
import { parseJson } from '../core/json-text.ts';

/** A write to a store: a value, or null to delete the key. */
export type StoreWrite = readonly [key: Uint8Array, value: Uint8Array | null];

export interface KeyValueStore {
  /** The value stored for `key`, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Applies every write at once: after a crash either all are there or none. */
  write(writes: Iterable<StoreWrite>): void;
  /** Every entry in key byte order (purging, debugging): not for the hot path. */
  entries(): Iterable<readonly [key: Uint8Array, value: Uint8Array]>;
  /** A pass over every entry, a bounded slice at a time (purging a large store without a pause). */
  scan(): StoreScan;
  /** Number of keys. */
  count(): number;
  /** Bytes the store takes (files or memory), roughly: for the metrics. */
  bytes(): number;
  /** Resolves once every write so far is on disk (a store that flushes on every write, or keeps nothing, has nothing to do). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A resumable pass over a store's entries: each `next` reads at most `limit` more, from where the
 * last one stopped, so a caller bounds the work it does at a time. An entry written or deleted
 * while the pass is under way may be seen or not; every entry there all along is seen once. A pass
 * over a store that was closed ends.
 */
export interface StoreScan {
  /** Up to `limit` more entries; an empty array once the pass is over. */
  next(limit: number): (readonly [key: Uint8Array, value: Uint8Array])[];
}

/** Where a store keeps its data: a Map, or LMDB files under the state dir. */
export type StoreBackendName = 'memory' | 'lmdb';

/** A store a stage declares: its name (directory, changelog) and backend. */
export interface StoreDeclaration {
  readonly name: string;
  readonly backend: StoreBackendName;
  /** How its keys and values read as JSON, for the ops route and `sluice state` (none: not queryable). */
  readonly codec?: StoreCodec;
  /** Its keys are the records' keys (aggregate), so a key's partition is the one the input puts it in. */
  readonly keyedByRecord?: boolean;
}

/** What a query reads of one partition's store: its delivered state (no batch in flight). */
export type StoreReader = Pick<KeyValueStore, 'get' | 'entries' | 'count' | 'bytes'>;

/**
 * How a store's keys and values read as JSON, declared by the stage that writes it: the ops route
 * `GET /state/<flow>/<store>/<key>` and `sluice state` turn the key they are given into store key
 * bytes and a stored value into JSON through it.
 */
export interface StoreCodec {
  /** The store key of a key given as text (a URL path segment, a command-line argument). */
  key(text: string): Uint8Array;
  /** A stored value as JSON. */
  value(bytes: Uint8Array): unknown;
  /**
   * A windowed store: the windows of the key given as text that start in [from, to) (epoch ms),
   * as JSON. A store without it answers single keys only.
   */
  windows?(store: StoreReader, key: string, from: number, to: number): unknown[];
}

/** The queryable state of one running flow: its declared stores and, per store, the partitions this instance has open. */
export interface QueryableState {
  readonly flow: string;
  readonly stores: readonly StoreDeclaration[];
  /** The partitions of `store` this instance owns and has open (restored), in order. */
  partitions(store: string): readonly { readonly partition: number; readonly store: StoreReader }[];
  /**
   * The input partition a record keyed `key` (its UTF-8) goes to under Kafka's default
   * partitioner, once a Kafka source told how many the input has; undefined in local mode.
   */
  keyPartition?(key: string): number | undefined;
}

/** The flows of a process whose stores can be queried (the supervisor gives it to the ops endpoint). */
export interface StateQueries {
  flows(): readonly QueryableState[];
}

/**
 * The key of a stage that stores `JSON.stringify(key)` as UTF-8 (dedupe, latest) from the text a
 * query gives: JSON text (`42`, `"42"`, `["u1","c2"]`) is taken as such, anything else as a string
 * (`evt-1` is `"evt-1"`).
 */
export function jsonKeyBytes(text: string): Uint8Array {
  let key: unknown = text;
  try {
    key = parseJson(text);
  } catch {
    // not JSON: the text is the string key
  }
  return new TextEncoder().encode(JSON.stringify(key));
}

/**
 * A store of one input partition as one batch sees it: reads see the batch's own writes, then
 * those of the partition's earlier batches not delivered yet, then the store.
 */
export interface StoreView {
  /** The input partition (0 in local mode). */
  readonly partition: number;
  get(key: Uint8Array): Uint8Array | undefined;
  /** Keeps copies of both: a caller may reuse its buffers at once. */
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** The store's entries as delivered batches left them (purging): not for the hot path. */
  entries(): Iterable<readonly [key: Uint8Array, value: Uint8Array]>;
  /** A pass over those entries, a slice at a time; it outlives the batch (it reads the store, not the batch). */
  scan(): StoreScan;
}

/** The state a batch works in: the views of its partition's stores, by the slot of their declaration. */
export interface BatchState {
  view(slot: number): StoreView;
}

/** A stage's declared store: the view of a record's partition in the record's batch. */
export interface StateStore {
  of(record: { readonly state?: BatchState | undefined }): StoreView;
}

/** A changelog record as a reader hands it over. */
export interface ChangelogEntry {
  readonly key: Uint8Array | null;
  /** null: a tombstone. */
  readonly value: Uint8Array | null;
  readonly offset: bigint;
}

/** Reads changelog partitions outside any group, read committed (a Kafka source's transport gives one). */
export interface ChangelogReader {
  /** The offset the next committed record will take (the last stable offset). */
  endOffset(topic: string, partition: number): Promise<bigint>;
  /** Hands over the records of [from, until) in order, a fetch at a time. */
  read(topic: string, partition: number, from: bigint, until: bigint, onRecords: (records: readonly ChangelogEntry[]) => void): Promise<void>;
  close(): Promise<void>;
}

/** A changelog record to write: on the partition of its store, maybe a tombstone. */
export interface ChangelogMessage {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly partition: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Writes changelog records outside a transaction (at-least-once); resolves once acknowledged. */
export interface ChangelogWriter {
  send(topic: string, messages: readonly ChangelogMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A flow's state as a partitioned source (Kafka) drives it: the source hands over its changelog
 * reader and writer, restores a partition's stores on assignment before its first batch, and
 * checkpoints and closes them on revocation and clean shutdown.
 */
export interface PartitionedState {
  /**
   * Called once, at the source's creation: `group` names the changelogs (<group>-<store>-changelog);
   * `stateDir`, the source's own, replaces the flow's.
   */
  attach(group: string, reader: ChangelogReader, writer: ChangelogWriter, stateDir?: string): void;
  /** The changelog topics of the flow's stores (once attached). */
  changelogs(): readonly string[];
  /** How the input places a record by its key (the Kafka source, once it knows the input's partitions): for queries. */
  partitionedBy(partitionOf: (key: Uint8Array) => number): void;
  /** Opens and restores the stores of these partitions; resolves when they are ready for a first batch. */
  assign(partitions: readonly number[]): Promise<void>;
  /** Reads what the changelogs of these open partitions gained since their restore (a previous owner's last commit). */
  refresh(partitions: readonly number[]): Promise<void>;
  /** The stores of these partitions hold a partition taken away: checkpointed and closed. */
  revoke(partitions: readonly number[]): Promise<void>;
  /** The partitions whose stores are open. */
  assigned(): readonly number[];
  /** After a commit: checkpoints the stores, each once the batches in flight when its changelog end was read have ended (at most every few seconds). */
  checkpoint(): Promise<void>;
  /** Clean shutdown: every store checkpointed and closed. */
  close(): Promise<void>;
}

/**
 * Encodes text as UTF-8 into one reused buffer, after `lead` bytes the caller fills (a tag): the
 * bytes are valid until the next call, which is enough for a store's get and put (a put copies).
 */
export function utf8Scratch(): (text: string, lead?: number) => Uint8Array {
  const encoder = new TextEncoder();
  let scratch = new Uint8Array(1024);
  return (text, lead = 0) => {
    if (lead + text.length * 3 > scratch.length) scratch = new Uint8Array(lead + text.length * 3);
    return scratch.subarray(0, lead + encoder.encodeInto(text, scratch.subarray(lead)).written);
  };
}
