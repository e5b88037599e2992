// Hot reload keeps a flow's stores, in process (FlowSupervisor) on the real broker (KAFKA_BROKERS;
// npm test starts one), a 2-partition input keyed by id, dedupe by eventId and latest by id in
// lmdb stores under a temporary state dir:
//   - a reload that changes the flow but not its stateful stages (a filter added) restarts it, and
//     the restarted flow works in the very same open stores (no reopening, no restore); a
//     duplicate produced after the swap is dropped;
//   - a reload that changes a stateful stage (dedupe's retention) closes the stores: the restarted
//     flow opens them from their files and changelogs, with every key, and still drops duplicates.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StoreReader } from '../../src/component/state.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { loadConfig } from '../../src/pipeline/load.ts';
import { FlowSupervisor } from '../../src/pipeline/supervisor.ts';
import { changelogTopic } from '../../src/state/changelog.ts';
import { brokerList, BROKERS, committedOffsets, ensureBuilt, kcat, KAFKA_CLIENT, requireEnvironment, sluice, uniqueNames, waitFor } from '../io/kafka/harness.ts';

const unique = uniqueNames('rs', 3);

test('a restarted flow keeps its open stores when its stateful stages did not change, and reopens them from its files when they did', async () => {
  requireEnvironment();
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reload-state-'));
  const [input, output, group] = [unique('in'), unique('out'), unique('group')];
  const file = join(dir, 'reload.conf');
  const logFile = join(dir, 'sluice.log');
  const write = (options: { filter?: boolean; retention?: string } = {}) =>
    writeFileSync(file, [
      'progress = off',
      `kafka { brokers = "${BROKERS}", topics { "${input}" = 2, "${output}" = 2 } }`,
      'flows.items {',
      '  on-invalid = drop',
      '  rules { type = object, required = [id, eventId, version], properties { id { type = string }, eventId { type = string }, version { type = integer } } }',
      '  stages = [',
      options.filter ? '    { kind = filter, name = keep-all, drop-if { field = id, in = [never] } }' : '',
      `    { kind = dedupe, key = eventId, store = seen, retention = ${options.retention ?? '24h'} }`,
      '    { kind = latest, key = id, version = version, store = versions }',
      '  ]',
      `  source { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${input}", group-id = "${group}", state-dir = "${join(dir, 'state')}", session-timeout-ms = 6000, heartbeat-interval-ms = 1000, commit-interval-ms = 200 }`,
      `  sink { kind = kafka, client = ${KAFKA_CLIENT}, brokers = "${BROKERS}", topic = "${output}", key = id, encoding = json }`,
      '}',
    ].join('\n') + '\n');
  const admin: KafkajsAdmin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  let flows: FlowSupervisor | undefined;
  let running: Promise<void> | undefined;
  let passed = false;
  try {
    write();
    sluice(['topics', 'create', '--config', file]);
    const produce = (from: number, to: number) => {
      const lines = join(dir, `produce-${from}-${to}.txt`);
      writeFileSync(lines, Array.from({ length: to - from }, (_, i) => `id-${from + i}\t${JSON.stringify({ id: `id-${from + i}`, eventId: `ev-${from + i}`, version: 1 })}\n`).join(''));
      kcat(['-P', '-X', 'topic.partitioner=murmur2_random', '-t', input, '-K', '\t', '-l', lines]);
    };
    const caughtUp = async () => {
      const committed = await committedOffsets(admin, group, input);
      const ends = await admin.fetchTopicOffsets(input);
      return ends.every((p) => committed.get(p.partition) === p.high);
    };
    const outputCount = () => kcat(['-C', '-t', output, '-e', '-q', '-f', 'x\n']).length / 2;
    const stores = () => flows!.queries.flows()[0]!.partitions('seen').map((p) => p.store);
    const reload = async (expect: string) => {
      const outcome = await flows!.reload('request');
      assert.equal([outcome.outcome, outcome.restarted], ['applied', ['items']], expect);
    };
    const open = async (what: string): Promise<StoreReader[]> => {
      let now: StoreReader[] = [];
      await waitFor(what, () => (now = stores()).length === 2, 60_000, 50);
      return now;
    };

    const logger = createLogger({ level: 'info', destination: logFile });
    flows = new FlowSupervisor(file, await loadConfig(file), logger);
    running = flows.run();
    produce(0, 20);
    await waitFor('20 records delivered and committed', async () => outputCount() === 20 && (await caughtUp()), 60_000, 100);
    const first = await open('the stores of both partitions open');

    write({ filter: true });
    await reload('a filter added: the flow restarts');
    const kept = await open('the restarted flow\'s stores');
    assert.ok(kept.every((store, i) => store === first[i]), 'the very same open stores: nothing reopened or restored');
    produce(0, 20); // every one a duplicate
    produce(20, 25);
    await waitFor('the new records delivered, the duplicates dropped', async () => (await caughtUp()) && outputCount() >= 25, 60_000, 100);
    assert.is(outputCount(), 25, 'the duplicates produced after the swap are dropped');
    assert.equal(kept.map((s) => s.count()).reduce((a, b) => a + b), 25);

    write({ filter: true, retention: '12h' });
    await reload('dedupe\'s retention changed: the flow restarts');
    const reopened = await open('the reopened stores');
    assert.ok(reopened.every((store, i) => store !== first[i]), 'closed and opened again');
    assert.equal(reopened.map((s) => s.count()).reduce((a, b) => a + b), 25, 'every key, from the files and changelogs');
    produce(0, 25);
    produce(25, 30);
    await waitFor('the new records delivered, the duplicates dropped', async () => (await caughtUp()) && outputCount() >= 30, 60_000, 100);
    assert.is(outputCount(), 30, 'still exact');

    await flows.stop();
    await running;
    running = undefined;
    await waitFor('the log lines', () => readFileSync(logFile, 'utf8').includes('stateful stages or its source changed'), 5_000);
    const log = readFileSync(logFile, 'utf8');
    assert.is(log.split('\n').filter((l) => l.includes('reload: state stores kept open for the restarted flow')).length, 1, 'one hand-over');
    assert.is(log.split('\n').filter((l) => l.includes('reload: the flow\'s stateful stages or its source changed')).length, 1, 'one reopening');
    passed = true;
  } finally {
    if (running) {
      await flows?.stop();
      await running.catch(() => undefined);
    }
    await admin.deleteTopics({ topics: [input, output, changelogTopic(group, 'seen'), changelogTopic(group, 'versions')] }).catch(() => undefined);
    await admin.disconnect();
    if (passed) rmSync(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}`);
  }
});

test.run();
