// The program layout (core/compile.ts) on its own: a rule tree laid out at a base address as the
// core reads it. Every node and property has an address inside the program; the layout moves with
// the base and nothing else; the streaming subset runs in the scan, applicators in tape mode, shared
// $defs in the scan; a
// pattern the core cannot run is handed to JS; schema strings keep lone surrogates (WTF-8) so that
// they equal the same escape in a message (checked through the real core).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileProgram } from '../../src/core/compile.ts';
import type { JsonSchema } from '../../src/core/rule-model.ts';
import { compileSchema } from '../../src/core/validator.ts';

const rules: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^c-[0-9]+$' }, n: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { enum: ['a', 'b'] } } },
};

test('every node and property is laid out inside the program, at or after the base', () => {
  const base = 65_536;
  const program = compileProgram(rules, ['/id'], base);
  const end = base + program.bytes.length;
  assert.ok(program.bytes.length > 0);
  const addresses = [...program.nodesByAddress.keys(), ...program.propertiesByAddress.keys(), program.root, program.any];
  for (const address of addresses) assert.ok(address >= base && address < end, `address ${address} outside [${base}, ${end})`);
  for (const [address, node] of program.nodesByAddress) assert.is(node.address, address);
  assert.equal([...program.propertiesByAddress.values()].map((p) => p.name).sort(), ['id', 'n', 'tags']);
  assert.is(program.nodesByAddress.get(program.root)?.location, '#');
});

test('the layout moves with the base and nothing else', () => {
  const a = compileProgram(rules, ['/id', '/n'], 4096);
  const b = compileProgram(rules, ['/id', '/n'], 4096 + 8192);
  assert.is(b.bytes.length, a.bytes.length);
  assert.is(b.root - a.root, 8192);
  assert.equal([...b.nodesByAddress.keys()].map((x) => x - 8192), [...a.nodesByAddress.keys()]);
  assert.equal(compileProgram(rules, ['/id', '/n'], 4096).bytes, a.bytes, 'deterministic');
  assert.not.equal(b.bytes, a.bytes, 'the addresses inside the program moved too');
});

test('the streaming subset runs in the scan (no evalRoot); an applicator needs the tape (evalRoot set, the scan extracts)', () => {
  const streaming = compileProgram(rules, [], 4096);
  assert.is(streaming.evalRoot, 0);
  const tape = compileProgram({ anyOf: [{ type: 'string' }, { type: 'object', required: ['id'] }] }, ['/id'], 4096);
  assert.ok(tape.evalRoot !== 0, 'the rules root is laid out for the evaluation on the tape');
  assert.ok(tape.root !== tape.evalRoot, 'the scan runs an extraction skeleton, not the rules');
  assert.is(tape.draft, '2020-12');
});

test('shared $defs keep the scan: a $ref is read as its target, extraction marks copies, recursion follows the reference', () => {
  const uuid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  const schema: JsonSchema = {
    $defs: { uuid: { type: 'string', pattern: uuid }, node: { type: 'object', properties: { v: { type: 'integer' }, child: { $ref: '#/$defs/node' } } } },
    type: 'object',
    required: ['eventId', 'userId'],
    properties: { eventId: { $ref: '#/$defs/uuid' }, userId: { $ref: '#/$defs/uuid' }, tree: { $ref: '#/$defs/node' } },
  };
  assert.is(compileProgram(schema, ['/eventId', '/userId'], 4096).evalRoot, 0, 'no tape');
  assert.is(compileProgram({ $ref: '#/$defs/node', $defs: schema.$defs }, ['/v'], 4096).evalRoot, 0, 'rules that are one $ref');
  assert.ok(compileProgram({ ...schema, properties: { eventId: { $ref: '#/$defs/uuid', minLength: 1 } } }, [], 4096).evalRoot !== 0, 'a $ref beside other keywords still needs the tape');
  const encoder = new TextEncoder();
  const validator = compileSchema(schema, { extract: ['/eventId', '/userId', '/tree/child/v'] });
  const text = '{"eventId":"00000000-0000-4000-8000-000000000001","userId":"00000000-0000-4000-8000-00000000000f","tree":{"child":{"v":7}}}';
  const good = validator.validate(encoder.encode(text));
  assert.ok(good.ok, good.message);
  const field = (i: number) => text.slice(good.fields![i]!.start, good.fields![i]!.end);
  assert.equal([field(0), field(1), field(2)], ['"00000000-0000-4000-8000-000000000001"', '"00000000-0000-4000-8000-00000000000f"', '7'], 'each field extracted into its own slot');
  const badUser = validator.validate(encoder.encode('{"eventId":"00000000-0000-4000-8000-000000000001","userId":"u-1"}'));
  assert.equal([badUser.code, badUser.path, badUser.keywordLocation], ['E_PATTERN', '/userId', '/$defs/uuid/pattern']);
  const deep = validator.validate(encoder.encode('{"eventId":"00000000-0000-4000-8000-000000000001","userId":"00000000-0000-4000-8000-000000000002","tree":{"child":{"child":{"v":"x"}}}}'));
  assert.equal([deep.code, deep.path, deep.keywordLocation], ['E_TYPE', '/tree/child/child/v', '/$defs/node/properties/v/type']);
});

test('asserted formats keep the scan: checked as the string is read, through a $ref too; a format JS finishes says fallback', () => {
  const schema: JsonSchema = {
    $defs: { id: { type: 'string', format: 'uuid' } },
    type: 'object',
    properties: { eventId: { $ref: '#/$defs/id' }, at: { type: 'string', format: 'date-time' }, host: { format: 'hostname' } },
  };
  assert.is(compileProgram(schema, [], 4096, 'auto', { assertFormats: true }).evalRoot, 0, 'no tape');
  const encoder = new TextEncoder();
  const validator = compileSchema(schema, { assertFormats: true, extract: ['/eventId'] });
  const verdict = (message: object) => validator.validate(encoder.encode(JSON.stringify(message)));
  const good = verdict({ eventId: '00000000-0000-4000-8000-000000000001', at: '2026-12-06T04:17:51Z', host: 'example.com' });
  assert.ok(good.ok, good.message);
  assert.ok(good.fields?.[0], 'extracted through the $ref');
  const badId = verdict({ eventId: '00000000-0000-4000-8000-00000000001', at: '2026-12-06T04:17:51Z' });
  assert.equal([badId.code, badId.path, badId.keywordLocation], ['E_FORMAT', '/eventId', '/$defs/id/format']);
  const badTime = verdict({ eventId: '00000000-0000-4000-8000-000000000001', at: '2026-02-30T04:17:51Z' });
  assert.equal([badTime.code, badTime.path, badTime.keywordLocation], ['E_FORMAT', '/at', '/properties/at/format']);
  assert.ok(verdict({ host: 7 }).ok, 'a format says nothing of a number');
  const escaped = validator.validate(encoder.encode('{"at":"2026-12-06T04:17:51\\u005a"}'));
  assert.ok(escaped.ok, `an escaped Z is a Z: ${escaped.message}`);
  // the SIMD build checks a uuid 16 bytes at a time: every byte position, with the bytes beside the hex ranges, as the scalar build
  const uuid = '2eb8aa08-aa98-11ea-b4aa-73b441d16380';
  const samples = [uuid, uuid.toUpperCase(), ...Array.from({ length: 36 }, (_, at) => ['/', ':', '@', 'G', '`', 'g', '-', 'a'].map((c) => uuid.slice(0, at) + c + uuid.slice(at + 1))).flat()];
  const kernels = (['simd', 'scalar'] as const).map((kernel) => compileSchema({ format: 'uuid' }, { assertFormats: true, kernel }));
  for (const sample of samples) {
    const expected = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sample);
    for (const core of kernels) assert.is(core.validate(encoder.encode(JSON.stringify(sample))).ok, expected, sample);
  }
  assert.not.ok(verdict({ host: 'a..b' }).ok);
  assert.ok(verdict({ host: 'xn--nxasmq6b.com' }).fallback, 'an A-label: JS decides, and the verdict says so');
});

test('a pattern the core cannot run is listed for JS; one it can is not', () => {
  const fallbacks = compileProgram({ properties: { a: { pattern: '(?<=x)y' } } }, [], 4096).fallbacks;
  assert.equal(fallbacks.map((f) => f.keywordLocation), ['#/properties/a/pattern']);
  assert.equal(compileProgram(rules, [], 4096).fallbacks, []);
  assert.equal(compileProgram({ patternProperties: { '^\\p{Letter}+$': { type: 'string' } }, properties: { a: { pattern: '^\\P{Lu}[\\p{Script=Greek}\\d]$' } } }, [], 4096).fallbacks, [], 'Unicode properties run in the core');
});

test('schema strings keep a lone surrogate: const "\\uD800" equals the same escape in a message, and nothing else', () => {
  const validator = compileSchema({ properties: { s: { const: '\uD800' } } });
  const encoder = new TextEncoder();
  assert.ok(validator.validate(encoder.encode('{"s":"\\uD800"}')).ok);
  assert.not.ok(validator.validate(encoder.encode('{"s":"\\uD801"}')).ok);
  assert.not.ok(validator.validate(encoder.encode('{"s":"\\uFFFD"}')).ok, 'not the replacement character UTF-8 would make of it');
  const pair = compileSchema({ properties: { s: { const: '😀' } } });
  assert.ok(pair.validate(encoder.encode('{"s":"\\uD83D\\uDE00"}')).ok, 'a surrogate pair is one code point');
  assert.ok(pair.validate(encoder.encode('{"s":"😀"}')).ok);
});

test.run();
