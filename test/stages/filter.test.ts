// filter on its own: drop-if / keep-if with in, equals and exists, on fields the core extracted
// (nested ones too); a field the rules do not define is refused when the stage is built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '../../src/errors.ts';
import { filterStage } from '../../src/stages/filter.ts';
import { stageUnderTest } from '../support/stage.ts';

const rules = {
  type: 'object',
  properties: { status: { type: 'string' }, score: { type: 'number' }, consent: { type: 'boolean' }, author: { type: 'object', properties: { id: { type: ['string', 'null'] } } } },
};

const outcomes = async (config: unknown, messages: unknown[]) => {
  const filter = stageUnderTest(filterStage, config, rules);
  const kinds: string[] = [];
  for (const message of messages) kinds.push((await filter.run(message)).outcome.kind);
  return kinds;
};

test('drop-if in: the listed values are filtered, others and absent fields continue', async () => {
  assert.equal(await outcomes({ 'drop-if': { field: 'status', in: ['draft', 'withdrawn'] } }, [{ status: 'draft' }, { status: 'live' }, { status: 'withdrawn' }, {}]), [
    'filtered',
    'continue',
    'filtered',
    'continue',
  ]);
});

test('keep-if equals: only the equal value continues (a number compares as a number)', async () => {
  assert.equal(await outcomes({ 'keep-if': { field: 'consent', equals: true } }, [{ consent: true }, { consent: false }, {}]), ['continue', 'filtered', 'filtered']);
  assert.equal(await outcomes({ 'keep-if': { field: 'score', equals: 1 } }, [{ score: 1 }, { score: 1.0 }, { score: 1.5 }]), ['continue', 'continue', 'filtered']);
});

test('exists on a nested field, null counting as present', async () => {
  assert.equal(await outcomes({ 'drop-if': { field: 'author.id', exists: false } }, [{ author: { id: 'a-1' } }, { author: { id: null } }, { author: {} }, {}]), [
    'continue',
    'continue',
    'filtered',
    'filtered',
  ]);
});

test('a field the rules do not define: SLC_MAPPING at drop-if.field, before any message', () => {
  try {
    stageUnderTest(filterStage, { 'drop-if': { field: 'colour', in: ['red'] } }, rules);
    assert.unreachable('built');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_MAPPING');
    assert.equal((error as SluiceError).problems.map((p) => p.path), ['drop-if.field']);
  }
});

test('the config takes exactly one of drop-if and keep-if, and one operator', () => {
  assert.not.ok(filterStage.config.safeParse({}).success);
  assert.not.ok(filterStage.config.safeParse({ 'drop-if': { field: 'a', in: [1] }, 'keep-if': { field: 'a', in: [1] } }).success);
  assert.not.ok(filterStage.config.safeParse({ 'drop-if': { field: 'a', in: [1], equals: 1 } }).success);
});

test.run();
