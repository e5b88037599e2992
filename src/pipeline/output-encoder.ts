// The bytes a sink writes for a record: the record built by a map stage, encoded as the sink says
// (JSON or protobuf), or the message as it came when no stage built one. One encoder per record
// type, made on first use.
import { Buffer } from 'node:buffer';
import { type Message, type Registry, toBinary } from '@bufbuild/protobuf';
import { jsonEncoder } from '../component/record-json.ts';
import type { FlowRecord, Sink } from '../component/types.ts';

export class OutputEncoder {
  readonly #registry: Registry;
  readonly #encoding: Sink['encoding'];
  /** The encoder of each output record type. */
  readonly #encoders = new Map<string, (record: Message) => Uint8Array>();

  constructor(registry: Registry, encoding: Sink['encoding']) {
    this.#registry = registry;
    this.#encoding = encoding;
  }

  encode(record: FlowRecord): Uint8Array {
    const output = record.output;
    if (output === null) return record.value; // no map stage: the message passes through as it came
    return this.encodeMessage(output);
  }

  /** A built record (a map stage's, an emitted window result). */
  encodeMessage(output: Message): Uint8Array {
    let encode = this.#encoders.get(output.$typeName);
    if (!encode) {
      const type = this.#registry.getMessage(output.$typeName)!;
      if (this.#encoding === 'protobuf') encode = (message) => toBinary(type, message);
      else {
        const json = jsonEncoder(type);
        // Buffer.from takes small outputs from a shared pool; TextEncoder gives each its own ArrayBuffer
        encode = (message) => Buffer.from(json(message), 'utf8');
      }
      this.#encoders.set(output.$typeName, encode);
    }
    return encode(output);
  }
}
