// file sink: output records as NDJSON (json) or size-delimited protobuf; as a dead-letter sink,
// one JSON line per failed message with its headers (reason, stage, origin) and original bytes.
import { Buffer } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { SinkSpec } from '../../component/spec.ts';
import type { OutboundMessage, Sink } from '../../component/types.ts';

const config = z.strictObject({
  path: z.string().describe('The file to write (relative to the configuration file); its directory is created'),
  encoding: z.enum(['json', 'protobuf']).default('json').describe('json: one JSON record per line; protobuf: varint length + message'),
  append: z.boolean().default(false).describe('Append to the file instead of replacing it'),
});

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const NEWLINE = Uint8Array.of(0x0a);

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/** A dead letter as one JSON line: headers, key and the original bytes (text when valid UTF-8). */
function envelope(message: OutboundMessage): Uint8Array {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  const record: Record<string, unknown> = { headers };
  if (message.key) record.key = Buffer.from(message.key).toString('base64');
  try {
    record.value = strict.decode(message.value);
  } catch {
    record.valueBase64 = Buffer.from(message.value).toString('base64');
  }
  return encoder.encode(`${JSON.stringify(record)}\n`);
}

export const fileSink: SinkSpec<typeof config> = {
  kind: 'file',
  summary: 'Writes records to a local file (NDJSON or size-delimited protobuf).',
  config,
  examples: [{ path: '../out/content.ndjson', encoding: 'json' }],
  create(options, context, role): Sink {
    const file = resolve(context.baseDir, options.path);
    let handle: Promise<FileHandle> | undefined;
    const opened = () => {
      if (!handle) {
        mkdirSync(dirname(file), { recursive: true });
        handle = open(file, options.append ? 'a' : 'w');
      }
      return handle;
    };
    return {
      encoding: options.encoding,
      async write(batch) {
        const parts: Uint8Array[] = [];
        for (const message of batch) {
          if (role === 'dead-letter') parts.push(envelope(message));
          else if (options.encoding === 'protobuf') {
            const prefix: number[] = [];
            varint(message.value.length, prefix);
            parts.push(Uint8Array.from(prefix), message.value);
          } else parts.push(message.value, NEWLINE);
        }
        await (await opened()).write(Buffer.concat(parts));
      },
      async close() {
        await (await opened()).close();
      },
    };
  },
};
