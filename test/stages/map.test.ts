// map on its own: the output record built from the extracted fields (int64 exact past 2^53,
// repeated strings, constants, absent fields left at their zero value), and the mappings that
// do not fit refused when the stage is built, every problem at its key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ItemRecord } from '../../schemas/recommender_pb.ts';
import { SluiceError } from '../../src/errors.ts';
import { mapStage } from '../../src/stages/map.ts';
import { stageUnderTest } from '../support/stage.ts';

const ITEM = 'sluice.recommender.v1.ItemRecord';
const rules = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    version: { type: 'integer' },
    duration: { type: 'integer', minimum: 0, maximum: 86_400 },
    tags: { type: 'array', items: { type: 'string' } },
    rating: { type: 'number' },
    author: { type: 'object', properties: { id: { type: 'string' } } },
  },
};

test('builds the record from the fields, int64 exact, constants set, absent fields at their zero value', async () => {
  const map = stageUnderTest(
    mapStage,
    { target: ITEM, fields: { item_id: 'id', title: 'title', version: 'version', duration_sec: 'duration', tags: 'tags', rating: 'rating', author_id: 'author.id', item_type: { const: 'article' } } },
    rules,
  );
  // as text: 2^53 + 1 has no double
  const { outcome, record } = await map.run(`{"id":"cnt-1","title":${JSON.stringify('Ü "quoted"')},"version":9007199254740993,"duration":90,"tags":["a","b"],"author":{"id":"au-7"}}`);
  assert.is(outcome.kind, 'continue');
  const item = record.output as ItemRecord;
  assert.is(item.$typeName, ITEM);
  assert.equal([item.itemId, item.title, item.durationSec, item.tags, item.authorId, item.itemType], ['cnt-1', 'Ü "quoted"', 90, ['a', 'b'], 'au-7', 'article']);
  assert.is(item.version, 9007199254740993n, 'an int64 past 2^53 is not rounded through a double');
  assert.is(item.rating, 0, 'absent: the zero value');
});

test('mappings that do not fit: every problem at its key, SLC_MAPPING', () => {
  try {
    stageUnderTest(mapStage, { target: ITEM, fields: { version: 'title', duration_sec: 'version', item_id: 'colour', no_such_field: 'id' } }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_MAPPING');
    const problems = Object.fromEntries((error as SluiceError).problems.map((p) => [p.path, p.message]));
    assert.equal(Object.keys(problems).sort(), ['fields.duration_sec', 'fields.item_id', 'fields.no_such_field', 'fields.version']);
    assert.match(problems['fields.version']!, 'does not fit int64');
    assert.match(problems['fields.duration_sec']!, 'without minimum and maximum');
    assert.match(problems['fields.item_id']!, 'not defined by the flow\'s rules');
  }
});

// the same fields, each reached another way: a $ref to $defs, a $ref to a $ref, a type that
// comes from $ref while the bounds are the property's own, an allOf member, an $anchor
const referencing = {
  $defs: {
    id: { type: 'string' },
    alias: { $ref: '#/$defs/id' },
    count: { type: 'integer' },
    author: { type: 'object', properties: { id: { $ref: '#author-id' } } },
    authorId: { $anchor: 'author-id', type: 'string' },
    tags: { type: 'array', items: { $ref: '#/$defs/id' } },
  },
  type: 'object',
  properties: {
    id: { $ref: '#/$defs/alias' },
    duration: { $ref: '#/$defs/count', minimum: 0, maximum: 86_400 },
    version: { allOf: [{ type: 'integer' }, { minimum: 0 }] },
    tags: { $ref: '#/$defs/tags' },
    author: { $ref: '#/$defs/author' },
    rating: { $ref: '#/$defs/id' },
  },
};

test('type checks follow $ref (to $defs, to an $anchor, through another $ref) and allOf', async () => {
  const map = stageUnderTest(
    mapStage,
    { target: ITEM, fields: { item_id: 'id', duration_sec: 'duration', version: 'version', tags: 'tags', author_id: 'author.id' } },
    referencing,
  );
  const { record } = await map.run({ id: 'cnt-2', duration: 60, version: 3, tags: ['x'], author: { id: 'au-1' } });
  const item = record.output as ItemRecord;
  assert.equal([item.itemId, item.durationSec, item.version, item.tags, item.authorId], ['cnt-2', 60, 3n, ['x'], 'au-1']);
});

test('a type reached through $ref that does not fit is refused like a direct one', () => {
  try {
    stageUnderTest(mapStage, { target: ITEM, fields: { rating: 'rating', version: 'id', duration_sec: 'version' } }, referencing);
    assert.unreachable('built');
  } catch (error) {
    const problems = Object.fromEntries((error as SluiceError).problems.map((p) => [p.path, p.message]));
    assert.equal(Object.keys(problems).sort(), ['fields.duration_sec', 'fields.rating', 'fields.version']);
    assert.match(problems['fields.rating']!, 'a string does not fit double');
    assert.match(problems['fields.version']!, 'a string does not fit int64');
    assert.match(problems['fields.duration_sec']!, 'without minimum and maximum', 'allOf: the minimum of one member, no maximum in any');
  }
});

test('draft-07: the siblings of a $ref are ignored, as the core ignores them', () => {
  const draft07 = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    definitions: { count: { type: 'integer' } },
    type: 'object',
    properties: { duration: { $ref: '#/definitions/count', minimum: 0, maximum: 86_400 } },
  };
  try {
    stageUnderTest(mapStage, { target: ITEM, fields: { duration_sec: 'duration' } }, draft07);
    assert.unreachable('built');
  } catch (error) {
    assert.match((error as SluiceError).problems[0]!.message, 'without minimum and maximum');
  }
});

test('an unknown record type names the known ones', () => {
  try {
    stageUnderTest(mapStage, { target: 'sluice.Nope', fields: {} }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['target']);
    assert.match((error as SluiceError).problems[0]!.message, ITEM);
  }
});

test('outputType names the record type for the stages after it', () => {
  assert.is(mapStage.outputType!(mapStage.config.parse({ target: ITEM, fields: {} })), ITEM);
});

test.run();
