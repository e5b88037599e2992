// The JSON sinks' record encoder against protobuf-es toJsonString: the same text, byte for byte,
// on random records of the shipped output types, and the library's answer where it hands over.
import { create, type DescMessage, type Message, toJsonString } from '@bufbuild/protobuf';
import { DurationSchema, FieldDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordTypes } from '../../schemas/index.ts';
import { jsonEncoder } from '../../src/component/record-json.ts';
import { prng } from '../../scripts/support/random.ts';

const random = prng(20261125);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;

const STRINGS = ['', 'a', 'plain-id-123', 'quote " inside', 'back\\slash', 'tab\tnew\nline', '\u0000\u001f', 'é ü ß', '日本語', '😀 pair', '\ud800 lone high', 'lone low \udc00', '</script>', '\u2028\u2029'];
const NUMBERS = [0, -0, 1, -1, 0.5, 1e21, 1e-7, -123.456, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];
const INT32S = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31)];
const INT64S = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1764000000000n];

/** A record of `type` with each field either left at its zero value or set to a random value of its type. */
function randomRecord(type: DescMessage): Message {
  const record = create(type) as Message & Record<string, unknown>;
  for (const field of type.fields) {
    if (random() < 0.2) continue;
    const scalar = field.fieldKind === 'scalar' || field.fieldKind === 'list' ? field.scalar : undefined;
    const one = (): unknown => {
      switch (scalar) {
        case 1: // double
        case 2: // float
          return pick(NUMBERS);
        case 3: // int64
          return pick(INT64S);
        case 5: // int32
          return pick(INT32S);
        case 8: // bool
          return random() < 0.5;
        case 9: // string
          return pick(STRINGS);
        default:
          throw new Error(`no values for scalar type ${scalar} (${field.name})`);
      }
    };
    record[field.localName] = field.fieldKind === 'list' ? Array.from({ length: Math.floor(random() * 4) }, one) : one();
  }
  return record;
}

for (const typeName of ['sluice.recommender.v1.EventRecord', 'sluice.recommender.v1.ItemRecord']) {
  test(`${typeName}: the same JSON text as toJsonString, on 5,000 random records`, () => {
    const type = recordTypes.getMessage(typeName)!;
    const encode = jsonEncoder(type);
    for (let i = 0; i < 5000; i++) {
      const record = randomRecord(type);
      assert.is(encode(record), toJsonString(type, record));
    }
  });
}

test('a record with a value of the wrong type gets the library error, not a different text', () => {
  const type = recordTypes.getMessage('sluice.recommender.v1.EventRecord')!;
  const record = create(type, { eventId: 'e-1' }) as Message & Record<string, unknown>;
  record.consent = 'yes';
  const encode = jsonEncoder(type);
  assert.throws(() => encode(record), (error: Error) => error.message === captured(() => toJsonString(type, record)));
});

test('types the direct encoder does not cover (well-known types, enums, explicit presence) are the library encoding', () => {
  const duration = create(DurationSchema, { seconds: 90n, nanos: 5 });
  assert.is(jsonEncoder(DurationSchema)(duration), '"90.000000005s"');
  const field = create(FieldDescriptorProtoSchema, { name: 'id', number: 1, label: 1, type: 9 });
  assert.is(jsonEncoder(FieldDescriptorProtoSchema)(field), toJsonString(FieldDescriptorProtoSchema, field));
});

function captured(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

test.run();
