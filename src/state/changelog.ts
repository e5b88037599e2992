// Changelog records: one per key a batch wrote, on the changelog partition of the store's input
// partition, carrying the source offset the write came from (recovery can tell what was committed).
import type { ChangelogEntry, ChangelogMessage, ChangelogWriter } from '../component/state.ts';
import type { NewTopic } from '../io/kafka/transport.ts';
import type { StoreWrite } from './store.ts';

/** The header naming the input offset a changelog record's write came from (decimal). */
export const SOURCE_OFFSET_HEADER = 'sluice-source-offset';

export const changelogTopic = (group: string, store: string): string => `${group}-${store}-changelog`;

/** The changelog topic as `sluice topics create` makes it: compacted, partitioned like the input. */
export const changelogTopicSpec = (group: string, store: string, partitions: number): NewTopic => ({
  topic: changelogTopic(group, store),
  partitions,
  config: { 'cleanup.policy': 'compact' },
});

export interface ChangelogRecord {
  readonly key: Uint8Array;
  /** null: the key was deleted (a tombstone). */
  readonly value: Uint8Array | null;
  readonly sourceOffset: bigint;
}

/** Sends a batch's changelog records to the partition of the store; resolves once acknowledged. */
export type ChangelogSend = (partition: number, records: readonly ChangelogRecord[]) => Promise<void>;

/** A ChangelogSend over a plain producer (at-least-once; exactly-once will send in the batch's transaction). */
export function changelogProducer(producer: Pick<ChangelogWriter, 'send'>, topic: string): ChangelogSend {
  return (partition, records) => producer.send(topic, changelogMessages(partition, records));
}

/** A batch's changelog records as messages on the store's partition. */
export const changelogMessages = (partition: number, records: readonly ChangelogRecord[]): ChangelogMessage[] =>
  records.map((r) => ({ key: r.key, value: r.value, partition, headers: { [SOURCE_OFFSET_HEADER]: r.sourceOffset.toString() } }));

/** A fetched changelog record as a store write (a record without a key is not Sluice's: skipped). */
export function* asWrites(records: readonly ChangelogEntry[]): Iterable<StoreWrite> {
  for (const record of records) if (record.key !== null) yield [record.key, record.value];
}
