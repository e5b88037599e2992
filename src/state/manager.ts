// A flow's stores on Kafka: one partition store per declared store and assigned input partition.
// On assignment each is opened and restored from its changelog before the partition's first batch;
// on revocation and clean shutdown its checkpoint is written and it is closed. The flow's consumer
// group names the changelogs (<group>-<store>-changelog).
import type { Logger } from 'pino';
import type { ChangelogReader, StoreDeclaration } from '../component/state.ts';
import { changelogTopic } from './changelog.ts';
import { lmdbBackend } from './lmdb.ts';
import { memoryBackend } from './memory.ts';
import { PartitionStore } from './partition.ts';
import { type RestoreProgress, type RestoreResult, restorePartition } from './restore.ts';
import type { StoreBackend } from './store.ts';
import type { BatchTransaction } from './transaction.ts';

export interface StateManagerOptions {
  readonly group: string;
  readonly stores: readonly StoreDeclaration[];
  readonly stateDir: string;
  readonly reader: ChangelogReader;
  readonly log: Logger;
  /** Called as restore goes, with the store's name. */
  readonly onProgress?: (store: string, progress: RestoreProgress) => void;
  /** Called once a partition store is ready for its first batch. */
  readonly onRestored?: (store: string, result: RestoreResult) => void;
}

const BACKENDS: Readonly<Record<StoreDeclaration['backend'], StoreBackend>> = { lmdb: lmdbBackend, memory: memoryBackend };

/** Imports the libraries of the backends these stores are kept in, before their first open. */
export function loadStoreLibraries(stores: readonly StoreDeclaration[]): void {
  for (const store of stores) BACKENDS[store.backend].load?.();
}

const id = (store: string, partition: number) => `${store}\u0000${partition}`;

/** A store's checkpoint to write once the batches in flight when its changelog end was read have ended. */
interface PendingCheckpoint {
  readonly end: bigint;
  readonly waitFor: readonly BatchTransaction[];
}

export class StateManager {
  readonly #options: StateManagerOptions;
  readonly #open = new Map<string, PartitionStore>();
  readonly #pending = new Map<PartitionStore, PendingCheckpoint>();

  /** Stores handed over by a reload's predecessor: kept for the partitions of the next assignment, the others closed. */
  #adopted: PartitionStore[] = [];
  /** Stores opened and not yet restored. */
  readonly #restoring = new Set<PartitionStore>();
  /**
   * Stores restored (or adopted) whose partition's first batch has not refreshed them yet: the
   * previous owner may have added to the changelog since, so their position is what they hold,
   * not the changelog's end.
   */
  readonly #unrefreshed = new Set<PartitionStore>();
  /** Closed for a shutdown: a later assignment opens nothing. */
  #closed = false;

  constructor(options: StateManagerOptions) {
    this.#options = options;
  }

  /** The changelog topics of the stores, `<group>-<store>-changelog`. */
  changelogs(): string[] {
    return this.#options.stores.map((s) => changelogTopic(this.#options.group, s.name));
  }

  /** Takes over open stores (a reload's predecessor's, before this flow's first assignment). */
  adopt(stores: readonly PartitionStore[]): void {
    for (const store of stores) {
      this.#open.set(id(store.name, store.partition), store);
      this.#adopted.push(store);
      this.#unrefreshed.add(store);
    }
  }

  /** Opens and restores the stores of newly assigned partitions; resolves when all are ready for a first batch. */
  async assign(partitions: readonly number[]): Promise<RestoreResult[]> {
    // a rebalance that lands while the flow shuts down: nothing of these partitions runs any more,
    // and the reader a restore (or a later revoke's checkpoint) needs may be closed already
    if (this.#closed) return [];
    const { group, stores, stateDir, reader, log, onProgress, onRestored } = this.#options;
    const results: RestoreResult[] = [];
    if (this.#adopted.length > 0) {
      const elsewhere = [...new Set(this.#adopted.map((s) => s.partition))].filter((p) => !partitions.includes(p));
      this.#adopted = [];
      await this.revoke(elsewhere);
    }
    for (const partition of partitions) {
      for (const { name, backend } of stores) {
        if (this.#open.has(id(name, partition))) continue;
        const store = PartitionStore.open(BACKENDS[backend], stateDir, name, partition, changelogTopic(group, name), log);
        this.#open.set(id(name, partition), store);
        this.#restoring.add(store);
        const result = await restorePartition(store, reader, log, onProgress && ((progress) => onProgress(name, progress))).finally(() => this.#restoring.delete(store));
        this.#unrefreshed.add(store);
        onRestored?.(name, result);
        results.push(result);
      }
    }
    return results;
  }

  /** Restores again, from where each store stands, the open stores of these partitions (no batch of them in flight). */
  async refresh(partitions: readonly number[]): Promise<void> {
    for (const store of [...this.#open.values()]) {
      if (!partitions.includes(store.partition)) continue;
      this.#pending.delete(store); // its end may be of a changelog the restore found recreated
      await restorePartition(store, this.#options.reader, this.#options.log);
      this.#unrefreshed.delete(store);
    }
  }

  /** The store `name` of an assigned partition (undefined before `assign` or after `revoke`). */
  store(name: string, partition: number): PartitionStore | undefined {
    return this.#open.get(id(name, partition));
  }

  /** The open partition stores ready for batches (restored): what queries read. */
  ready(): PartitionStore[] {
    return [...this.#open.values()].filter((s) => !this.#restoring.has(s));
  }

  /** The open partition stores. */
  stores(): Iterable<PartitionStore> {
    return this.#open.values();
  }

  /**
   * After a commit: a store holds its changelog up to the end read now (the store's partition has
   * one writer, this instance) once the batches in flight at that moment have ended: every record
   * below the end came from one of them or from a batch already ended, and each reached the store
   * or failed (a batch begun later writes above the end). With none in flight the checkpoint is
   * written at once; else it waits for the next call after they ended, and no newer one replaces
   * it meanwhile — so under steady load, with a batch always in flight, a checkpoint is still
   * written every other call at most.
   */
  async checkpoint(): Promise<void> {
    for (const store of [...this.#open.values()]) {
      // the changelog's end is not what these hold: one restoring, or one its first batch will refresh
      if (this.#restoring.has(store) || this.#unrefreshed.has(store)) continue;
      const pending = this.#pending.get(store);
      if (pending !== undefined) {
        if (pending.waitFor.some((batch) => store.inFlight.includes(batch))) continue;
        this.#pending.delete(store);
        if (pending.end >= store.position) store.checkpoint(pending.end);
      }
      const end = await this.#options.reader.endOffset(store.changelog, store.partition);
      if (this.#open.get(id(store.name, store.partition)) !== store) continue;
      if (store.inFlight.length === 0) store.checkpoint(end);
      else this.#pending.set(store, { end, waitFor: [...store.inFlight] });
    }
  }

  /** Checkpoints and closes the stores of partitions taken away (their batches delivered or failed). */
  async revoke(partitions: readonly number[]): Promise<void> {
    for (const [key, store] of [...this.#open]) {
      if (!partitions.includes(store.partition)) continue;
      this.#open.delete(key);
      this.#pending.delete(store);
      try {
        await this.#checkpointAtEnd(store);
      } finally {
        this.#unrefreshed.delete(store);
        await store.close();
      }
    }
  }

  /** With no batch in flight, the store holds its changelog to the end (unless it awaits a refresh: then to where it stands). */
  async #checkpointAtEnd(store: PartitionStore): Promise<void> {
    if (this.#restoring.has(store)) return;
    if (this.#unrefreshed.has(store)) return store.checkpoint(store.position);
    const end = await this.#options.reader.endOffset(store.changelog, store.partition);
    if (store.inFlight.length === 0) store.checkpoint(end);
  }

  /** A reload keeps the stores for the flow's successor: every store checkpointed and handed over open. */
  async detach(): Promise<PartitionStore[]> {
    const stores = [...this.#open.values()];
    this.#open.clear();
    for (const store of stores) await this.#checkpointAtEnd(store);
    return stores;
  }

  /** Clean shutdown: every store checkpointed and closed. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.revoke([...new Set([...this.#open.values()].map((s) => s.partition))]);
  }
}
