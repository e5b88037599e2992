// kafka source: a consumer group member. Each fetched partition batch becomes one batch for the
// core; its offsets are committed only after the flow has delivered every message of it (outputs
// and dead letters acknowledged by the broker): at-least-once.
import { z } from 'zod';
import type { SourceSpec } from '../../pipeline/component.ts';
import type { InputMessage, Source, SourceBatch } from '../../pipeline/types.ts';
import { connectionFields, transportFor } from './connection.ts';
import type { FetchedBatch } from './transport.ts';

const config = z.strictObject({
  ...connectionFields,
  topic: z.string().min(1).describe('The topic to consume'),
  'group-id': z.string().min(1).describe('The consumer group: instances with the same group share the partitions'),
  'from-beginning': z.boolean().default(true).describe('With no committed offset, start at the earliest (true) or latest (false) offset'),
  'read-committed': z.boolean().default(true).describe('Read only committed transactional data'),
  'session-timeout-ms': z.number().int().min(6000).default(30_000).describe('The group drops a member silent for this long'),
  'heartbeat-interval-ms': z.number().int().min(100).default(3_000).describe('Heartbeats, also sent while a long batch is processed'),
  'max-bytes-per-partition': z.number().int().min(1024).default(1 << 20).describe('Fetch size per partition: bounds a batch'),
  'max-wait-ms': z.number().int().min(0).default(100).describe('How long a fetch waits for data: the idle latency floor'),
  'partitions-in-flight': z.number().int().min(1).default(1).describe('Partition batches handed over before the first is delivered'),
});

const EMPTY = new Uint8Array(0);

export const kafkaSource: SourceSpec<typeof config> = {
  kind: 'kafka',
  summary: 'Consumes a topic as a member of a consumer group; commits after delivery.',
  config,
  examples: [{ brokers: '127.0.0.1:9092', topic: 'content-items', 'group-id': 'sluice-content' }],
  create(options, context): Source {
    const consumer = transportFor(options, context.logger).consumer({
      groupId: options['group-id'],
      topics: [options.topic],
      fromBeginning: options['from-beginning'],
      readCommitted: options['read-committed'],
      sessionTimeoutMs: options['session-timeout-ms'],
      heartbeatIntervalMs: options['heartbeat-interval-ms'],
      maxBytesPerPartition: options['max-bytes-per-partition'],
      maxWaitMs: options['max-wait-ms'],
      partitionsInFlight: options['partitions-in-flight'],
    });
    consumer.onRebalance((assigned) => {
      context.logger.info({ flow: context.flow, assigned: assigned.map((p) => `${p.topic}-${p.partition}`) }, 'partitions assigned');
    });
    const queue: SourceBatch[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const handOver = (fetched: FetchedBatch) =>
      new Promise<void>((resolve, reject) => {
        const receivedAt = performance.now();
        const { topic, partition, records } = fetched;
        const messages: InputMessage[] = records.map((r) => ({
          value: r.value ?? EMPTY,
          key: r.key,
          headers: r.headers,
          timestamp: r.timestamp,
          origin: { kind: 'kafka', topic, partition, offset: r.offset },
          receivedAt,
        }));
        const next = records[records.length - 1]!.offset + 1n;
        queue.push({
          messages,
          done: async () => {
            try {
              await consumer.commit(topic, partition, next);
              resolve();
            } catch (error) {
              // not committed: the batch is fetched again (by us or the partition's new owner)
              context.logger.warn({ flow: context.flow, topic, partition, error: (error as Error).message }, 'commit failed: the batch will be redelivered');
              reject(error);
            }
          },
        });
        notify();
      });
    let running: Promise<void> | undefined;
    return {
      async *[Symbol.asyncIterator]() {
        running ??= consumer.run(handOver);
        await running;
        for (;;) {
          const batch = queue.shift();
          if (batch) yield batch;
          else if (stopped) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      async close() {
        // the consumer finishes the batches in flight (the flow keeps delivering them), then leaves
        await consumer.stop();
        stopped = true;
        notify();
      },
    };
  },
};
