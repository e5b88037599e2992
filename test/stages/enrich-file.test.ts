// enrich-file on its own: a real lookup file merged into the output record; a missing row under
// each policy (dlq, drop, skip-stage, default); bad configurations refused when built.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type EventRecord, EventRecordSchema } from '../../schemas/recommender_pb.ts';
import { SluiceError } from '../../src/errors.ts';
import { enrichFileStage } from '../../src/stages/enrich-file.ts';
import { stageUnderTest } from '../support/stage.ts';

const EVENT = 'sluice.recommender.v1.EventRecord';
const rules = { type: 'object', properties: { placementId: { type: 'string' } } };
const dir = mkdtempSync(join(tmpdir(), 'sluice-enrich-file-'));
writeFileSync(join(dir, 'placements.ndjson'), '{"placementId":"plc-001","surface":"home","slot":"top"}\n\n{"placementId":"plc-002","surface":"search"}\n');

const enrich = suite('enrich-file');
enrich.after(() => rmSync(dir, { recursive: true, force: true }));

const build = (more: Record<string, unknown> = {}) =>
  stageUnderTest(enrichFileStage, { path: 'placements.ndjson', key: 'placementId', merge: { surface: 'surface', slot: 'slot' }, ...more }, rules, { baseDir: dir, outputType: EVENT });

const run = async (stage: ReturnType<typeof build>, placementId: string) => {
  const { outcome, record } = await stage.run({ placementId }, { output: create(EventRecordSchema, { eventId: 'e-1' }) });
  return { outcome, event: record.output as EventRecord };
};

enrich('a row found: its properties merged, a property the row lacks left alone', async () => {
  const stage = build();
  const found = await run(stage, 'plc-001');
  assert.is(found.outcome.kind, 'continue');
  assert.equal([found.event.eventId, found.event.surface, found.event.slot], ['e-1', 'home', 'top']);
  const partial = await run(stage, 'plc-002');
  assert.equal([partial.event.surface, partial.event.slot], ['search', '']);
});

enrich('a missing row under each policy', async () => {
  const dlq = await run(build(), 'plc-404');
  assert.equal(dlq.outcome, { kind: 'fail', code: 'E_LOOKUP_MISS', message: 'no row for placementId = "plc-404" in placements.ndjson', deadLetter: true });
  const drop = await run(build({ 'on-missing': 'drop' }), 'plc-404');
  assert.equal([drop.outcome.kind, (drop.outcome as { deadLetter: boolean }).deadLetter], ['fail', false]);
  const skipped = await run(build({ 'on-missing': 'skip-stage' }), 'plc-404');
  assert.equal([skipped.outcome.kind, skipped.event.surface], ['continue', '']);
  const defaulted = await run(build({ 'on-missing': 'default', default: { surface: 'unknown' } }), 'plc-404');
  assert.equal([defaulted.outcome.kind, defaulted.event.surface, defaulted.event.slot], ['continue', 'unknown', '']);
});

enrich('refused when built: no map stage before it, a field the record lacks, an unreadable file', () => {
  const problems = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      assert.instance(error, SluiceError);
      return (error as SluiceError).problems.map((p) => p.path);
    }
    return assert.unreachable('built');
  };
  assert.equal(problems(() => stageUnderTest(enrichFileStage, { path: 'placements.ndjson', key: 'placementId', merge: { surface: 'surface' } }, rules, { baseDir: dir })), ['merge']);
  assert.equal(problems(() => build({ merge: { colour: 'surface' } })), ['merge.colour']);
  assert.equal(problems(() => build({ key: 'userId' })), ['key']);
  assert.equal(problems(() => build({ 'on-missing': 'default' })), ['default']);
  assert.equal(problems(() => build({ path: 'no-such.ndjson' })), ['path']);
});

enrich.run();
