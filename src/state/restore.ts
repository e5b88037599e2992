// Restores a partition store from its changelog before the partition's first batch: from the
// checkpointed position (0 without one) up to the changelog's end as it is when restore starts.
import type { Logger } from 'pino';
import { SluiceError } from '../errors.ts';
import type { ChangelogReader } from '../component/state.ts';
import type { PartitionStore } from './partition.ts';

export interface RestoreProgress {
  readonly changelog: string;
  readonly partition: number;
  /** Records applied so far. */
  restored: number;
  /** Offsets to read in all (an upper bound: compaction leaves gaps). */
  readonly toRestore: number;
}

export interface RestoreResult {
  readonly from: bigint;
  readonly until: bigint;
  readonly restored: number;
  readonly seconds: number;
}

export async function restorePartition(store: PartitionStore, reader: ChangelogReader, log: Logger, onProgress?: (progress: RestoreProgress) => void): Promise<RestoreResult> {
  const started = performance.now();
  let until: bigint;
  try {
    until = await reader.endOffset(store.changelog, store.partition);
  } catch (error) {
    throw new SluiceError('SLC_CONFIG', `changelog topic ${store.changelog} (partition ${store.partition}) is missing: create it with \`sluice topics create\``, { cause: error });
  }
  if (store.position > until) {
    log.warn({ changelog: store.changelog, partition: store.partition, checkpoint: String(store.position), end: String(until) }, 'changelog ends before the checkpoint (recreated?): the store restores in full');
    store.clear();
  }
  const from = store.position;
  const progress: RestoreProgress = { changelog: store.changelog, partition: store.partition, restored: 0, toRestore: Number(until - from) };
  if (from < until) {
    await reader.read(store.changelog, store.partition, from, until, (records) => {
      store.apply(records);
      progress.restored += records.length;
      onProgress?.(progress);
    });
  }
  store.checkpoint(until);
  const seconds = (performance.now() - started) / 1000;
  if (progress.restored > 0) log.info({ changelog: store.changelog, partition: store.partition, from: String(from), until: String(until), restored: progress.restored, seconds }, 'state store restored');
  return { from, until, restored: progress.restored, seconds };
}
