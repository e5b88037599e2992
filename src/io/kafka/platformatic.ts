// The @platformatic/kafka adapter of the Kafka transport port. Its consumer streams messages one
// by one; the port wants batches per partition with backpressure per partition and a seek back on
// a failed batch, so this adapter keeps the group membership (join, heartbeats, rejoin) of the
// library's consumer and runs its own fetch loop on the library's `fetch`. Transactions commit the
// consumed offsets with the group generation the batch was fetched in (KIP-447): a member the
// group dropped cannot commit, so one transactional producer serves every partition of a consumer.
import { Buffer } from 'node:buffer';
import { compress as zstdCompress, decompress as zstdDecompress } from '@bokuweb/zstd-wasm';
import {
  Admin as PlatformaticAdmin,
  type CompressionAlgorithmSpecification,
  compressionsAlgorithms,
  ConfigResourceTypes,
  Consumer as PlatformaticConsumer,
  FetchIsolationLevels,
  type GenericError,
  IS_CONTROL,
  IS_TRANSACTIONAL,
  ListOffsetTimestamps,
  type Message,
  type MessageToProduce,
  Producer as PlatformaticProducer,
  type RetryDelayGetter,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Headers, OutboundMessage, TopicSend } from '../../pipeline/types.ts';
import { SluiceError } from '../../errors.ts';
import { loadZstd } from './codecs.ts';
import { produceChunks } from './produce-chunks.ts';
import { checkBrokerCertificates } from './tls-check.ts';
import {
  type Admin, type Consumer, type ConsumerOptions, type FetchedBatch, type GroupMembership, type KafkaRecord, type KafkaTransport,
  type ConnectionOptions, MessageTooLarge, type Producer, ProducerFenced, type ProducerOptions, type TopicPartition, type TransactionalProducer,
} from './transport.ts';

type FetchResponsePartition = Awaited<ReturnType<PlatformaticConsumer['fetch']>>['responses'][number]['partitions'][number];

interface ClientOptions extends ConnectionOptions {
  readonly logger: Logger;
}

/** What the adapters share: the connection, and what must hold before a client first connects. */
interface AdapterOptions extends ClientOptions {
  /** The zstd codec registered and the connection checked (once per transport). */
  readonly ready: () => Promise<void>;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

const hasError = (error: unknown, ...ids: string[]) => ids.some((id) => (error as GenericError).findBy?.('apiId', id));
// a broker restart or a short outage is ridden out (about 90 s of retries), not a failure
const RETRIES = 20;
/**
 * Backoff, doubling. The broker refuses the next transaction's first write while it still writes
 * the last one's commit markers (CONCURRENT_TRANSACTIONS, a few ms): that retry starts at 2 ms (at
 * 10 ms, transactions took twice as long; at 200 ms, exactly-once p99 at 10,000 msg/s was 0.8 s).
 */
const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  Math.min((hasError(error, 'CONCURRENT_TRANSACTIONS') ? 2 : 200) * 2 ** (attempt - 1), 5000);
const base = (options: ClientOptions, clientId = options.clientId) => ({
  clientId,
  bootstrapBrokers: [...options.brokers],
  retries: RETRIES,
  retryDelay,
  // the library's 5 s request timeout fails produce requests on a busy machine; kafkajs waits 30 s
  timeout: 30_000,
  autocreateTopics: false,
  ...(options.tls ? { tls: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: options.tls.rejectUnauthorized } } : {}),
  ...(options.sasl ? { sasl: { mechanism: SASL_MECHANISMS[options.sasl.mechanism], username: options.sasl.username, password: options.sasl.password } } : {}),
});

const LOG_APPEND_TIME = 0b1000;
/** A fetch response's bound over all its partitions (the Java client's default). */
const FETCH_MAX_BYTES = 50 * 1024 * 1024;
const EMPTY_HEADERS: Headers = Object.freeze({});
const EMPTY = Buffer.alloc(0);

let zstdReady: Promise<void> | undefined;
/** Node 20 has no zstd in zlib (the library's codec): the wasm build of zstd stands in, once per process. */
function registerZstd(): Promise<void> {
  zstdReady ??= (async () => {
    const zstd: CompressionAlgorithmSpecification = compressionsAlgorithms.zstd;
    if (zstd.available) return;
    await loadZstd();
    zstd.compressSync = (data) => Buffer.from(zstdCompress(Buffer.isBuffer(data) ? data : data.buffer, 3));
    zstd.decompressSync = (data) => Buffer.from(zstdDecompress(Buffer.isBuffer(data) ? data : data.buffer));
    zstd.available = true;
  })();
  return zstdReady;
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function toMessages(topic: string, messages: readonly OutboundMessage[]): MessageToProduce[] {
  // records of a batch mostly share their millisecond: each distinct timestamp is parsed once
  let text: string | undefined;
  let timestamp: bigint | undefined;
  return messages.map((m) => {
    if (m.timestamp !== text) {
      text = m.timestamp;
      timestamp = text === undefined ? undefined : BigInt(text);
    }
    let headers: Map<Buffer, Buffer> | undefined; // most records have none: no Map for them
    for (const name in m.headers) {
      const value = m.headers[name]!;
      (headers ??= new Map()).set(Buffer.from(name, 'utf8'), typeof value === 'string' ? Buffer.from(value, 'utf8') : asBuffer(value));
    }
    return {
      topic,
      key: m.key === null ? undefined : asBuffer(m.key),
      value: asBuffer(m.value),
      headers,
      timestamp,
    };
  });
}

/**
 * The Java client's key hash (murmur2, seed 0x9747b28c, sign bit cleared), on 32-bit integers. The
 * library's own computes it in BigInt arithmetic: 2.6 % of Sluice's CPU at saturation.
 */
export function keyHash(key: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = key.length;
  const whole = length & ~3;
  let h = 0x9747b28c ^ length;
  for (let i = 0; i < whole; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    h = Math.imul(h, m) ^ Math.imul(k, m);
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= key[whole + 2]! << 16;
    if (tail >= 2) h ^= key[whole + 1]! << 8;
    h = Math.imul(h ^ key[whole]!, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h & 0x7fffffff;
}

/** Keyed messages go where the Java client (and kafkajs) puts them; unkeyed ones round-robin. */
function partitioner() {
  let next = 0;
  return (_message: MessageToProduce, key: Buffer | undefined) => (key ? keyHash(key) : next++ & 0x7fffffff);
}

/**
 * The records of one fetched partition a reader may see: control batches dropped, and (read
 * committed) the batches of aborted transactions, including those whose abort marker lies beyond
 * this response (the library keeps those).
 */
function visibleRecords(fetched: FetchResponsePartition, from: bigint, readCommitted: boolean): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  const aborted = readCommitted ? [...fetched.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
  const abortedProducers = new Set<bigint>();
  let nextAborted = 0;
  for (const batch of fetched.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= last) abortedProducers.add(aborted[nextAborted++]!.producerId);
    if (batch.attributes & IS_CONTROL) {
      abortedProducers.delete(batch.producerId); // the transaction's marker: what follows is another one
      continue;
    }
    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    // records of a batch mostly share their millisecond: each distinct timestamp is written once
    let timestamp = -1n;
    let text = '';
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue; // a batch starts before the offset asked for
      let headers = EMPTY_HEADERS;
      if (record.headers.length > 0) {
        const named: Record<string, Uint8Array> = {};
        for (const [name, value] of record.headers) if (name) named[name.toString('utf8')] = value ?? EMPTY; // repeats: the last wins
        headers = named;
      }
      const recordTimestamp = logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta;
      if (recordTimestamp !== timestamp) {
        timestamp = recordTimestamp;
        text = timestamp.toString();
      }
      out.push({ key: record.key, value: record.value, headers, timestamp: text, offset });
    }
  }
  return out;
}

/**
 * Where a partition is read from. Replaced, not mutated, when the group moves the partition or a
 * batch of it fails, so that the fetches and batches of the old one are recognised as stale.
 */
interface Position {
  next: bigint;
  /** Its batches handed over and not yet settled. */
  inFlight: number;
  /** The group moved on while batches were in flight: forgotten once they settle. */
  stale?: boolean;
}



class PlatformaticConsumerAdapter implements Consumer {
  readonly #client: PlatformaticConsumer;
  readonly #admin: PlatformaticAdmin;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #ready: () => Promise<void>;
  #assigned: TopicPartition[] = [];
  readonly #positions = new Map<string, Position>();
  #membership: { memberId: string; generationId: number } | undefined;
  readonly #listeners: ((assigned: readonly TopicPartition[]) => void)[] = [];
  readonly #fatalListeners: ((error: Error) => void)[] = [];
  readonly #handling = new Set<Promise<void>>();
  /**
   * Batches of one partition in flight at once. Prefetching (at-least-once), two: the next one is
   * fetched while the last is delivered, so a partition does not wait a fetch round trip after
   * each delivery (p99 at 10,000 msg/s: 17-19 ms against 19-25 ms). Exactly-once reads better one
   * at a time: a prefetched batch cannot join its predecessor's transaction, and transactions
   * of fewer records came more often (p50 40-43 ms against 23-34 ms).
   */
  readonly #batchesPerPartition: number;
  /** Batches handed over and not yet settled, over all partitions (also those of replaced positions). */
  #batchesInFlight = 0;
  #paused = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** performance.now() of the last answer from the group or a fetch (readiness). */
  #lastContact = 0;

  constructor(options: AdapterOptions, consumerOptions: ConsumerOptions) {
    this.#options = consumerOptions;
    this.#batchesPerPartition = consumerOptions.prefetch ? 2 : 1;
    this.#logger = options.logger;
    this.#ready = options.ready;
    this.#client = new PlatformaticConsumer({
      ...base(options),
      groupId: consumerOptions.groupId,
      ...(consumerOptions.instanceId === undefined ? {} : { groupInstanceId: consumerOptions.instanceId }),
      sessionTimeout: consumerOptions.sessionTimeoutMs,
      heartbeatInterval: consumerOptions.heartbeatIntervalMs,
      isolationLevel: consumerOptions.readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED,
    });
    this.#admin = new PlatformaticAdmin(base(options, `${options.clientId}-offsets`));
    this.#client.on('consumer:group:join', ({ memberId, generationId, assignments }) => this.#joined(memberId, generationId ?? -1, assignments ?? []));
    (this.#client as unknown as NodeJS.EventEmitter).on('consumer:heartbeat:end', () => (this.#lastContact = performance.now()));
    this.#client.on('consumer:group:rebalance', () => this.#logger.debug({ group: consumerOptions.groupId }, 'group rebalancing'));
    // the library emits 'error' when it gives up rejoining the group (an unheard 'error' would throw)
    (this.#client as unknown as NodeJS.EventEmitter).on('error', (error: Error) => this.#fail(error));
    // the library heartbeats on as a fenced static member: stop instead, leaving the partitions to the newer instance
    (this.#client as unknown as NodeJS.EventEmitter).on('consumer:heartbeat:error', ({ error }: { error: unknown }) => this.#failIfFenced(error));
  }

  /** Another live member joined with this one's instance id: the broker gave it the partitions. */
  #failIfFenced(error: unknown): void {
    if (!hasError(error, 'FENCED_INSTANCE_ID')) return;
    const { groupId, instanceId } = this.#options;
    this.#fail(new SluiceError('SLC_IO', `another member of group ${groupId} joined with instance-id ${instanceId}: this one is fenced and stops`, { cause: error }));
  }

  #joined(memberId: string, generationId: number, assignments: readonly { topic: string; partitions: number[] }[]): void {
    // a member that stayed in the group through one rebalance keeps its positions; one the group
    // dropped (a generation went by without it) reads every partition again from its committed offset
    const continuous = this.#membership?.memberId === memberId && this.#membership.generationId + 1 === generationId;
    this.#membership = { memberId, generationId };
    this.#lastContact = performance.now();
    this.#assigned = assignments.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
    const kept = new Set(continuous ? this.#assigned.map((p) => key(p.topic, p.partition)) : []);
    for (const [id, position] of [...this.#positions]) {
      if (kept.has(id)) continue;
      // a batch in flight still commits (or not) what it read: its partition is read again only
      // after it settles, from the committed offset as it then stands, or it would be read twice
      if (position.inFlight > 0) position.stale = true;
      else this.#positions.delete(id);
    }
    for (const listener of this.#listeners) listener(this.#assigned);
    this.#signal();
  }

  #signal(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  #fail(error: Error): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#signal();
    for (const listener of this.#fatalListeners) listener(error);
  }

  lastContact(): number {
    return this.#lastContact;
  }

  async run(handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    await this.#ready();
    for (const topic of this.#options.topics) this.#client.topics.track(topic);
    await this.#client.joinGroup({ sessionTimeout: this.#options.sessionTimeoutMs, heartbeatInterval: this.#options.heartbeatIntervalMs });
    this.#loop = this.#fetchLoop(handle).catch((error: unknown) => this.#fail(error as Error));
  }

  async #fetchLoop(handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    let failingSince: number | undefined;
    while (!this.#stopping) {
      const ready = this.#paused ? [] : this.#assigned.filter((p) => (this.#positions.get(key(p.topic, p.partition))?.inFlight ?? 0) < this.#batchesPerPartition);
      if (ready.length === 0 || this.#batchesInFlight >= this.#options.partitionsInFlight) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      try {
        await this.#fetchOnce(ready, handle);
        failingSince = undefined;
      } catch (error) {
        if (this.#stopping) return;
        // a leader moved or a broker is away: new metadata, and again, for as long as the retries would last
        failingSince ??= Date.now();
        if (Date.now() - failingSince > 90_000) throw error;
        this.#logger.warn({ group: this.#options.groupId, error: (error as Error).message }, 'fetch failed: retrying');
        this.#client.clearMetadata();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async #fetchOnce(ready: readonly TopicPartition[], handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    await this.#resolvePositions(ready);
    const membership = this.#membership!;
    const coordinatorId = this.#client.coordinatorId ?? -1;
    const metadata = await this.#client.metadata({ topics: [...this.#options.topics] });
    const byLeader = new Map<number, Map<string, { topicId: string; partitions: { partition: number; fetchOffset: bigint; position: Position }[] }>>();
    for (const { topic, partition } of ready) {
      const position = this.#positions.get(key(topic, partition));
      const topicMetadata = metadata.topics.get(topic);
      if (!position || !topicMetadata) continue;
      const leader = topicMetadata.partitions[partition]!.leader;
      let topics = byLeader.get(leader);
      if (!topics) byLeader.set(leader, (topics = new Map()));
      let entry = topics.get(topic);
      if (!entry) topics.set(topic, (entry = { topicId: topicMetadata.id, partitions: [] }));
      entry.partitions.push({ partition, fetchOffset: position.next, position });
    }
    await Promise.all(
      [...byLeader].map(async ([node, topics]) => {
        const response = await this.#client
          .fetch({
            node,
            minBytes: 1,
            maxBytes: FETCH_MAX_BYTES,
            maxWaitTime: this.#options.maxWaitMs,
            topics: [...topics.values()].map(({ topicId, partitions }) => ({
              topicId,
              partitions: partitions.map(({ partition, fetchOffset }) => ({
                partition,
                fetchOffset,
                partitionMaxBytes: this.#options.maxBytesPerPartition,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            })),
          })
          .catch(async (error: unknown) => {
            if (!hasError(error, 'OFFSET_OUT_OF_RANGE')) throw error;
            await this.#resetOutOfRange([...topics].flatMap(([topic, { partitions }]) => partitions.map((p) => ({ topic, ...p }))));
            return undefined;
          });
        if (!response) return;
        this.#lastContact = performance.now();
        const byId = new Map([...topics].map(([topic, entry]) => [entry.topicId, { topic, entry }]));
        for (const topicResponse of response.responses) {
          const found = byId.get(topicResponse.topicId);
          if (!found) continue;
          for (const fetched of topicResponse.partitions) {
            const asked = found.entry.partitions.find((p) => p.partition === fetched.partitionIndex);
            const batches = fetched.records ?? [];
            const lastBatch = batches[batches.length - 1];
            // the group moved the partition meanwhile, or nothing new
            if (!asked || !lastBatch || this.#positions.get(key(found.topic, asked.partition)) !== asked.position) continue;
            const records = visibleRecords(fetched, asked.fetchOffset, this.#options.readCommitted);
            const next = lastBatch.firstOffset + BigInt(lastBatch.lastOffsetDelta) + 1n;
            if (next > asked.position.next) asked.position.next = next;
            if (records.length === 0) continue;
            if (this.#paused || this.#stopping) {
              asked.position.next = asked.fetchOffset;
              continue;
            }
            this.#handOver(handle, { topic: found.topic, partition: asked.partition, records, highWatermark: fetched.highWatermark, membership: { groupId: this.#options.groupId, ...membership, coordinatorId } }, asked.position, asked.fetchOffset);
          }
        }
      }),
    );
  }

  #handOver(handle: (batch: FetchedBatch) => Promise<void>, batch: FetchedBatch, position: Position, from: bigint): void {
    // the callbacks keep the partition, not the batch: its records are garbage once processed
    const { topic, partition } = batch;
    const id = key(topic, partition);
    position.inFlight++;
    this.#batchesInFlight++;
    const handled = handle(batch)
      .catch((error: unknown) => {
        // not delivered: the partition is read again from this batch on; the batches after it
        // that are in flight, and fetches under way, belong to the old position and are dropped
        this.#logger.debug({ topic, partition, error: (error as Error).message }, 'batch not handled: fetched again');
        if (this.#positions.get(id) === position && !position.stale) this.#positions.set(id, { next: from, inFlight: 0 });
      })
      .finally(() => {
        position.inFlight--;
        this.#batchesInFlight--;
        if (position.stale && position.inFlight === 0 && this.#positions.get(id) === position) this.#positions.delete(id);
        this.#handling.delete(handled);
        this.#signal();
      });
    this.#handling.add(handled);
  }

  /**
   * A position outside its partition's log (retention deleted the records, or the committed offset
   * is past the end) restarts where a new group would, as from-beginning says (the Java client's
   * auto.offset.reset), with a warning naming what is skipped or read again.
   */
  async #resetOutOfRange(fetched: readonly { topic: string; partition: number; fetchOffset: bigint; position: Position }[]): Promise<void> {
    const topics = [...new Set(fetched.map((p) => p.topic))];
    const isolationLevel = this.#options.readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED;
    const [earliest, latest] = await Promise.all(
      [ListOffsetTimestamps.EARLIEST, ListOffsetTimestamps.LATEST].map((timestamp) => this.#client.listOffsets({ topics, timestamp, isolationLevel })),
    );
    for (const { topic, partition, fetchOffset, position } of fetched) {
      const first = earliest!.get(topic)?.[partition];
      const end = latest!.get(topic)?.[partition];
      if (first === undefined || end === undefined || (fetchOffset >= first && fetchOffset <= end)) continue;
      if (this.#positions.get(key(topic, partition)) !== position || position.next !== fetchOffset) continue;
      position.next = this.#options.fromBeginning ? first : end;
      this.#logger.warn(
        { group: this.#options.groupId, topic, partition, offset: String(fetchOffset), logStart: String(first), logEnd: String(end), resetTo: String(position.next) },
        'offset out of range: the partition restarts at its %s offset',
        this.#options.fromBeginning ? 'earliest' : 'latest',
      );
    }
  }

  /** Partitions new to this member start at the group's committed offset, once no transaction holds it (require stable). */
  async #resolvePositions(partitions: readonly TopicPartition[]): Promise<void> {
    const unknown = partitions.filter((p) => !this.#positions.has(key(p.topic, p.partition)));
    if (unknown.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of unknown) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const [group] = await this.#admin.listConsumerGroupOffsets({
      groups: [{ groupId: this.#options.groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }],
      requireStable: true,
    });
    const committed = new Map<string, bigint>();
    for (const topic of group?.topics ?? []) for (const p of topic.partitions) if (p.committedOffset >= 0n) committed.set(key(topic.name, p.partitionIndex), p.committedOffset);
    const missing = unknown.filter((p) => !committed.has(key(p.topic, p.partition)));
    const ends = missing.length === 0
      ? new Map<string, bigint[]>()
      : await this.#client.listOffsets({
          topics: [...new Set(missing.map((p) => p.topic))],
          timestamp: this.#options.fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
          isolationLevel: this.#options.readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED,
        });
    // the assignment may have changed while we asked: only partitions still assigned and unknown
    const assigned = new Set(this.#assigned.map((p) => key(p.topic, p.partition)));
    for (const { topic, partition } of unknown) {
      const id = key(topic, partition);
      const next = committed.get(id) ?? ends.get(topic)?.[partition];
      if (next !== undefined && assigned.has(id) && !this.#positions.has(id)) this.#positions.set(id, { next, inFlight: 0 });
    }
  }

  async commit(offsets: readonly (TopicPartition & { readonly next: bigint })[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.#client.commit({ offsets: offsets.map(({ topic, partition, next }) => ({ topic, partition, offset: next, leaderEpoch: -1 })) });
    } catch (error) {
      this.#failIfFenced(error);
      throw error;
    }
  }

  assignment(): TopicPartition[] {
    return this.#assigned;
  }

  onRebalance(listener: (assigned: readonly TopicPartition[]) => void): void {
    this.#listeners.push(listener);
  }

  onRebalancing(listener: () => void): void {
    this.#client.on('consumer:group:rebalance', () => listener());
  }

  onFatal(listener: (error: Error) => void): void {
    this.#fatalListeners.push(listener);
  }

  pause(): void {
    this.#paused = true;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#signal();
    await this.#loop;
    while (this.#handling.size > 0) await Promise.all([...this.#handling]);
    if (this.#client.isActive()) await new Promise<void>((resolve) => this.#client.leaveGroup(false, () => resolve()));
  }

  async close(): Promise<void> {
    if (!this.#stopping) await this.stop();
    await this.#client.close();
    await this.#admin.close();
  }
}

class PlatformaticProducerAdapter implements Producer {
  readonly #producer: PlatformaticProducer;
  readonly #options: ProducerOptions;
  readonly #ready: () => Promise<void>;
  /**
   * Idempotent: the send before this one. The library numbers an idempotent producer's records
   * wrongly when sends overlap (the broker refuses them as out of order sequence numbers; see
   * platformatic/kafka#326), so they go one at a time, as kafkajs does with one request in flight.
   */
  #previous: Promise<unknown> = Promise.resolve();

  constructor(options: AdapterOptions, producerOptions: ProducerOptions) {
    this.#options = producerOptions;
    this.#ready = options.ready;
    this.#producer = new PlatformaticProducer({
      ...base(options),
      idempotent: producerOptions.idempotent,
      acks: producerOptions.acks,
      partitioner: partitioner(),
    });
  }

  async send(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#ready();
    const send = async () => {
      for (const chunk of produceChunks(messages)) await this.#producer.send({ messages: toMessages(topic, chunk), acks: this.#options.acks, compression: this.#options.compression });
    };
    try {
      if (this.#options.idempotent) {
        const sent = this.#previous.then(send, send);
        this.#previous = sent;
        await sent;
      } else await send();
    } catch (error) {
      if (hasError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) throw new MessageTooLarge((error as Error).message, { cause: error });
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}

const FENCED = ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'];

/** A batch waiting for its transaction. */
interface PendingCommit {
  readonly sends: readonly TopicSend[];
  readonly input: TopicPartition & { readonly next: bigint };
  readonly membership: GroupMembership;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const sameGeneration = (a: GroupMembership, b: GroupMembership) =>
  a.groupId === b.groupId && a.memberId === b.memberId && a.generationId === b.generationId;

class PlatformaticTransactionalAdapter implements TransactionalProducer {
  readonly #newProducer: () => PlatformaticProducer;
  #producer: PlatformaticProducer;
  #initialized: Promise<unknown> | undefined;
  /**
   * Batches that arrive while a transaction is open wait, then share the next one (group
   * commit): one transaction per round trip of the broker, not per batch, so small batches at a
   * modest rate do not queue behind each other's commits.
   */
  readonly #waiting: PendingCommit[] = [];
  #committing = false;
  readonly #ready: () => Promise<void>;

  constructor(options: AdapterOptions, transactionalId: string, producerOptions: { transactionTimeoutMs: number }) {
    this.#ready = options.ready;
    this.#newProducer = () =>
      new PlatformaticProducer({
        ...base(options),
        transactionalId,
        idempotent: true,
        acks: -1,
        partitioner: partitioner(),
        // the library sends its request timeout as the transaction timeout (InitProducerId)
        timeout: producerOptions.transactionTimeoutMs,
        // InitProducerId of a new producer says "no producer id yet" (-1): the library's default,
        // producer 0 epoch 0, is refused as fenced once the id has a producer (a restart of an
        // instance-id), instead of aborting that producer's open transaction and taking over
        producerId: -1n,
        producerEpoch: -1,
      });
    this.#producer = this.#newProducer();
  }

  async init(): Promise<boolean> {
    if (this.#initialized) {
      await this.#initialized;
      return false;
    }
    const initializing = this.#ready().then(() => this.#producer.initIdempotentProducer({}));
    this.#initialized = initializing;
    // a registration that failed is tried again with the next batch
    initializing.catch(() => {
      if (this.#initialized === initializing) this.#initialized = undefined;
    });
    await initializing;
    return true;
  }

  commitBatch(sends: readonly TopicSend[], input: TopicPartition & { readonly next: bigint }, _groupId: string, membership?: GroupMembership): Promise<void> {
    if (!membership) {
      return Promise.reject(new Error('the platformatic transactional producer commits offsets of batches fetched by the platformatic consumer (with their group membership)'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ sends, input, membership, resolve, reject });
      void this.#commitWaiting();
    });
  }

  async #commitWaiting(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    try {
      while (this.#waiting.length > 0) {
        // the offsets of one transaction are checked against one group generation (KIP-447)
        const { membership } = this.#waiting[0]!;
        let count = 1;
        while (count < this.#waiting.length && sameGeneration(this.#waiting[count]!.membership, membership)) count++;
        const batches = this.#waiting.splice(0, count);
        try {
          await this.#commit(batches, membership);
          for (const batch of batches) batch.resolve();
        } catch (error) {
          for (const batch of batches) batch.reject(error);
        }
      }
    } finally {
      this.#committing = false;
    }
  }

  async #commit(batches: readonly PendingCommit[], membership: GroupMembership): Promise<void> {
    await this.init();
    // one produce request per topic: the batches' messages in the order the batches arrived
    const byTopic = new Map<string, { compression: TopicSend['compression']; messages: OutboundMessage[] }>();
    for (const { sends } of batches) {
      for (const { topic, messages, compression } of sends) {
        if (messages.length === 0) continue;
        const entry = byTopic.get(topic);
        if (entry) for (const m of messages) entry.messages.push(m);
        else byTopic.set(topic, { compression, messages: [...messages] });
      }
    }
    let transaction: Awaited<ReturnType<PlatformaticProducer['beginTransaction']>>;
    try {
      transaction = await this.#producer.beginTransaction();
    } catch (error) {
      // the library keeps a transaction that failed to begin as its open one, and would refuse
      // every later begin: the next batch gets a new producer
      const wedged = this.#producer;
      this.#producer = this.#newProducer();
      this.#initialized = undefined;
      wedged.close(true, () => undefined);
      if (hasError(error, ...FENCED)) throw new ProducerFenced((error as Error).message, { cause: error });
      throw error;
    }
    try {
      for (const [topic, { messages, compression }] of byTopic) {
        for (const chunk of produceChunks(messages)) await transaction.send({ messages: toMessages(topic, chunk), acks: -1, compression });
      }
      // the offsets are checked against the group generation the batches were fetched in (KIP-447);
      // the library takes them in the shape of a consumed message: the last offset of the batch
      await transaction.addConsumer({ groupId: membership.groupId } as PlatformaticConsumer);
      for (const { input } of batches) {
        const lastConsumed = { topic: input.topic, partition: input.partition, offset: input.next - 1n, metadata: { consumer: membership } };
        await transaction.addOffset(lastConsumed as unknown as Message);
      }
      await transaction.commit();
    } catch (error) {
      const aborted = await transaction.abort().then(() => true, () => false);
      // a producer whose transaction is neither committed nor aborted is no use any more
      if (!aborted || hasError(error, ...FENCED)) throw new ProducerFenced((error as Error).message, { cause: error });
      if (hasError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) throw new MessageTooLarge((error as Error).message, { cause: error });
      throw error;
    }
  }

  async close(): Promise<void> {
    // forced: a transaction left open (the process is closing) is the broker's to abort
    await new Promise<void>((resolve, reject) => this.#producer.close(true, (error) => (error ? reject(error) : resolve())));
  }
}

class PlatformaticAdminAdapter implements Admin {
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

  async createTopics(topics: readonly { topic: string; partitions: number }[]): Promise<string[]> {
    await this.#ready();
    const existing = new Set(await this.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    const created: string[] = [];
    for (const { topic, partitions } of missing) {
      try {
        await this.#admin.createTopics({ topics: [topic], partitions, replicas: 1 });
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
        if (attempt >= 100) throw new Error(`topics ${topics.join(', ')} have no leader after ${attempt} attempts`);
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

  async close(): Promise<void> {
    await this.#admin.close();
  }
}

/** The first error in a chain (nested causes and aggregated errors) that `match` accepts. */
function findError(error: unknown, match: (error: Error & { code?: string }) => boolean, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 8) return undefined;
  if (match(error)) return error;
  for (const inner of [error.cause, ...((error as { errors?: unknown[] }).errors ?? [])]) {
    const found = findError(inner, match, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * A broker certificate that does not verify and a refused SASL login are mistakes no retry fixes,
 * but the library retries them like any connection failure (for a minute and more): the
 * certificates are checked and one metadata request is made without retries before any client
 * connects, so that either fails at once, with a clear message.
 */
async function checkConnection(options: ClientOptions): Promise<void> {
  if (options.tls) await checkBrokerCertificates(options.brokers, options.tls);
  if (!options.sasl) return;
  const probe = new PlatformaticAdmin({ ...base(options, `${options.clientId}-login`), retries: 0 });
  try {
    await probe.listTopics();
  } catch (error) {
    const refused = findError(error, (e) => e.code === 'PLT_KFK_AUTHENTICATION' || hasError(e, 'SASL_AUTHENTICATION_FAILED'));
    if (refused) {
      const { mechanism, username } = options.sasl;
      const why = findError(refused.cause, () => true)?.message ?? refused.message;
      throw new SluiceError('SLC_IO', `Kafka ${options.brokers.join(',')}: SASL ${mechanism} login as "${username}" refused: ${why}`, { cause: error });
    }
    // anything else (a broker not up yet): the clients' own retries deal with it
  } finally {
    await probe.close();
  }
}

export function platformaticTransport(options: ClientOptions): KafkaTransport {
  let checked: Promise<unknown> | undefined;
  const adapterOptions: AdapterOptions = { ...options, ready: async () => void (await (checked ??= Promise.all([registerZstd(), checkConnection(options)]))) };
  return {
    fencesByGroup: true,
    staticMembership: true,
    consumer: (consumerOptions) => new PlatformaticConsumerAdapter(adapterOptions, consumerOptions),
    producer: (producerOptions) => new PlatformaticProducerAdapter(adapterOptions, producerOptions),
    transactionalProducer: (transactionalId, producerOptions) => new PlatformaticTransactionalAdapter(adapterOptions, transactionalId, producerOptions),
    admin: () => new PlatformaticAdminAdapter(adapterOptions),
  };
}
