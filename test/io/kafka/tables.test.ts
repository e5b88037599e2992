// Kafka tables on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts one), on
// both clients: `sluice topics create` makes a table's topic compacted; `sluice produce` loads the
// placements sample (updates, its `_deleted` line as a tombstone); a table opened on it resolves only once it caught up
// to the end offsets it saw at start; updates and tombstones produced later reach lookups while it
// runs, in a flow that runs on a Kafka source; a flow with a lookup on a Kafka table (test driver)
// starts once the table caught up; a table's missing topic is a configuration error naming it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type EventRecord, EventRecordSchema } from '../../../schemas/recommender_pb.ts';
import { SluiceError } from '../../../src/errors.ts';
import { transportFor } from '../../../src/io/kafka/connection.ts';
import { kafkaTable } from '../../../src/io/kafka/kafka-table.ts';
import { createTopics, produceFile } from '../../../src/io/kafka/tools.ts';
import { NO_HEADERS } from '../../../src/component/types.ts';
import type { Table } from '../../../src/component/table.ts';
import { packageRoot } from '../../../src/package-root.ts';
import { lookupStage } from '../../../src/stages/lookup.ts';
import { runFlow } from '../../../src/testing/driver.ts';
import { stageUnderTest } from '../../support/stage.ts';
import kafkajs from 'kafkajs';
import { brokerList, BROKERS, ensureBuilt, KAFKA_CLIENT, kcatRead, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';
import { buildFlows } from '../../../src/pipeline/build.ts';
import { loadConfig, resourcesOf } from '../../../src/pipeline/load.ts';
import { TableSet } from '../../../src/pipeline/tables.ts';
import { Metrics } from '../../../src/observe/metrics.ts';

const COMPACT = { 'cleanup.policy': 'compact' };

const logger = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });
const unique = uniqueNames('tables');
const SAMPLE = join(packageRoot, 'samples', 'placements.ndjson');
const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
const encoder = new TextEncoder();
const metrics = new Metrics();
const readinessProblems = () => metrics.readiness.problems({ maxCircuitOpenMs: 30_000, maxBrokerSilenceMs: 30_000 });

/** The placements as the sample log ends: applied in order, tombstones deleting. */
function finalRows(): Map<string, Record<string, unknown>> {
  const rows = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(SAMPLE, 'utf8').split('\n')) {
    if (line === '') continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    if (row._deleted === true) rows.delete(String(row.placementId));
    else rows.set(String(row.placementId), row);
  }
  return rows;
}

const tables = suite('kafka tables');
tables.before(() => requireEnvironment());
tables.after(() => rmSync(dir, { recursive: true, force: true }));

for (const client of ['platformatic', 'kafkajs'] as const) {
  tables(`${client}: a compacted topic loaded from the sample; open waits until caught up; updates and tombstones reach lookups while it runs`, async () => {
    const topic = unique(`placements-${client}`);
    const created = await createTopics(brokerList, {}, logger, undefined, [{ topic, partitions: 3, config: COMPACT }]);
    assert.equal(created, [topic]);
    const { sent } = await produceFile({ brokers: brokerList, topic, file: SAMPLE, key: 'placementId', deletedField: '_deleted', compression: 'none', batchSize: 7, logger });
    assert.is(sent, readFileSync(SAMPLE, 'utf8').split('\n').filter((l) => l !== '').length);

    const config = kafkaTable.config.parse({ brokers: BROKERS, client, topic, 'max-wait-ms': 100 });
    const table: Table = kafkaTable.create(config, { table: 'placements', baseDir: process.cwd(), logger, metrics });
    try {
      const opening = table.open();
      await waitFor('/readyz to name the table while it loads', () => readinessProblems().some((p) => p.startsWith('table placements: loading')), 20_000, 1);
      await opening;
      assert.not.ok(readinessProblems().some((p) => p.startsWith('table placements')), 'ready once caught up');
      // nothing waited for here: open itself resolved only once every partition reached its end
      const expected = finalRows();
      assert.is(table.size, expected.size);
      for (const [key, row] of expected) assert.equal(table.get(key), row, key);
      assert.is(table.get('plc-041'), undefined, 'added, then deleted by a tombstone');

      const stage = stageUnderTest(lookupStage, { table: 'placements', key: 'placementId', merge: { surface: 'surface', slot: 'slot' } }, { type: 'object', properties: { placementId: { type: 'string' } } }, { outputType: 'sluice.recommender.v1.EventRecord', tables: { placements: table } });
      const lookUp = async (placementId: string) => {
        const { outcome, record } = await stage.run({ placementId }, { output: create(EventRecordSchema, { eventId: 'e-1' }) });
        return { outcome, event: record.output as EventRecord };
      };
      assert.is((await lookUp('plc-002')).event.surface, expected.get('plc-002')!.surface);

      // while it runs: an update of plc-002, a tombstone of plc-003, a new plc-900
      const transport = transportFor({ brokers: brokerList, 'client-id': 'sluice-test', client }, { logger, baseDir: process.cwd() });
      const producer = transport.producer({ compression: 'none', acks: -1, idempotent: false });
      const record = (key: string, value: unknown) => ({ key: encoder.encode(key), value: value === null ? null : encoder.encode(JSON.stringify(value)), headers: NO_HEADERS, timestamp: String(Date.now()) });
      await producer.send(topic, [record('plc-002', { placementId: 'plc-002', surface: 'app-feed', slot: 'teaser' }), record('plc-003', null), record('plc-900', { surface: 'search' })]);
      await producer.close();
      await waitFor('the update, the tombstone and the new row', () => table.get('plc-002')?.surface === 'app-feed' && table.get('plc-003') === undefined && table.get('plc-900') !== undefined, 20_000);
      const updated = await lookUp('plc-002');
      assert.equal([updated.outcome.kind, updated.event.surface, updated.event.slot], ['continue', 'app-feed', 'teaser']);
      assert.equal((await lookUp('plc-003')).outcome, { kind: 'fail', code: 'E_LOOKUP_MISS', message: 'no row for placementId = "plc-003" in table placements', deadLetter: true });
      assert.is((await lookUp('plc-900')).event.surface, 'search');
    } finally {
      await table.close();
    }
  });
}

for (const client of ['platformatic', 'kafkajs'] as const) {
  tables(`${client}: a table topic written in transactions (each partition ends with a commit marker, not a record) is caught up`, async () => {
    const topic = unique(`placements-tx-${client}`);
    await createTopics(brokerList, {}, logger, undefined, [{ topic, partitions: 2, config: COMPACT }]);
    const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('tx'), logLevel: kafkajs.logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: unique('tx-id'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [partition, key] of [[0, 'plc-1'], [1, 'plc-2']] as const) {
        const transaction = await producer.transaction();
        await transaction.send({ topic, messages: [{ partition, key, value: JSON.stringify({ surface: key }) }] });
        await transaction.commit();
      }
    } finally {
      await producer.disconnect();
    }
    const table = kafkaTable.create(kafkaTable.config.parse({ brokers: BROKERS, client, topic, 'max-wait-ms': 100 }), { table: 'placements', baseDir: process.cwd(), logger, metrics });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([table.open(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('open did not resolve in 30 s')), 30_000)))]);
      assert.equal([table.size, table.get('plc-1'), table.get('plc-2')], [2, { surface: 'plc-1' }, { surface: 'plc-2' }]);
    } finally {
      clearTimeout(timer);
      await table.close();
    }
  });
}

tables('sluice topics create makes the table topic compacted, sluice produce loads the sample with its tombstone; a flow with a lookup on it starts once the table caught up (test driver)', async () => {
  ensureBuilt();
  const topic = unique('placements-flow');
  const overlay = join(dir, 'kafka-table.conf');
  writeFileSync(
    overlay,
    [
      `include "${join(packageRoot, 'config', 'local.conf')}"`,
      `kafka { brokers = "${BROKERS}", topics { "${topic}" = 2 } }`,
      'flows.engagement.enabled = false',
      '# null first: HOCON merges an object into the one it replaces',
      'tables.placements = null',
      `tables.placements = { kind = kafka, brokers = \${kafka.brokers}, topic = "${topic}" }`,
    ].join('\n'),
  );
  assert.match(sluice(['topics', 'create', '--config', overlay]), `${topic}\t2 partitions, compacted\tcreated`);
  const lines = readFileSync(SAMPLE, 'utf8').split('\n').filter((l) => l !== '').length;
  assert.match(sluice(['produce', '--brokers', BROKERS, '--topic', topic, '--file', SAMPLE, '--key', 'placementId', '--deleted-field', '_deleted']), `${lines} messages to ${topic}`);
  const admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }] });
    assert.is(described.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'compact');
  } finally {
    await admin.disconnect();
  }
  // the tombstone is on the topic as a null value under its key
  const tombstones = kcatRead(topic, false).filter((r) => r.value === null);
  assert.equal(tombstones.map((r) => r.key?.toString()), ['plc-041']);

  const event = (placementId: string) =>
    // an event of its own per placement: the campaign flow drops a repeated eventId as a duplicate
    JSON.stringify({ eventId: `0b451753-10fa-4412-b766-${placementId.replace(/\D/g, '').padStart(12, '0')}`, type: 'click', campaignId: 'cmp-1234', placementId, userId: 'u-42', occurredAt: 1740822026990 });
  const run = await runFlow(overlay, 'campaign', [{ value: event('plc-001') }, { value: event('plc-041') }, { value: event('plc-040') }]);
  const rows = finalRows();
  assert.equal(run.outputs.map((o) => (o.value as EventRecord).surface), [rows.get('plc-001')!.surface, rows.get('plc-040')!.surface]);
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason]), [[1, 'E_LOOKUP_MISS']]);
});

tables('a running flow (kafka source and sinks): table updates and tombstones reach its lookups while it runs', async () => {
  const names = { table: unique('flow-table'), input: unique('flow-in'), output: unique('flow-out'), dlq: unique('flow-dlq') };
  await createTopics(brokerList, { [names.input]: 1, [names.output]: 1, [names.dlq]: 1 }, logger, undefined, [{ topic: names.table, partitions: 2, config: COMPACT }]);
  const transport = transportFor({ brokers: brokerList, 'client-id': 'sluice-test', client: KAFKA_CLIENT }, { logger, baseDir: process.cwd() });
  const producer = transport.producer({ compression: 'none', acks: -1, idempotent: false });
  const record = (key: string, value: unknown) => ({ key: encoder.encode(key), value: value === null ? null : encoder.encode(JSON.stringify(value)), headers: NO_HEADERS, timestamp: String(Date.now()) });
  const events = (...placements: string[]) => placements.map((placementId, i) => record(`k${i}`, { eventId: `e-${placementId}-${Date.now()}`, placementId }));
  await producer.send(names.table, [record('plc-1', { surface: 'home' }), record('plc-2', { surface: 'video' })]);

  const file = join(dir, 'running.conf');
  writeFileSync(
    file,
    `tables.placements { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${names.table}", max-wait-ms = 100 }
flows.events {
  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${names.input}", group-id = "${unique('group')}", max-wait-ms = 50, commit-interval-ms = 0 }
  rules { type = object, required = [eventId, placementId], properties { eventId { type = string }, placementId { type = string } } }
  stages = [
    { kind = map, target = "sluice.recommender.v1.EventRecord", fields { event_id = eventId, placement_id = placementId } }
    { kind = lookup, name = placement, table = placements, key = placementId, merge { surface = surface }, on-missing = dlq }
  ]
  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${names.output}", encoding = json }
  dead-letter { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${names.dlq}" }
}
`,
  );
  const config = await loadConfig(file);
  const tableSet = new TableSet(logger);
  const [flow] = buildFlows(config.flows, resourcesOf(config, logger, { tables: tableSet, metrics }));
  // the flow's own table (the same settings, the same table): to wait for the updates to arrive
  const table = tableSet.hold(config.flows[0]!.nodes.find((n) => n.role === 'table')!, metrics);
  const running = flow!.run();
  const surfaces = () => kcatRead(names.output, false).map((r) => (JSON.parse(r.value!.toString()) as EventRecord).surface);
  try {
    await producer.send(names.input, events('plc-1', 'plc-2'));
    await waitFor('the first two outputs', () => surfaces().length === 2, 30_000);
    assert.equal(surfaces(), ['home', 'video']);

    await producer.send(names.table, [record('plc-1', { surface: 'search' }), record('plc-2', null)]);
    await waitFor('the update and the tombstone in the table', () => table.get('plc-1')?.surface === 'search' && table.get('plc-2') === undefined, 30_000);
    await producer.send(names.input, events('plc-1', 'plc-2'));
    await waitFor('the third output and a dead letter', () => surfaces().length === 3 && kcatRead(names.dlq, false).length === 1, 30_000);
    assert.equal(surfaces(), ['home', 'video', 'search']);
    assert.is(kcatRead(names.dlq, true)[0]!.headers['sluice.reason'], 'E_LOOKUP_MISS');
  } finally {
    await flow!.stop();
    await running;
    await tableSet.release(table);
    await producer.close();
  }
});

tables("a table's topic that does not exist: a configuration error naming it", async () => {
  const topic = unique('no-such-topic');
  const table = kafkaTable.create(kafkaTable.config.parse({ brokers: BROKERS, topic }), { table: 'placements', baseDir: process.cwd(), logger, metrics });
  try {
    await table.open();
    assert.unreachable('opened');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_CONFIG');
    assert.match((error as Error).message, `table placements: topic ${topic} does not exist`);
  } finally {
    await table.close();
  }
});

tables.run();
