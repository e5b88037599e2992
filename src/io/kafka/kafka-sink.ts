// kafka sink: output records (or dead letters) to a topic; a write resolves when the brokers
// acknowledged every message, which is what lets the source commit.
import { z } from 'zod';
import { isSluiceError, SluiceError } from '../../errors.ts';
import { connectionFields } from '../../component/settings.ts';
import type { SinkSpec } from '../../component/spec.ts';
import type { OutboundMessage, Sink } from '../../component/types.ts';
import { loadClient, transportFor } from './connection.ts';
import { withoutValue } from './oversized-letters.ts';
import { produceChunks } from './produce-chunks.ts';
import type { Producer } from './transport.ts';

const config = z.strictObject({
  ...connectionFields,
  topic: z.string().min(1).describe('The topic to write'),
  key: z.string().optional().describe('The message field whose value becomes the Kafka key (default: the input key)'),
  encoding: z.enum(['json', 'protobuf']).default('json').describe('How output records are encoded'),
  compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('none').describe('Producer batch compression'),
  acks: z.union([z.literal(-1), z.literal(0), z.literal(1)]).default(-1).describe('-1: all in-sync replicas acknowledge'),
  idempotent: z.boolean().default(false).describe('Idempotent producer (no duplicates from producer retries)'),
});

/**
 * Dead letters the topic refuses as too large keep their headers (reason, source coordinates,
 * where the original still is) and lose their value, marked so: a failure must not stop the flow.
 * Sent chunk by chunk (one produce request each, as the producer would cut them): a chunk refused
 * was not written at all, and only its letters are sent again one by one (no duplicates).
 */
async function writeDeadLetters(producer: Producer, topic: string, batch: readonly OutboundMessage[]): Promise<void> {
  for (const chunk of produceChunks(batch)) {
    try {
      await producer.send(topic, chunk);
    } catch (error) {
      if (!isSluiceError(error, 'SLC_TOO_LARGE')) throw error;
      for (const letter of chunk) {
        try {
          await producer.send(topic, [letter]);
        } catch (single) {
          if (!isSluiceError(single, 'SLC_TOO_LARGE')) throw single;
          await producer.send(topic, [withoutValue(letter, topic)]);
        }
      }
    }
  }
}

/** Outputs: one the topic refuses as too large cannot be delivered at all, and the flow fails saying so. */
async function writeOutputs(producer: Producer, topic: string, batch: readonly OutboundMessage[]): Promise<void> {
  try {
    await producer.send(topic, batch);
  } catch (error) {
    if (!isSluiceError(error, 'SLC_TOO_LARGE')) throw error;
    const largest = batch.reduce((max, m) => Math.max(max, m.value.length), 0);
    throw new SluiceError('SLC_IO', `outputs are more than ${topic} accepts (max.message.bytes; the largest of the batch: ${largest} bytes): the flow cannot deliver them`, { cause: error });
  }
}

export const kafkaSink: SinkSpec<typeof config> = {
  kind: 'kafka',
  summary: 'Produces records to a Kafka topic; a write resolves once the brokers acknowledged it.',
  config,
  examples: [{ brokers: '127.0.0.1:9092', topic: 'recommender-items', key: 'id', encoding: 'json', compression: 'lz4' }],
  keyField: (options) => options.key,
  load: (options) => loadClient(options.client),
  create(options, context, role): Sink {
    const producer = transportFor(options, context).producer({
      compression: options.compression,
      acks: options.acks,
      idempotent: options.idempotent,
    });
    return {
      encoding: options.encoding,
      transactional: { topic: options.topic, compression: options.compression, ...(role === 'dead-letter' ? { deadLetters: true } : {}) },
      write: (batch) => (role === 'dead-letter' ? writeDeadLetters(producer, options.topic, batch) : writeOutputs(producer, options.topic, batch)),
      close: () => producer.close(),
    };
  },
};
