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
