// key-by on its own: the record's key becomes the field's value as text (a string's UTF-8, escapes
// decoded; a number's or boolean's JSON text), nested fields too; a record without a scalar there
// is filtered or dead-lettered with E_KEY_BY and keeps its key; a field the rules do not define is
// refused when the stage is built. The spec says it re-keys (the pipeline splits there on Kafka).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { stages } from '../../src/pipeline/registry.ts';
import { keyByStage } from '../../src/stages/key-by.ts';
import { stageUnderTest } from '../support/stage.ts';

const rules = {
  type: 'object',
  properties: { itemId: {}, item: { type: 'object', properties: { id: { type: 'string' } } } },
};

const text = (key: Uint8Array | null) => (key === null ? null : new TextDecoder().decode(key));

test('the registry lists key-by, and its spec re-keys and keeps no state', () => {
  assert.is(stages['key-by'], keyByStage);
  assert.is(keyByStage.rekeys, true);
  assert.not.ok(keyByStage.stateful);
  assert.is(keyByStage.config.parse({ field: 'itemId' })['on-missing'], 'drop');
});

test('the key becomes the field value: string UTF-8 (escapes decoded), number and boolean text', async () => {
  const keyBy = stageUnderTest(keyByStage, { field: 'itemId' }, rules);
  const cases: [unknown, string][] = [
    [{ itemId: 'item-7' }, 'item-7'],
    [{ itemId: 'caf\u00e9 \u2603' }, 'caf\u00e9 \u2603'],
    ['{"itemId":"a\\"b\\u00e9"}', 'a"b\u00e9'],
    [{ itemId: 42 }, '42'],
    [{ itemId: -1.5 }, '-1.5'],
    ['{"itemId":1.0}', '1'],
    [{ itemId: true }, 'true'],
  ];
  for (const [message, key] of cases) {
    const { outcome, record } = await keyBy.run(message, { key: 'user-1' });
    assert.is(outcome.kind, 'continue', JSON.stringify(message));
    assert.is(text(record.key), key, JSON.stringify(message));
  }
});

test('a nested field keys the record; its value only, not the message', async () => {
  const keyBy = stageUnderTest(keyByStage, { field: 'item.id' }, rules);
  const { outcome, record } = await keyBy.run({ item: { id: 'x-1' }, other: 'y' }, { key: 'user-1' });
  assert.is(outcome.kind, 'continue');
  assert.is(text(record.key), 'x-1');
});

test('missing, null, object or array: filtered by default, the key left as it was', async () => {
  const keyBy = stageUnderTest(keyByStage, { field: 'itemId' }, rules);
  for (const message of [{}, { itemId: null }, { itemId: { a: 1 } }, { itemId: [1] }]) {
    const { outcome, record } = await keyBy.run(message, { key: 'user-1' });
    assert.is(outcome.kind, 'filtered', JSON.stringify(message));
    assert.is(text(record.key), 'user-1');
  }
});

test('on-missing = dlq: dead-lettered with E_KEY_BY, naming the field', async () => {
  const keyBy = stageUnderTest(keyByStage, { field: 'itemId', 'on-missing': 'dlq' }, rules);
  const { outcome } = await keyBy.run({ itemId: null });
  assert.is(outcome.kind, 'fail');
  if (outcome.kind !== 'fail') return;
  assert.is(outcome.code, 'E_KEY_BY');
  assert.ok(outcome.deadLetter);
  assert.match(outcome.message, '"itemId"');
});

test('a field the rules do not define: SLC_MAPPING at field, before any message', () => {
  try {
    stageUnderTest(keyByStage, { field: 'colour' }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_MAPPING');
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['field']);
  }
  assert.not.ok(keyByStage.config.safeParse({ field: 'itemId', 'on-missing': 'keep' }).success);
});

test.run();
