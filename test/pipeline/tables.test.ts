// The process's tables (pipeline/tables.ts) on a real file: flows built from the same table
// settings share one table, read once; a flow rebuilt by a reload holds it before its predecessor
// lets go, so an unchanged table is kept (not read again); changed settings make another table;
// the last holder closes a table; a flow's release lets go once, however often it is called.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Metrics } from '../../src/observe/metrics.ts';
import { TableSet } from '../../src/pipeline/tables.ts';
import type { TopologyNode } from '../../src/pipeline/topology.ts';

const metrics = new Metrics();
const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
const file = join(dir, 'placements.ndjson');
const node = (path = 'placements.ndjson'): TopologyNode => ({
  name: 'table.placements',
  role: 'table',
  kind: 'file',
  parents: [],
  config: { path, key: 'placementId', 'deleted-field': '_deleted' },
  configPath: ['tables', 'placements'],
  baseDir: dir,
});

const tables = suite('table set: shared, kept across a reload when unchanged, closed by the last holder');
tables.after(() => rmSync(dir, { recursive: true, force: true }));

tables('an unchanged table is kept for the flow rebuilt to read it; changed settings make another', async () => {
  writeFileSync(file, '{"placementId":"plc-001","surface":"home"}\n');
  const set = new TableSet(pino({ level: 'silent' }));
  const first = set.hold(node(), metrics);
  const firstFlow = set.forFlow([first]);
  await firstFlow.open();
  assert.is(first.get('plc-001')?.surface, 'home');

  // the file changes; a reload rebuilds the flow with the same table settings, then retires the old flow
  writeFileSync(file, '{"placementId":"plc-001","surface":"video"}\n');
  const again = set.hold(node(), metrics);
  assert.is(again, first, 'the same table');
  const secondFlow = set.forFlow([again]);
  await firstFlow.release();
  await firstFlow.release(); // a stop and the end of the run both let go: once counts
  await secondFlow.open();
  assert.is(again.get('plc-001')?.surface, 'home', 'kept, not read again');

  const changed = set.hold(node('./placements.ndjson'), metrics);
  assert.is.not(changed, first, 'other settings, another table');
  await set.forFlow([changed]).open();
  assert.is(changed.get('plc-001')?.surface, 'video');

  await secondFlow.release();
  // the last holder let go: the next flow holding these settings gets a new table, read afresh
  const fresh = set.hold(node(), metrics);
  assert.is.not(fresh, first);
  await set.forFlow([fresh]).open();
  assert.is(fresh.get('plc-001')?.surface, 'video');
});

tables.run();
