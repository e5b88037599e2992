// file source: NDJSON, one message per line, read in large chunks; each message is a view into
// its chunk (no copy) unless it straddles two chunks. Blank lines are skipped, CRLF is accepted.
// Batches are cut when the flow asks for the next one (it asks while fewer than max-in-flight
// are under way), so what is read ahead is bounded by max-in-flight x batch-size lines, and a
// record's receivedAt, where its latency starts, is when its batch was cut, not when the file was
// opened: a record never counts the time it sat behind the rest of the file.
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { SourceSpec } from '../../component/spec.ts';
import { type InputMessage, NO_HEADERS, type Source, type SourceBatch } from '../../component/types.ts';

const config = z.strictObject({
  path: z.string().describe('The NDJSON file to read (relative to the configuration file)'),
  'batch-size': z
    .number()
    .int()
    .min(1)
    .max(65536)
    .default(64)
    .describe('Messages per batch handed to the core; a batch is delivered when its last record is done, so small batches keep latency low'),
  'chunk-size': z.number().int().min(4096).default(1 << 20).describe('Bytes read per system call'),
});

const acknowledged = Promise.resolve();

/** A file has nothing to commit: a rerun reads it again from the start. */
function fileBatch(messages: InputMessage[]): SourceBatch {
  return { messages, done: () => acknowledged };
}

export const fileSource: SourceSpec<typeof config> = {
  kind: 'file',
  summary: 'Reads messages from an NDJSON file, one per line.',
  config,
  examples: [{ path: '../samples/content.ndjson' }],
  create(options, context): Source {
    const file = resolve(context.baseDir, options.path);
    const batchSize = options['batch-size'];
    const chunkSize = options['chunk-size'];
    let closed = false;
    return {
      async *[Symbol.asyncIterator]() {
        const handle = await open(file, 'r');
        try {
          let line = 0;
          let carry: Uint8Array | null = null;
          let batch: InputMessage[] = [];
          let receivedAt = 0;
          const push = (bytes: Uint8Array) => {
            line++;
            const value = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
            if (value.length > 0) batch.push({ value, key: null, headers: NO_HEADERS, timestamp: undefined, origin: { kind: 'file', file: options.path, line }, receivedAt });
          };
          while (!closed) {
            const chunk = new Uint8Array(chunkSize);
            const { bytesRead } = await handle.read(chunk, 0, chunkSize, null);
            if (bytesRead === 0) break;
            receivedAt = performance.now();
            const data = chunk.subarray(0, bytesRead);
            let start = 0;
            let newline = data.indexOf(0x0a);
            if (carry !== null && newline >= 0) {
              const joined = new Uint8Array(carry.length + newline);
              joined.set(carry);
              joined.set(data.subarray(0, newline), carry.length);
              push(joined);
              carry = null;
              start = newline + 1;
              newline = data.indexOf(0x0a, start);
            }
            for (; newline >= 0; newline = data.indexOf(0x0a, start)) {
              push(data.subarray(start, newline));
              start = newline + 1;
              if (batch.length >= batchSize) {
                yield fileBatch(batch);
                batch = [];
                // resumed: the flow asks for the next batch, whose records are read from now on
                receivedAt = performance.now();
              }
            }
            const rest = data.subarray(start);
            if (carry === null) carry = rest;
            else {
              const joined: Uint8Array = new Uint8Array(carry.length + rest.length);
              joined.set(carry);
              joined.set(rest, carry.length);
              carry = joined;
            }
          }
          if (carry !== null && carry.length > 0) push(carry);
          if (batch.length > 0) yield fileBatch(batch);
        } finally {
          await handle.close();
        }
      },
      async close() {
        closed = true;
      },
    };
  },
};
