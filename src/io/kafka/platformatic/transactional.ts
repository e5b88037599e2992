// The @platformatic/kafka transactional producer adapter: exactly-once output. Transactions commit
// the consumed offsets with the group generation the batch was fetched in (KIP-447): a member the
// group dropped cannot commit, so one transactional producer serves every partition of a consumer.
import { type Consumer as PlatformaticConsumer, type Message, Producer as PlatformaticProducer } from '@platformatic/kafka';
import type { PlacedMessage, TopicSend } from '../../../component/types.ts';
import { SluiceError } from '../../../errors.ts';
import { produceChunks } from '../produce-chunks.ts';
import { type GroupMembership, messageTooLarge, producerFenced, type TopicPartition, type TransactionalProducer } from '../transport.ts';
import { type AdapterOptions, base, hasError } from './options.ts';
import { partitioner, toMessages } from './producer.ts';

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

export class PlatformaticTransactionalAdapter implements TransactionalProducer {
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
      return Promise.reject(new SluiceError('SLC_IO', 'the platformatic transactional producer commits offsets of batches fetched by the platformatic consumer (with their group membership)'));
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
    const byTopic = new Map<string, { compression: TopicSend['compression']; messages: PlacedMessage[] }>();
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
      if (hasError(error, ...FENCED)) throw producerFenced(error);
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
      if (!aborted || hasError(error, ...FENCED)) throw producerFenced(error);
      if (hasError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) throw messageTooLarge(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    // forced: a transaction left open (the process is closing) is the broker's to abort
    await new Promise<void>((resolve, reject) => this.#producer.close(true, (error) => (error ? reject(error) : resolve())));
  }
}
