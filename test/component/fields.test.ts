// Field decoding from the core's byte spans: the same values as JSON.parse, whether the message
// bytes are a Buffer (what the Kafka clients hand over, decoded in place) or a plain Uint8Array.
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSpan, fieldBigInt, fieldBytes } from '../../src/component/fields.ts';
import type { FlowRecord } from '../../src/component/types.ts';
import { prng } from '../../scripts/support/random.ts';

const random = prng(20261126);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;

const PIECES = ['a', 'Z', '0', '-', ' ', '"', '\\', '/', '\t', '\n', '\u0000', 'é', 'ß', '日', '😀', '\u2028', '~'];
const SCALARS = [0, -0, 1, -1, 0.5, 1e21, 1e-7, -123.456, 2 ** 53, 123456789, true, false, null];

function randomString(): string {
  const length = random() < 0.7 ? Math.floor(random() * 40) : 40 + Math.floor(random() * 60);
  let text = '';
  // mostly plain ASCII ids, the common case that takes the short path
  const plain = random() < 0.5;
  for (let i = 0; i < length; i++) text += plain ? String.fromCharCode(0x61 + Math.floor(random() * 26)) : pick(PIECES);
  return text;
}

function randomValue(depth = 0): unknown {
  const roll = random();
  if (roll < 0.5) return randomString();
  if (roll < 0.8 || depth > 1) return pick(SCALARS);
  if (roll < 0.9) return [randomValue(depth + 1), randomValue(depth + 1)];
  return { k: randomValue(depth + 1), [randomString()]: randomValue(depth + 1) };
}

/** A message with the value's JSON text after a prefix (pretty-printed or not), and where that text lies. */
function message(value: unknown): { bytes: Buffer; start: number; end: number } {
  const prefix = Buffer.from(random() < 0.5 ? '{"x":' : '{\n  "é": "ü",\n  "x": ');
  const text = Buffer.from(random() < 0.5 ? JSON.stringify(value) : JSON.stringify(value, null, 2));
  return { bytes: Buffer.concat([prefix, text, Buffer.from('}')]), start: prefix.length, end: prefix.length + text.length };
}

test('decodeSpan: the value JSON.parse gives, from a Buffer and from a Uint8Array', () => {
  for (let i = 0; i < 5_000; i++) {
    const value = randomValue();
    const { bytes, start, end } = message(value);
    const expected = JSON.parse(bytes.subarray(start, end).toString('utf8')) as unknown;
    const plain = new Uint8Array(bytes);
    assert.equal(decodeSpan(bytes, start, end), expected, `Buffer: ${bytes.toString()}`);
    assert.equal(decodeSpan(plain, start, end), expected, `Uint8Array: ${bytes.toString()}`);
    if (typeof expected === 'number') assert.ok(Object.is(decodeSpan(bytes, start, end), expected), `-0 kept: ${bytes.toString()}`);
  }
});

/** A record whose field slot 0 spans [start, end) of `value`. */
function record(value: Uint8Array, start: number, end: number): FlowRecord {
  return { value, key: null, headers: {}, timestamp: undefined, origin: { kind: 'file', file: 'f', line: 1 }, receivedAt: 0, spans: Int32Array.of(start, end), spanAt: 0, output: null };
}

test('fieldBigInt: 64-bit integers exactly, from a Buffer and from a Uint8Array', () => {
  for (const text of ['0', '-1', '9007199254740993', '-9223372036854775808', '9223372036854775807', '1e3', '12.0', 'null']) {
    const bytes = Buffer.from(`{"n":${text}}`);
    const expected = text === 'null' ? undefined : /^-?\d+$/.test(text) ? BigInt(text) : BigInt(Number(text));
    assert.is(fieldBigInt(record(bytes, 5, 5 + text.length), 0), expected, text);
    assert.is(fieldBigInt(record(new Uint8Array(bytes), 5, 5 + text.length), 0), expected, text);
  }
});

test('numbers of any length decode from a Buffer and from a Uint8Array', () => {
  for (const text of ['1' + '0'.repeat(130_000), '-0.' + '0'.repeat(200_000) + '7', '9'.repeat(1_000_000)]) {
    const bytes = Buffer.from(`{"n":${text}}`);
    const expected = Number(text);
    assert.is(decodeSpan(bytes, 5, 5 + text.length), expected);
    assert.is(decodeSpan(new Uint8Array(bytes), 5, 5 + text.length), expected);
    assert.is(fieldBigInt(record(new Uint8Array(bytes), 5, 5 + text.length), 0), /^-?\d+$/.test(text) ? BigInt(text) : BigInt(Math.trunc(expected)));
  }
});

test('fieldBytes: a string key as its UTF-8, escapes resolved', () => {
  for (const key of ['user-1', 'é/ü', 'quote " and \\ slash', '😀']) {
    const json = JSON.stringify(key);
    const bytes = Buffer.from(`{"k":${json}}`);
    assert.equal(Buffer.from(fieldBytes(record(bytes, 5, 5 + Buffer.byteLength(json)), 0)!).toString('utf8'), key);
  }
});

test.run();
