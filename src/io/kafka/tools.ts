// What `sluice produce` and `sluice topics create` do: feed a real broker from NDJSON files, and
// make the topics an environment's configuration names.
import { Buffer } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { NO_HEADERS } from '../../component/types.ts';
import { isSluiceError } from '../../errors.ts';
import { kafkajsTransport } from './kafkajs.ts';
import { produceChunks } from './produce-chunks.ts';
import { type Admin, type Compression, type ConnectionOptions, type NewTopic, type ProducedRecord } from './transport.ts';
import { parseJson } from '../../core/json-text.ts';

/** TLS and SASL of the cluster (the configuration's kafka block), when it needs them. */
export type Security = Pick<ConnectionOptions, 'tls' | 'sasl'>;

export interface ProduceOptions {
  brokers: readonly string[];
  security?: Security;
  topic: string;
  file: string;
  /** Messages per second, open loop (sent on a schedule); undefined: as fast as acknowledged. */
  rate?: number;
  /** JSON field whose value keys each message (messages that are not JSON get no key). */
  key?: string;
  /** A line whose JSON field of this name is true is sent as a tombstone (a null value) under its key. */
  deletedField?: string;
  compression: Compression;
  batchSize: number;
  logger: Logger;
}

const encoder = new TextEncoder();

/** The value of a (dotted) JSON field of a line, or undefined (not JSON, or no such field). */
function fieldOf(line: Uint8Array, field: string): unknown {
  try {
    return field.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown> | undefined)?.[name], parseJson(Buffer.from(line).toString('utf8')));
  } catch {
    return undefined;
  }
}

function keyOf(line: Uint8Array, field: string): Uint8Array | null {
  const value = fieldOf(line, field);
  return value === undefined || value === null ? null : encoder.encode(String(value));
}

/** Lines of an NDJSON file as raw bytes (invalid UTF-8 kept) with their line numbers, blank lines skipped. */
async function* lines(file: string): AsyncGenerator<{ value: Uint8Array; line: number }> {
  const handle = await open(file, 'r');
  try {
    let carry = Buffer.alloc(0);
    let line = 0;
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) {
      const data = Buffer.concat([carry, chunk as Buffer]);
      let start = 0;
      for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
        line++;
        let value = data.subarray(start, i);
        if (value[value.length - 1] === 13) value = value.subarray(0, -1);
        if (value.length > 0) yield { value, line };
        start = i + 1;
      }
      carry = data.subarray(start);
    }
    if (carry.length > 0) yield { value: carry, line: line + 1 };
  } finally {
    await handle.close();
  }
}

/** A line the topic refused as larger than it accepts: skipped, nothing of it written. */
export interface SkippedLine {
  readonly line: number;
  readonly bytes: number;
}

export interface Produced {
  readonly sent: number;
  readonly skipped: readonly SkippedLine[];
  /** The topic's max.message.bytes, when a line was skipped (undefined if the brokers would not say). */
  readonly maxMessageBytes?: number;
}

/**
 * Produces every line of a file. A line the topic refuses as too large is skipped (and reported),
 * the others sent: a chunk (one produce request) refused as too large was not written at all, and
 * its lines go again one by one, so that nothing is written twice.
 */
export async function produceFile(options: ProduceOptions): Promise<Produced> {
  const transport = kafkajsTransport({ ...options.security, brokers: options.brokers, clientId: 'sluice-produce', logger: options.logger });
  const producer = transport.producer({ compression: options.compression, acks: -1, idempotent: false });
  const started = performance.now();
  let sent = 0;
  const skipped: SkippedLine[] = [];
  let batch: (ProducedRecord & { line: number })[] = [];
  const flush = async () => {
    for (const chunk of produceChunks(batch)) {
      try {
        await producer.send(options.topic, chunk);
        sent += chunk.length;
      } catch (error) {
        if (!isSluiceError(error, 'SLC_TOO_LARGE')) throw error;
        for (const message of chunk) {
          try {
            await producer.send(options.topic, [message]);
            sent++;
          } catch (single) {
            if (!isSluiceError(single, 'SLC_TOO_LARGE')) throw single;
            skipped.push({ line: message.line, bytes: message.value?.length ?? 0 });
          }
        }
      }
    }
    batch = [];
  };
  let maxMessageBytes: number | undefined;
  try {
    for await (const { value, line } of lines(options.file)) {
      const deleted = options.deletedField !== undefined && fieldOf(value, options.deletedField) === true;
      batch.push({ key: options.key ? keyOf(value, options.key) : null, value: deleted ? null : value, headers: NO_HEADERS, timestamp: String(Date.now()), line });
      if (options.rate !== undefined) {
        // open loop: message n is due at n / rate seconds; send what is due, then wait
        const due = started + ((sent + skipped.length + batch.length) / options.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0 || batch.length >= options.batchSize) await flush();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      } else if (batch.length >= options.batchSize) await flush();
    }
    await flush();
    if (skipped.length > 0) maxMessageBytes = await topicLimit(transport.admin(), options.topic);
  } finally {
    await producer.close();
  }
  return { sent, skipped, ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }) };
}

/** The topic's max.message.bytes, or undefined when the brokers do not answer it. */
async function topicLimit(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    return await admin.maxMessageBytes(topic);
  } catch {
    return undefined;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Creates the topics that do not exist yet (`more`: with their settings, e.g. compacted changelogs); returns those created. */
export async function createTopics(brokers: readonly string[], topics: Readonly<Record<string, number>>, logger: Logger, security?: Security, more: readonly NewTopic[] = []): Promise<string[]> {
  const admin = kafkajsTransport({ ...security, brokers, clientId: 'sluice-admin', logger }).admin();
  try {
    return await admin.createTopics([...Object.entries(topics).map(([topic, partitions]) => ({ topic, partitions })), ...more]);
  } finally {
    await admin.close();
  }
}
