// Errors a person can act on: a failed rule's verdict names the value (path) and the keyword in the
// schema (keywordLocation, as JSON Schema's "basic" output); a failed anyOf/oneOf says why each
// branch failed. The core (both builds) and the plain-JS validator give the same answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { JsonSchema } from '../../src/core/rule-model.ts';
import { JsValidator } from '../../src/core/js-validator.ts';
import { compileSchema, MAX_BRANCHES, type MessageValidator, type Verdict, type ValidatorOptions } from '../../src/core/validator.ts';

const encoder = new TextEncoder();

const ENGINES: Record<string, (schema: JsonSchema, options: ValidatorOptions) => MessageValidator> = {
  simd: (schema, options) => compileSchema(schema, { ...options, kernel: 'simd' }),
  scalar: (schema, options) => compileSchema(schema, { ...options, kernel: 'scalar' }),
  js: (schema, options) => new JsValidator(schema, options),
};

/** The verdict of each engine on one message, without what only the core reports (byte offsets). */
function verdicts(schema: JsonSchema, message: string, options: ValidatorOptions = {}): Record<string, Omit<Verdict, 'offset'>> {
  const out: Record<string, Omit<Verdict, 'offset'>> = {};
  for (const [name, make] of Object.entries(ENGINES)) {
    const validator = make(schema, options);
    validator.check([encoder.encode(message)]);
    const { offset: _offset, ...verdict } = validator.verdict(0);
    out[name] = verdict;
  }
  return out;
}

/** Every engine gives `expected` (a subset of the verdict's fields). */
function expectAll(schema: JsonSchema, message: string, expected: Partial<Verdict>, options: ValidatorOptions = {}): void {
  for (const [engine, verdict] of Object.entries(verdicts(schema, message, options))) {
    for (const [key, value] of Object.entries(expected)) {
      assert.equal((verdict as Record<string, unknown>)[key], value, `${engine}: ${key} of ${message}: ${JSON.stringify(verdict)}`);
    }
  }
}

const CAMPAIGN: JsonSchema = {
  $defs: {
    money: { type: 'object', required: ['value', 'currency'], properties: { value: { type: 'number' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } } },
  },
  type: 'object',
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    conversion: { if: { properties: { kind: { const: 'purchase' } }, required: ['kind'] }, then: { required: ['value', 'currency'] } },
    price: { $ref: '#/$defs/money' },
    count: { type: 'integer', maximum: 3 },
  },
  additionalProperties: false,
};

test('a failed keyword: its place in the schema, through if/then', () => {
  expectAll(CAMPAIGN, '{"conversion":{"kind":"purchase","value":1}}', {
    ok: false, code: 'E_REQUIRED', path: '/conversion/currency', keywordLocation: '/properties/conversion/then/required',
  });
  expectAll(CAMPAIGN, '{"count":5}', { code: 'E_MAXIMUM', path: '/count', keywordLocation: '/properties/count/maximum' });
  expectAll(CAMPAIGN, '{"count":1.5}', { code: 'E_TYPE', keywordLocation: '/properties/count/type' });
  expectAll(CAMPAIGN, '{"colour":"blue"}', { code: 'E_ADDITIONAL', path: '/colour', keywordLocation: '/additionalProperties' });
  expectAll(CAMPAIGN, '{"eventId":"not-a-uuid"}', { code: 'E_FORMAT', keywordLocation: '/properties/eventId/format' }, { assertFormats: true });
  expectAll(CAMPAIGN, '[]', { code: 'E_TYPE', path: '', keywordLocation: '/type' });
});

test('through $ref: the keyword where the reference leads', () => {
  expectAll(CAMPAIGN, '{"price":{"value":1,"currency":"eur"}}', { code: 'E_PATTERN', path: '/price/currency', keywordLocation: '/$defs/money/properties/currency/pattern' });
  expectAll(CAMPAIGN, '{"price":{"value":1}}', { code: 'E_REQUIRED', path: '/price/currency', keywordLocation: '/$defs/money/required' });
});

test('the streaming subset and draft-07 name their keywords too', () => {
  const streaming: JsonSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 3 }, tags: { type: 'array', items: { enum: ['a', 'b'] } } } };
  expectAll(streaming, '{}', { code: 'E_REQUIRED', path: '/id', keywordLocation: '/required' });
  expectAll(streaming, '{"id":"ab"}', { code: 'E_MIN_LENGTH', keywordLocation: '/properties/id/minLength' });
  expectAll(streaming, '{"id":"abc","tags":["a","c"]}', { code: 'E_ENUM', path: '/tags/1', keywordLocation: '/properties/tags/items/enum' });
  const draft07: JsonSchema = { $schema: 'http://json-schema.org/draft-07/schema#', dependencies: { value: ['currency'] } };
  expectAll(draft07, '{"value":1}', { code: 'E_DEPENDENT_REQUIRED', keywordLocation: '/dependencies' });
  expectAll({ properties: { gone: false } }, '{"gone":1}', { code: 'E_FALSE_SCHEMA', path: '/gone', keywordLocation: '/properties/gone' });
});

const TARGET: JsonSchema = {
  properties: {
    target: { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } }] },
    kind: { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }, { type: 'integer' }] },
  },
};

test('anyOf: the first failure of each branch, relative paths made whole', () => {
  expectAll(TARGET, '{"target":{"id":"x"}}', {
    code: 'E_ANY_OF', path: '/target', keywordLocation: '/properties/target/anyOf',
    branches: [
      { branch: 0, ok: false, code: 'E_TYPE', message: 'must be string', path: '/target', keywordLocation: '/properties/target/anyOf/0/type' },
      { branch: 1, ok: false, code: 'E_TYPE', message: 'must be integer', path: '/target/id', keywordLocation: '/properties/target/anyOf/1/properties/id/type' },
    ],
  });
});

test('oneOf: failed branches with their failure, passing ones as ok when more than one passes', () => {
  expectAll(TARGET, '{"kind":true}', {
    code: 'E_ONE_OF',
    branches: [
      { branch: 0, ok: false, code: 'E_TYPE', message: 'must be string', path: '/kind', keywordLocation: '/properties/kind/oneOf/0/type' },
      { branch: 1, ok: false, code: 'E_TYPE', message: 'must be string', path: '/kind', keywordLocation: '/properties/kind/oneOf/1/type' },
      { branch: 2, ok: false, code: 'E_TYPE', message: 'must be integer', path: '/kind', keywordLocation: '/properties/kind/oneOf/2/type' },
    ],
  }, {});
  const [simd] = Object.values(verdicts(TARGET, '{"kind":"ab"}'));
  assert.is(simd!.code, 'E_ONE_OF');
  assert.equal(simd!.branches!.filter((b) => b.ok).map((b) => b.branch), [0, 1]);
  for (const verdict of Object.values(verdicts(TARGET, '{"kind":"ab"}'))) {
    assert.equal(verdict.branches!.filter((b) => b.ok).map((b) => b.branch), [0, 1], JSON.stringify(verdict));
  }
});

test('the branches explained are bounded; a valid message carries none of it', () => {
  const many: JsonSchema = { anyOf: Array.from({ length: MAX_BRANCHES + 4 }, (_, i) => ({ const: i })) };
  for (const [engine, verdict] of Object.entries(verdicts(many, '"x"'))) {
    assert.is(verdict.code, 'E_ANY_OF', engine);
    assert.equal(verdict.branches!.map((b) => b.branch), Array.from({ length: MAX_BRANCHES }, (_, i) => i), engine);
    assert.ok(verdict.branches!.every((b) => b.code === 'E_CONST'), engine);
  }
  for (const [engine, verdict] of Object.entries(verdicts(TARGET, '{"target":{"id":1},"kind":"abcd"}'))) {
    assert.equal(verdict, { ok: true, code: 'OK', message: 'ok' }, engine);
  }
});

test('a batch: each failed message explains its own branches, after the others were checked', () => {
  const validator = compileSchema(TARGET);
  const messages = ['{"target":5}', '{"target":"x","kind":1}', '{"kind":"ab"}', '{"target":{"id":2.5}}'].map((m) => encoder.encode(m));
  assert.is(validator.check(messages), 4);
  assert.equal(validator.verdict(3).branches!.map((b) => b.path), ['/target', '/target/id']);
  assert.equal(validator.verdict(0).branches!.map((b) => b.code), ['E_TYPE', 'E_TYPE']);
  assert.ok(validator.ok(1), 'format is an annotation here: the string branch holds');
  assert.is(validator.verdict(2).code, 'E_ONE_OF');
});

test.run();
