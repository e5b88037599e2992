// kafka table: a global table materialized from a topic (usually compacted), keyed by the record
// key, the value a JSON object; a tombstone (null value) deletes the key. Every instance reads
// every partition from the beginning with a consumer of its own that never commits (a group of
// one, named afresh each start, so the topic is read whole every time: the topic is the table's
// log, it has no changelog of its own). `open` resolves once each partition reached the end
// offset it had when the table started; reading goes on until `close`, so updates reach lookups
// while the flows run.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SluiceError } from '../../errors.ts';
import { connectionFields } from '../../component/settings.ts';
import type { TableSpec } from '../../component/spec.ts';
import { parseRow, RowMap } from '../../component/table.ts';
import { loadClient, transportFor } from './connection.ts';
import type { Consumer, FetchedBatch } from './transport.ts';

const config = z.strictObject({
  ...connectionFields,
  topic: z.string().min(1).describe('The topic the table is read from: the record key is the row\'s key, the value a JSON object, a null value deletes the key'),
  'read-committed': z.boolean().default(true).describe('Read only committed transactional data'),
  'max-wait-ms': z.number().int().min(0).default(500).describe('How long a fetch waits for new records: how soon an update reaches lookups when the topic is quiet'),
});

const decoder = new TextDecoder();

export const kafkaTable: TableSpec<typeof config> = {
  kind: 'kafka',
  summary: 'A global table read from a (compacted) topic, kept current while the flows run; startup waits until it caught up.',
  config,
  examples: [{ brokers: '127.0.0.1:9092', topic: 'cm.placements' }],
  load: (options) => loadClient(options.client),
  create(options, context) {
    const rows = new RowMap();
    const log = context.logger.child({ table: context.table, topic: options.topic });
    let consumer: Consumer | undefined;
    let closed = false;
    /** Ends the wait of an `open` under way (a table closed before it caught up). */
    let stopWaiting = () => undefined as void;
    /** Records whose value is not a JSON object: skipped, counted in one log line per batch. */
    let skipped = 0;
    return {
      get: (key) => rows.get(key),
      get size() {
        return rows.size;
      },
      async open() {
        const started = performance.now();
        await loadClient(options.client);
        const transport = transportFor(options, context);
        const admin = transport.admin();
        let ends: bigint[] | undefined;
        try {
          ends = await admin.endOffsets(options.topic);
        } finally {
          await admin.close();
        }
        if (ends === undefined) {
          throw new SluiceError('SLC_CONFIG', `table ${context.table}: topic ${options.topic} does not exist: create it with \`sluice topics create\``);
        }
        if (closed) return;
        /** Partitions not yet read up to their end offset at start. */
        const behind = new Map(ends.flatMap((end, partition) => (end > 0n ? [[partition, end] as const] : [])));
        let caughtUp!: () => void;
        let failed!: (error: Error) => void;
        const ready = new Promise<void>((resolve, reject) => {
          caughtUp = resolve;
          failed = reject;
        });
        stopWaiting = caughtUp;
        consumer = transport.consumer({
          groupId: `sluice-table-${context.table}-${randomUUID()}`,
          topics: [options.topic],
          fromBeginning: true,
          readCommitted: options['read-committed'],
          sessionTimeoutMs: 30_000,
          heartbeatIntervalMs: 3_000,
          maxBytesPerPartition: 1024 * 1024,
          maxWaitMs: options['max-wait-ms'],
          partitionsInFlight: Math.max(1, ends.length),
          prefetch: true,
        });
        consumer.onFatal((error) => {
          failed(error);
          log.error({ err: error }, 'table: the consumer stopped: the table no longer follows its topic');
        });
        const apply = async (batch: FetchedBatch) => {
          for (const record of batch.records) {
            const key = record.key === null ? undefined : decoder.decode(record.key);
            if (key === undefined) skipped++;
            else if (record.value === null) rows.put(key, null);
            else {
              const row = parseRow(decoder.decode(record.value));
              if (row === undefined) skipped++;
              else rows.put(key, row);
            }
          }
          if (skipped > 0) {
            log.warn({ partition: batch.partition, skipped }, 'table: records without a key or with a value that is not a JSON object were skipped');
            skipped = 0;
          }
          // `next`, not the last record's offset: a transactional topic ends with a marker, no record
          const end = behind.get(batch.partition);
          if (end !== undefined && batch.next >= end) {
            behind.delete(batch.partition);
            if (behind.size === 0) caughtUp();
          }
        };
        // not ready while loading: the flows reading the table have not started
        const notReady = context.metrics.readiness.add(() => (behind.size > 0 ? `table ${context.table}: loading ${options.topic} (${behind.size} of ${ends.length} partitions behind)` : undefined));
        try {
          await consumer.run(apply);
          if (behind.size === 0) caughtUp();
          await ready;
        } finally {
          notReady();
        }
        log.info({ rows: rows.size, seconds: (performance.now() - started) / 1000 }, 'table caught up');
      },
      async close() {
        closed = true;
        stopWaiting();
        await consumer?.close();
      },
    };
  },
};
