// if/then/else the scan decides (assembly/scanner.ts decideConditions): an `if` that tests members
// against string, boolean or null literals, a `then`/`else` that requires members, on the node
// itself or as allOf entries. Such rules run in the scan (no tape); each verdict equals the tape
// mode's on the same rules (forced onto the tape by an applicator that always holds) and ajv's,
// on both builds of the core, over generated objects: the tested members present, absent,
// escaped, of other types, after the members they require, at the root and one level down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileProgram } from '../../src/core/compile.ts';
import type { JsonSchema } from '../../src/core/rule-model.ts';
import { compileSchema } from '../../src/core/validator.ts';
import { Rng } from './gen.ts';

const ajv = new Ajv2020({ strict: false });
const encoder = new TextEncoder();

/** A discriminated union: what each event type must carry. */
const union: JsonSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' }, value: { type: 'number' }, currency: { type: 'string' }, itemId: { type: 'string' } },
  allOf: [
    { if: { properties: { type: { const: 'conversion' } }, required: ['type'] }, then: { required: ['value', 'currency'] } },
    { if: { properties: { type: { enum: ['click', 'impression'] } } }, then: { required: ['itemId'] }, else: { required: ['value'] } },
    { if: { properties: { test: { const: true }, channel: { enum: [null, 'web\u00e9'] } }, required: ['test'] }, then: { required: ['sandbox'] } },
  ],
};

const rulesOf = {
  'on the node, beside properties and additionalProperties: false': {
    type: 'object',
    additionalProperties: false,
    properties: { kind: { enum: ['a', 'b'] }, x: {}, y: {} },
    if: { properties: { kind: { const: 'a' } } },
    then: { required: ['x'] },
    else: { required: ['y'] },
  },
  'as allOf entries': union,
  'one level down': { type: 'object', properties: { event: union, n: { type: 'integer' } }, required: ['event'] },
} satisfies Record<string, JsonSchema>;

/** The same rules on the tape: an allOf entry the scan cannot decide, which always holds. */
const onTape = (rules: JsonSchema): JsonSchema => ({ allOf: [rules, { not: { required: ['never-there'] } }] });

const TYPES = ['conversion', 'click', 'impression', 'heartbeat', 'conv\\u0065rsion', 'cl\\u0069ck', '', 5, null, true, { a: 1 }, ['conversion']];

function member(rng: Rng, name: string, values: readonly unknown[], text: string[]): void {
  if (rng.bool(0.25)) return;
  const value = rng.pick(values);
  // escapes written as they are (\u0065 is an escaped e): the rest as JSON
  text.push(`"${name}":${typeof value === 'string' ? `"${value}"` : JSON.stringify(value)}`);
}

function event(rng: Rng): string {
  const members: string[] = [];
  const order = rng.bool(0.5) ? ['value', 'currency', 'type', 'kind', 'itemId', 'test', 'channel', 'sandbox', 'x', 'y'] : ['type', 'kind', 'test', 'channel', 'value', 'currency', 'itemId', 'sandbox', 'x', 'y'];
  for (const name of order) {
    if (name === 'type' || name === 'kind') member(rng, name, name === 'type' ? TYPES : ['a', 'b', 'c', 'a\\u0000', 1], members);
    else if (name === 'test') member(rng, name, [true, false, 'true', null], members);
    else if (name === 'channel') member(rng, name, [null, 'web\\u00e9', 'webé', 'web', 0], members);
    else if (name === 'value') member(rng, name, [1.5, 0, '1'], members);
    else member(rng, name, ['x', 1], members);
  }
  return `{${members.join(',')}}`;
}

test('rules whose conditions the scan decides run in the scan; others stay on the tape', () => {
  for (const [name, rules] of Object.entries(rulesOf)) assert.is(compileProgram(rules, [], 4096).evalRoot, 0, name);
  const notDecided: JsonSchema[] = [
    { if: { properties: { n: { const: 1 } } }, then: { required: ['x'] } }, // a number literal
    { if: { properties: { n: { type: 'integer' } } }, then: { required: ['x'] } }, // integer apart from number
    { if: { properties: { s: { minLength: 2 } } }, then: { required: ['x'] } }, // more than a literal
    { if: { properties: { s: { const: 'a' } } }, then: { properties: { x: { type: 'string' } } } }, // a `then` that does more than require
    { if: { required: ['a'] }, then: { required: ['x'] }, anyOf: [{ required: ['b'] }] }, // another applicator beside
  ];
  for (const rules of notDecided) assert.ok(compileProgram(rules, [], 4096).evalRoot !== 0, JSON.stringify(rules));
});

test('each verdict equals the tape mode and ajv, on both builds, over generated objects', () => {
  const rng = new Rng(20261206);
  let failures = 0;
  for (const [name, rules] of Object.entries(rulesOf)) {
    const reference = ajv.compile(rules);
    const cores = (['simd', 'scalar'] as const).map((kernel) => ({ kernel, scan: compileSchema(rules, { kernel }), tape: compileSchema(onTape(rules), { kernel }) }));
    for (let i = 0; i < 2000; i++) {
      const inner = event(rng);
      const text = name === 'one level down' ? `{"n":1,"event":${inner}}` : inner;
      const bytes = encoder.encode(text);
      const expected = reference(JSON.parse(text));
      for (const { kernel, scan, tape } of cores) {
        const a = scan.validate(bytes);
        const b = tape.validate(bytes);
        const same = a.ok === expected && b.ok === expected && a.code === b.code && a.path === b.path && (a.keywordLocation === b.keywordLocation || `/allOf/0${a.keywordLocation}` === b.keywordLocation);
        if (!same && failures++ < 5) console.log(`${name} (${kernel}) ${text}: ajv ${expected}, scan ${JSON.stringify(a)}, tape ${JSON.stringify(b)}`);
      }
    }
  }
  assert.is(failures, 0, `${failures} verdicts differ (the first printed above)`);
});

test('a failed `then` names the member it requires and the keyword where it is written', () => {
  const core = compileSchema(union);
  const verdict = core.validate(encoder.encode('{"itemId":"i","type":"conversion","value":2}'));
  assert.equal([verdict.code, verdict.path, verdict.keywordLocation, verdict.message], ['E_REQUIRED', '/currency', '/allOf/0/then/required', "must have required property 'currency'"]);
  const other = core.validate(encoder.encode('{"type":"heartbeat"}'));
  assert.equal([other.code, other.path, other.keywordLocation], ['E_REQUIRED', '/value', '/allOf/1/else/required']);
});

test.run();
