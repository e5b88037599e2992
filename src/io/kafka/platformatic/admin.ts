// The @platformatic/kafka admin adapter: committed offsets, topics.
import { Admin as PlatformaticAdmin, ConfigResourceTypes, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { SluiceError } from '../../../errors.ts';
import type { Admin, NewTopic, PartitionOffset } from '../transport.ts';
import { type AdapterOptions, base, hasError } from './options.ts';

export class PlatformaticAdminAdapter implements Admin {
  readonly #admin: PlatformaticAdmin;

  readonly #ready: () => Promise<void>;

  constructor(options: AdapterOptions) {
    this.#ready = options.ready;
    this.#admin = new PlatformaticAdmin(base(options));
  }

  async committedOffset(groupId: string, topic: string, partition: number): Promise<bigint> {
    await this.#ready();
    const [group] = await this.#admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [partition] }] }], requireStable: true });
    const found = group?.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition);
    return found && found.committedOffset >= 0n ? found.committedOffset : -1n;
  }

  async maxMessageBytes(topic: string): Promise<number> {
    await this.#ready();
    const [described] = await this.#admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['max.message.bytes'] }] });
    return Number(described?.configs.find((c) => c.name === 'max.message.bytes')?.value);
  }

  async createTopics(topics: readonly NewTopic[]): Promise<string[]> {
    await this.#ready();
    const existing = new Set(await this.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    const created: string[] = [];
    for (const { topic, partitions, config } of missing) {
      try {
        await this.#admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: Object.entries(config ?? {}).map(([name, value]) => ({ name, value })) });
        created.push(topic);
      } catch (error) {
        if (!hasError(error, 'TOPIC_ALREADY_EXISTS')) throw error; // else another client created it meanwhile
      }
    }
    if (missing.length > 0) await this.#waitForLeaders(missing.map((t) => t.topic));
    return created;
  }

  /** A topic just created has no leader for a moment: a producer then would fail. */
  async #waitForLeaders(topics: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const metadata = await this.#admin.metadata({ topics, forceUpdate: true });
        if (topics.every((t) => metadata.topics.get(t)?.partitions.every((p) => p.leader >= 0))) return;
        if (attempt >= 100) throw new SluiceError('SLC_IO', `topics ${topics.join(', ')} have no leader after ${attempt} attempts`);
      } catch (error) {
        if (attempt >= 100) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async listTopics(): Promise<string[]> {
    await this.#ready();
    return this.#admin.listTopics();
  }

  async endOffsets(topic: string): Promise<bigint[] | undefined> {
    await this.#ready();
    if (!(await this.listTopics()).includes(topic)) return undefined;
    const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = metadata.topics.get(topic)?.partitions ?? [];
    const [listed] = await this.#admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((_, partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.LATEST })) }],
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    const ends = partitions.map(() => 0n);
    for (const p of listed?.partitions ?? []) ends[p.partitionIndex] = p.offset;
    return ends;
  }

  async deleteRecordsBefore(topic: string, offsets: readonly PartitionOffset[]): Promise<void> {
    await this.#ready();
    await this.#admin.deleteRecords({ topics: [{ name: topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset })) }] });
  }

  async close(): Promise<void> {
    await this.#admin.close();
  }
}
