// Rules that name meta-schemas (src/core/meta-schemas.ts, dialectOf in src/core/rule-model.ts):
// a `$ref` to a draft's own meta-schema checks schemas as ajv does with no network; a `$schema`
// naming a meta-schema listed with the rules reads its `$vocabulary` (keywords of a vocabulary it
// leaves out are not evaluated; an unknown required vocabulary is a compile error naming it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileSchema } from '../../src/core/validator.ts';
import { SluiceError } from '../../src/errors.ts';

const encoder = new TextEncoder();

const DRAFTS = [
  { uri: 'http://json-schema.org/draft-07/schema#', ajv: new Ajv({ strict: false }) },
  { uri: 'https://json-schema.org/draft/2019-09/schema', ajv: new Ajv2019({ strict: false }) },
  { uri: 'https://json-schema.org/draft/2020-12/schema', ajv: new Ajv2020({ strict: false }) },
];

/** Schemas as data: right ones, wrong ones, and ones only some drafts accept. */
const SCHEMAS: unknown[] = [
  { type: 'string' }, { type: 12 }, { type: ['string', 'null'] }, { type: ['string', 'bogus'] },
  { minLength: -1 }, { minLength: 2 }, { required: ['a', 'a'] }, { required: 'a' },
  { properties: { a: { type: 'integer', minimum: 'x' } } }, { properties: { a: { enum: [] } } },
  { items: [{ type: 'string' }] }, { prefixItems: [{ type: 'string' }], items: false },
  { anyOf: [] }, { allOf: [{ $ref: '#/$defs/x' }], $defs: { x: { maxItems: 1.5 } } },
  { $id: 'not a uri with spaces#frag' }, { pattern: '^a+$' }, { dependencies: { a: ['b'] } }, true, false, 7, 'schema',
];

test('a rule that $refs a draft\'s meta-schema gives ajv\'s verdict on every schema as data', () => {
  for (const { uri, ajv } of DRAFTS) {
    const rules = { $schema: uri, $ref: uri };
    const core = compileSchema(rules);
    const reference = ajv.compile({ $ref: uri });
    for (const schema of SCHEMAS) {
      const verdict = core.validate(encoder.encode(JSON.stringify(schema)));
      assert.is(verdict.ok, reference(schema), `${uri}: ${JSON.stringify(schema)}: core ${JSON.stringify(verdict)}`);
    }
  }
});

const NO_VALIDATION = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://example.com/meta/no-validation',
  $vocabulary: { 'https://json-schema.org/draft/2020-12/vocab/core': true, 'https://json-schema.org/draft/2020-12/vocab/applicator': true },
  $dynamicAnchor: 'meta',
  allOf: [{ $ref: 'https://json-schema.org/draft/2020-12/meta/core' }, { $ref: 'https://json-schema.org/draft/2020-12/meta/applicator' }],
};

test('a meta-schema whose $vocabulary leaves validation out: its keywords are not evaluated, applicators are', () => {
  const schemas = { 'https://example.com/meta/no-validation': NO_VALIDATION };
  const core = compileSchema({ $schema: 'https://example.com/meta/no-validation', properties: { gone: false, n: { type: 'string', minimum: 10 } } }, { schemas });
  assert.ok(core.validate(encoder.encode('{"n":1}')).ok, 'type and minimum belong to the validation vocabulary');
  assert.is(core.validate(encoder.encode('{"gone":1}')).code, 'E_FALSE_SCHEMA');
});

test('an optional vocabulary the core does not know is ignored; a required one is a compile error naming it', () => {
  const meta = (required: boolean) => ({
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    $vocabulary: { 'https://json-schema.org/draft/2019-09/vocab/core': true, 'https://json-schema.org/draft/2019-09/vocab/validation': true, 'https://example.com/vocab/custom': required },
  });
  const optional = compileSchema({ $schema: 'https://example.com/meta', type: 'number' }, { schemas: { 'https://example.com/meta': meta(false) } });
  assert.ok(optional.validate(encoder.encode('20')).ok);
  assert.not.ok(optional.validate(encoder.encode('"x"')).ok);
  try {
    compileSchema({ $schema: 'https://example.com/meta', type: 'number' }, { schemas: { 'https://example.com/meta': meta(true) } });
    assert.unreachable('a required vocabulary the core does not know compiled');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.match((error as Error).message, 'requires the vocabulary https://example.com/vocab/custom');
  }
});

test('a $schema that is neither a draft nor a listed meta-schema is refused, saying which are known', () => {
  try {
    compileSchema({ $schema: 'https://example.com/unknown', type: 'number' });
    assert.unreachable('an unknown $schema compiled');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.match((error as Error).message, 'unsupported "$schema" "https://example.com/unknown"');
    assert.match((error as Error).message, 'https://json-schema.org/draft/2020-12/schema');
  }
});

test.run();
