// Reads one partition from an offset up to a bound, outside any group: what restoring a state
// store from its changelog needs. The library's `fetch` and `listOffsets`, read committed.
import { Consumer as PlatformaticConsumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { SluiceError } from '../../../errors.ts';
import type { KafkaRecord, PartitionReader } from '../transport.ts';
import { visibleRecords } from './consumer.ts';
import { type AdapterOptions, base } from './options.ts';

const FETCH_MAX_BYTES = 50 * 1024 * 1024;
const PARTITION_MAX_BYTES = 8 * 1024 * 1024;
const READER_RETRIES = 3;

export class PlatformaticPartitionReader implements PartitionReader {
  readonly #client: PlatformaticConsumer;
  readonly #ready: () => Promise<void>;

  constructor(options: AdapterOptions) {
    this.#ready = options.ready;
    // the group id is never joined: fetch and listOffsets need none. Fewer retries than the other
    // clients: a changelog topic that does not exist fails restore in a second or two, not minutes
    this.#client = new PlatformaticConsumer({
      ...base(options, `${options.clientId}-restore`),
      retries: READER_RETRIES,
      groupId: `${options.clientId}-restore`,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
  }

  async endOffset(topic: string, partition: number): Promise<bigint> {
    await this.#ready();
    const offsets = await this.#client.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: ListOffsetTimestamps.LATEST, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
    const end = offsets.get(topic)?.[partition];
    if (end === undefined) throw new SluiceError('SLC_IO', `no end offset for ${topic} partition ${partition}`);
    return end;
  }

  async read(topic: string, partition: number, from: bigint, until: bigint, onRecords: (records: readonly KafkaRecord[]) => void): Promise<void> {
    await this.#ready();
    let next = from;
    while (next < until) {
      const metadata = await this.#client.metadata({ topics: [topic] });
      const topicMetadata = metadata.topics.get(topic);
      if (!topicMetadata) throw new SluiceError('SLC_IO', `topic ${topic} not found`);
      const response = await this.#client.fetch({
        node: topicMetadata.partitions[partition]!.leader,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        maxWaitTime: 500,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        topics: [{ topicId: topicMetadata.id, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: PARTITION_MAX_BYTES, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
      });
      const fetched = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
      if (!fetched) continue;
      const batches = fetched.records ?? [];
      const lastBatch = batches[batches.length - 1];
      // compaction leaves gaps and control batches hold no records: the position follows the batches
      if (lastBatch) next = lastBatch.firstOffset + BigInt(lastBatch.lastOffsetDelta) + 1n;
      const records = visibleRecords(fetched, from, true).filter((r) => r.offset < until);
      if (records.length > 0) onRecords(records);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
