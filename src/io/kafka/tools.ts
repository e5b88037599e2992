// What `sluice produce` and `sluice topics create` do: feed a real broker from NDJSON files, and
// make the topics an environment's configuration names.
import { Buffer } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { NO_HEADERS } from '../../component/types.ts';
import { kafkajsTransport } from './kafkajs.ts';
import type { Compression, ConnectionOptions, ProducedRecord } from './transport.ts';

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
    return field.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown> | undefined)?.[name], JSON.parse(Buffer.from(line).toString('utf8')));
  } catch {
    return undefined;
  }
}

function keyOf(line: Uint8Array, field: string): Uint8Array | null {
  const value = fieldOf(line, field);
  return value === undefined || value === null ? null : encoder.encode(String(value));
}

/** Lines of an NDJSON file as raw bytes (invalid UTF-8 kept), blank lines skipped. */
async function* lines(file: string): AsyncGenerator<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    let carry = Buffer.alloc(0);
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) {
      const data = Buffer.concat([carry, chunk as Buffer]);
      let start = 0;
      for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
        let line = data.subarray(start, i);
        if (line[line.length - 1] === 13) line = line.subarray(0, -1);
        if (line.length > 0) yield line;
        start = i + 1;
      }
      carry = data.subarray(start);
    }
    if (carry.length > 0) yield carry;
  } finally {
    await handle.close();
  }
}

/** Produces every line of a file; returns how many were sent. */
export async function produceFile(options: ProduceOptions): Promise<number> {
  const producer = kafkajsTransport({ ...options.security, brokers: options.brokers, clientId: 'sluice-produce', logger: options.logger }).producer({
    compression: options.compression,
    acks: -1,
    idempotent: false,
  });
  const started = performance.now();
  let sent = 0;
  let batch: ProducedRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send(options.topic, batch);
    sent += batch.length;
    batch = [];
  };
  try {
    for await (const value of lines(options.file)) {
      const deleted = options.deletedField !== undefined && fieldOf(value, options.deletedField) === true;
      batch.push({ key: options.key ? keyOf(value, options.key) : null, value: deleted ? null : value, headers: NO_HEADERS, timestamp: String(Date.now()) });
      if (options.rate !== undefined) {
        // open loop: message n is due at n / rate seconds; send what is due, then wait
        const due = started + ((sent + batch.length) / options.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0 || batch.length >= options.batchSize) await flush();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      } else if (batch.length >= options.batchSize) await flush();
    }
    await flush();
  } finally {
    await producer.close();
  }
  return sent;
}

/** Creates the topics that do not exist yet (those in `compacted` with cleanup.policy=compact); returns those created. */
export async function createTopics(brokers: readonly string[], topics: Readonly<Record<string, number>>, logger: Logger, security?: Security, compacted: ReadonlySet<string> = new Set()): Promise<string[]> {
  const admin = kafkajsTransport({ ...security, brokers, clientId: 'sluice-admin', logger }).admin();
  try {
    return await admin.createTopics(Object.entries(topics).map(([topic, partitions]) => ({ topic, partitions, ...(compacted.has(topic) ? { config: { 'cleanup.policy': 'compact' } } : {}) })));
  } finally {
    await admin.close();
  }
}
