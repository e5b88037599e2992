// Rule (JSON-Schema subset) tests: exact codes and JSON Pointer paths, extract spans, compile errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileSchema, SluiceError } from '../../src/index.ts';
import type { JsFallback } from '../../src/core/rule-model.ts';
import { bytesOf as b, enc, hex, oracleParse, RULE_CODES } from './gen.ts';

const ajv = new Ajv({ strict: false, allErrors: false });
const ajvCache = new Map<string, any>();
const coreCache = new Map<string, any>();

function ajvValid(schema: unknown, bytes: Uint8Array): boolean | undefined {
  const p = oracleParse(bytes);
  if (!p.ok) return undefined;
  const key = JSON.stringify(schema);
  let f = ajvCache.get(key);
  if (!f) ajvCache.set(key, (f = ajv.compile(schema as any)));
  return f(p.value) as boolean;
}

function core(schema: unknown, opts?: any) {
  const key = JSON.stringify([schema, opts ?? null]);
  let v = coreCache.get(key);
  if (!v) coreCache.set(key, (v = compileSchema(schema as any, opts)));
  return v;
}

const toBytes = (d: string | Uint8Array) => (typeof d === 'string' ? enc.encode(d) : d);

/**
 * Case: [schema, document, expected code ('OK' or E_*), expected path (checked when given),
 *        skipAjv (only where ajv itself is known to deviate from JSON Schema; see the case's comment)]
 */
type Case = [unknown, string | Uint8Array, string, string?, boolean?];

function run(cases: Case[], label: string, opts?: any) {
  // every row is checked; all failing rows of a table are reported together
  const fails: string[] = [];
  for (const [schema, doc, code, path, skipAjv] of cases) {
    const bytes = toBytes(doc);
    const where = `${label}: schema=${JSON.stringify(schema)} doc=${typeof doc === 'string' ? JSON.stringify(doc) : hex(doc)}`;
    // our expectation must agree with ajv (the reference semantics) on validity
    if ((code === 'OK' || RULE_CODES.has(code)) && !skipAjv) {
      const a = ajvValid(schema, bytes);
      assert.is(a, code === 'OK', `test table bug (ajv disagrees with expectation ${code}): ${where}`);
    }
    const r = core(schema, opts).validate(bytes);
    const got = JSON.stringify(r);
    const exp = `${code}${path !== undefined ? ' at ' + JSON.stringify(path) : ''}`;
    if (r.code !== code || r.ok !== (code === 'OK') || (path !== undefined && r.path !== path) || (code === 'OK' && r.path !== undefined))
      fails.push(`${where}\n    expected ${exp}, got ${got}`);
  }
  assert.ok(fails.length === 0, `${fails.length} of ${cases.length} rows failed:\n  ${fails.join('\n  ')}`);
}

// ---------------------------------------------------------------------------

test('type: every type name, type arrays, paths', () => {
  run(
    [
      [{ type: 'null' }, 'null', 'OK'],
      [{ type: 'null' }, 'false', 'E_TYPE', ''],
      [{ type: 'boolean' }, 'true', 'OK'],
      [{ type: 'boolean' }, 'false', 'OK'],
      [{ type: 'boolean' }, '0', 'E_TYPE', ''],
      [{ type: 'boolean' }, '"true"', 'E_TYPE', ''],
      [{ type: 'string' }, '"x"', 'OK'],
      [{ type: 'string' }, '1', 'E_TYPE', ''],
      [{ type: 'string' }, 'null', 'E_TYPE', ''],
      [{ type: 'number' }, '1', 'OK'],
      [{ type: 'number' }, '-1.5e-3', 'OK'],
      [{ type: 'number' }, '1e400', 'OK'],
      [{ type: 'number' }, '"1"', 'E_TYPE', ''],
      [{ type: 'array' }, '[]', 'OK'],
      [{ type: 'array' }, '{}', 'E_TYPE', ''],
      [{ type: 'object' }, '{}', 'OK'],
      [{ type: 'object' }, '[]', 'E_TYPE', ''],
      [{ type: 'object' }, 'null', 'E_TYPE', ''],
      [{ type: ['string', 'null'] }, '"a"', 'OK'],
      [{ type: ['string', 'null'] }, 'null', 'OK'],
      [{ type: ['string', 'null'] }, '1', 'E_TYPE', ''],
      [{ type: ['integer', 'string'] }, '1.5', 'E_TYPE', ''],
      [{ type: ['integer', 'string'] }, '2', 'OK'],
      [{ type: ['number', 'integer'] }, '2.5', 'OK'],
      [{ type: ['array', 'object'] }, '"x"', 'E_TYPE', ''],
      [{ type: ['boolean'] }, 'true', 'OK'],
      [{ type: ['boolean'] }, 'null', 'E_TYPE', ''],
      [{ properties: { a: { properties: { b: { type: 'string' } } } } }, '{"a":{"b":1}}', 'E_TYPE', '/a/b'],
      [{ properties: { a: { properties: { b: { type: 'string' } } } } }, '{"a":{"b":"1"}}', 'OK'],
      [{ properties: { a: { properties: { b: { type: 'string' } } } } }, '{"a":[{"b":1}]}', 'OK'],
      [{ properties: { tags: { items: { type: 'string' } } } }, '{"tags":["a","b","c",4]}', 'E_TYPE', '/tags/3'],
      [{ items: { items: { type: 'number' } } }, '[[1],[2,"x"]]', 'E_TYPE', '/1/1'],
      [{ items: { properties: { id: { type: 'integer' } } } }, '[{"id":1},{"id":2},{"id":"3"}]', 'E_TYPE', '/2/id'],
      [{ properties: { 'a/b': { type: 'string' } } }, '{"a/b":1}', 'E_TYPE', '/a~1b'],
      [{ properties: { 'm~n': { type: 'string' } } }, '{"m~n":1}', 'E_TYPE', '/m~0n'],
      [{ properties: { '~1': { type: 'string' } } }, '{"~1":1}', 'E_TYPE', '/~01'],
      [{ properties: { '/~/': { type: 'string' } } }, '{"/~/":1}', 'E_TYPE', '/~1~0~1'],
      [{ properties: { 'a/b': { type: 'string' } } }, '{"a\\/b":1}', 'E_TYPE', '/a~1b'],
      [{ properties: { é: { type: 'string' } } }, '{"\\u00e9":1}', 'E_TYPE', '/é'],
      [{ properties: { '😀': { type: 'string' } } }, '{"\\ud83d\\ude00":1}', 'E_TYPE', '/😀'],
      [{ properties: { 'a\nb': { type: 'string' } } }, '{"a\\nb":1}', 'E_TYPE', '/a\nb'],
      [{ properties: { '': { type: 'string' } } }, '{"":1}', 'E_TYPE', '/'],
      [{ properties: { '0': { properties: { '1': { type: 'null' } } } } }, '{"0":{"1":0}}', 'E_TYPE', '/0/1'],
    ],
    'type',
  );
});

test('integer vs number', () => {
  const I = { type: 'integer' };
  run(
    [
      [I, '1', 'OK'],
      [I, '-0', 'OK'],
      [I, '0.0', 'OK'],
      [I, '1.0', 'OK'],
      [I, '1e2', 'OK'],
      [I, '1E+2', 'OK'],
      [I, '1.5e1', 'OK'],
      [I, '100e-2', 'OK'],
      [I, '123456789012345678901234567890', 'OK'],
      [I, '1.00000000000000001', 'OK'], // == 1 as a double
      [I, '9007199254740993.5', 'OK'], // rounds to 2^53+2
      [I, '1.5', 'E_TYPE', ''],
      [I, '1e-1', 'E_TYPE', ''],
      [I, '0.5', 'E_TYPE', ''],
      [I, '-2.25E0', 'E_TYPE', ''],
      [I, '4503599627370495.5', 'E_TYPE', ''], // exactly representable non-integer
      [I, '"1"', 'E_TYPE', ''],
      [I, 'true', 'E_TYPE', ''],
      [{ type: 'number' }, '1.5', 'OK'],
      [{ properties: { n: I } }, '{"n":2.000}', 'OK'],
      [{ properties: { n: I } }, '{"n":2.001}', 'E_TYPE', '/n'],
    ],
    'integer',
  );
});

test('edge numbers agree with ajv (integer / bounds on 1e400, 5e-324, -0)', () => {
  // expectation computed from ajv on JSON.parse (that is the contract's reference semantics)
  const schemas = [
    { type: 'integer' }, { type: 'number' }, { maximum: 1e308 }, { minimum: -1e308 }, { exclusiveMaximum: 0 },
    { minimum: 0 }, { exclusiveMinimum: 0 }, { minimum: 5e-324 }, { maximum: 0 }, { const: 0 }, { enum: [0, 1] },
  ];
  const docs = ['1e400', '-1e400', '2e-400', '-2e-400', '5e-324', '3e-324', '2e-324', '-0', '0e0', '-0.0e-5', '1e21', '1.7976931348623157e308', '1.7976931348623159e308'];
  for (const s of schemas)
    for (const d of docs) {
      const exp = ajvValid(s, enc.encode(d));
      const r = core(s).validate(enc.encode(d));
      assert.is(r.ok, exp, `schema=${JSON.stringify(s)} doc=${d}: ajv says ${exp}, core says ${JSON.stringify(r)}`);
      if (!exp) assert.ok(RULE_CODES.has(r.code), JSON.stringify(r));
    }
});

test('numeric bounds incl. exclusive and >17 significant digits', () => {
  run(
    [
      [{ minimum: 5 }, '5', 'OK'],
      [{ minimum: 5 }, '4.999', 'E_MINIMUM', ''],
      [{ minimum: 5 }, '"3"', 'OK'], // applies to numbers only
      [{ maximum: 5 }, '5', 'OK'],
      [{ maximum: 5 }, '5.0001', 'E_MAXIMUM', ''],
      [{ maximum: 5 }, '5e0', 'OK'],
      [{ maximum: 5 }, '50e-1', 'OK'],
      [{ maximum: 5 }, '0.5e1', 'OK'],
      [{ exclusiveMinimum: 5 }, '5', 'E_EXCLUSIVE_MINIMUM', ''],
      [{ exclusiveMinimum: 5 }, '5.0001', 'OK'],
      [{ exclusiveMaximum: 5 }, '5', 'E_EXCLUSIVE_MAXIMUM', ''],
      [{ exclusiveMaximum: 5 }, '5.0', 'E_EXCLUSIVE_MAXIMUM', ''],
      [{ exclusiveMaximum: 5 }, '4.9', 'OK'],
      [{ minimum: -3 }, '-3', 'OK'],
      [{ minimum: -3 }, '-3.5', 'E_MINIMUM', ''],
      [{ maximum: -3 }, '-2', 'E_MAXIMUM', ''],
      [{ minimum: 0 }, '-0', 'OK'],
      [{ exclusiveMinimum: 0 }, '-0', 'E_EXCLUSIVE_MINIMUM', ''],
      [{ exclusiveMaximum: 0 }, '0.0', 'E_EXCLUSIVE_MAXIMUM', ''],
      [{ minimum: 0.1 }, '0.1', 'OK'],
      [{ minimum: 0.1 }, '0.09999999999999999', 'E_MINIMUM', ''],
      [{ minimum: 0.3 }, '0.30000000000000001', 'OK'], // same double as 0.3
      [{ minimum: 0.3 }, '0.29999999999999999', 'OK'], // same double as 0.3
      [{ maximum: 1 }, '1.00000000000000001', 'OK'], // exactly 1 as a double
      [{ exclusiveMaximum: 1 }, '1.00000000000000001', 'E_EXCLUSIVE_MAXIMUM', ''],
      [{ exclusiveMaximum: 1 }, '0.99999999999999999', 'E_EXCLUSIVE_MAXIMUM', ''], // == 1
      [{ exclusiveMaximum: 1 }, '0.9999999999999999', 'OK'],
      [{ maximum: 1 }, '1.0000000000000002', 'E_MAXIMUM', ''],
      [{ maximum: 1 }, '1.00000000000000011102230246251565404236316680908203125', 'OK'], // halfway -> even (1)
      [{ maximum: 1 }, '1.00000000000000011102230246251565404236316680908203126', 'E_MAXIMUM', ''], // just above halfway
      [{ maximum: 1 }, '100000000000000001e-17', 'OK'],
      [{ maximum: 9007199254740992 }, '9007199254740993', 'OK'], // halfway -> even (2^53)
      [{ maximum: 9007199254740992 }, '9007199254740993.0000000001', 'E_MAXIMUM', ''],
      [{ maximum: 9007199254740992 }, '9007199254740992.9999999999', 'OK'], // below half an ulp (1): rounds down to 2^53
      [{ maximum: 1.2345678901234568e29 }, '123456789012345678901234567890', 'OK'],
      [{ exclusiveMaximum: 1.2345678901234568e29 }, '123456789012345678901234567890', 'E_EXCLUSIVE_MAXIMUM', ''],
      [{ minimum: 2.5 }, '2.4999999999999999999999', 'OK'], // rounds to 2.5
      [{ minimum: 2.5 }, '2.49999999999999', 'E_MINIMUM', ''],
      [{ minimum: 1e-7 }, '0.0000001', 'OK'],
      [{ minimum: 1e-7 }, '0.00000009999999999999999', 'OK'], // 22 nines: rounds to the double 1e-7
      [{ minimum: 1e-7 }, '0.0000000999999999999999', 'E_MINIMUM', ''], // 21 nines: the next double below
      [{ maximum: 1e308 }, '1e309', 'E_MAXIMUM', ''],
      [{ maximum: 1e308 }, '1e308', 'OK'],
      [{ minimum: 5e-324 }, '3e-324', 'OK'], // rounds up to the min subnormal
      [{ minimum: 5e-324 }, '2e-324', 'E_MINIMUM', ''], // rounds to 0
      [{ minimum: 1.5, maximum: 2.5 }, '2', 'OK'],
      [{ minimum: 1.5, maximum: 2.5 }, '1', 'E_MINIMUM', ''],
      [{ minimum: 1.5, maximum: 2.5 }, '3', 'E_MAXIMUM', ''],
      [{ type: 'integer', minimum: 1, maximum: 3 }, '2.0', 'OK'],
      [{ properties: { p: { properties: { n: { exclusiveMinimum: -1.5 } } } } }, '{"p":{"n":-1.5}}', 'E_EXCLUSIVE_MINIMUM', '/p/n'],
      [{ items: { maximum: 10 } }, '[1,10,10.5]', 'E_MAXIMUM', '/2'],
    ],
    'bounds',
  );
});

test('numbers of any length under numeric rules get their verdict, both kernels, vs ajv', () => {
  // the exact value of such a number is decided in JS; its bytes were once spread into an argument
  // list, which overflowed the stack past ~100k digits
  const huge = '1' + '0'.repeat(130_000);
  const longest = '9'.repeat(1_000_000); // near the default 1 MiB message limit
  const tinyFraction = '0.' + '0'.repeat(130_000) + '1';
  const longFraction = '1.' + '0'.repeat(130_000) + '1';
  for (const kernel of ['simd', 'scalar']) {
    run(
      [
        [{ type: 'number', maximum: 10 }, huge, 'E_MAXIMUM', ''],
        [{ type: 'number', maximum: 10 }, `-${huge}`, 'OK'],
        [{ type: 'number', minimum: 10 }, `-${huge}`, 'E_MINIMUM', ''],
        [{ exclusiveMaximum: 1e308 }, longest, 'E_EXCLUSIVE_MAXIMUM', ''],
        [{ type: 'integer', minimum: 0 }, longest, 'OK'],
        [{ enum: [1, 2, 3] }, huge, 'E_ENUM', ''],
        [{ const: 0 }, huge, 'E_CONST', ''],
        [{ exclusiveMinimum: 0 }, tinyFraction, 'E_EXCLUSIVE_MINIMUM', ''], // its double is 0
        [{ minimum: 0 }, tinyFraction, 'OK'],
        [{ type: 'integer', maximum: 1 }, longFraction, 'OK'], // its double is 1
        [{ enum: [1] }, longFraction, 'OK'],
        [{ properties: { n: { maximum: 10 } } }, `{"n":${huge}}`, 'E_MAXIMUM', '/n'],
        [{ items: { minimum: 0 } }, `[1,${tinyFraction}e99999,-${longFraction}]`, 'E_MINIMUM', '/2'],
      ],
      `long numbers [${kernel}]`,
      { kernel },
    );
  }
});

test('minLength / maxLength count code points', () => {
  run(
    [
      [{ minLength: 1 }, '""', 'E_MIN_LENGTH', ''],
      [{ minLength: 1 }, '"a"', 'OK'],
      [{ minLength: 2 }, '"😀"', 'E_MIN_LENGTH', ''],
      [{ minLength: 2 }, '"\\ud83d\\ude00"', 'E_MIN_LENGTH', ''],
      [{ minLength: 2 }, '"😀😀"', 'OK'],
      [{ maxLength: 1 }, '"😀"', 'OK'],
      [{ maxLength: 1 }, '"\\ud83d\\ude00"', 'OK'],
      [{ maxLength: 1 }, '"\\uD83D\\uDE00"', 'OK'],
      [{ maxLength: 1 }, '"😀😀"', 'E_MAX_LENGTH', ''],
      [{ maxLength: 1 }, '"é"', 'OK'],
      [{ maxLength: 1 }, '"\\u00e9"', 'OK'],
      [{ maxLength: 1 }, '"e\u0301"', 'E_MAX_LENGTH', ''], // combining mark is its own code point
      [{ maxLength: 1 }, '"\\ud800"', 'OK'], // lone surrogate = 1
      [{ maxLength: 1 }, '"\\ud800\\ud800"', 'E_MAX_LENGTH', ''],
      [{ maxLength: 1 }, '"\\ude00\\ud83d"', 'E_MAX_LENGTH', ''], // reversed: not a pair
      [{ maxLength: 1 }, '"\\ud83d\\u0041"', 'E_MAX_LENGTH', ''],
      [{ maxLength: 1 }, '"\u{10ffff}"', 'OK'],
      [{ maxLength: 1 }, '"中"', 'OK'],
      [{ maxLength: 3 }, '"a\\nb"', 'OK'],
      [{ maxLength: 2 }, '"\\\\\\\\"', 'OK'], // two backslashes
      [{ maxLength: 2 }, '"\\\\\\\\\\\\"', 'E_MAX_LENGTH', ''],
      [{ maxLength: 2 }, '"\\u0000\\u0000"', 'OK'],
      [{ minLength: 3, maxLength: 3 }, '"a😀é"', 'OK'],
      [{ minLength: 3, maxLength: 3 }, '"a😀"', 'E_MIN_LENGTH', ''],
      [{ minLength: 3, maxLength: 3 }, '"a😀é€"', 'E_MAX_LENGTH', ''],
      [{ maxLength: 0 }, '""', 'OK'],
      [{ minLength: 5 }, '1', 'OK'], // strings only
      [{ minLength: 5 }, '["a"]', 'OK'],
      [{ properties: { name: { maxLength: 2 } } }, '{"name":"abc"}', 'E_MAX_LENGTH', '/name'],
      [{ items: { minLength: 1 } }, '["a",""]', 'E_MIN_LENGTH', '/1'],
    ],
    'length',
  );
  // a long string built from every UTF-8 width
  const s = 'aé€😀'.repeat(1000); // 4000 code points
  run(
    [
      [{ maxLength: 4000, minLength: 4000 }, JSON.stringify(s), 'OK'],
      [{ maxLength: 3999 }, JSON.stringify(s), 'E_MAX_LENGTH', ''],
      [{ minLength: 4001 }, JSON.stringify(s), 'E_MIN_LENGTH', ''],
    ],
    'long length',
  );
});

test('string rules on long strings across 16-byte blocks, both kernels, vs ajv', () => {
  // (escaped lone surrogates are left to their own test above, so failures here mean block handling)
  const pool = ['a', 'é', '€', '😀', '\\n', '\\u00e9', '\\ud83d\\ude00', '\\"', '\\\\', ' ', '\u00a0', '\\u2028', '1', '\\u0041'];
  let seed = 7;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const fails: string[] = [];
  const oneOffAjv = new Ajv({ strict: false });
  for (const kernel of ['simd', 'scalar']) {
    for (let i = 0; i < 150; i++) {
      const len = rnd(60);
      let body = '';
      for (let j = 0; j < len; j++) body += pool[rnd(pool.length)];
      const doc = '"' + body + '"';
      const value = JSON.parse(doc) as string;
      const cps = [...value].length;
      const schemas: unknown[] = [
        { maxLength: cps }, { maxLength: Math.max(0, cps - 1) }, { minLength: cps }, { minLength: cps + 1 },
        { const: value }, { enum: ['x', value.slice(0, -1) || 'y'] }, { pattern: '^[^\\n]*$' }, { pattern: 'é€' },
        { pattern: '^.{' + cps + '}$' }, { pattern: '\\s' }, { properties: { [value]: { type: 'string' } }, additionalProperties: false },
      ];
      for (const schema of schemas) {
        const isProps = (schema as any).properties !== undefined;
        const text = isProps ? `{${doc}:1}` : doc;
        const oneOff = 'const' in (schema as any) || 'enum' in (schema as any) || isProps;
        let expected: boolean | undefined;
        if (oneOff) {
          expected = oneOffAjv.compile(schema as any)(JSON.parse(text)) as boolean;
          oneOffAjv.removeSchema(schema as any);
        } else expected = ajvValid(schema, enc.encode(text));
        // per-string schemas are compiled fresh (not cached: each validator owns a wasm instance)
        const r = (oneOff ? compileSchema(schema as any, { kernel } as any) : core(schema, { kernel })).validate(enc.encode(text));
        if (r.ok !== expected && fails.length < 20) fails.push(`[${kernel}] schema=${JSON.stringify(schema)} doc=${text}: ajv ${expected}, core ${JSON.stringify(r)}`);
      }
    }
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('enum and const: numbers by value, strings after unescaping', () => {
  const E = { enum: [1, 'a', null, true, 'é', '😀', 'a"b', 'a\\b', '/', 0.1, -2.5] };
  run(
    [
      [E, '1', 'OK'],
      [E, '1.0', 'OK'],
      [E, '1e0', 'OK'],
      [E, '100e-2', 'OK'],
      [E, '1.00000000000000001', 'OK'],
      [E, '0.10000000000000001', 'OK'],
      [E, '-2.50', 'OK'],
      [E, '-25e-1', 'OK'],
      [E, '1.1', 'E_ENUM', ''],
      [E, '2', 'E_ENUM', ''],
      [E, '"1"', 'E_ENUM', ''],
      [E, '"a"', 'OK'],
      [E, '"\\u0061"', 'OK'],
      [E, '"A"', 'E_ENUM', ''],
      [E, '"a "', 'E_ENUM', ''],
      [E, '""', 'E_ENUM', ''],
      [E, '"\\u00e9"', 'OK'],
      [E, '"\\u00E9"', 'OK'],
      [E, '"e\u0301"', 'E_ENUM', ''], // no normalization
      [E, '"\\ud83d\\ude00"', 'OK'],
      [E, '"😀"', 'OK'],
      [E, '"a\\"b"', 'OK'],
      [E, '"a\\u0022b"', 'OK'],
      [E, '"a\\\\b"', 'OK'],
      [E, '"\\/"', 'OK'],
      [E, '"/"', 'OK'],
      [E, 'null', 'OK'],
      [E, 'true', 'OK'],
      [E, 'false', 'E_ENUM', ''],
      [E, '"null"', 'E_ENUM', ''],
      [E, '0', 'E_ENUM', ''],
      [E, '[]', 'E_ENUM', ''],
      [E, '{}', 'E_ENUM', ''],
      [E, '[1]', 'E_ENUM', ''],
      [{ enum: [0] }, '-0', 'OK'],
      [{ enum: [0] }, '0.0e5', 'OK'],
      [{ enum: ['1'] }, '1', 'E_ENUM', ''],
      [{ properties: { s: { enum: ['x', 'y'] } } }, '{"s":"z"}', 'E_ENUM', '/s'],
      [{ items: { enum: [1, 2] } }, '[1,2,2.0,3]', 'E_ENUM', '/3'],
      [{ const: 'a' }, '"\\u0061"', 'OK'],
      [{ const: 'a' }, '"b"', 'E_CONST', ''],
      [{ const: 1 }, '1.0', 'OK'],
      [{ const: 1 }, '10E-1', 'OK'],
      [{ const: 1 }, '"1"', 'E_CONST', ''],
      [{ const: 0 }, '-0', 'OK'],
      [{ const: null }, 'null', 'OK'],
      [{ const: null }, '0', 'E_CONST', ''],
      [{ const: false }, 'false', 'OK'],
      [{ const: false }, '0', 'E_CONST', ''],
      [{ const: false }, 'null', 'E_CONST', ''],
      [{ const: '' }, '""', 'OK'],
      [{ const: '' }, '" "', 'E_CONST', ''],
      [{ const: 'a/b~c' }, '"a\\/b~c"', 'OK'],
      [{ const: '😀' }, '"\\uD83D\\uDE00"', 'OK'],
      [{ const: '\ud800' }, '"\\ud800"', 'OK'],
      [{ const: '\ud800' }, '"\\ud801"', 'E_CONST', ''],
      [{ const: '\ud800' }, '"\ufffd"', 'E_CONST', ''], // a lone surrogate is not U+FFFD
      [{ const: 'a\ud800b' }, '"a\\ud800b"', 'OK'],
      [{ enum: ['x', '\udc00'] }, '"\\udc00"', 'OK'],
      [{ enum: ['x', '\udc00'] }, '"\ufffd"', 'E_ENUM', ''],
      [{ properties: { k: { const: 'v' } } }, '{"k":"w"}', 'E_CONST', '/k'],
    ],
    'enum/const',
  );
});

test('pattern: anchored/unanchored, classes, escapes, quantifiers, alternation, groups, dot', () => {
  const P = (pattern: string) => ({ pattern });
  run(
    [
      [P('^[a-z]+$'), '"abc"', 'OK'],
      [P('^[a-z]+$'), '"abC"', 'E_PATTERN', ''],
      [P('^[a-z]+$'), '""', 'E_PATTERN', ''],
      [P('^[a-z]+$'), '"ab\\nc"', 'E_PATTERN', ''],
      [P('^[a-z]+$'), '5', 'OK'], // strings only
      [P('b'), '"abc"', 'OK'], // unanchored search
      [P('b'), '"xyz"', 'E_PATTERN', ''],
      [P('^a'), '"ab"', 'OK'],
      [P('^a'), '"ba"', 'E_PATTERN', ''],
      [P('c$'), '"abc"', 'OK'],
      [P('c$'), '"cab"', 'E_PATTERN', ''],
      [P(''), '"anything"', 'OK'],
      [P('^$'), '""', 'OK'],
      [P('^$'), '"a"', 'E_PATTERN', ''],
      [P('^\\d+$'), '"0123456789"', 'OK'],
      [P('^\\d+$'), '"12a"', 'E_PATTERN', ''],
      [P('^\\d+$'), '"١٢٣"', 'E_PATTERN', ''], // \d is ASCII only
      [P('\\d{3}'), '"ab123cd"', 'OK'],
      [P('\\d{3}'), '"12-34"', 'E_PATTERN', ''],
      [P('^\\D+$'), '"abc"', 'OK'],
      [P('^\\D+$'), '"a1"', 'E_PATTERN', ''],
      [P('^\\w+$'), '"a_Z9"', 'OK'],
      [P('^\\w+$'), '"é"', 'E_PATTERN', ''], // \w is ASCII only
      [P('^\\w+$'), '"a-b"', 'E_PATTERN', ''],
      [P('^\\W$'), '"-"', 'OK'],
      [P('^\\s$'), '" "', 'OK'],
      [P('^\\s$'), '"\\t"', 'OK'],
      [P('^\\s$'), '"\\n"', 'OK'],
      [P('^\\s$'), '"\\u000b"', 'OK'],
      [P('^\\s$'), '"\\u00a0"', 'OK'], // \s is Unicode whitespace in JS
      [P('^\\s$'), '"\\u2028"', 'OK'],
      [P('^\\s$'), '"\\u3000"', 'OK'],
      [P('^\\s$'), '"\\ufeff"', 'OK'],
      [P('^\\s$'), '"a"', 'E_PATTERN', ''],
      [P('^\\s$'), '"\\u200b"', 'E_PATTERN', ''], // zero width space is not \s
      [P('^\\S+$'), '"a b"', 'E_PATTERN', ''],
      [P('^\\S+$'), '"a\u00a0b"', 'E_PATTERN', ''],
      [P('^\\S+$'), '"a😀b"', 'OK'],
      [P('^\\S+@\\S+$'), '"me@example.org"', 'OK'],
      [P('^\\S+@\\S+$'), '"me @example.org"', 'E_PATTERN', ''],
      [P('^\\S+@\\S+$'), '"@x"', 'E_PATTERN', ''],
      [P('^a{2,3}$'), '"a"', 'E_PATTERN', ''],
      [P('^a{2,3}$'), '"aa"', 'OK'],
      [P('^a{2,3}$'), '"aaa"', 'OK'],
      [P('^a{2,3}$'), '"aaaa"', 'E_PATTERN', ''],
      [P('^a{2}$'), '"aa"', 'OK'],
      [P('^a{2}$'), '"aaa"', 'E_PATTERN', ''],
      [P('^a{2,}$'), '"aaaaaaa"', 'OK'],
      [P('^a{2,}$'), '"a"', 'E_PATTERN', ''],
      [P('^ab?c$'), '"ac"', 'OK'],
      [P('^ab?c$'), '"abbc"', 'E_PATTERN', ''],
      [P('^ab*c$'), '"abbbbc"', 'OK'],
      [P('^ab+c$'), '"ac"', 'E_PATTERN', ''],
      [P('colou?r'), '"my color"', 'OK'],
      [P('^(ab|cd)*$'), '""', 'OK'],
      [P('^(ab|cd)*$'), '"abcdab"', 'OK'],
      [P('^(ab|cd)*$'), '"abc"', 'E_PATTERN', ''],
      [P('^(ab|cd)+$'), '""', 'E_PATTERN', ''],
      [P('^(a|b)(c|d)$'), '"bd"', 'OK'],
      [P('^(a|b)(c|d)$'), '"ab"', 'E_PATTERN', ''],
      [P('^(?:ab)+$'), '"abab"', 'OK'],
      [P('^(?:ab)+$'), '"aba"', 'E_PATTERN', ''],
      [P('^a|b$'), '"ax"', 'OK'], // alternation binds loosest
      [P('^a|b$'), '"xb"', 'OK'],
      [P('^a|b$'), '"xa"', 'E_PATTERN', ''],
      [P('cat|dog'), '"hotdog"', 'OK'],
      [P('cat|dog'), '"cow"', 'E_PATTERN', ''],
      [P('x.y'), '"xay"', 'OK'],
      [P('x.y'), '"..x-y.."', 'OK'],
      [P('x.y'), '"xy"', 'E_PATTERN', ''],
      [P('x.y'), '"x\\ny"', 'E_PATTERN', ''], // . does not match line terminators
      [P('x.y'), '"x\\ry"', 'E_PATTERN', ''],
      [P('x.y'), '"x\\u2028y"', 'E_PATTERN', ''],
      [P('x.y'), '"x\\u2029y"', 'E_PATTERN', ''],
      [P('x.y'), '"x\\ty"', 'OK'],
      [P('x.y'), '"x😀y"', 'OK'], // u flag: . is one code point
      [P('x.y'), '"x\\ud83d\\ude00y"', 'OK'],
      [P('^.$'), '"😀"', 'OK'],
      [P('^.$'), '"é"', 'OK'],
      [P('^.$'), '"ab"', 'E_PATTERN', ''],
      [P('^..$'), '"😀"', 'E_PATTERN', ''],
      [P('^a\\.b$'), '"a.b"', 'OK'],
      [P('^a\\.b$'), '"axb"', 'E_PATTERN', ''],
      [P('^[^a-c]+$'), '"xyz"', 'OK'],
      [P('^[^a-c]+$'), '"xaz"', 'E_PATTERN', ''],
      [P('^[^a-c]$'), '"😀"', 'OK'],
      [P('^[A-Z][a-z]{2,4}$'), '"Anna"', 'OK'],
      [P('^[A-Z][a-z]{2,4}$'), '"Annabel"', 'E_PATTERN', ''],
      [P('^[0-9a-f]{4}-[0-9a-f]{4}$'), '"beef-0042"', 'OK'],
      [P('^[0-9a-f]{4}-[0-9a-f]{4}$'), '"BEEF-0042"', 'E_PATTERN', ''],
      [P('^[a\\-z]+$'), '"a-z"', 'OK'],
      [P('^[a\\-z]+$'), '"b"', 'E_PATTERN', ''],
      [P('^[+-]?\\d+(\\.\\d+)?$'), '"-12.5"', 'OK'],
      [P('^[+-]?\\d+(\\.\\d+)?$'), '"12."', 'E_PATTERN', ''],
      [P('^[é-ü]+$'), '"éü"', 'OK'],
      [P('^[é-ü]+$'), '"e"', 'E_PATTERN', ''],
      [P('^[\\d\\s]+$'), '"1 2\\t3"', 'OK'],
      [P('^[\\d\\s]+$'), '"1 2 a"', 'E_PATTERN', ''],
      [P('^\\u00e9$'), '"é"', 'OK'],
      [P('^\\/$'), '"/"', 'OK'],
      [P('^\\\\$'), '"\\\\"', 'OK'],
      [P('a\\$'), '"a$"', 'OK'],
      [P('^x*$'), '"' + 'x'.repeat(5000) + '"', 'OK'],
      [P('^x*$'), '"' + 'x'.repeat(5000) + 'y"', 'E_PATTERN', ''],
      [P('^(a|b)*c$'), '"' + 'ab'.repeat(2000) + 'c"', 'OK'],
      [{ properties: { email: P('^\\S+@\\S+$') } }, '{"email":"x"}', 'E_PATTERN', '/email'],
      [{ items: P('^[a-z]+$') }, '["ok","also","NO"]', 'E_PATTERN', '/2'],
    ],
    'pattern',
  );
});

test('pattern edge cases agree with ajv on both kernels (lone surrogates, $ before newline, empty loops, lazy, escapes)', () => {
  const cases: [string, string][] = [
    ['^.$', '"\\ud800"'], ['^.$', '"\\udc00"'], ['^[^a]$', '"\\ud800"'], ['^\\S$', '"\\ud800"'], ['^\\D$', '"\\udfff"'],
    ['^..$', '"\\ud83d\\u0041"'], ['^[\\ud800-\\udfff]$', '"\\ud800"'], ['^\\ud800$', '"\\ud800"'], ['^.{2}$', '"\\udc00\\ud800"'],
    ['^a$', '"a\\n"'], ['a$', '"a\\n"'], ['^a', '"\\na"'], ['^$', '"\\n"'],
    ['^a+?$', '"aaa"'], ['^a{2,3}?b', '"aab"'], ['^\\x41$', '"A"'], ['^\\u{1F600}$', '"😀"'], ['^\\0$', '"\\u0000"'],
    ['^[\\]]$', '"]"'], ['^[^]$', '"\\n"'], ['^[]$', '""'], ['[]', '"a"'], ['^[^]*$', '"a\\nb"'],
    ['^(a*)*$', '"aaa"'], ['^(a*)*b$', '"aaaa"'], ['^(a|)*b$', '"aab"'], ['^(?:a?)*$', '"aa"'], ['^(|a)+$', '"a"'],
    ['a|', '"zzz"'], ['^(a|ab)(c|bcd)(d*)$', '"abcd"'], ['^[a-c-e]+$', '"-"'], ['^[\\w-]+$', '"a-b"'], ['^[.]$', '"x"'],
    ['^\\.$', '"x"'], ['^\\f\\v$', '"\\f\\u000b"'], ['^[\\s\\S]$', '"\\n"'], ['^\\cJ$', '"\\n"'], ['^a{0}$', '""'], ['^(a){0,0}b$', '"b"'],
    ['^a{1000}$', JSON.stringify('a'.repeat(1000))], ['^a{1000}$', JSON.stringify('a'.repeat(999))], ['^(ab){3,5}$', '"ababab"'],
    ['^x*y*z*$', '"xxzz"'], ['\\d+$', '"abc123"'], ['^é+$', '"éé"'], ['^[é]$', '"e\\u0301"'], ['^\\u00e9$', '"\\u00e9"'],
    ['^[😀]$', '"😀"'], ['^😀{2}$', '"😀😀"'], ['^[^😀]$', '"😀"'], ['^[^😀]$', '"😁"'], ['^\\W$', '"😀"'], ['^.+$', '"a\\u2028"'],
    ['^[\\n]$', '"\\n"'], ['(a+)+$', JSON.stringify('a'.repeat(16) + '!')], ['^(a|aa)+$', JSON.stringify('a'.repeat(24) + 'b')],
  ];
  const fails: string[] = [];
  for (const [pattern, doc] of cases) {
    const schema = { pattern };
    const exp = ajvValid(schema, enc.encode(doc));
    for (const kernel of ['simd', 'scalar']) {
      const r = core(schema, { kernel }).validate(enc.encode(doc));
      if (r.ok !== exp) fails.push(`[${kernel}] pattern ${pattern} on ${doc}: ajv ${exp}, core ${JSON.stringify(r)}`);
    }
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('pattern outside the core subset falls back to JS with ajv semantics', () => {
  const cases: [string, string, boolean][] = [
    ['^(?=.*a)', '"xxa"', true],
    ['^(?=.*a)', '"xxx"', false],
    ['^(?!foo)', '"bar"', true],
    ['^(?!foo)', '"food"', false],
    ['^(a)\\1$', '"aa"', true],
    ['^(a)\\1$', '"ab"', false],
    ['^(?<x>[ab])\\k<x>$', '"bb"', true],
    ['^(?<x>[ab])\\k<x>$', '"ba"', false],
    ['(?<=a)b', '"ab"', true],
    ['(?<=a)b', '"cb"', false],
  ];
  for (const [pattern, doc, valid] of cases) {
    const schema = { type: 'string', pattern };
    assert.is(ajvValid(schema, enc.encode(doc)), valid, `table bug: ${pattern} ${doc}`);
    const r = core(schema).validate(enc.encode(doc));
    assert.is(r.ok, valid, `pattern ${pattern} on ${doc}: expected ${valid}, got ${JSON.stringify(r)}`);
    if (!valid) {
      assert.is(r.code, 'E_PATTERN', JSON.stringify(r));
      assert.is(r.path, '');
    }
    assert.is(r.fallback, true, `pattern ${pattern} on ${doc} must report fallback: true, got ${JSON.stringify(r)}`);
    // nested location
    const nested = { properties: { a: { items: schema } } };
    const ndoc = `{"a":[${doc}]}`;
    const r2 = core(nested).validate(enc.encode(ndoc));
    const exp2 = ajvValid(nested, enc.encode(ndoc));
    assert.is(r2.ok, exp2, `nested ${pattern} on ${ndoc}: ajv ${exp2}, core ${JSON.stringify(r2)}`);
    if (!exp2) assert.equal([r2.code, r2.path], ['E_PATTERN', '/a/0'], JSON.stringify(r2));
  }
  // unicode property escapes / astral class ranges: whatever the implementation, ajv's answer
  for (const [pattern, doc] of [
    ['^\\p{Lu}+$', '"ÀB"'], ['^\\p{Lu}+$', '"a"'], ['^[😀-😂]$', '"😁"'], ['^[😀-😂]$', '"😃"'],
    ['^\\P{L}$', '"1"'], ['^\\P{L}$', '"x"'], ['^a*?b', '"aab"'], ['\\bfoo\\b', '"a foo b"'], ['\\bfoo\\b', '"afoob"'],
  ]) {
    const schema = { pattern };
    const exp = ajvValid(schema, enc.encode(doc));
    const r = core(schema).validate(enc.encode(doc));
    assert.is(r.ok, exp, `pattern ${pattern} on ${doc}: ajv ${exp}, core ${JSON.stringify(r)}`);
  }
});

test('required: pointer of the missing property', () => {
  run(
    [
      [{ required: ['a'] }, '{}', 'E_REQUIRED', '/a'],
      [{ required: ['a'] }, '{"a":null}', 'OK'],
      [{ required: ['a'] }, '{"\\u0061":1}', 'OK'],
      [{ required: ['a'] }, '{"b":1,"c":{"a":1}}', 'E_REQUIRED', '/a'],
      [{ required: ['a'] }, '[]', 'OK'], // objects only
      [{ required: ['a'] }, '"a"', 'OK'],
      [{ required: ['a/b'] }, '{}', 'E_REQUIRED', '/a~1b'],
      [{ required: ['m~n'] }, '{}', 'E_REQUIRED', '/m~0n'],
      [{ required: ['~1'] }, '{}', 'E_REQUIRED', '/~01'],
      [{ required: ['é'] }, '{}', 'E_REQUIRED', '/é'],
      [{ required: ['é'] }, '{"\\u00e9":0}', 'OK'],
      // ajv 8 never reports a missing "" (its generated code tests `(missing = "")`, which is falsy);
      // JSON Schema requires the error, and so does the contract's E_REQUIRED definition.
      [{ required: [''] }, '{}', 'E_REQUIRED', '/', true],
      [{ required: [''] }, '{"":0}', 'OK'],
      [{ properties: { author: { required: ['id'] } } }, '{"author":{}}', 'E_REQUIRED', '/author/id'],
      [{ properties: { author: { required: ['id'] } } }, '{"author":{"name":"x"}}', 'E_REQUIRED', '/author/id'],
      [{ properties: { author: { required: ['id'] } } }, '{"author":{"id":0}}', 'OK'],
      [{ properties: { author: { required: ['id'] } } }, '{}', 'OK'],
      [{ items: { required: ['k'] } }, '[{"k":1},{"K":1}]', 'E_REQUIRED', '/1/k'],
      [{ properties: { 'x/y': { required: ['~'] } } }, '{"x/y":{}}', 'E_REQUIRED', '/x~1y/~0'],
    ],
    'required',
  );
});

test('property names containing escaped lone surrogates are matched exactly', () => {
  // ajv cannot compile these schemas at all (encodeURIComponent throws "URI malformed" on the
  // lone surrogate when it builds schema paths), so the expectations below are plain JSON Schema.
  const P = { properties: { '\ud800': { type: 'string' } } };
  run(
    [
      [P, '{"\\ud800":1}', 'E_TYPE', '/\ud800', true],
      [P, '{"\\ud800":"s"}', 'OK', undefined, true],
      [P, '{"\ufffd":1}', 'OK', undefined, true], // U+FFFD is a different name
      [{ required: ['\ud800'] }, '{"\ufffd":1}', 'E_REQUIRED', '/\ud800', true],
      [{ required: ['\ud800'] }, '{"\\ud800":1}', 'OK', undefined, true],
      [{ properties: { '\ud800': {} }, additionalProperties: false }, '{"\\ud800":1}', 'OK', undefined, true],
      [{ properties: { '\ud800': {} }, additionalProperties: false }, '{"\ufffd":1}', 'E_ADDITIONAL', '/\ufffd', true],
    ],
    'lone surrogate names',
  );
  const v = compileSchema({}, { extract: ['/\ud800'] });
  const bytes = enc.encode('{"\\ud800":[1]}');
  const r = v.validate(bytes);
  assert.is(r.code, 'OK');
  assert.is(slice(bytes, r.fields![0]), '[1]', JSON.stringify(r));
  assert.is(v.validate(enc.encode('{"\\ud800":1,"\\ud800":2}')).code, 'E_DUPLICATE_KEY');
});

test('a raw U+FEFF at the start of a key is part of the name and of the reported path', () => {
  run(
    [
      [{ properties: { '\ufeffa': { type: 'string' } } }, '{"\ufeffa":1}', 'E_TYPE', '/\ufeffa'],
      [{ properties: { '\ufeffa': { type: 'string' } } }, '{"\\ufeffa":1}', 'E_TYPE', '/\ufeffa'],
      [{ properties: { a: { type: 'string' } } }, '{"\ufeffa":1}', 'OK'],
      [{ additionalProperties: false }, '{"\ufeffa":1}', 'E_ADDITIONAL', '/\ufeffa'],
      [{ items: { additionalProperties: false } }, '[{"\ufeff":1}]', 'E_ADDITIONAL', '/0/\ufeff'],
      [{ properties: { o: { properties: { '\ufeff\ufeff': { const: 1 } } } } }, '{"o":{"\ufeff\ufeff":2}}', 'E_CONST', '/o/\ufeff\ufeff'],
      [{ maxLength: 1 }, '"\ufeffx"', 'E_MAX_LENGTH', ''],
      [{ const: '\ufeffx' }, '"\ufeffx"', 'OK'],
      [{ pattern: '^(?=\\s)' }, '"\ufeffx"', 'OK'], // fallback pattern sees the U+FEFF
    ],
    'U+FEFF in names',
  );
});

test('additionalProperties false / true', () => {
  const S = { properties: { a: {} }, additionalProperties: false };
  run(
    [
      [S, '{"a":1}', 'OK'],
      [S, '{}', 'OK'],
      [S, '{"\\u0061":1}', 'OK'],
      [S, '{"a":1,"b":2}', 'E_ADDITIONAL', '/b'],
      [S, '{"b/c":2}', 'E_ADDITIONAL', '/b~1c'],
      [S, '{"x~y":2}', 'E_ADDITIONAL', '/x~0y'],
      [S, '{"é":2}', 'E_ADDITIONAL', '/é'],
      [S, '{"a\\nb":2}', 'E_ADDITIONAL', '/a\nb'],
      [S, '{"A":2}', 'E_ADDITIONAL', '/A'],
      [S, '{"":2}', 'E_ADDITIONAL', '/'],
      [S, '[1]', 'OK'],
      [{ additionalProperties: false }, '{}', 'OK'],
      [{ additionalProperties: false }, '{"a":1}', 'E_ADDITIONAL', '/a'],
      [{ properties: { a: {} }, additionalProperties: true }, '{"b":1}', 'OK'],
      [{ properties: { o: S } }, '{"o":{"a":1,"zz":[1,2]}}', 'E_ADDITIONAL', '/o/zz'],
      [{ items: S }, '[{"a":1},{"a":2,"c":3}]', 'E_ADDITIONAL', '/1/c'],
    ],
    'additionalProperties',
  );
});

test('minItems / maxItems', () => {
  run(
    [
      [{ minItems: 2 }, '[1]', 'E_MIN_ITEMS', ''],
      [{ minItems: 2 }, '[1,2]', 'OK'],
      [{ minItems: 0 }, '[]', 'OK'],
      [{ maxItems: 2 }, '[1,2]', 'OK'],
      [{ maxItems: 2 }, '[1,2,3]', 'E_MAX_ITEMS', ''],
      [{ maxItems: 0 }, '[]', 'OK'],
      [{ maxItems: 0 }, '[[]]', 'E_MAX_ITEMS', ''],
      [{ minItems: 2 }, '"ab"', 'OK'],
      [{ minItems: 2 }, '{"a":1,"b":2}', 'OK'],
      [{ properties: { list: { minItems: 1 } } }, '{"list":[]}', 'E_MIN_ITEMS', '/list'],
      [{ properties: { list: { maxItems: 1 } } }, '{"list":[{},{}]}', 'E_MAX_ITEMS', '/list'],
      [{ items: { maxItems: 1 } }, '[[1],[1,2]]', 'E_MAX_ITEMS', '/1'],
      [{ minItems: 3, maxItems: 3 }, '[[1,2,3,4],{},"x"]', 'OK'],
    ],
    'items count',
  );
});

test('boolean schemas', () => {
  run(
    [
      [true, '{"anything":[1,2,{}]}', 'OK'],
      [false, '{}', 'E_FALSE_SCHEMA', ''],
      [false, 'null', 'E_FALSE_SCHEMA', ''],
      [false, '0', 'E_FALSE_SCHEMA', ''],
      [{ properties: { a: false } }, '{}', 'OK'],
      [{ properties: { a: false } }, '{"b":1}', 'OK'],
      [{ properties: { a: false } }, '{"a":1}', 'E_FALSE_SCHEMA', '/a'],
      [{ properties: { a: false } }, '{"a":null}', 'E_FALSE_SCHEMA', '/a'],
      [{ properties: { a: true } }, '{"a":1}', 'OK'],
      [{ items: false }, '[]', 'OK'],
      [{ items: false }, '[1]', 'E_FALSE_SCHEMA', '/0'],
      [{ items: true }, '[1,{}]', 'OK'],
      [{ properties: { o: { properties: { p: false } } } }, '{"o":{"q":1,"p":{}}}', 'E_FALSE_SCHEMA', '/o/p'],
    ],
    'boolean schemas',
  );
});

test('keywords apply only to their types; untyped schemas', () => {
  const S = { minLength: 2, maximum: 3, minItems: 1, required: ['a'], pattern: '^x' };
  run(
    [
      [S, 'null', 'OK'],
      [S, 'true', 'OK'],
      [S, '"xy"', 'OK'],
      [S, '"x"', 'E_MIN_LENGTH', ''],
      [S, '"yy"', 'E_PATTERN', ''],
      [S, '3', 'OK'],
      [S, '4', 'E_MAXIMUM', ''],
      [S, '[0]', 'OK'],
      [S, '[]', 'E_MIN_ITEMS', ''],
      [S, '{"a":1}', 'OK'],
      [S, '{}', 'E_REQUIRED', '/a'],
      [{ type: ['string', 'number'], minLength: 2, minimum: 3 }, '"ab"', 'OK'],
      [{ type: ['string', 'number'], minLength: 2, minimum: 3 }, '3', 'OK'],
      [{ type: ['string', 'number'], minLength: 2, minimum: 3 }, '2', 'E_MINIMUM', ''],
      [{ type: ['string', 'number'], minLength: 2, minimum: 3 }, '"a"', 'E_MIN_LENGTH', ''],
      [{ type: ['string', 'number'], minLength: 2, minimum: 3 }, '[]', 'E_TYPE', ''],
    ],
    'applicability',
  );
});

test('first error in document order; required checked when the object closes', () => {
  const S = {
    properties: { a: { minLength: 2 }, b: { type: 'string' }, o: { required: ['z'] }, p: { type: 'string' } },
    required: ['y'],
  };
  run(
    [
      [S, '{"a":"x","b":1}', 'E_MIN_LENGTH', '/a'],
      [S, '{"b":1,"a":"x"}', 'E_TYPE', '/b'],
      [S, '{"b":1}', 'E_TYPE', '/b'], // required y is only checked at the close
      [S, '{"a":"xx"}', 'E_REQUIRED', '/y'],
      [S, '{"o":{},"p":1}', 'E_REQUIRED', '/o/z'], // o closes before p is seen
      [S, '{"p":1,"o":{}}', 'E_TYPE', '/p'],
      [S, '{"y":1,"o":{"x":1},"p":"s"}', 'E_REQUIRED', '/o/z'],
      [{ items: { type: 'number' } }, '[1,"a",null]', 'E_TYPE', '/1'],
      [{ items: { required: ['k'] }, maxItems: 5 }, '[{"k":1},{},{"k":2}]', 'E_REQUIRED', '/1/k'],
    ],
    'order',
  );
});

test('verdicts that needed JS (fallback) follow the same error order as core verdicts', () => {
  // Same documents, same errors: whether a pattern is in the core subset, or a number needs its exact
  // double computed in JS, must not change which error is reported (first in document order,
  // required checked when the object closes).
  const inSubset = { properties: { a: { type: 'string' }, s: { pattern: '^[a-z]$' } }, required: ['z'] };
  const lookahead = { properties: { a: { type: 'string' }, s: { pattern: '^(?=[a-z])' } }, required: ['z'] };
  const num = { properties: { a: { type: 'string' }, n: { maximum: 1 } }, required: ['z'] };
  run(
    [
      [inSubset, '{"a":1,"s":"y"}', 'E_TYPE', '/a'],
      [lookahead, '{"a":1,"s":"y"}', 'E_TYPE', '/a'],
      [lookahead, '{"s":"y","a":1}', 'E_TYPE', '/a'],
      [lookahead, '{"s":"Y","a":1}', 'E_PATTERN', '/s'],
      [lookahead, '{"s":"y","o":{},"a":"x"}', 'E_REQUIRED', '/z'],
      [num, '{"a":1,"n":1.00000000000000001}', 'E_TYPE', '/a'],
      [num, '{"n":1.00000000000000001,"a":1}', 'E_TYPE', '/a'],
      [num, '{"n":1.00000000000000011102230246251565404236316680908203126,"a":1}', 'E_MAXIMUM', '/n'],
      [{ properties: { b: { additionalProperties: false }, n: { maximum: 1 } }, required: ['q'] }, '{"n":1.00000000000000001,"b":{"x":1}}', 'E_ADDITIONAL', '/b/x'],
      [{ items: { type: 'integer', maximum: 3 } }, '[1.00000000000000001,"x",5]', 'E_TYPE', '/1'],
      [{ properties: { s: { pattern: '^(?=x)' } } }, '{"s":"x","s":"y"}', 'E_DUPLICATE_KEY'],
      [{ properties: { s: { pattern: '^(?=x)' } } }, '{"s":"y",}', 'E_TOKEN'],
    ],
    'fallback order',
  );
});

test('a syntax error anywhere wins over an earlier rule error', () => {
  const S = { properties: { a: { type: 'string' } }, required: ['zz'] };
  run(
    [
      [S, '{"a":5,"b":', 'E_UNTERMINATED'],
      [S, '{"a":5} x', 'E_TRAILING'],
      [S, '{"a":5,"b":01}', 'E_NUMBER'],
      [S, '{"a":5,"b":[1,]}', 'E_TOKEN'],
      [S, b('{"a":5,"b":"', [0xff], '"}'), 'E_UTF8'],
      [S, '{"a":5,"b":"\\x"}', 'E_ESCAPE'],
      [S, '{"a":5,"b":"\t"}', 'E_CONTROL'],
      [S, '{"x":1,}', 'E_TOKEN'],
      [false, '[1,]', 'E_TOKEN'],
      [false, '', 'E_EMPTY'],
      [{ type: 'string' }, '1 2', 'E_TRAILING'],
      [{ type: 'string' }, '[' .repeat(70) + ']'.repeat(70), 'E_DEPTH'],
      [{ properties: { a: { type: 'number' } } }, '{"a":"x","a":2}', 'E_DUPLICATE_KEY'],
    ],
    'syntax wins',
  );
  const r = core(S).validate(enc.encode('{"a":5,"b":[1,]}'));
  assert.is(r.path, undefined, 'syntax error has no path');
  assert.is(r.offset, 14);
});

test('E_DUPLICATE_KEY for declared properties (properties or extract)', () => {
  const S = { properties: { a: {} } };
  run(
    [
      [S, '{"a":1,"a":2}', 'E_DUPLICATE_KEY'],
      [S, '{"a":1,"b":0,"a":1}', 'E_DUPLICATE_KEY'],
      [S, '{"a":1,"\\u0061":2}', 'E_DUPLICATE_KEY'],
      [S, '{"b":1,"b":2}', 'OK'], // undeclared: JSON.parse semantics
      [{ required: ['b'] }, '{"b":1,"b":2}', 'OK'], // named only in required: not declared (contract: properties or extract)
      [S, '{"a":{"a":1},"b":{"a":1,"a":2}}', 'OK'], // inner objects are not described by S
      [{ properties: { o: { properties: { x: {} } } } }, '{"o":{"x":1,"x":2}}', 'E_DUPLICATE_KEY'],
      [{ properties: { o: { properties: { x: {} } } } }, '{"o":{"x":1},"o":{"x":2}}', 'E_DUPLICATE_KEY'],
      [{ items: { properties: { k: {} } } }, '[{"k":1},{"k":1,"k":2}]', 'E_DUPLICATE_KEY'],
      [{ properties: { a: { type: 'string' } } }, '{"a":1,"a":"s"}', 'E_DUPLICATE_KEY'],
    ],
    'duplicates',
  );
  const dupOffset = core(S).validate(enc.encode('{"a":1,"a":2}'));
  assert.ok(typeof dupOffset.offset === 'number' && dupOffset.offset >= 7 && dupOffset.offset <= 10, JSON.stringify(dupOffset));
  assert.is(dupOffset.path, undefined);
  run(
    [
      [{}, '{"id":1,"id":2}', 'E_DUPLICATE_KEY'],
      [{}, '{"id":1,"x":2,"x":3}', 'OK'],
      [{}, '{"author":{"id":1,"id":2}}', 'E_DUPLICATE_KEY'],
      [{}, '{"author":{"id":1},"author":{"id":2}}', 'E_DUPLICATE_KEY'],
      [{}, '{"other":{"id":1,"id":2}}', 'OK'],
    ],
    'duplicates via extract',
    { extract: ['/id', '/author/id'] },
  );
});

test('number texts near random bounds agree with ajv (both kernels)', () => {
  let seed = 99;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const fails: string[] = [];
  const texts = (b: number): string[] => {
    const out = new Set<string>();
    for (let k = 1; k <= 21; k++) out.add(b.toPrecision(k).replace('+', ''));
    const t = JSON.stringify(b);
    out.add(t + '0000000000000000001');
    out.add(t.includes('.') || t.includes('e') ? t : t + '.000000000000000000001');
    out.add(t.replace(/(\d)(\d*)$/, (m, a, r) => a + r + '1'));
    // shift the decimal point into the exponent: 12.5 -> 125e-1, 0.001 -> 1e-3 ...
    const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(t);
    if (m) {
      const digits = m[2] + (m[3] ?? '');
      const exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
      out.add(`${m[1]}${digits}e${exp}`);
      out.add(`${m[1]}${digits}000E${exp - 3}`);
      out.add(`${m[1]}0.${digits}e${exp + digits.length}`.replace(/^(-?)0\.0+(\d)/, '$10.$2'));
    }
    const next = b + Math.abs(b) * Number.EPSILON;
    const prev = b - Math.abs(b) * Number.EPSILON;
    for (const x of [next, prev]) out.add(JSON.stringify(x));
    return [...out].filter((x) => {
      try {
        JSON.parse(x);
        return true;
      } catch {
        return false;
      }
    });
  };
  const oneOffAjv = new Ajv({ strict: false });
  // (each validator whose numbers need JS builds its ajv fallback once: ~7 ms, hence only 25 bounds)
  for (let i = 0; i < 25; i++) {
    const mant = rnd(1000000) / 10 ** rnd(7);
    const b = (rnd(2) ? -1 : 1) * mant * 10 ** (rnd(40) - 20);
    const schemas = [{ minimum: b }, { maximum: b }, { exclusiveMinimum: b }, { exclusiveMaximum: b }, { enum: [b, 'x'] }, { const: b }, { type: 'integer' }];
    const ts = texts(b);
    for (const schema of schemas) {
      const a = oneOffAjv.compile(schema);
      // compiled fresh, not cached: each validator owns a wasm instance
      const vs = ['simd', 'scalar'].map((kernel) => [kernel, compileSchema(schema, { kernel } as any)] as const);
      for (const t of ts) {
        const exp = a(JSON.parse(t));
        for (const [kernel, v] of vs) {
          const r = v.validate(enc.encode(t));
          if (r.ok !== exp && fails.length < 20) fails.push(`[${kernel}] schema=${JSON.stringify(schema)} doc=${t}: ajv ${exp}, core ${JSON.stringify(r)}`);
        }
      }
      oneOffAjv.removeSchema(schema);
    }
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('large schemas: many properties, long enum, many required names (vs ajv)', () => {
  let seed = 1234;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const alphabet = ['a', 'b', 'é', '😀', '_', '/', '~', '0', 'Z', ' ', '"', '\\'];
  const name = () => Array.from({ length: 1 + rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
  const names = [...new Set(Array.from({ length: 300 }, name))];
  const props: Record<string, unknown> = {};
  names.forEach((n, i) => (props[n] = i % 3 === 0 ? { type: 'integer' } : i % 3 === 1 ? { type: 'string', maxLength: 3 } : {}));
  const schema = { type: 'object', properties: props, required: names.filter((_, i) => i % 7 === 0), additionalProperties: false };
  const enumSchema = { enum: [...names, ...names.map((_, i) => i * 1.5)] };
  const fails: string[] = [];
  for (let i = 0; i < 400; i++) {
    const doc: Record<string, unknown> = {};
    for (const n of names) if (n && (names.indexOf(n) % 7 === 0 ? rnd(200) !== 0 : rnd(3) === 0)) doc[n] = names.indexOf(n) % 3 === 0 ? (rnd(50) ? rnd(100) : 'x') : rnd(40) ? 'abc' : 'abcd';
    if (rnd(10) === 0) doc[name() + '!'] = 1;
    const text = JSON.stringify(doc);
    const exp = ajvValid(schema, enc.encode(text));
    const r = core(schema).validate(enc.encode(text));
    if (r.ok !== exp && fails.length < 10) fails.push(`props: doc=${text}: ajv ${exp}, core ${JSON.stringify(r)}`);
    const member = rnd(4) === 0 ? name() : rnd(2) ? names[rnd(names.length)] : rnd(names.length) * 1.5;
    const mtext = JSON.stringify(member);
    const exp2 = ajvValid(enumSchema, enc.encode(mtext));
    const r2 = core(enumSchema).validate(enc.encode(mtext));
    if (r2.ok !== exp2 && fails.length < 10) fails.push(`enum: doc=${mtext}: ajv ${exp2}, core ${JSON.stringify(r2)}`);
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('long and deep paths are reported in full', () => {
  const key = 'k/~é'.repeat(250); // 1000 characters
  let schema: any = { type: 'string' };
  let doc = '1';
  let path = '';
  for (let i = 0; i < 40; i++) {
    schema = { properties: { [key + i]: schema } };
    doc = `{${JSON.stringify(key + i)}:${doc}}`;
  }
  for (let i = 39; i >= 0; i--) path += '/' + (key + i).replace(/~/g, '~0').replace(/\//g, '~1');
  run([[schema, doc, 'E_TYPE', path]], 'long path');
  // 60 nested arrays, error at index 1000 of the innermost
  let a: any = { items: { type: 'integer' } };
  for (let i = 0; i < 59; i++) a = { items: a };
  const inner = '[' + Array.from({ length: 1001 }, (_, i) => (i === 1000 ? '0.5' : String(i))).join(',') + ']';
  const adoc = '['.repeat(59) + inner + ']'.repeat(59);
  run([[a, adoc, 'E_TYPE', '/0'.repeat(59) + '/1000']], 'deep array path');
});

test('validateBatch == validate with fallback patterns and rule failures', () => {
  const schema = {
    type: 'object',
    properties: {
      s: { type: 'string', pattern: '^(?=.*[0-9])(?=.*[a-z])' }, // lookahead: JS fallback
      t: { type: 'string', pattern: '^[a-z]+$' },
      n: { type: 'number', maximum: 1 },
      tags: { items: { pattern: '^(\\w)\\1' } }, // backreference: JS fallback
    },
    required: ['s'],
  };
  const v = compileSchema(schema, { extract: ['/s', '/n'] });
  const docs = [
    '{"s":"a1"}', '{"s":"aa"}', '{"s":"11"}', '{"s":"a1","t":"abc"}', '{"s":"a1","t":"ab1"}', '{"s":"x9","n":1.00000000000000001}',
    '{"s":"x9","n":1.0000000000000002}', '{"s":"x9","tags":["aab","bb"]}', '{"s":"x9","tags":["aab","ba"]}', '{}', '{"s":"a1",}',
    '{"s":"\\u0061\\u0031"}', '{"s":"a\\n1","n":0.99999999999999999}',
  ];
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) msgs.push(enc.encode(docs[i % docs.length]));
  const batch = v.validateBatch(msgs);
  for (let i = 0; i < msgs.length; i++) {
    const single = v.validate(msgs[i]!);
    assert.equal(JSON.parse(JSON.stringify(batch[i])), JSON.parse(JSON.stringify(single)), `#${i} ${docs[i % docs.length]}`);
  }
  for (let i = 0; i < docs.length; i++) {
    const exp = ajvValid(schema, enc.encode(docs[i]!));
    if (exp !== undefined) assert.is(batch[i]!.ok, exp, `${docs[i]}: ajv ${exp}, core ${JSON.stringify(batch[i])}`);
  }
});

// ---------------------------------------------------------------------------
// extract

function slice(bytes: Uint8Array, f: { start: number; end: number } | null | undefined): string | null {
  return f ? new TextDecoder().decode(bytes.subarray(f.start, f.end)) : null;
}

test('extract: spans of present/absent fields, every value type, exact raw text', () => {
  const ptrs = ['/id', '/n', '/t', '/f', '/z', '/o', '/a', '/author/id', '/missing', '/author/missing', '/é', '/a~1b', '/m~0n', '/id/x', '/o/k', '/s'];
  const v = compileSchema({}, { extract: ptrs });
  const doc =
    '{"pre":"ééé😀\\"}","id":"x1","n":-1.5e3,"t":true,"f":false,"z":null,"o":{"k":[1, 2]},"a":[ 1 , {"b":2} ],' +
    '"author":{"name":"q","id":42},"\\u00e9":"ü","a\\/b":1,"m~n":{},"s":"a\\"b\\\\c\\u0041"}';
  const bytes = enc.encode(doc);
  const r = v.validate(bytes);
  assert.is(r.code, 'OK', JSON.stringify(r));
  assert.ok(Array.isArray(r.fields), 'fields present');
  assert.is(r.fields!.length, ptrs.length);
  const got = r.fields!.map((f: any) => slice(bytes, f));
  assert.equal(got, [
    '"x1"', '-1.5e3', 'true', 'false', 'null', '{"k":[1, 2]}', '[ 1 , {"b":2} ]', '42', null, null, '"ü"', '1', '{}', null,
    '[1, 2]', '"a\\"b\\\\c\\u0041"',
  ]);
  // byte offsets (not UTF-16 indices): the prefix contains multibyte characters
  const idStart = bytes.indexOf(0x78 /* x */) - 1;
  assert.equal(r.fields![0], { start: idStart, end: idStart + 4 });
});

test('extract: surrounding whitespace is not part of the span', () => {
  const v = compileSchema(true, { extract: ['/id', '/list', '/obj'] });
  const doc = '{ "id" :  "x1"  ,\n\t"list" : [ 1 ,2 ]\r\n, "obj":{ } }';
  const bytes = enc.encode(doc);
  const r = v.validate(bytes);
  assert.is(r.code, 'OK');
  assert.equal(r.fields!.map((f: any) => slice(bytes, f)), ['"x1"', '[ 1 ,2 ]', '{ }']);
});

test('extract: non-object roots and type mismatches give null', () => {
  const v = compileSchema(true, { extract: ['/id', '/a/b'] });
  for (const doc of ['[1,2]', '"id"', '42', 'null', '{"a":"b"}', '{"a":[1]}', '{"a":null}']) {
    const r = v.validate(enc.encode(doc));
    assert.is(r.code, 'OK', doc);
    assert.equal(r.fields, [null, null], `${doc}: ${JSON.stringify(r)}`);
  }
});

test('extract: nested keys with escaped spellings and every scalar type', () => {
  const v = compileSchema({ type: 'object' }, { extract: ['/a/b/c', '/a/b', '/k~0', '/😀', '/x y'] });
  const doc = '{"\\u0061":{"b":{"c":1e400}},"k~":false,"\\ud83d\\ude00":"\\ud800","x y":-0}';
  const bytes = enc.encode(doc);
  const r = v.validate(bytes);
  assert.is(r.code, 'OK', JSON.stringify(r));
  assert.equal(r.fields!.map((f: any) => slice(bytes, f)), ['1e400', '{"c":1e400}', 'false', '"\\ud800"', '-0']);
});

test('extract: array indices in pointers (RFC 6901)', () => {
  const v = compileSchema({}, { extract: ['/tags/0', '/tags/2/name', '/tags/9', '/tags/01'] });
  const doc = '{"tags":["first",2,{"name":"n"}]}';
  const bytes = enc.encode(doc);
  const r = v.validate(bytes);
  assert.is(r.code, 'OK');
  assert.equal(r.fields!.map((f: any) => slice(bytes, f)), ['"first"', '"n"', null, null]);
});

test('extract spans in a large document and on rule-valid nested data', () => {
  const v = compileSchema({ type: 'object', properties: { items: { type: 'array' } } }, { extract: ['/items', '/last'] });
  const items = Array.from({ length: 5000 }, (_, i) => ({ i, s: 'é'.repeat(i % 7) }));
  const doc = JSON.stringify({ items, last: 'end😀' });
  const bytes = enc.encode(doc);
  const r = v.validate(bytes);
  assert.is(r.code, 'OK');
  assert.is(slice(bytes, r.fields![0]), JSON.stringify(items));
  assert.is(slice(bytes, r.fields![1]), '"end😀"');
});

test('verdicts are independent values: later validations do not change earlier verdicts', () => {
  const v = compileSchema({ properties: { a: { type: 'string' } } }, { extract: ['/a', '/b'] });
  const d1 = enc.encode('{"a":"one","b":[1,2,3]}');
  const d2 = enc.encode('{  "b":0,      "a":"two-two"}');
  const r1 = v.validate(d1);
  const snapshot = JSON.stringify(r1);
  const r2 = v.validate(d2);
  const batch = v.validateBatch([d2, d1, enc.encode('{"a":1}')]);
  assert.is(JSON.stringify(r1), snapshot, 'first verdict unchanged');
  assert.is(slice(d1, r1.fields![0]), '"one"');
  assert.is(slice(d2, r2.fields![0]), '"two-two"');
  assert.is(slice(d1, batch[1]!.fields![1]), '[1,2,3]');
  const e1 = batch[2]!;
  const snapE = JSON.stringify(e1);
  v.validateBatch([enc.encode('{"a":[]}'), enc.encode('{"a":{}}')]);
  assert.is(JSON.stringify(e1), snapE, 'failing verdict unchanged by a later batch');
  // the input buffer is not retained: overwriting it afterwards changes nothing
  const d3 = enc.encode('{"a":"x"}');
  const r3 = v.validate(d3);
  d3.fill(0x20);
  assert.is(r3.code, 'OK');
  assert.equal(r3.fields![0], { start: 5, end: 8 });
});

// ---------------------------------------------------------------------------
// compile errors

function expectSchemaError(schema: unknown, mention: string | RegExp, opts?: any) {
  let err: unknown;
  try {
    compileSchema(schema as any, opts);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `compileSchema(${JSON.stringify(schema)}) should throw`);
  assert.instance(err, SluiceError, `should throw SluiceError, got ${err}`);
  assert.is((err as any).code, 'SLC_SCHEMA', `code for ${JSON.stringify(schema)}`);
  const msg = String((err as Error).message);
  if (typeof mention === 'string') assert.ok(msg.includes(mention), `message should mention ${mention}: ${msg}`);
  else assert.match(msg, mention);
}

// ---------------------------------------------------------------------------
// keywords evaluated on the tape (applicators, references, ...): codes and paths, checked
// against ajv's 2020-12 class except where ajv deviates from the specification (named per row)

function runTape(cases: Case[], label: string) {
  const fails: string[] = [];
  for (const [schema, doc, code, path, skipAjv] of cases) {
    const bytes = toBytes(doc);
    const where = `${label}: schema=${JSON.stringify(schema)} doc=${JSON.stringify(doc)}`;
    if (!skipAjv) {
      const valid = new Ajv2020({ strict: false, allErrors: false }).compile(schema as object)(JSON.parse(doc as string));
      assert.is(valid, code === 'OK', `test table bug (ajv disagrees with expectation ${code}): ${where}`);
    }
    for (const kernel of ['simd', 'scalar']) {
      const r = core(schema, { kernel }).validate(bytes);
      if (r.code !== code || (path !== undefined && r.path !== path)) fails.push(`${where} [${kernel}]\n    expected ${code} at ${JSON.stringify(path)}, got ${JSON.stringify(r)}`);
    }
  }
  assert.ok(fails.length === 0, `${fails.length} rows failed:\n  ${fails.join('\n  ')}`);
}

test('tape: $ref, $defs, definitions, recursion, $id and $anchor', () => {
  const tree = {
    $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } },
    $ref: '#/$defs/node',
  };
  runTape(
    [
      [tree, '{"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4}]}]}', 'OK'],
      [tree, '{"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":"4"}]}]}', 'E_TYPE', '/kids/1/kids/0/v'],
      [tree, '{"v":1,"kids":[{}]}', 'E_REQUIRED', '/kids/0/v'],
      [{ definitions: { s: { type: 'string' } }, properties: { a: { $ref: '#/definitions/s' } } }, '{"a":1}', 'E_TYPE', '/a'],
      [{ $defs: { 'a/b': { type: 'string' }, 'c%d': { type: 'null' } }, properties: { x: { $ref: '#/$defs/a~1b' }, y: { $ref: '#/$defs/c%25d' } } }, '{"x":"s","y":1}', 'E_TYPE', '/y'],
      [{ $id: 'https://example.org/root.json', $defs: { s: { $id: 'leaf.json', type: 'string' } }, properties: { a: { $ref: 'leaf.json' } } }, '{"a":"x"}', 'OK'],
      [{ $id: 'https://example.org/root.json', $defs: { s: { $id: 'leaf.json', type: 'string' } }, properties: { a: { $ref: 'leaf.json' } } }, '{"a":2}', 'E_TYPE', '/a'],
      [{ $defs: { s: { $anchor: 'str', type: 'string' } }, items: { $ref: '#str' } }, '["a",1]', 'E_TYPE', '/1'],
      // a branch that fails quietly inside an element does not fail the element's passing anyOf
      [{ $defs: { n: { anyOf: [{ type: 'array', items: { $ref: '#/$defs/n' } }, { type: 'number' }] } }, $ref: '#/$defs/n' }, '[1,[2,[3]]]', 'OK'],
      [{ $defs: { n: { anyOf: [{ type: 'array', items: { $ref: '#/$defs/n' } }, { type: 'number' }] } }, $ref: '#/$defs/n' }, '[1,[2,["3"]]]', 'E_ANY_OF', ''],
      // 2020-12: $ref with siblings applies both
      [{ $defs: { s: { minLength: 2 } }, $ref: '#/$defs/s', maxLength: 3 }, '"abcd"', 'E_MAX_LENGTH', ''],
    ],
    'refs',
  );
});

test('references across documents: the schemas option, resolved at compile time', () => {
  const schemas = {
    'https://example.org/defs.json': { $defs: { id: { type: 'string', format: 'uuid' }, money: { type: 'object', required: ['value', 'currency'] } } },
    'https://example.org/other.json': { $id: 'https://example.org/renamed.json', type: 'integer' },
  };
  const schema = { $id: 'https://example.org/event.json', properties: { id: { $ref: 'defs.json#/$defs/id' }, price: { $ref: '/defs.json#/$defs/money' }, n: { $ref: 'renamed.json' } } };
  const v = compileSchema(schema, { schemas, assertFormats: true });
  assert.is(v.validate(enc.encode('{"id":"2eb8aa08-aa98-11ea-b4aa-73b441d16380","price":{"value":1,"currency":"EUR"},"n":3}')).code, 'OK');
  assert.equal([v.validate(enc.encode('{"id":"x"}')).code, v.validate(enc.encode('{"id":"x"}')).path], ['E_FORMAT', '/id']);
  assert.equal([v.validate(enc.encode('{"price":{"value":1}}')).code, v.validate(enc.encode('{"price":{"value":1}}')).path], ['E_REQUIRED', '/price/currency']);
  assert.is(v.validate(enc.encode('{"n":1.5}')).code, 'E_TYPE');
  expectSchemaError(schema, 'defs.json');
});

test('tape: allOf, anyOf, oneOf, not, if/then/else', () => {
  const conversion = {
    type: 'object',
    properties: { type: { enum: ['view', 'conversion'] }, value: { type: 'number' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    required: ['type'],
    if: { properties: { type: { const: 'conversion' } } },
    then: { required: ['value', 'currency'] },
    else: { not: { required: ['value'] } },
  };
  runTape(
    [
      [conversion, '{"type":"conversion","value":1.5,"currency":"EUR"}', 'OK'],
      [conversion, '{"type":"conversion","value":1.5}', 'E_REQUIRED', '/currency'],
      [conversion, '{"type":"view"}', 'OK'],
      [conversion, '{"type":"view","value":2}', 'E_NOT', ''],
      [{ allOf: [{ type: 'integer' }, { minimum: 3 }] }, '2', 'E_MINIMUM', ''],
      [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, '1.5', 'E_ANY_OF', ''],
      [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, '"x"', 'OK'],
      [{ oneOf: [{ minimum: 1 }, { maximum: 5 }] }, '3', 'E_ONE_OF', ''],
      [{ oneOf: [{ minimum: 1 }, { maximum: 5 }] }, '7', 'OK'],
      [{ oneOf: [{ minimum: 10 }, { maximum: 5 }] }, '7', 'E_ONE_OF', ''],
      [{ properties: { a: { not: { type: 'null' } } } }, '{"a":null}', 'E_NOT', '/a'],
    ],
    'combinators',
  );
});

test('tape: enum and const with objects and arrays (JSON equality)', () => {
  runTape(
    [
      [{ const: { a: [1, 'x'], b: null } }, '{"b":null,"a":[1.0,"\\u0078"]}', 'OK'],
      [{ const: { a: [1, 'x'], b: null } }, '{"b":null,"a":[1,"x"],"c":1}', 'E_CONST', ''],
      [{ const: { a: [1, 'x'], b: null } }, '{"a":["x",1],"b":null}', 'E_CONST', ''],
      [{ enum: [[1, 2], { 'é': true }, 'a'] }, '{"\\u00e9":true}', 'OK'],
      [{ enum: [[1, 2], { 'é': true }, 'a'] }, '[1,2,3]', 'E_ENUM', ''],
      [{ enum: [[1, 2], { 'é': true }, 'a'] }, '"a"', 'OK'],
      [{ enum: [[1, 2], { 'é': true }, 'a'] }, 'false', 'E_ENUM', ''],
      [{ enum: [[false]] }, '[0]', 'E_ENUM', ''],
    ],
    'deep enum',
  );
});

test('tape: object keywords', () => {
  runTape(
    [
      [{ patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false }, '{"x-a":"s","x-b":"t"}', 'OK'],
      [{ patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false }, '{"x-a":1}', 'E_TYPE', '/x-a'],
      [{ patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false }, '{"y":1}', 'E_ADDITIONAL', '/y'],
      [{ properties: { a: {} }, additionalProperties: { type: 'integer' } }, '{"a":"s","b":1,"c":1.5}', 'E_TYPE', '/c'],
      [{ propertyNames: { maxLength: 2 } }, '{"ab":1,"abc":2}', 'E_MAX_LENGTH'],
      [{ dependentRequired: { card: ['cvv'] } }, '{"card":1}', 'E_DEPENDENT_REQUIRED', ''],
      [{ dependentRequired: { card: ['cvv'] } }, '{"card":1,"cvv":2}', 'OK'],
      [{ dependentSchemas: { card: { required: ['cvv'] } } }, '{"card":1}', 'E_REQUIRED', '/cvv'],
      [{ minProperties: 2 }, '{"a":1}', 'E_MIN_PROPERTIES', ''],
      [{ maxProperties: 1 }, '{"a":1,"b":2}', 'E_MAX_PROPERTIES', ''],
    ],
    'objects',
  );
});

test('tape: array keywords (and where ajv 8 deviates)', () => {
  runTape(
    [
      [{ prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }, '["a",1]', 'OK'],
      [{ prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }, '["a",1,null]', 'E_FALSE_SCHEMA', '/2'],
      [{ prefixItems: [{ type: 'string' }] }, '[1]', 'E_TYPE', '/0'],
      [{ contains: { type: 'string' } }, '[1,2]', 'E_CONTAINS', ''],
      [{ contains: { type: 'string' }, minContains: 2, maxContains: 3 }, '["a",1,"b"]', 'OK'],
      [{ contains: { type: 'string' }, maxContains: 1 }, '["a","b"]', 'E_CONTAINS', ''],
      [{ contains: { type: 'string' }, minContains: 0 }, '[]', 'OK'],
      [{ uniqueItems: true }, '[1,"1",[1],{"a":1}]', 'OK'],
      [{ uniqueItems: true }, '[{"a":1,"b":2},{"b":2,"a":1.0}]', 'E_UNIQUE_ITEMS', ''],
      [{ items: { uniqueItems: true } }, '[[1,2],[3,3.0]]', 'E_UNIQUE_ITEMS', '/1'],
      [{ $schema: 'http://json-schema.org/draft-07/schema#', items: [{ type: 'string' }], additionalItems: { type: 'integer' } }, '["a",1,"b"]', 'E_TYPE', '/2', true],
      // ajv 8 skips contains on an array shorter than a prefixItems with a non-empty schema
      [{ prefixItems: [{ type: 'object' }], contains: { type: 'string' } }, '[]', 'E_CONTAINS', '', true],
      // ajv 8 compares only the elements of the items schema's type under prefixItems
      [{ prefixItems: [{ type: 'boolean' }, { type: 'boolean' }], items: { type: 'string' }, uniqueItems: true }, '[true,true]', 'E_UNIQUE_ITEMS', '', true],
    ],
    'arrays',
  );
});

test('tape: unevaluatedProperties and unevaluatedItems (and where ajv 8 deviates)', () => {
  const uneval = { properties: { a: {} }, allOf: [{ properties: { b: {} } }], anyOf: [{ properties: { c: { type: 'string' } } }, { required: ['d'] }], unevaluatedProperties: false };
  runTape(
    [
      [uneval, '{"a":1,"b":2,"c":"x"}', 'OK'],
      [uneval, '{"a":1,"c":1,"d":0}', 'E_UNEVALUATED', '/c'],
      [uneval, '{"a":1,"e":1}', 'E_UNEVALUATED', '/e'],
      [{ prefixItems: [{ type: 'string' }], unevaluatedItems: { type: 'integer' } }, '["a",1,2]', 'OK'],
      [{ prefixItems: [{ type: 'string' }], unevaluatedItems: false }, '["a",1]', 'E_UNEVALUATED', ''],
      [{ $defs: { base: { properties: { id: {} } } }, $ref: '#/$defs/base', unevaluatedProperties: false }, '{"id":1}', 'OK'],
      // a failed if evaluates nothing (ajv 8 counts its properties anyway)
      [{ if: { properties: { b: { type: 'integer' } } }, else: true, unevaluatedProperties: false }, '{"b":"x"}', 'E_UNEVALUATED', '/b', true],
      // 2020-12: the items contains matched are evaluated (ajv 8 does not count them)
      [{ contains: { type: 'string' }, unevaluatedItems: false }, '["a","b"]', 'OK', undefined, true],
    ],
    'unevaluated',
  );
});

test('tape: $dynamicRef and $recursiveRef take the outermost anchor of the dynamic scope', () => {
  // a generic list whose items a wrapper narrows by redefining the dynamic anchor
  const list = { $id: 'https://example.org/list.json', type: 'array', items: { $dynamicRef: '#item' }, $defs: { item: { $dynamicAnchor: 'item' } } };
  const strings = { $id: 'https://example.org/strings.json', $ref: 'list.json', $defs: { item: { $dynamicAnchor: 'item', type: 'string' } } };
  const schemas = { 'https://example.org/list.json': list };
  assert.is(compileSchema(list).validate(enc.encode('[1,"a"]')).code, 'OK');
  assert.is(compileSchema(strings, { schemas }).validate(enc.encode('["a","b"]')).code, 'OK');
  assert.equal([compileSchema(strings, { schemas }).validate(enc.encode('["a",1]')).code, compileSchema(strings, { schemas }).validate(enc.encode('["a",1]')).path], ['E_TYPE', '/1']);
  const tree = {
    $schema: 'https://json-schema.org/draft/2019-09/schema', $id: 'https://example.org/tree.json', $recursiveAnchor: true,
    type: 'object', properties: { kids: { type: 'array', items: { $recursiveRef: '#' } } },
  };
  const strict = { $schema: 'https://json-schema.org/draft/2019-09/schema', $id: 'https://example.org/strict.json', $recursiveAnchor: true, $ref: 'tree.json', unevaluatedProperties: false };
  const v = compileSchema(strict, { schemas: { 'https://example.org/tree.json': tree } });
  assert.is(v.validate(enc.encode('{"kids":[{"kids":[]}]}')).code, 'OK');
  assert.equal([v.validate(enc.encode('{"kids":[{"kidz":[]}]}')).code, v.validate(enc.encode('{"kids":[{"kidz":[]}]}')).path], ['E_UNEVALUATED', '/kids/0/kidz']);
});

test('tape: multipleOf (and where ajv 8 deviates)', () => {
  runTape(
    [
      [{ multipleOf: 0.5 }, '2.5', 'OK'],
      [{ multipleOf: 0.5 }, '2.6', 'E_MULTIPLE_OF', ''],
      [{ multipleOf: 2 }, '"x"', 'OK'],
      [{ type: 'integer', multipleOf: 0.123456789 }, '1e308', 'E_MULTIPLE_OF', ''],
      // ajv 8 compares the quotient with parseInt of its spelling: from 1e21 on, integers are "not multiples"
      [{ multipleOf: 2 }, '1e308', 'OK', undefined, true],
      [{ multipleOf: 7.5 }, '123456789012345678901234567890', 'OK', undefined, true],
    ],
    'multipleOf',
  );
});

test('formats: an annotation by default, checked in the core with assertFormats', () => {
  const uuid = { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, at: { format: 'date-time' } } };
  assert.is(core(uuid).validate(enc.encode('{"id":"nope"}')).code, 'OK');
  const cases: [unknown, string, string, string?][] = [
    [uuid, '{"id":"2eb8aa08-aa98-11ea-b4aa-73b441d16380","at":"2024-02-29T23:59:60Z"}', 'OK'],
    [uuid, '{"id":"2eb8aa08-aa98-11ea-b4aa-73b441d1638"}', 'E_FORMAT', '/id'],
    [uuid, '{"id":"2eb8aa08\\u002daa98-11ea-b4aa-73b441d16380"}', 'OK'],
    [uuid, '{"at":"2023-02-29T10:00:00Z"}', 'E_FORMAT', '/at'],
    [uuid, '{"at":"2023-02-28T10:00:00+25:00"}', 'E_FORMAT', '/at'],
    [uuid, '{"at":12}', 'OK'],
    [{ format: 'date' }, '"2024-02-29"', 'OK'],
    [{ format: 'time' }, '"23:59:60+00:00"', 'OK'],
    [{ format: 'time' }, '"22:59:60Z"', 'E_FORMAT', ''],
    [{ format: 'duration' }, '"P1Y2M3DT4H5M6S"', 'OK'],
    [{ format: 'duration' }, '"PT1H2S"', 'E_FORMAT', ''],
    [{ format: 'ipv4' }, '"10.0.0.255"', 'OK'],
    [{ format: 'ipv4' }, '"10.0.0.256"', 'E_FORMAT', ''],
    [{ format: 'ipv6' }, '"::ffff:10.0.0.1"', 'OK'],
    [{ format: 'ipv6' }, '"1::2::3"', 'E_FORMAT', ''],
    [{ format: 'email' }, '"\\"joe bloggs\\"@example.com"', 'OK'],
    [{ format: 'email' }, '"joe@[IPv6:::1]"', 'OK'],
    [{ format: 'uri' }, '"https://example.org:8080/a?b#c"', 'OK'],
    [{ format: 'uri' }, '"/relative"', 'E_FORMAT', ''],
    [{ format: 'uri-reference' }, '"/relative"', 'OK'],
    [{ format: 'json-pointer' }, '"/a~2"', 'E_FORMAT', ''],
    [{ format: 'relative-json-pointer' }, '"1#"', 'OK'],
    // where ajv-formats deviates from the RFCs: a space for the T of a date-time, a one-label mail domain
    [{ format: 'date-time' }, '"1963-06-19 08:30:06Z"', 'E_FORMAT', ''],
    [{ format: 'email' }, '"joe@localhost"', 'OK'],
  ];
  const fails: string[] = [];
  for (const [schema, doc, code, path] of cases) {
    for (const kernel of ['simd', 'scalar']) {
      const r = core(schema, { kernel, assertFormats: true }).validate(enc.encode(doc));
      if (r.code !== code || (path !== undefined && r.path !== path)) fails.push(`${JSON.stringify(schema)} ${doc} [${kernel}]: expected ${code} at ${path}, got ${JSON.stringify(r)}`);
    }
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('formats JS decides (IDNA, IRIs, URI templates, regexes): right verdicts, said to be a fallback, listed', () => {
  const cases: [string, string, boolean][] = [
    ['hostname', 'example.com', true],
    ['hostname', 'xn--bcher-kva.example', true], // bücher: a valid A-label
    ['hostname', 'xn--X.example', false], // invalid Punycode
    ['hostname', '-leading.example', false], // the core's own syntax check
    ['idn-hostname', 'bücher.example', true],
    ['idn-hostname', 'a..b', false], // the library throws: an invalid answer, not a trap
    ['idn-email', 'jöe@bücher.example', true],
    ['idn-email', 'no-at-sign', false],
    ['iri', 'https://例え.jp/パス', true],
    ['iri', 'http://[V1.fe]', true],
    ['iri', '//no-scheme', false],
    ['iri-reference', '//no-scheme', true],
    ['uri-template', 'https://example.org/{id}', true],
    ['uri-template', 'https://example.org/{id', false],
    ['regex', '^[a-z]+$', true],
    ['regex', '^(abc]', false],
  ];
  const fails: string[] = [];
  for (const [format, value, valid] of cases) {
    for (const kernel of ['simd', 'scalar']) {
      const v = core({ properties: { v: { format } } }, { kernel, assertFormats: true });
      const r = v.validate(enc.encode(JSON.stringify({ v: value })));
      if (r.ok !== valid || (!valid && r.code !== 'E_FORMAT')) fails.push(`${format} ${JSON.stringify(value)} [${kernel}]: expected ${valid}, got ${JSON.stringify(r)}`);
      const inJs = format !== 'hostname' || value.includes('xn--');
      if (r.ok && (r.fallback === true) !== inJs) fails.push(`${format} ${JSON.stringify(value)} [${kernel}]: fallback ${r.fallback}, expected ${inJs}`);
      if (v.fallbacks.length !== 1 || v.fallbacks[0]!.keywordLocation !== '#/properties/v/format') fails.push(`${format}: fallbacks ${JSON.stringify(v.fallbacks)}`);
    }
  }
  assert.ok(fails.length === 0, fails.join('\n'));
});

test('fallbacks: each check of the rules JS decides is listed with its place; none for rules the core runs alone', () => {
  const listed = (schema: unknown) => core(schema, { assertFormats: true }).fallbacks.map((f: JsFallback) => f.keywordLocation);
  assert.equal(listed({ properties: { id: { type: 'string', pattern: '^[a-z]+$', format: 'uuid' }, n: { type: 'number' } } }), []);
  assert.equal(listed({ properties: { a: { pattern: '(?<=a)b' }, h: { format: 'uri-template' } } }), ['#/properties/a/pattern', '#/properties/h/format']);
  // the numeric corner (a number the scan cannot convert exactly) is no check of the rules: any
  // numeric keyword may meet it, so it is not listed, and the verdict that met it says so
  assert.equal(listed({ properties: { n: { minimum: 0 } } }), []);
  const r = core({ properties: { n: { minimum: 0 } } }).validate(enc.encode('{"n":12345678901234567890123}'));
  assert.equal([r.ok, r.fallback], [true, true]);
});

test('tape: the core never traps on deep references or structures', () => {
  const loop = { $defs: { a: { anyOf: [{ $ref: '#/$defs/b' }] }, b: { allOf: [{ $ref: '#/$defs/a' }] } }, $ref: '#/$defs/a' };
  assert.is(core(loop).validate(enc.encode('1')).code, 'E_DEPTH');
  const deep = { $defs: { n: { items: { $ref: '#/$defs/n' } } }, $ref: '#/$defs/n' };
  assert.is(core(deep).validate(enc.encode('['.repeat(60) + ']'.repeat(60))).code, 'OK');
  assert.is(core(deep).validate(enc.encode('['.repeat(70) + ']'.repeat(70))).code, 'E_DEPTH');
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(1 + (i % 40)).map((_, j) => '[]{}",:1tfn\\ "a'.charCodeAt((i * 7 + j * 13) % 16));
    const r = core({ anyOf: [{ $ref: '#/$defs/n' }, { uniqueItems: true }], $defs: { n: { items: { $ref: '#/$defs/n' } } } }).validate(bytes);
    assert.type(r.code, 'string');
  }
});

test('compile errors: unsupported keywords are named', () => {
  expectSchemaError({ type: 'string', format: 'ipv5' }, 'unknown format "ipv5"', { assertFormats: true });
  expectSchemaError({ $dynamicRef: '#meta' }, '#meta');
  expectSchemaError({ $schema: 'http://json-schema.org/draft-07/schema#', $recursiveRef: '#' }, '$recursiveRef');
  expectSchemaError({ $schema: 'http://json-schema.org/draft-07/schema#', unevaluatedProperties: false }, 'unevaluatedProperties');
  expectSchemaError({ $schema: 'https://json-schema.org/draft/2019-09/schema', $dynamicAnchor: 'meta' }, '$dynamicAnchor');
  expectSchemaError({ fooBar: 1 }, 'fooBar');
  // a keyword of another draft
  expectSchemaError({ dependencies: { a: ['b'] } }, 'dependencies');
  expectSchemaError({ $schema: 'http://json-schema.org/draft-07/schema#', prefixItems: [] }, 'prefixItems');
  expectSchemaError({ items: [{ type: 'string' }] }, 'items');
  // an unknown meta-schema: its vocabulary is unknown
  expectSchemaError({ $schema: 'https://example.org/my-meta', type: 'string' }, '$schema');
  // nested: keyword named, location given
  expectSchemaError({ properties: { a: { properties: { b: { format: 'ipv5' } } } } }, 'format', { assertFormats: true });
  expectSchemaError({ properties: { a: { properties: { b: { format: 'ipv5' } } } } }, /properties.*a.*properties.*b|\/a\/b|a\.b/, { assertFormats: true });
  expectSchemaError({ items: { oneOf: [] } }, 'oneOf');
});

test('compile errors: references that do not resolve name the reference', () => {
  expectSchemaError({ $ref: '#/$defs/missing' }, '#/$defs/missing');
  expectSchemaError({ $ref: 'other.json' }, 'other.json');
  expectSchemaError({ $ref: '#anchor' }, '#anchor');
  expectSchemaError({ properties: { a: { $ref: '#/properties/b' } } }, '#/properties/b');
});

test('compile errors: patternProperties outside the core regex subset', () => {
  expectSchemaError({ patternProperties: { '(?<=a)b': {} } }, 'patternProperties');
});

test('compile errors: malformed schemas', () => {
  expectSchemaError({ type: 'foo' }, 'type');
  expectSchemaError({ type: ['string', 5] }, 'type');
  expectSchemaError({ type: 'int' }, 'type');
  expectSchemaError({ minLength: -1 }, 'minLength');
  expectSchemaError({ minLength: 1.5 }, 'minLength');
  expectSchemaError({ maxLength: '3' }, 'maxLength');
  expectSchemaError({ minItems: -2 }, 'minItems');
  expectSchemaError({ required: 'a' }, 'required');
  expectSchemaError({ required: [1] }, 'required');
  expectSchemaError({ properties: [] }, 'properties');
  expectSchemaError({ properties: { a: 5 } }, /properties|schema/);
  expectSchemaError({ minimum: '5' }, 'minimum');
  expectSchemaError({ exclusiveMaximum: true }, 'exclusiveMaximum');
  expectSchemaError({ pattern: '(' }, 'pattern');
  expectSchemaError({ pattern: 5 }, 'pattern');
  expectSchemaError({ enum: 'a' }, 'enum');
  expectSchemaError({ additionalProperties: 'no' }, 'additionalProperties');
  expectSchemaError({ items: 5 }, 'items');
  expectSchemaError(5, /./);
  expectSchemaError(null, /./);
  expectSchemaError('string', /./);
});

test('annotations are allowed and ignored', () => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://example.org/s',
    $comment: 'c',
    title: 't',
    description: 'd',
    examples: [{ a: 1 }],
    default: { a: 1 },
    type: 'object',
    properties: { a: { type: 'integer', title: 'A', description: 'an a', default: 0, examples: [1, 2], $comment: 'x' } },
  };
  const v = compileSchema(schema);
  assert.is(v.validate(enc.encode('{"a":1}')).code, 'OK');
  const r = v.validate(enc.encode('{"a":1.5}'));
  assert.equal([r.code, r.path], ['E_TYPE', '/a']);
  // a property *named* like a keyword is not a keyword
  const v2 = compileSchema({ properties: { format: { type: 'string' }, oneOf: { type: 'number' } }, required: ['$ref'] });
  assert.is(v2.validate(enc.encode('{"format":"x","oneOf":1,"$ref":0}')).code, 'OK');
  assert.equal(v2.validate(enc.encode('{"format":1}')).path, '/format');
});

test('verdict shape: message is a string, rule errors carry path, syntax errors carry offset', () => {
  const v = compileSchema({ properties: { a: { type: 'string' } } });
  const ok = v.validate(enc.encode('{"a":"x"}'));
  assert.equal([ok.ok, ok.code], [true, 'OK']);
  assert.type(ok.message, 'string');
  const rule = v.validate(enc.encode('{"a":1}'));
  assert.type(rule.message, 'string');
  assert.ok(rule.message.length > 0);
  assert.is(rule.path, '/a');
  const syn = v.validate(enc.encode('{"a":1'));
  assert.type(syn.message, 'string');
  assert.type(syn.offset, 'number');
  assert.is(syn.path, undefined);
});

test.run();
