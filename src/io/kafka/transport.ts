// The port between Sluice and a Kafka client. The pipeline knows only this; each client library
// is an adapter (kafkajs.ts first). Offsets are bigint end to end: never a double.
import type { Headers, PlacedMessage, TopicSend } from '../../component/types.ts';
import { SluiceError } from '../../errors.ts';

export interface KafkaRecord {
  readonly key: Uint8Array | null;
  /** null for a tombstone. */
  readonly value: Uint8Array | null;
  readonly headers: Headers;
  /** ms since the epoch, as the broker gives it. */
  readonly timestamp: string;
  readonly offset: bigint;
}

export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly KafkaRecord[];
  /** The partition's log end offset (high watermark) as the fetch response gave it: lag costs no extra request. */
  readonly highWatermark: bigint;
  /** The group membership the batch was fetched under, from a client that fences by group. */
  readonly membership?: GroupMembership;
  /** The offset after the last one fetched, transaction markers included: where the partition's next fetch starts. */
  readonly next: bigint;
}

/**
 * A member's place in its consumer group (KIP-447): a transaction committing offsets under it is
 * refused once the group has moved on without the member (a zombie).
 */
export interface GroupMembership {
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
  /** The broker coordinating the group. */
  readonly coordinatorId: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** An offset of one partition of a topic named apart. */
export interface PartitionOffset {
  readonly partition: number;
  readonly offset: bigint;
}

export interface ConsumerOptions {
  readonly groupId: string;
  /**
   * Static membership (KIP-345): the member's group.instance.id. An instance restarted with it
   * takes its partitions back at once, without waiting for the session timeout; a second live
   * instance with it fences the first, which then stops (`onFatal`).
   */
  readonly instanceId?: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  /** Read only committed transactional data. */
  readonly readCommitted: boolean;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxWaitMs: number;
  /** Partition batches that may be in flight at once. */
  readonly partitionsInFlight: number;
  /**
   * A partition's next batch may be fetched and handed over while its last one is being handled
   * (an adapter may ignore it). Only for a handler that commits nothing of a partition after a
   * batch of it failed: the partition is then read again from that batch.
   */
  readonly prefetch: boolean;
}

/**
 * Fetches that keep failing while the group may still answer (heartbeats go to the coordinator):
 * the partitions read nothing, which the brokers' silence does not show.
 */
export interface FetchFailure {
  /** performance.now() of the first failed fetch since the last one that succeeded. */
  readonly since: number;
  /** The partitions the failed fetch was for. */
  readonly partitions: readonly TopicPartition[];
  /** The last fetch's error. */
  readonly error: Error;
}

export interface Consumer {
  /**
   * Joins the group and hands every fetched batch to `handle`, from then on until `stop`. A
   * partition's next batch is not fetched before `handle` resolves (with `prefetch`, the one
   * after it): that is the backpressure.
   * Heartbeats continue meanwhile. Resolves once the consumer is running (not when it stops).
   */
  run(handle: (batch: FetchedBatch) => Promise<void>): Promise<void>;
  /** Commits `next` (the offset of the next record to read) for each partition listed. */
  commit(offsets: readonly (TopicPartition & { readonly next: bigint })[]): Promise<void>;
  /** Partitions assigned now. */
  assignment(): TopicPartition[];
  /** performance.now() of the last answer from the brokers (a fetch or a heartbeat); 0 before the first. */
  lastContact(): number;
  /** The failure of the fetches while they keep failing; undefined while they succeed. */
  fetchFailure(): FetchFailure | undefined;
  /** Called when fetches start failing (with the failure) and when one succeeds again (undefined). */
  onFetchFailure(listener: (failure: FetchFailure | undefined) => void): void;
  onRebalance(listener: (assigned: readonly TopicPartition[]) => void): void;
  /** Called when the group starts rebalancing: the last moment to commit what is delivered. */
  onRebalancing(listener: () => void): void;
  /** Called when the client stops consuming for good (an error it will not recover from). */
  onFatal(listener: (error: Error) => void): void;
  /** Stops handing over new batches; the member stays in the group and can still commit. */
  pause(): void;
  /** Waits for the batches in flight to be handled, then leaves the group (commits after this start are dropped). */
  stop(): Promise<void>;
  /** Leaves the group and disconnects. */
  close(): Promise<void>;
}

export interface ProducerOptions {
  readonly compression: Compression;
  /** -1 (all in-sync replicas), 1 or 0. */
  readonly acks: -1 | 0 | 1;
  readonly idempotent: boolean;
}

export type Compression = TopicSend['compression'];

/** The broker refused a message as larger than the topic accepts (the batch was not written): SLC_TOO_LARGE. */
export const messageTooLarge = (cause: unknown) => new SluiceError('SLC_TOO_LARGE', (cause as Error).message, { cause });

/** What a producer writes: an output message, or a record placed by its writer (a changelog's, maybe a tombstone). */
export type ProducedRecord = PlacedMessage;

export interface Producer {
  /**
   * Resolves when the broker has acknowledged every message; throws SLC_TOO_LARGE for a message the topic refuses as too large. A send
   * over MAX_CHUNK_BYTES (produce-chunks.ts) goes in several requests, in order, each written or
   * refused whole: a refusal leaves the chunks before it written and sends none after it.
   */
  send(topic: string, messages: readonly ProducedRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A transactional producer (one per input partition with kafkajs, which has no KIP-447 fencing by
 * group; one per consumer with a client that fences by group): each call is one transaction
 * holding the sends and the consumed offsets.
 */
export interface TransactionalProducer {
  /**
   * Registers the transactional id with the broker (once): this fences any older producer with
   * the same id and settles its open transaction. Resolves true the first time.
   */
  init(): Promise<boolean>;
  /**
   * Commits the sends and `next` for the input partition atomically; aborts and throws on failure.
   * `membership` is the batch's (a client that fences by group needs it).
   */
  commitBatch(sends: readonly TopicSend[], input: TopicPartition & { readonly next: bigint }, groupId: string, membership?: GroupMembership): Promise<void>;
  close(): Promise<void>;
}

/**
 * Another producer with the same transactional id took over: SLC_FENCED. This one must be
 * recreated; the batch is retriable (its transaction aborted, it is fetched again).
 */
export const producerFenced = (cause: unknown) => new SluiceError('SLC_FENCED', (cause as Error).message, { cause, retriable: true });

export interface NewTopic {
  readonly topic: string;
  readonly partitions: number;
  /** Topic-level settings, e.g. { 'cleanup.policy': 'compact' }. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Reads one partition outside any group, read committed: restoring a state store from its changelog. */
export interface PartitionReader {
  /** The offset the next committed record will take (the last stable offset). */
  endOffset(topic: string, partition: number): Promise<bigint>;
  /** Hands over the records of [from, until) in order, a fetch at a time; resolves when `until` is reached. */
  read(topic: string, partition: number, from: bigint, until: bigint, onRecords: (records: readonly KafkaRecord[]) => void): Promise<void>;
  close(): Promise<void>;
}

export interface Admin {
  /** The group's committed offset (the next to read) for a partition; -1 when none. */
  committedOffset(groupId: string, topic: string, partition: number): Promise<bigint>;
  /** The largest record batch the topic accepts (its max.message.bytes), in bytes. */
  maxMessageBytes(topic: string): Promise<number>;
  /** Creates the topics that do not exist yet (with `config`, e.g. cleanup.policy=compact); returns those it created. */
  createTopics(topics: readonly NewTopic[]): Promise<string[]>;
  listTopics(): Promise<string[]>;
  /** Each partition's end offset (the next a record takes; read committed), by partition index; undefined when the topic does not exist. */
  endOffsets(topic: string): Promise<bigint[] | undefined>;
  /** Deletes each listed partition's records before `offset` (its log start moves up to it). */
  deleteRecordsBefore(topic: string, offsets: readonly PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

/** TLS to the brokers, PEM contents already read (client-neutral: each adapter maps it). */
export interface TlsOptions {
  /** CAs to trust instead of the system's. */
  readonly ca?: string;
  /** Client certificate and key, for brokers that require mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  /** false only where a test broker's certificate cannot be verified. */
  readonly rejectUnauthorized: boolean;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslOptions {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** Where the brokers are and how to reach them: what every adapter's factory takes. */
export interface ConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Absent: plaintext. */
  readonly tls?: TlsOptions;
  /** Absent: no authentication. */
  readonly sasl?: SaslOptions;
}

export interface KafkaTransport {
  /**
   * Transactional offset commits carry the batch's group membership (KIP-447): the group fences a
   * zombie, so one transactional producer may serve every input partition of a consumer. Without
   * it, one producer per input partition, with an id the next owner reuses to fence the last.
   */
  readonly fencesByGroup: boolean;
  /** The consumer accepts `instanceId` (static group membership). */
  readonly staticMembership: boolean;
  consumer(options: ConsumerOptions): Consumer;
  producer(options: ProducerOptions): Producer;
  transactionalProducer(transactionalId: string, options: { transactionTimeoutMs: number }): TransactionalProducer;
  admin(): Admin;
  /** Reads changelog partitions outside any group (restoring state stores). */
  partitionReader(): PartitionReader;
}
