// What the enrichment stages share (stages/merge.ts) on its own: merge targets checked against
// the output record type, looked-up values converted to each field's scalar type (or refused),
// defaults, and what a failed lookup becomes under each policy.
import { create } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordTypes } from '../../schemas/index.ts';
import { type EventRecord, EventRecordSchema } from '../../schemas/recommender_pb.ts';
import type { StageContext } from '../../src/component/spec.ts';
import { CONTINUE, type FlowRecord } from '../../src/component/types.ts';
import type { ConfigProblem } from '../../src/errors.ts';
import { applyMerge, mergeDefaults, mergeTargets, onFailure } from '../../src/stages/merge.ts';

const EVENT = 'sluice.recommender.v1.EventRecord';

/** The parts of a stage context mergeTargets reads. */
const contextFor = (outputType: string | undefined) => ({ outputType, recordTypes }) as unknown as StageContext;

/** `outputType` null: no map stage before. */
function targets(merge: Record<string, string>, outputType: string | null = EVENT) {
  const problems: ConfigProblem[] = [];
  const result = mergeTargets('enrich-x', merge, contextFor(outputType ?? undefined), problems);
  return { ...result, problems };
}

const recordWith = (output: EventRecord): FlowRecord =>
  ({ value: new Uint8Array(), key: null, headers: {}, timestamp: undefined, origin: { kind: 'file', file: '(test)', line: 1 }, receivedAt: 0, spans: new Int32Array(), spanAt: 0, output }) as FlowRecord;

test('targets name the output type\'s scalar fields, with the generated property names', () => {
  const { type, targets: t, problems } = targets({ surface: 'surface', user_segment: 'segment.name', occurred_at_ms: 'at' });
  assert.is(type?.typeName, EVENT);
  assert.equal(problems, []);
  assert.equal(t.map((x) => [x.target, x.source, x.name]), [['surface', 'surface', 'surface'], ['user_segment', 'segment.name', 'userSegment'], ['occurred_at_ms', 'at', 'occurredAtMs']]);
});

test('without a map stage before it, or with a field the type lacks, the problems say where', () => {
  assert.equal(targets({ surface: 'surface' }, null).problems, [{ path: 'merge', message: 'enrich-x merges into the output record: put a map stage before it' }]);
  assert.equal(targets({ colour: 'colour', surface: 'surface' }).problems, [{ path: 'merge.colour', message: `${EVENT} has no scalar field "colour"` }]);
});

test('values are converted to the field\'s scalar type, or refused (undefined) when they cannot fit', () => {
  const { targets: t } = targets({ surface: 's', occurred_at_ms: 'a', value: 'v', consent: 'c' });
  const [text, int64, double, bool] = t.map((x) => x.convert);
  assert.is(text!('home'), 'home');
  assert.is(text!(12), undefined, 'a number is not a string field\'s value');
  assert.is(int64!(1740822026990), 1740822026990n, 'int64 as bigint');
  assert.is(int64!(1.5), undefined, 'not an integer');
  assert.is(int64!('12'), undefined);
  assert.is(double!(12.5), 12.5);
  assert.is(double!('12.5'), undefined);
  assert.is(bool!(true), true);
  assert.is(bool!('true'), undefined);
});

test('applyMerge writes the converted values, leaving the fields without one alone; defaults are converted once', () => {
  const { targets: t } = targets({ surface: 's', slot: 'slot', occurred_at_ms: 'a' });
  const record = recordWith(create(EventRecordSchema, { eventId: 'e-1', slot: 'kept' }));
  applyMerge(record, t, ['home', undefined, 5n]);
  const event = record.output as EventRecord;
  assert.equal([event.eventId, event.surface, event.slot, event.occurredAtMs], ['e-1', 'home', 'kept', 5n]);
  assert.equal(mergeDefaults(t, { surface: 'unknown', occurred_at_ms: 7 }), ['unknown', undefined, 7n]);
  assert.equal(mergeDefaults(t, undefined), [undefined, undefined, undefined]);
});

test('a failed lookup under each policy: dlq and drop fail (dead-lettered or not), skip-stage and default continue', () => {
  const { targets: t } = targets({ surface: 's' });
  const outcome = (policy: 'dlq' | 'drop' | 'skip-stage' | 'default') => {
    const record = recordWith(create(EventRecordSchema, { eventId: 'e-1' }));
    return { outcome: onFailure(policy, 'E_LOOKUP_MISS', 'no row for plc-9', record, t, ['fallback']), surface: (record.output as EventRecord).surface };
  };
  assert.equal(outcome('dlq'), { outcome: { kind: 'fail', code: 'E_LOOKUP_MISS', message: 'no row for plc-9', deadLetter: true }, surface: '' });
  assert.equal(outcome('drop'), { outcome: { kind: 'fail', code: 'E_LOOKUP_MISS', message: 'no row for plc-9', deadLetter: false }, surface: '' });
  assert.equal(outcome('skip-stage'), { outcome: CONTINUE, surface: '' }, 'the record goes on unchanged');
  assert.equal(outcome('default'), { outcome: CONTINUE, surface: 'fallback' }, 'the defaults are merged');
});

test.run();
