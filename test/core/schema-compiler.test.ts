// The schema compiler (core/schema-compiler.ts) on its own: JSON Schema -> the rule tree, before
// any layout. Keywords land on their nodes, references resolve within the document and across the
// given ones, what the core does not know is refused with the schema location, and the fields to
// extract are marked (both branches of an index-like segment).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TYPE_BITS } from '../../src/core/layout.ts';
import type { JsonSchema, RuleNode } from '../../src/core/rule-model.ts';
import { markExtract } from '../../src/core/extract-marks.ts';
import { Compiler, DEFAULT_BASE, resolveUri, splitFragment } from '../../src/core/schema-compiler.ts';
import { SluiceError } from '../../src/errors.ts';

const compile = (schema: JsonSchema, options = {}) => {
  const compiler = new Compiler(schema, 'auto', options);
  return { compiler, root: compiler.node(schema, '#') };
};

const property = (node: RuleNode, name: string) => {
  const found = node.properties.find((p) => p.name === name);
  assert.ok(found, `${node.location} has a property ${name}`);
  return found;
};

function refused(schema: JsonSchema, message: RegExp, options = {}): void {
  try {
    compile(schema, options);
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_SCHEMA');
    assert.match((error as SluiceError).message, message);
    return;
  }
  assert.unreachable(`compiled: ${JSON.stringify(schema)}`);
}

test('keywords land on their nodes: types, bounds, properties with required, enum members, items', () => {
  const { root, compiler } = compile({
    type: 'object',
    required: ['id', 'missing'],
    properties: {
      id: { type: 'string', minLength: 3, maxLength: 12, pattern: '^c-' },
      score: { type: ['integer', 'null'], minimum: 0, exclusiveMaximum: 10 },
      kind: { enum: ['a', 1, null, { deep: true }] },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 4 },
    },
  });
  assert.is(compiler.draft, '2020-12', 'no $schema: 2020-12');
  assert.is(root.types, TYPE_BITS.object);
  const id = property(root, 'id');
  assert.equal([id.required, id.synthetic, id.child.location], [true, false, '#/properties/id']);
  assert.equal([id.child.types, id.child.minLength, id.child.maxLength, id.child.pattern], [TYPE_BITS.string, 3, 12, '^c-']);
  const missing = property(root, 'missing');
  assert.equal([missing.required, missing.synthetic], [true, true], 'required but not in properties: a synthetic entry');
  const score = property(root, 'score').child;
  assert.is(score.types, TYPE_BITS.integer | TYPE_BITS.null);
  assert.equal([score.minimum, score.exclusiveMaximum], [0, 10]);
  const kind = property(root, 'kind').child;
  assert.equal(kind.members, ['a', 1, null]);
  assert.equal(kind.deepMembers, [{ deep: true }]);
  const tags = property(root, 'tags').child;
  assert.equal([tags.maxItems, tags.items?.types, tags.items?.location], [4, TYPE_BITS.string, '#/properties/tags/items']);
});

test('$ref resolves within the document ($defs, $anchor) and into the given documents by URI', () => {
  const { root } = compile(
    {
      $defs: { code: { type: 'string', maxLength: 5 }, named: { $anchor: 'num', type: 'number' } },
      properties: { a: { $ref: '#/$defs/code' }, b: { $ref: '#num' }, c: { $ref: 'https://example.test/shared.json#/$defs/flag' } },
    },
    { schemas: { 'https://example.test/shared.json': { $defs: { flag: { type: 'boolean' } } } } },
  );
  // a $ref is an applicator beside its siblings: the referenced node, with its own location
  const target = (name: string) => {
    const [node, ...more] = property(root, name).child.ext?.allOf ?? [];
    assert.is(more.length, 0);
    assert.ok(node, `${name}: the $ref's target`);
    return node;
  };
  assert.equal([target('a').location, target('a').types, target('a').maxLength], ['#/$defs/code', TYPE_BITS.string, 5]);
  assert.equal([target('b').location, target('b').types], ['#num', TYPE_BITS.number], 'found by its anchor, located by it');
  assert.is(target('c').types, TYPE_BITS.boolean);
  assert.match(target('c').location, /flag/);
});

test('what the core cannot use is refused with its location: an unknown $schema, a dangling $ref, a bad pattern, a bad bound', () => {
  refused({ $schema: 'http://json-schema.org/draft-04/schema#' }, /unsupported "\$schema"/);
  refused({ properties: { a: { $ref: '#/$defs/nowhere' } } }, /#\/properties\/a/);
  refused({ properties: { a: { pattern: '(' } } }, /#\/properties\/a/);
  refused({ minLength: -1 }, /minLength/);
});

test('markExtract marks each pointer\'s node with its slot; an index-like segment marks the member and the element; a pointer twice is refused', () => {
  const { root } = compile({ properties: { user: { properties: { id: { type: 'string' } } }, list: { type: 'array', items: { type: 'object' } } } });
  markExtract(root, ['/user/id', '/list/0', '/absent']);
  assert.is(property(property(root, 'user').child, 'id').child.slot, 0);
  const list = property(root, 'list').child;
  assert.is(property(list, '0').child.slot, 1, 'as an object member "0"');
  assert.equal(list.indexes.map((i) => [i.index, i.child.slot, i.child.types]), [[0, 1, TYPE_BITS.object]], 'as element 0, with the items schema');
  const absent = property(root, 'absent');
  assert.equal([absent.synthetic, absent.required, absent.child.slot], [true, false, 2], 'a field the rules do not declare is still extracted');
  try {
    markExtract(compile({}).root, ['/a', '/a']);
    assert.unreachable('marked twice');
  } catch (error) {
    assert.match((error as Error).message, /"\/a" is listed twice/);
  }
});

test('URIs: references resolve against the base; fragments split off', () => {
  assert.is(resolveUri('other.json#/x', 'https://example.test/dir/main.json'), 'https://example.test/dir/other.json#/x');
  assert.is(resolveUri('#frag', DEFAULT_BASE), `${DEFAULT_BASE}#frag`);
  assert.is(resolveUri('http://[bad', DEFAULT_BASE), undefined);
  assert.equal(splitFragment('https://a.test/s.json#/p/q'), ['https://a.test/s.json', '/p/q']);
  assert.equal(splitFragment('https://a.test/s.json'), ['https://a.test/s.json', '']);
});

test.run();
