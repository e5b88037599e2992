// The store of one input partition: its files under <state-dir>/<store>/<partition>/, its
// checkpoint, the batch transactions that write it, and the changelog records restore applies.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError } from '../errors.ts';
import type { ChangelogEntry } from '../component/state.ts';
import { asWrites } from './changelog.ts';
import { readCheckpoint, removeCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { KeyValueStore, StoreBackend } from './store.ts';
import { BatchTransaction } from './transaction.ts';

export class PartitionStore {
  /** The store's name (its directory, its changelog's). */
  readonly name: string;
  readonly store: KeyValueStore;
  readonly partition: number;
  readonly changelog: string;
  readonly dir: string;
  /** The changelog offset the store holds everything before (0n: nothing). */
  position: bigint;
  /** Batch transactions begun and not yet flushed or failed, in order. */
  readonly inFlight: BatchTransaction[] = [];

  private constructor(name: string, store: KeyValueStore, partition: number, changelog: string, dir: string, position: bigint) {
    this.name = name;
    this.store = store;
    this.partition = partition;
    this.changelog = changelog;
    this.dir = dir;
    this.position = position;
  }

  /**
   * Opens the partition's store, with the changelog position its checkpoint gives. A store missing
   * or found corrupt is rebuilt from the changelog (position 0), with a log line saying so.
   */
  static open(backend: StoreBackend, stateDir: string, storeName: string, partition: number, changelog: string, log: Logger): PartitionStore {
    const dir = join(stateDir, storeName, String(partition));
    const dataDir = join(dir, 'data');
    if (backend.name === 'memory') return new PartitionStore(storeName, backend.open(dataDir), partition, changelog, dir, 0n);
    if (!existsSync(dataDir)) {
      log.info({ store: storeName, partition, path: dataDir }, 'state store missing: rebuilding it from the changelog');
      const created = backend.open(dataDir); // first: a state dir it cannot create fails here, naming it
      removeCheckpoint(dir);
      return new PartitionStore(storeName, created, partition, changelog, dir, 0n);
    }
    let store: KeyValueStore;
    try {
      store = backend.open(dataDir);
    } catch (error) {
      if (error instanceof SluiceError && error.code !== 'SLC_STORE_CORRUPT') throw error; // the directory, the disk: not the store's content
      log.warn({ store: storeName, partition, path: dataDir, err: error }, 'state store corrupt: rebuilding it from the changelog');
      rmSync(dataDir, { recursive: true, force: true });
      removeCheckpoint(dir);
      return new PartitionStore(storeName, backend.open(dataDir), partition, changelog, dir, 0n);
    }
    const position = readCheckpoint(dir, changelog, partition, log);
    if (position === undefined && store.count() > 0) {
      // without a checkpoint the files may hold writes the changelog never committed: start over
      log.warn({ store: storeName, partition, path: dataDir }, 'state store has no checkpoint: rebuilding it from the changelog');
      store.write([...store.entries()].map(([key]) => [key, null] as const));
    }
    return new PartitionStore(storeName, store, partition, changelog, dir, position ?? 0n);
  }

  /** A store of local mode: partition 0, no changelog, no checkpoint (the store's files are all there is). */
  static local(name: string, store: KeyValueStore): PartitionStore {
    return new PartitionStore(name, store, 0, '', '', 0n);
  }

  begin(): BatchTransaction {
    return new BatchTransaction(this.store, this.partition, this.inFlight);
  }

  /** Applies restored changelog records (a tombstone deletes). */
  apply(records: readonly ChangelogEntry[]): void {
    this.store.write(asWrites(records));
    this.position = records[records.length - 1]!.offset + 1n;
  }

  /** Starts over from an empty store (the changelog was recreated or truncated below the checkpoint). */
  clear(): void {
    this.store.write([...this.store.entries()].map(([key]) => [key, null] as const));
    this.position = 0n;
  }

  /** Records that the store holds the changelog up to `position` (on commit and clean shutdown). */
  checkpoint(position: bigint): void {
    this.position = position;
    if (this.dir !== '' && existsSync(join(this.dir, 'data'))) writeCheckpoint(this.dir, this.changelog, this.partition, position);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
