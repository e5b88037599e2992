// The store of one input partition: its files under <state-dir>/<store>/<partition>/, its
// checkpoint, the batch transactions that write it, and the changelog records restore applies.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError } from '../errors.ts';
import type { ChangelogEntry } from '../component/state.ts';
import { asWrites } from './changelog.ts';
import { forgetCheckpoint, readCheckpoint, syncDirectory, writeCheckpoint } from './checkpoint.ts';
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
  #closed = false;
  /** Restore's writes (apply, clear) so far: close marks the files flushed only if none came during its flush. */
  #restoreWrites = 0;

  private constructor(name: string, store: KeyValueStore, partition: number, changelog: string, dir: string, position: bigint) {
    this.name = name;
    this.store = store;
    this.partition = partition;
    this.changelog = changelog;
    this.dir = dir;
    this.position = position;
  }

  /**
   * Opens the partition's store, with the changelog position its checkpoint gives. A store missing,
   * found corrupt, without a checkpoint, or left open when the machine went down is rebuilt from the
   * changelog (position 0), with a log line saying so.
   */
  static open(backend: StoreBackend, stateDir: string, storeName: string, partition: number, changelog: string, log: Logger): PartitionStore {
    const dir = join(stateDir, storeName, String(partition));
    const dataDir = join(dir, 'data');
    if (backend.name === 'memory') return new PartitionStore(storeName, backend.open(dataDir), partition, changelog, dir, 0n);
    const rebuild = (why: string, error?: unknown) => {
      log.warn({ store: storeName, partition, path: dataDir, ...(error === undefined ? {} : { err: error }) }, `state store ${why}: rebuilding it from the changelog`);
      // the checkpoint goes first, for good: one outliving the files it describes would skip their records
      forgetCheckpoint(dir);
      rmSync(dataDir, { recursive: true, force: true });
    };
    let position = 0n;
    if (!existsSync(dataDir)) {
      log.info({ store: storeName, partition, path: dataDir }, 'state store missing: rebuilding it from the changelog');
      forgetCheckpoint(dir);
    } else {
      const checkpoint = readCheckpoint(dir, changelog, partition, log);
      // without one the files may hold writes the changelog never committed; a torn one may crash on reading
      if (checkpoint === undefined) rebuild('has no checkpoint');
      else if (!checkpoint.trusted) rebuild('was left open when the machine went down (it may be torn)');
      else position = checkpoint.offset;
    }
    let store: KeyValueStore;
    try {
      store = backend.open(dataDir, { flush: 'on-sync' }); // a state dir it cannot create fails here, naming it
    } catch (error) {
      if (error instanceof SluiceError && error.code !== 'SLC_STORE_CORRUPT') throw error; // the directory, the disk: not the store's content
      rebuild('corrupt', error);
      store = backend.open(dataDir, { flush: 'on-sync' });
      position = 0n;
    }
    try {
      // from here on the files are flushed only when closed: until then only this boot may trust them
      syncDirectory(dataDir);
      writeCheckpoint(dir, changelog, partition, position, { closed: false, durable: true });
    } catch (error) {
      void store.close();
      throw error;
    }
    return new PartitionStore(storeName, store, partition, changelog, dir, position);
  }

  /** A store of local mode: partition 0, no changelog, no checkpoint (the store's files are all there is). */
  static local(name: string, store: KeyValueStore): PartitionStore {
    return new PartitionStore(name, store, 0, '', '', 0n);
  }

  begin(): BatchTransaction {
    if (this.#closed) throw new SluiceError('SLC_STATE', `state store ${this.name} (partition ${this.partition}) is closed: no batch may begin on it`);
    return new BatchTransaction(this.store, this.partition, this.inFlight);
  }

  /** Applies restored changelog records (a tombstone deletes). */
  apply(records: readonly ChangelogEntry[]): void {
    this.#restoreWrites++;
    this.store.write(asWrites(records));
    this.position = records[records.length - 1]!.offset + 1n;
  }

  /** Starts over from an empty store (the changelog was recreated or truncated below the checkpoint). */
  clear(): void {
    this.#restoreWrites++;
    this.store.write([...this.store.entries()].map(([key]) => [key, null] as const));
    this.position = 0n;
  }

  /**
   * Records that the store holds the changelog up to `position` (after commits, on revocation). No
   * flush first: a checkpoint of a store left open is trusted only on this boot of the machine,
   * where the page cache holds every commit.
   */
  checkpoint(position: bigint): void {
    this.position = position;
    if (!this.#closed && this.#onDisk()) writeCheckpoint(this.dir, this.changelog, this.partition, position, { closed: false });
  }

  /**
   * Flushed and closed. Its checkpoint is marked closed (the files trusted after any restart of the
   * machine) only when no batch was in flight before the flush nor after it and no restore wrote
   * meanwhile: no batch begins on a closing store, so every write it holds is on disk.
   */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      const quiet = this.inFlight.length === 0;
      const restoreWrites = this.#restoreWrites;
      if (this.#onDisk()) {
        await this.store.sync();
        syncDirectory(this.#dataDir());
        if (quiet && this.inFlight.length === 0 && this.#restoreWrites === restoreWrites) writeCheckpoint(this.dir, this.changelog, this.partition, this.position, { closed: true });
      }
    } catch {
      // best effort: without the mark, a restart of the machine rebuilds the store (nothing is lost),
      // and what failed here (a full disk) failed the write or checkpoint before it
    } finally {
      await this.store.close();
    }
  }

  #dataDir(): string {
    return join(this.dir, 'data');
  }

  #onDisk(): boolean {
    return this.dir !== '' && existsSync(this.#dataDir());
  }
}
