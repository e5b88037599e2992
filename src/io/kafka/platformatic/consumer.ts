// The @platformatic/kafka consumer adapter. The library's consumer streams messages one by one; the
// port wants batches per partition with backpressure per partition and a seek back on a failed
// batch, so this adapter keeps the group membership (join, heartbeats, rejoin) of the library's
// consumer and runs its own fetch loop on the library's `fetch`, with its own read-committed
// filter (visibleRecords).
import { Buffer } from 'node:buffer';
import { Admin as PlatformaticAdmin, Consumer as PlatformaticConsumer, FetchIsolationLevels, IS_CONTROL, IS_TRANSACTIONAL, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Headers } from '../../../component/types.ts';
import { SluiceError } from '../../../errors.ts';
import type { Consumer, ConsumerOptions, FetchedBatch, FetchFailure, KafkaRecord, TopicPartition } from '../transport.ts';
import { type AdapterOptions, base, describeError, hasError, retryDelay } from './options.ts';

type FetchResponsePartition = Awaited<ReturnType<PlatformaticConsumer['fetch']>>['responses'][number]['partitions'][number];

const LOG_APPEND_TIME = 0b1000;
/** A fetch response's bound over all its partitions (the Java client's default). */
const FETCH_MAX_BYTES = 50 * 1024 * 1024;
const EMPTY_HEADERS: Headers = Object.freeze({});
const EMPTY = Buffer.alloc(0);
/** Fetches throwing (their retries spent) for this long without one success stop the consumer (onFatal). */
const FETCH_RETRIES_MS = 90_000;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The records of one fetched partition a reader may see: control batches dropped, and (read
 * committed) the batches of aborted transactions, including those whose abort marker lies beyond
 * this response (the library keeps those).
 */
export function visibleRecords(fetched: FetchResponsePartition, from: bigint, readCommitted: boolean): KafkaRecord[] {
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

export class PlatformaticConsumerAdapter implements Consumer {
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
  /** The fetches failing since the last that succeeded (readiness: heartbeats may go on meanwhile). */
  #fetchFailure: FetchFailure | undefined;
  /** The partitions of the fetch under way (a failure names them). */
  #fetching: readonly TopicPartition[] = [];
  readonly #fetchFailureListeners: ((failure: FetchFailure | undefined) => void)[] = [];

  constructor(options: AdapterOptions, consumerOptions: ConsumerOptions) {
    this.#options = consumerOptions;
    this.#batchesPerPartition = consumerOptions.prefetch ? 2 : 1;
    this.#logger = options.logger;
    this.#ready = options.ready;
    this.#client = new PlatformaticConsumer({
      ...base(options),
      // the library retries a failing fetch for a minute and more before it throws: its first retry is when fetches start failing
      retryDelay: (client, operation, attempt, retries, error) => {
        if (operation === 'fetch') this.#fetchFailing(error);
        return retryDelay(client, operation, attempt, retries, error);
      },
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

  fetchFailure(): FetchFailure | undefined {
    return this.#fetchFailure;
  }

  onFetchFailure(listener: (failure: FetchFailure | undefined) => void): void {
    this.#fetchFailureListeners.push(listener);
  }

  async run(handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    await this.#ready();
    for (const topic of this.#options.topics) this.#client.topics.track(topic);
    await this.#client.joinGroup({ sessionTimeout: this.#options.sessionTimeoutMs, heartbeatInterval: this.#options.heartbeatIntervalMs });
    this.#loop = this.#fetchLoop(handle).catch((error: unknown) => this.#fail(error as Error));
  }

  async #fetchLoop(handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    /** Since when fetches have thrown, their library's retries spent (the loop gives up after FETCH_RETRIES_MS of it). */
    let thrownSince: number | undefined;
    while (!this.#stopping) {
      const ready = this.#paused ? [] : this.#assigned.filter((p) => (this.#positions.get(key(p.topic, p.partition))?.inFlight ?? 0) < this.#batchesPerPartition);
      if (ready.length === 0 || this.#batchesInFlight >= this.#options.partitionsInFlight) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      this.#fetching = ready;
      try {
        await this.#fetchOnce(ready, handle);
        thrownSince = undefined;
        this.#fetchAnswered();
      } catch (error) {
        if (this.#stopping) return;
        // a leader moved or a broker is away: new metadata, and again, for as long as the retries would last
        this.#fetchFailing(error);
        thrownSince ??= performance.now();
        if (performance.now() - thrownSince > FETCH_RETRIES_MS) throw new SluiceError('SLC_IO', `fetches failing for ${FETCH_RETRIES_MS / 1000} s: ${describeError(error)}`, { cause: error });
        this.#logger.debug({ group: this.#options.groupId, error: (error as Error).message }, 'fetch failed: retrying');
        this.#client.clearMetadata();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** A fetch failed, or its attempt is being retried: the listeners hear when fetches start failing. */
  #fetchFailing(error: unknown): void {
    const started = this.#fetchFailure === undefined;
    const failure = {
      since: this.#fetchFailure?.since ?? performance.now(),
      partitions: this.#fetching,
      error: new SluiceError('SLC_IO', `fetch failed: ${describeError(error)}`, { cause: error }),
    };
    this.#fetchFailure = failure;
    if (started) for (const listener of this.#fetchFailureListeners) listener(failure);
  }

  /** A fetch succeeded: the listeners hear when that ends a failure. */
  #fetchAnswered(): void {
    if (this.#fetchFailure === undefined) return;
    this.#fetchFailure = undefined;
    for (const listener of this.#fetchFailureListeners) listener(undefined);
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
            this.#handOver(handle, { topic: found.topic, partition: asked.partition, records, highWatermark: fetched.highWatermark, membership: { groupId: this.#options.groupId, ...membership, coordinatorId }, next }, asked.position, asked.fetchOffset);
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
