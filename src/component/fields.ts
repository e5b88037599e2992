// The fields a flow's stages read. Each gets an extraction slot in the core; the core reports the
// byte span of each, and only those spans are decoded here, never the whole message.
import { Buffer } from 'node:buffer';
import { escapeToken } from '../core/json-pointer.ts';
import type { FlowRecord, JsonValue } from './types.ts';
import { parseJson } from '../core/json-text.ts';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** `author.id` or `/author/id` -> the JSON Pointer `/author/id`. */
export function toPointer(reference: string): string {
  if (reference.startsWith('/')) return reference;
  return `/${reference.split('.').map(escapeToken).join('/')}`;
}

/** Collects field references from stages, in first-use order, and hands out slots. */
export class FieldTable {
  readonly #slots = new Map<string, number>();

  /** The slot of a field reference (either syntax), added when new. */
  slot(reference: string): number {
    const pointer = toPointer(reference);
    let slot = this.#slots.get(pointer);
    if (slot === undefined) {
      slot = this.#slots.size;
      this.#slots.set(pointer, slot);
    }
    return slot;
  }

  /** The pointers, by slot: what the core must extract. */
  get pointers(): string[] {
    return [...this.#slots.keys()];
  }
}

/**
 * Bytes [start, end) as a string, one char per byte. The sources hand over Buffers, whose
 * toString decodes in place; a view and an argument list per field took three times as long.
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (bytes instanceof Buffer) return bytes.toString('latin1', start, end);
  // an argument per byte overflows the stack on long values (a number of ~100k digits)
  if (end - start > 4096) return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Bytes [start, end) of validated UTF-8 as a string. */
function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  return bytes instanceof Buffer ? bytes.toString('utf8', start, end) : utf8.decode(bytes.subarray(start, end));
}

function isSimpleAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x5c || c >= 0x80) return false;
  }
  return true;
}

/** Decodes the JSON value at [start, end) of a message the core has validated. */
export function decodeSpan(bytes: Uint8Array, start: number, end: number): JsonValue {
  const first = bytes[start]!;
  if (first === 0x22) {
    // short ASCII strings without escapes are the common case: skip the decoder
    if (end - start < 64 && isSimpleAscii(bytes, start + 1, end - 1)) return latin1(bytes, start + 1, end - 1);
    const text = utf8Text(bytes, start, end);
    return text.includes('\\') ? (JSON.parse(text) as string) : text.slice(1, -1);
  }
  if (first === 0x74) return true;
  if (first === 0x66) return false;
  if (first === 0x6e) return null;
  if (first === 0x2d || (first >= 0x30 && first <= 0x39)) {
    return Number(latin1(bytes, start, end));
  }
  return parseJson(utf8Text(bytes, start, end)) as JsonValue;
}

/** Whether the message of a record has field `slot` (null counts as present). */
export function fieldPresent(record: FlowRecord, slot: number): boolean {
  if (record.values) return record.values[slot] !== undefined;
  return record.spans[record.spanAt + slot * 2]! >= 0;
}

/** The value of field `slot` of a record, or undefined when the message does not have it. */
export function fieldValue(record: FlowRecord, slot: number): JsonValue | undefined {
  if (record.values) return record.values[slot] as JsonValue | undefined;
  const start = record.spans[record.spanAt + slot * 2]!;
  return start < 0 ? undefined : decodeSpan(record.value, start, record.spans[record.spanAt + slot * 2 + 1]!);
}

/** An integer field as an exact bigint (int64 targets must not pass through a double). */
export function fieldBigInt(record: FlowRecord, slot: number): bigint | undefined {
  if (record.values) {
    const value = record.values[slot];
    return value === undefined || value === null ? undefined : BigInt(value as number);
  }
  const start = record.spans[record.spanAt + slot * 2]!;
  if (start < 0) return undefined;
  const end = record.spans[record.spanAt + slot * 2 + 1]!;
  const text = latin1(record.value, start, end);
  if (text === 'null') return undefined;
  // 1e3 and 1.0 are integers to JSON Schema too; below 2^53 their double is exact
  return /^-?\d+$/.test(text) ? BigInt(text) : BigInt(Number(text));
}

const utf8Encoder = new TextEncoder();

/** A field's value as key bytes: a string's UTF-8 (a view when it has no escapes), else its JSON text; undefined when absent or null. */
export function fieldBytes(record: FlowRecord, slot: number): Uint8Array | undefined {
  if (record.values) {
    const value = record.values[slot];
    if (value === undefined || value === null) return undefined;
    return utf8Encoder.encode(typeof value === 'string' ? value : JSON.stringify(value));
  }
  const start = record.spans[record.spanAt + slot * 2]!;
  if (start < 0) return undefined;
  const end = record.spans[record.spanAt + slot * 2 + 1]!;
  const bytes = record.value;
  if (bytes[start] === 0x6e) return undefined; // null
  if (bytes[start] !== 0x22) return bytes.subarray(start, end);
  const inner = bytes.subarray(start + 1, end - 1);
  return inner.includes(0x5c) ? utf8Encoder.encode(decodeSpan(bytes, start, end) as string) : inner;
}

/** A field value a key can be made of: a string, a number or a boolean. */
export const isScalar = (value: unknown): value is string | number | boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
