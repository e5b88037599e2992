// The shipped flows with their state on a real broker (config/qal.conf, the run's own topics, 4
// input partitions, lmdb stores and changelogs): every sample produced twice (`sluice produce` of
// each sample file, twice, zstd (two campaign lines are ~1 MB), keyed as the flows' outputs are: a re-sent line lands in the partition,
// and the store, of its first copy) gives the outputs of producing the samples once — the records
// local mode writes from the samples, each exactly once — and the dead letters of the failing lines:
// the invalid ones twice (validation comes before the state), a lookup miss once (its second copy
// is a duplicate, or a stale version, of a record that went through).
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  brokerList, BROKERS, committedOffsets, endOffsets, ensureBuilt, type Expected, type FlowCase, kcatRead, Processor, rawLines, requireEnvironment,
  runLocalReference, SAMPLES, sluice, STAGE_FAILURES, uniqueNames, waitFor, writeKafkaOverlay, written,
} from './harness.ts';

const PARTITIONS = 4;
const unique = uniqueNames('tw');
const flows: FlowCase[] = [];
let dir = '';
let processor: Processor | undefined;
let admin: KafkajsAdmin | undefined;
let passed = false;

test.after(async () => {
  if (processor && !processor.exit) await processor.stop('SIGKILL');
  if (admin) {
    await admin.deleteTopics({ topics: flows.flatMap((c) => [c.input, c.output, c.dlq]) }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  if (dir && passed) rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`  kept ${dir} (the processor's log: sluice.log)`);
});

/** Sorted hex of each record's value: the records as a multiset (4 partitions keep no global order). */
const values = (records: readonly { value?: Buffer | null }[]) => records.map((r) => r.value?.toString('hex') ?? '').sort();

test('every sample produced twice: each output once, as local mode writes it from the samples produced once; invalid lines dead-lettered twice, lookup misses once', async () => {
  requireEnvironment();
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sluice-twice-'));
  for (const [flow, keyField] of [['content', 'id'], ['campaign', 'userId']] as const) {
    const lines = rawLines(join(SAMPLES, `${flow}.ndjson`));
    flows.push({
      flow, keyField, compression: 'zstd', lines, expected: readFileSync(join(SAMPLES, `${flow}.expected.ndjson`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Expected), reference: [], doneAt: 0,
      input: unique(`${flow}-in`), output: unique(`${flow}-out`), dlq: unique(`${flow}-dlq`), group: unique(`${flow}-group`),
    });
  }
  runLocalReference(dir, flows);
  const config = join(dir, 'kafka.conf');
  writeKafkaOverlay(config, flows, join(dir, 'sluice.log'));
  appendFileSync(config, `kafka.topics { ${flows.map((c) => `"${c.input}" = ${PARTITIONS}`).join(', ')} }\n`);
  const created = sluice(['topics', 'create', '--config', config]);
  for (const c of flows) {
    assert.match(created, `${c.input}\t${PARTITIONS} partitions\tcreated`);
    assert.match(created, `${c.group}-${c.flow === 'content' ? 'content-versions' : 'campaign-events'}-changelog\t${PARTITIONS} partitions, compacted\tcreated`);
  }
  for (const c of flows) {
    for (let copy = 0; copy < 2; copy++) {
      assert.match(sluice(['produce', '--brokers', BROKERS, '--topic', c.input, '--file', join(SAMPLES, `${c.flow}.ndjson`), '--key', c.keyField, '--compression', c.compression]), `${c.lines.length} messages to ${c.input}`);
    }
  }

  admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  const observer = admin;
  const running = (processor = new Processor(config, join(dir, 'sluice.log')));
  // done: every input partition committed to its end (so nothing more is on its way)
  await waitFor(
    'every input committed',
    async () => {
      if (running.exit) throw new Error(`sluice exited:\n${running.explain()}`);
      for (const c of flows) {
        const committed = await committedOffsets(observer, c.group, c.input);
        const total = [...committed.values()].reduce((n, offset) => n + Math.max(0, Number(offset)), 0);
        if (total < 2 * c.lines.length) return false;
      }
      return true;
    },
    120_000,
    100,
  ).catch(async (error: unknown) => {
    await running.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${running.explain()}`);
  });
  const exit = await running.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, running.explain());

  for (const c of flows) {
    const failing = (e: Expected) => !e.ok;
    const invalid = c.expected.filter((e) => failing(e) && !STAGE_FAILURES.has(e.reason!)).length;
    const missed = c.expected.filter((e) => failing(e) && STAGE_FAILURES.has(e.reason!)).length;
    const outputs = kcatRead(c.output, false);
    assert.is(outputs.length, written(c), `${c.flow}: one output per line written once`);
    assert.equal(values(outputs), values(c.reference.map((value) => ({ value }))), `${c.flow}: the outputs are those of local mode on the samples once`);
    const letters = kcatRead(c.dlq, true);
    assert.is(letters.length, 2 * invalid + missed, `${c.flow}: ${invalid} invalid lines twice, ${missed} lookup misses once`);
    assert.is(letters.filter((l) => STAGE_FAILURES.has(l.headers['sluice.reason']!)).length, missed, `${c.flow}: each lookup miss dead-lettered once`);
    const read = 2 * c.lines.length;
    const filtered = read - 2 * invalid - written(c) - missed;
    const summary = `${c.flow}: ${read} read, ${read - 2 * invalid} valid, ${2 * invalid} invalid, ${filtered} filtered, ${written(c)} written, ${2 * invalid + missed} dead-lettered, 0 dropped`;
    assert.ok(running.stdout.includes(summary), `summary line "${summary}" expected in:\n${running.stdout}`);
  }
  console.log(`  ${flows.map((c) => `${c.flow}: ${2 * c.lines.length} produced, ${written(c)} written`).join('; ')}`);
  passed = true;
});

test.run();
