// The @platformatic/kafka producer adapter, and what the transactional one shares with it: records
// as the library takes them, and the Java client's partitioner.
import { Buffer } from 'node:buffer';
import { type MessageToProduce, Producer as PlatformaticProducer } from '@platformatic/kafka';
import { keyHash } from '../key-hash.ts';
import { produceChunks } from '../produce-chunks.ts';
import { messageTooLarge, type ProducedRecord, type Producer, type ProducerOptions } from '../transport.ts';
import { type AdapterOptions, base, hasError } from './options.ts';

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
export function toMessages(topic: string, messages: readonly ProducedRecord[]): MessageToProduce[] {
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
      partition: m.partition,
      value: m.value === null ? undefined : asBuffer(m.value),
      headers,
      timestamp,
    };
  });
}

/** Keyed messages go where the Java client (and kafkajs) puts them; unkeyed ones round-robin. */
export function partitioner() {
  let next = 0;
  return (_message: MessageToProduce, key: Buffer | undefined) => (key ? keyHash(key) : next++ & 0x7fffffff);
}

export class PlatformaticProducerAdapter implements Producer {
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

  async send(topic: string, messages: readonly ProducedRecord[]): Promise<void> {
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
      if (hasError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) throw messageTooLarge(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
