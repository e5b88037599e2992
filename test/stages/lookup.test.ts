// lookup on its own and in flows: rows of a table merged into the output record; a missing row
// under each policy; a key field missing or not a scalar, and a row value that does not fit, as
// stage failures; bad configurations refused when built. Tables from a real NDJSON file (updates
// and a tombstone) and inline, through the test driver and a `sluice test` file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type EventRecord, EventRecordSchema } from '../../schemas/recommender_pb.ts';
import { SluiceError } from '../../src/errors.ts';
import { RowMap, type TableRows } from '../../src/component/table.ts';
import { fileTable } from '../../src/io/local/file-table.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { packageRoot } from '../../src/package-root.ts';
import { lookupStage } from '../../src/stages/lookup.ts';
import { runFlow } from '../../src/testing/driver.ts';
import { runTestFile } from '../../src/testing/test-files.ts';
import { stageUnderTest } from '../support/stage.ts';

const EVENT = 'sluice.recommender.v1.EventRecord';
const rules = { type: 'object', properties: { placementId: { type: ['string', 'number', 'object', 'null'] } }, additionalProperties: false };
const dir = mkdtempSync(join(tmpdir(), 'sluice-lookup-'));

const lookup = suite('lookup');
lookup.after(() => rmSync(dir, { recursive: true, force: true }));

const placements = new RowMap();
placements.put('plc-001', { placementId: 'plc-001', surface: 'home', slot: 'top' });
placements.put('plc-002', { placementId: 'plc-002', surface: 'search' });
placements.put('7', { surface: 'numbered' });
placements.put('plc-bad', { surface: 42 });
placements.put('plc-nested', { where: { surface: 'app-feed' } });

const build = (more: Record<string, unknown> = {}, tables: Record<string, TableRows> = { placements }) =>
  stageUnderTest(lookupStage, { table: 'placements', key: 'placementId', merge: { surface: 'surface', slot: 'slot' }, ...more }, rules, { outputType: EVENT, tables });

const run = async (stage: ReturnType<typeof build>, placementId: unknown) => {
  const { outcome, record } = await stage.run(placementId === undefined ? {} : { placementId }, { output: create(EventRecordSchema, { eventId: 'e-1' }) });
  return { outcome, event: record.output as EventRecord };
};

lookup('a row found: its properties merged, one the row lacks left alone; a number key finds its row', async () => {
  const stage = build();
  assert.is(stage.stage.callsOut, undefined, 'a Map read: the flow need not run records concurrently');
  const found = await run(stage, 'plc-001');
  assert.is(found.outcome.kind, 'continue');
  assert.equal([found.event.eventId, found.event.surface, found.event.slot], ['e-1', 'home', 'top']);
  const partial = await run(stage, 'plc-002');
  assert.equal([partial.event.surface, partial.event.slot], ['search', '']);
  assert.is((await run(stage, 7)).event.surface, 'numbered');
  const nested = await run(build({ merge: { surface: 'where.surface' } }), 'plc-nested');
  assert.is(nested.event.surface, 'app-feed', 'a dotted path reads a nested property');
});

lookup('a missing row under each policy', async () => {
  const dlq = await run(build(), 'plc-404');
  assert.equal(dlq.outcome, { kind: 'fail', code: 'E_LOOKUP_MISS', message: 'no row for placementId = "plc-404" in table placements', deadLetter: true });
  const drop = await run(build({ 'on-missing': 'drop' }), 'plc-404');
  assert.equal([drop.outcome.kind, (drop.outcome as { deadLetter: boolean }).deadLetter], ['fail', false]);
  const skipped = await run(build({ 'on-missing': 'skip-stage' }), 'plc-404');
  assert.equal([skipped.outcome.kind, skipped.event.surface], ['continue', '']);
  const defaulted = await run(build({ 'on-missing': 'default', default: { surface: 'unknown' } }), 'plc-404');
  assert.equal([defaulted.outcome.kind, defaulted.event.surface, defaulted.event.slot], ['continue', 'unknown', '']);
});

lookup('a key field missing or not a scalar, a row value that does not fit: stage failures with their reason', async () => {
  const stage = build({ 'on-missing': 'skip-stage' });
  assert.equal((await run(stage, undefined)).outcome, { kind: 'fail', code: 'E_LOOKUP_KEY', message: 'lookup key field "placementId" is missing', deadLetter: true });
  assert.equal((await run(stage, null)).outcome, { kind: 'fail', code: 'E_LOOKUP_KEY', message: 'lookup key field "placementId" is missing', deadLetter: true });
  assert.equal((await run(stage, { id: 'plc-001' })).outcome, { kind: 'fail', code: 'E_LOOKUP_KEY', message: 'lookup key field "placementId" is not a scalar', deadLetter: true });
  const bad = await run(stage, 'plc-bad');
  assert.equal(bad.outcome, { kind: 'fail', code: 'E_RESPONSE', message: 'table placements, row plc-bad: "surface" = 42 does not fit the output record\'s surface', deadLetter: true });
});

lookup('refused when built: an unknown table, no map stage before it, a field the record lacks, a key the rules lack, default without values', () => {
  const problems = (config: Record<string, unknown>, afterMap = true) => {
    try {
      stageUnderTest(lookupStage, { table: 'placements', key: 'placementId', merge: { surface: 'surface' }, ...config }, rules, { outputType: afterMap ? EVENT : undefined, tables: { placements } });
    } catch (error) {
      assert.instance(error, SluiceError);
      return (error as SluiceError).problems.map((p) => p.path);
    }
    return assert.unreachable('built');
  };
  assert.equal(problems({ table: 'nope' }), ['table']);
  assert.equal(problems({}, false), ['merge']);
  assert.equal(problems({ merge: { no_such_field: 'surface' } }), ['merge.no_such_field']);
  assert.equal(problems({ key: 'campaignId' }), ['key']);
  assert.equal(problems({ 'on-missing': 'default' }), ['default']);
});

lookup('file table: a real NDJSON file applied in order (an update replaces, a tombstone deletes); a bad line is refused naming the file and line', async () => {
  const file = join(dir, 'placements.ndjson');
  writeFileSync(
    file,
    [
      '{"placementId":"plc-001","surface":"home","slot":"top"}',
      '{"placementId":"plc-002","surface":"search"}',
      '',
      '{"placementId":"plc-001","surface":"video","slot":"hero"}',
      '{"placementId":"plc-002","_deleted":true}',
    ].join('\n'),
  );
  const table = fileTable.create(fileTable.config.parse({ path: 'placements.ndjson', key: 'placementId' }), { table: 'placements', baseDir: dir, logger: pino({ level: 'silent' }), metrics: new Metrics() });
  assert.is(table.size, 0, 'nothing is read before open');
  await table.open();
  assert.equal([table.size, table.get('plc-001'), table.get('plc-002')], [1, { placementId: 'plc-001', surface: 'video', slot: 'hero' }, undefined]);
  const stage = build({}, { placements: table });
  assert.equal((await run(stage, 'plc-001')).event.surface, 'video');
  assert.is((await run(stage, 'plc-002')).outcome.kind, 'fail');

  writeFileSync(join(dir, 'bad.ndjson'), '{"placementId":"plc-001"}\n["not","a row"]\n');
  const bad = fileTable.create(fileTable.config.parse({ path: 'bad.ndjson', key: 'placementId' }), { table: 'placements', baseDir: dir, logger: pino({ level: 'silent' }), metrics: new Metrics() });
  try {
    await bad.open();
    assert.unreachable('opened');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.match((error as Error).message, /bad\.ndjson:2: not a JSON object with a scalar "placementId"/);
  }
});

const local = join(packageRoot, 'config', 'local.conf');
/** An event of its own per placement: the campaign flow drops a repeated eventId as a duplicate. */
const event = (placementId: string) =>
  JSON.stringify({ eventId: `0b451753-10fa-4412-b766-${placementId.replace(/\D/g, '').padStart(12, '0')}`, type: 'click', campaignId: 'cmp-1234', placementId, userId: 'u-42', occurredAt: 1740822026990 });

lookup('the shipped campaign flow: placements from samples/placements.ndjson as they end (updated rows, a tombstoned one missing)', async () => {
  // plc-001 was updated in the log (first app-feed/inline-2, then newsletter/hero); plc-041 was added, then deleted
  const run = await runFlow(local, 'campaign', [{ value: event('plc-001') }, { value: event('plc-041') }]);
  assert.equal(run.outputs.map((o) => [(o.value as EventRecord).surface, (o.value as EventRecord).slot]), [['newsletter', 'hero']]);
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason, d.stage]), [[1, 'E_LOOKUP_MISS', 'campaign.placement']]);
});

lookup('test driver: a table given inline replaces the configured one; naming a table the flow does not read is refused', async () => {
  const tables = { placements: { 'plc-001': { surface: 'search', slot: 'teaser' }, 'plc-041': { surface: 'home' } } };
  const run = await runFlow(local, 'campaign', [{ value: event('plc-001') }, { value: event('plc-041') }, { value: event('plc-002') }], { tables });
  assert.equal(run.outputs.map((o) => [(o.value as EventRecord).surface, (o.value as EventRecord).slot]), [['search', 'teaser'], ['home', undefined]], 'a JSON output leaves an empty field out');
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason]), [[2, 'E_LOOKUP_MISS']]);
  try {
    await runFlow(local, 'content', [], { tables });
    assert.unreachable('ran');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.match((error as Error).message, /flow content reads no table placements/);
  }
});

lookup('sluice test file: tables inline for every case, a case overriding them', async () => {
  const file = join(dir, 'campaign.test.conf');
  writeFileSync(
    file,
    `config = "${local}"
flow = campaign
tables.placements { "plc-001" { surface = home, slot = hero } }
cases = [
  {
    name = "the file's table"
    input = [ { value = """${event('plc-001')}""" } ]
    expect.outputs = [ { surface = home, slot = hero } ]
  }
  {
    name = "the case's own table"
    tables.placements { "plc-001" { surface = video } }
    input = [ { value = """${event('plc-001')}""" }, { value = """${event('plc-404')}""" } ]
    expect.outputs = [ { surface = video } ]
    expect.dead-letters = [ { reason = E_LOOKUP_MISS, stage = campaign.placement } ]
  }
  {
    name = "fails: the row is not what the case says"
    input = [ { value = """${event('plc-001')}""" } ]
    expect.outputs = [ { surface = search } ]
  }
]
`,
  );
  const results = await runTestFile(file);
  assert.equal(results.map((r) => r.problems.length), [0, 0, 1]);
});

lookup.run();
