// The kafkajs adapter of the Kafka transport port.
import { Buffer } from 'node:buffer';
import kafkajs, {
  type Admin as KafkajsAdmin,
  type Consumer as KafkajsConsumer,
  type IHeaders,
  type Kafka as KafkajsClient,
  type KafkaConfig,
  type SASLOptions,
  type Message,
  type Producer as KafkajsProducer,
} from 'kafkajs';
import { platformaticTransport } from './platformatic/index.ts';
import type { Logger } from 'pino';
import { SluiceError } from '../../errors.ts';
import type { Headers, TopicSend } from '../../component/types.ts';
import { registerCodecs } from './codecs.ts';
import { produceChunks } from './produce-chunks.ts';
import { checkBrokerCertificates } from './tls-check.ts';
import {
  type Admin, type Compression, type ConnectionOptions, type Consumer, type ConsumerOptions, type FetchedBatch, type FetchFailure, type KafkaRecord, type KafkaTransport, type NewTopic, type PartitionOffset,
  messageTooLarge, type ProducedRecord, type Producer, producerFenced, type ProducerOptions, type TopicPartition, type TransactionalProducer,
} from './transport.ts';

// kafkajs is CommonJS without static named exports
const { CompressionTypes, ConfigResourceTypes, Kafka, logLevel, Partitioners } = kafkajs;
type LogLevel = (typeof logLevel)[keyof typeof logLevel];

const COMPRESSION: Record<Compression, (typeof CompressionTypes)[keyof typeof CompressionTypes]> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

function toKafkajsHeaders(headers: Headers): IHeaders {
  const out: IHeaders = {};
  for (const name in headers) {
    const value = headers[name]!;
    out[name] = typeof value === 'string' ? value : asBuffer(value);
  }
  return out;
}

function toKafkajsMessages(messages: readonly ProducedRecord[]): Message[] {
  return messages.map((m) => ({
    key: m.key === null ? null : asBuffer(m.key),
    value: m.value === null ? null : asBuffer(m.value),
    ...(m.partition === undefined ? {} : { partition: m.partition }),
    headers: toKafkajsHeaders(m.headers),
    timestamp: m.timestamp,
  }));
}

function fromKafkajsHeaders(headers: IHeaders | undefined): Headers {
  const out: Record<string, string | Uint8Array> = {};
  if (headers) {
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) continue;
      out[name] = Array.isArray(value) ? value[value.length - 1]! : value; // Kafka allows repeats; the last wins
    }
  }
  return out;
}

/**
 * How an adapter connects: after the codecs are registered and the brokers' certificates checked,
 * a refused login explained.
 */
type Connector = (connect: () => Promise<void>) => Promise<void>;

class KafkajsConsumerAdapter implements Consumer {
  readonly #consumer: KafkajsConsumer;
  readonly #options: ConsumerOptions;
  readonly #connector: Connector;
  #assigned: TopicPartition[] = [];
  #lastContact = 0;
  readonly #listeners: ((assigned: readonly TopicPartition[]) => void)[] = [];
  /** Since the consumer crashed on something other than a batch's handling, until a fetch answers. */
  #fetchFailure: FetchFailure | undefined;
  readonly #fetchFailureListeners: ((failure: FetchFailure | undefined) => void)[] = [];
  /** Errors the handler threw: a crash they cause is not a failing fetch. */
  readonly #handlerErrors = new WeakSet<object>();

  constructor(kafka: KafkajsClient, options: ConsumerOptions, connector: Connector) {
    this.#options = options;
    this.#connector = connector;
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTimeInMs: options.maxWaitMs,
      readUncommitted: !options.readCommitted,
      allowAutoTopicCreation: false,
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment;
      this.#lastContact = performance.now();
      this.#assigned = Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
      for (const listener of this.#listeners) listener(this.#assigned);
    });
    const contact = () => (this.#lastContact = performance.now());
    this.#consumer.on(this.#consumer.events.FETCH, () => {
      contact();
      this.#fetchFailed(undefined);
    });
    this.#consumer.on(this.#consumer.events.HEARTBEAT, contact);
    // kafkajs retries a failing fetch, then crashes and restarts the consumer (rejoining the
    // group, which answers): the crash is the first the adapter hears of failing fetches; a
    // crash without a restart (a non-retriable error) stops the consumer (onFatal)
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload: { error, restart } }) => {
      if (!restart) return; // it stops for good: onFatal
      for (let e: unknown = error; e instanceof Error; e = e.cause) if (this.#handlerErrors.has(e)) return;
      this.#fetchFailed({ since: this.#fetchFailure?.since ?? performance.now(), partitions: this.#assigned, error: new SluiceError('SLC_IO', `fetch failed: ${error.message}`, { cause: error }) });
    });
  }

  /** Fetches failing (the failure so far) or answered again (undefined): the listeners hear when that changes. */
  #fetchFailed(failure: FetchFailure | undefined): void {
    const changed = (failure === undefined) !== (this.#fetchFailure === undefined);
    this.#fetchFailure = failure;
    if (changed) for (const listener of this.#fetchFailureListeners) listener(failure);
  }

  async run(handle: (batch: FetchedBatch) => Promise<void>): Promise<void> {
    await this.#connector(() => this.#consumer.connect());
    await this.#consumer.subscribe({ topics: [...this.#options.topics], fromBeginning: this.#options.fromBeginning });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsInFlight,
      eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const records: KafkaRecord[] = batch.messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers ? fromKafkajsHeaders(m.headers) : EMPTY,
          timestamp: m.timestamp,
          offset: BigInt(m.offset),
        }));
        // keep the group membership alive however long the pipeline takes over this batch
        const beat = setInterval(() => void heartbeat().catch(() => undefined), this.#options.heartbeatIntervalMs);
        try {
          // lastOffset() counts the control records (a transaction's marker) the messages leave out
          await handle({ topic: batch.topic, partition: batch.partition, records, highWatermark: BigInt(batch.highWatermark), next: BigInt(batch.lastOffset()) + 1n }).catch((error: unknown) => {
            if (typeof error === 'object' && error !== null) this.#handlerErrors.add(error);
            throw error;
          });
          resolveOffset(batch.lastOffset()); // moves the fetch position; the commit was made by handle
        } finally {
          clearInterval(beat);
        }
      },
    });
  }

  async commit(offsets: readonly (TopicPartition & { readonly next: bigint })[]): Promise<void> {
    await this.#consumer.commitOffsets(offsets.map(({ topic, partition, next }) => ({ topic, partition, offset: next.toString() })));
  }

  assignment(): TopicPartition[] {
    return this.#assigned;
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

  onRebalance(listener: (assigned: readonly TopicPartition[]) => void): void {
    this.#listeners.push(listener);
  }

  onRebalancing(listener: () => void): void {
    this.#consumer.on(this.#consumer.events.REBALANCING, listener);
  }

  onFatal(listener: (error: Error) => void): void {
    this.#consumer.on(this.#consumer.events.CRASH, (event) => {
      if (!event.payload.restart) listener(event.payload.error);
    });
  }

  pause(): void {
    this.#consumer.pause(this.#options.topics.map((topic) => ({ topic })));
  }

  async stop(): Promise<void> {
    await this.#consumer.stop();
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect();
  }
}

const EMPTY: Headers = Object.freeze({});

class KafkajsProducerAdapter implements Producer {
  readonly #producer: KafkajsProducer;
  readonly #options: ProducerOptions;
  #connected: Promise<void> | undefined;

  readonly #connector: Connector;

  constructor(kafka: KafkajsClient, options: ProducerOptions, connector: Connector) {
    this.#options = options;
    this.#connector = connector;
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: options.idempotent,
      maxInFlightRequests: options.idempotent ? 1 : undefined,
    });
  }

  async send(topic: string, messages: readonly ProducedRecord[]): Promise<void> {
    this.#connected ??= this.#connector(() => this.#producer.connect());
    await this.#connected;
    try {
      await this.#send(topic, messages);
    } catch (error) {
      if ((error as { type?: string }).type === 'MESSAGE_TOO_LARGE') throw messageTooLarge(error);
      throw error;
    }
  }

  async #send(topic: string, messages: readonly ProducedRecord[]): Promise<void> {
    for (const chunk of produceChunks(messages)) {
      await this.#producer.send({
        topic,
        acks: this.#options.acks,
        compression: COMPRESSION[this.#options.compression],
        messages: toKafkajsMessages(chunk),
      });
    }
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
  }
}

const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

class KafkajsTransactionalAdapter implements TransactionalProducer {
  readonly #producer: KafkajsProducer;
  #connected: Promise<void> | undefined;

  readonly #connector: Connector;

  constructor(kafka: KafkajsClient, transactionalId: string, options: { transactionTimeoutMs: number }, connector: Connector) {
    this.#connector = connector;
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      transactionalId,
      transactionTimeout: options.transactionTimeoutMs,
      idempotent: true,
      maxInFlightRequests: 1,
    });
  }

  async init(): Promise<boolean> {
    if (this.#connected) {
      await this.#connected;
      return false;
    }
    this.#connected = this.#connector(() => this.#producer.connect());
    await this.#connected;
    return true;
  }

  async commitBatch(sends: readonly TopicSend[], input: TopicPartition & { readonly next: bigint }, groupId: string): Promise<void> {
    await this.init();
    const transaction = await this.#producer.transaction();
    try {
      for (const { topic, messages, compression } of sends) {
        for (const chunk of messages.length === 0 ? [] : produceChunks(messages)) {
          await transaction.send({
            topic,
            acks: -1,
            compression: COMPRESSION[compression],
            messages: toKafkajsMessages(chunk),
          });
        }
      }
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: input.topic, partitions: [{ partition: input.partition, offset: input.next.toString() }] }],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      if (FENCED.has((error as { type?: string }).type ?? '')) throw producerFenced(error);
      if ((error as { type?: string }).type === 'MESSAGE_TOO_LARGE') throw messageTooLarge(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
  }
}

class KafkajsAdminAdapter implements Admin {
  readonly #admin: KafkajsAdmin;
  readonly #connected: Promise<void>;

  constructor(kafka: KafkajsClient, connector: Connector) {
    this.#admin = kafka.admin();
    this.#connected = connector(() => this.#admin.connect());
  }

  async committedOffset(groupId: string, topic: string, partition: number): Promise<bigint> {
    await this.#connected;
    const [offsets] = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
    const found = offsets?.partitions.find((p) => p.partition === partition);
    return found ? BigInt(found.offset) : -1n;
  }

  async maxMessageBytes(topic: string): Promise<number> {
    await this.#connected;
    const { resources } = await this.#admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] });
    return Number(resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes')?.configValue);
  }

  async createTopics(topics: readonly NewTopic[]): Promise<string[]> {
    await this.#connected;
    const existing = new Set(await this.#admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await this.#admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })) });
    }
    return missing.map((t) => t.topic);
  }

  async listTopics(): Promise<string[]> {
    await this.#connected;
    return this.#admin.listTopics();
  }

  async endOffsets(topic: string): Promise<bigint[] | undefined> {
    await this.#connected;
    // asked only of a topic that exists: a metadata request for another may create it
    if (!(await this.#admin.listTopics()).includes(topic)) return undefined;
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    const ends = offsets.map(() => 0n);
    for (const p of offsets) ends[p.partition] = BigInt(p.high);
    return ends;
  }

  async deleteRecordsBefore(topic: string, offsets: readonly PartitionOffset[]): Promise<void> {
    await this.#connected;
    await this.#admin.deleteTopicRecords({ topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset: String(offset) })) });
  }

  async close(): Promise<void> {
    await this.#connected;
    await this.#admin.disconnect();
  }
}

/** kafkajs log lines into pino, warnings and up (kafkajs is chatty at info). */
function logCreator(logger: Logger) {
  return () => ({ namespace, level, log }: { namespace: string; level: LogLevel; log: { message: string } & Record<string, unknown> }) => {
    const { message, ...extra } = log;
    const fields = { kafka: namespace, ...extra };
    if (level === logLevel.ERROR) logger.error(fields, message);
    else if (level === logLevel.WARN) logger.warn(fields, message);
    else logger.debug(fields, message);
  };
}

/** The connection's TLS and SASL settings as kafkajs takes them. */
export function security(options: ConnectionOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { tls, sasl } = options;
  return {
    ...(tls ? { ssl: { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized } } : {}),
    ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions } : {}),
  };
}

/** A refused login says who tried and how (kafkajs does not retry it: it fails at once). */
function explainAuthentication(options: ConnectionOptions, error: unknown): never {
  if ((error as Error).name === 'KafkaJSSASLAuthenticationError' && options.sasl) {
    const { mechanism, username } = options.sasl;
    throw new SluiceError('SLC_IO', `Kafka ${options.brokers.join(',')}: SASL ${mechanism} login as "${username}" refused: ${(error as Error).message}`, { cause: error });
  }
  throw error;
}

export function kafkajsTransport(options: ConnectionOptions & { logger: Logger }): KafkaTransport {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...security(options),
    logLevel: logLevel.WARN,
    logCreator: logCreator(options.logger),
    // a broker restart or a short outage is ridden out (about 90 s of retries), not a failure
    retry: { initialRetryTime: 200, retries: 20, maxRetryTime: 5000 },
  });
  let ready: Promise<unknown> | undefined;
  const connector: Connector = async (connect) => {
    await (ready ??= Promise.all([registerCodecs(), options.tls && checkBrokerCertificates(options.brokers, options.tls)]));
    await connect().catch((error: unknown) => explainAuthentication(options, error));
  };
  return {
    fencesByGroup: false,
    staticMembership: false, // kafkajs has no group.instance.id
    consumer: (consumerOptions) => new KafkajsConsumerAdapter(kafka, consumerOptions, connector),
    producer: (producerOptions) => new KafkajsProducerAdapter(kafka, producerOptions, connector),
    transactionalProducer: (transactionalId, producerOptions) => new KafkajsTransactionalAdapter(kafka, transactionalId, producerOptions, connector),
    admin: () => new KafkajsAdminAdapter(kafka, connector),
    // kafkajs fetches only as a group member (no assign): changelogs are read with
    // @platformatic/kafka's client on the same connection settings
    partitionReader: () => platformaticTransport(options).partitionReader(),
  };
}
