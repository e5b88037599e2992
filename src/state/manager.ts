// A flow's stores on Kafka: one partition store per declared store and assigned input partition.
// On assignment each is opened and restored from its changelog before the partition's first batch;
// on revocation and clean shutdown its checkpoint is written and it is closed. The flow's consumer
// group names the changelogs (<group>-<store>-changelog).
import type { Logger } from 'pino';
import type { PartitionReader } from '../io/kafka/transport.ts';
import { changelogTopic } from './changelog.ts';
import { PartitionStore } from './partition.ts';
import { type RestoreProgress, type RestoreResult, restorePartition } from './restore.ts';
import type { StoreBackend } from './store.ts';

export interface StateManagerOptions {
  readonly group: string;
  /** The names of the flow's stores. */
  readonly stores: readonly string[];
  readonly backend: StoreBackend;
  readonly stateDir: string;
  readonly reader: PartitionReader;
  readonly log: Logger;
  readonly onProgress?: (progress: RestoreProgress) => void;
}

const id = (store: string, partition: number) => `${store}\u0000${partition}`;

export class StateManager {
  readonly #options: StateManagerOptions;
  readonly #open = new Map<string, PartitionStore>();

  constructor(options: StateManagerOptions) {
    this.#options = options;
  }

  /** Opens and restores the stores of newly assigned partitions; resolves when all are ready for a first batch. */
  async assign(partitions: readonly number[]): Promise<RestoreResult[]> {
    const { group, stores, backend, stateDir, reader, log, onProgress } = this.#options;
    const results: RestoreResult[] = [];
    for (const partition of partitions) {
      for (const name of stores) {
        if (this.#open.has(id(name, partition))) continue;
        const store = PartitionStore.open(backend, stateDir, name, partition, changelogTopic(group, name), log);
        this.#open.set(id(name, partition), store);
        results.push(await restorePartition(store, reader, log, onProgress));
      }
    }
    return results;
  }

  /** The store `name` of an assigned partition (undefined before `assign` or after `revoke`). */
  store(name: string, partition: number): PartitionStore | undefined {
    return this.#open.get(id(name, partition));
  }

  /**
   * After a commit: each open store holds its changelog up to the changelog's end (the store's
   * partition has one writer, this instance), which the checkpoint records.
   */
  async checkpoint(): Promise<void> {
    for (const store of this.#open.values()) store.checkpoint(await this.#options.reader.endOffset(store.changelog, store.partition));
  }

  /** Checkpoints and closes the stores of partitions taken away. */
  async revoke(partitions: readonly number[]): Promise<void> {
    for (const [key, store] of [...this.#open]) {
      if (!partitions.includes(store.partition)) continue;
      store.checkpoint(await this.#options.reader.endOffset(store.changelog, store.partition));
      await store.close();
      this.#open.delete(key);
    }
  }

  /** Clean shutdown: every store checkpointed and closed. */
  async close(): Promise<void> {
    await this.revoke([...new Set([...this.#open.values()].map((s) => s.partition))]);
  }
}
