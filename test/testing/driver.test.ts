// The test driver and `sluice test`: flows of real configurations run in memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFlow } from '../../src/index.ts';
import { packageRoot } from '../../src/package-root.ts';
import { runTestFile } from '../../src/testing/test-files.ts';

const local = join(packageRoot, 'config', 'local.conf');
const dir = mkdtempSync(join(tmpdir(), 'sluice-driver-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const event = (fields: Record<string, unknown>) =>
  JSON.stringify({
    eventId: '0b451753-10fa-4412-b766-c6bd5150ca78',
    type: 'click',
    campaignId: 'cmp-1234',
    placementId: 'plc-001',
    userId: 'u-42',
    occurredAt: 1740822026990,
    ...fields,
  });

test('runFlow: outputs in input order, dead letters with their input index, counts', async () => {
  const run = await runFlow(local, 'campaign', [
    // its own eventId: the campaign flow drops an eventId seen before (u-2's is the default one)
    { value: event({ userId: 'u-1', eventId: '1c562864-21ab-4523-a877-d7ce6261db89' }), key: 'k1' },
    { value: event({ type: 'heartbeat' }) },
    { value: event({ occurredAt: 'yesterday' }) },
    { value: '{"eventId":' },
    { value: event({ userId: 'u-2', value: 12.5, currency: 'EUR', device: { os: 'ios' } }) },
  ]);
  assert.equal(run.outputs.map((o) => (o.value as { userId: string }).userId), ['u-1', 'u-2']);
  assert.is(run.outputs[0]!.key, 'k1', 'the input key passes through');
  const { surface, slot } = JSON.parse(
    readFileSync(join(packageRoot, 'samples', 'lookup', 'placements.ndjson'), 'utf8').split('\n').find((l) => l.includes('"plc-001"'))!,
  ) as { surface: string; slot: string };
  assert.equal(run.outputs[1]!.value, {
    eventId: '0b451753-10fa-4412-b766-c6bd5150ca78', eventType: 'click', campaignId: 'cmp-1234', placementId: 'plc-001',
    userId: 'u-2', occurredAtMs: '1740822026990', value: 12.5, currency: 'EUR', deviceOs: 'ios', surface, slot,
    userSegment: 'new', // u-2 is not a user the recommender knows
  });
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason, d.path]), [[2, 'E_TYPE', '/occurredAt'], [3, 'E_UNTERMINATED', undefined]]);
  assert.is(run.summary.read, 5);
  assert.is(run.summary.filtered, 1);
  assert.is(run.summary.written, 2);
});

test('runFlow: a protobuf sink gives decoded messages', async () => {
  const overlay = join(dir, 'protobuf.conf');
  writeFileSync(overlay, `include "${local}"\nflows.campaign.sink.encoding = protobuf\n`);
  const run = await runFlow(overlay, 'campaign', [{ value: event({}) }]);
  const record = run.outputs[0]!.value as { $typeName: string; occurredAtMs: bigint };
  assert.is(record.$typeName, 'sluice.recommender.v1.EventRecord');
  assert.is(record.occurredAtMs, 1740822026990n, 'int64 stays exact');
});

test('enrich-file: a local lookup file enriches the record; a missing key follows on-missing', async () => {
  const overlay = join(dir, 'enrich-file.conf');
  const placements = join(packageRoot, 'samples', 'lookup', 'placements.ndjson');
  writeFileSync(
    overlay,
    `include "${local}"
flows.campaign.stages = [
  { kind = map, target = "sluice.recommender.v1.EventRecord", fields { event_id = eventId, user_id = userId, placement_id = placementId } }
  { kind = enrich-file, path = "${placements}", key = placementId, merge { surface = surface, slot = slot }, on-missing = dlq }
]
`,
  );
  const run = await runFlow(overlay, 'campaign', [{ value: event({ placementId: 'plc-001' }) }, { value: event({ placementId: 'plc-999' }) }]);
  assert.equal(run.outputs.map((o) => (o.value as { surface?: string; slot?: string }).slot), ['hero']);
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason, d.stage]), [[1, 'E_LOOKUP_MISS', 'campaign.enrich-file-1']]);
});

test('runFlow: the flow\'s clock moves only by the clock steps: dedupe retention expires without waiting', async () => {
  const overlay = join(dir, 'dedupe.conf');
  writeFileSync(overlay, `include "${local}"\nflows.campaign.stages = [ { kind = dedupe, key = userId, retention = 10m, on-duplicate = dlq, backend = memory } ]\n`);
  const user = (userId: string) => ({ value: event({ userId }) });
  const run = await runFlow(overlay, 'campaign', [
    user('u-1'),
    user('u-2'),
    user('u-1'), // a duplicate: the clock has not moved
    { advanceMs: 600_000 - 1 },
    user('u-1'), // 1 ms short of retention: still a duplicate
    { advanceMs: 1 },
    user('u-1'), // 10 min after its first sighting: new again
    user('u-2'),
    user('u-1'), // a duplicate of the one just let through
  ], { startTime: Date.UTC(2026, 0, 1) });
  assert.equal(run.outputs.map((o) => (o.value as { userId: string }).userId), ['u-1', 'u-2', 'u-1', 'u-2']);
  assert.equal(run.deadLetters.map((d) => [d.input, d.reason]), [[2, 'E_DUPLICATE'], [4, 'E_DUPLICATE'], [8, 'E_DUPLICATE']], 'input indexes count the clock steps');
  assert.is(run.summary.read, 7);
});

test('a test file moves the clock with advance-ms steps among the inputs', async () => {
  const overlay = join(dir, 'dedupe-file.conf');
  writeFileSync(overlay, `include "${local}"\nflows.campaign.stages = [ { kind = dedupe, key = userId, retention = 1h, backend = memory } ]\n`);
  const file = join(dir, 'dedupe.test.conf');
  const user = (userId: string) => `{ value = """${event({ userId })}""" }`;
  writeFileSync(
    file,
    `config = "${overlay}"\nflow = campaign\ncases = [\n` +
      `  { name = "a repeat within the hour is dropped", input = [ ${user('u-1')}, { advance-ms = 3599999 }, ${user('u-1')} ], expect { outputs = [ { userId = u-1 } ], filtered = 1 } }\n` +
      `  { name = "a repeat an hour later passes", input = [ ${user('u-1')}, { advance-ms = 3600000 }, ${user('u-1')} ], expect { outputs = [ { userId = u-1 }, { userId = u-1 } ], filtered = 0 } }\n` +
      `  { name = "(fails) the clock does not move without a step", input = [ ${user('u-1')}, ${user('u-1')} ], expect { filtered = 0 } }\n` +
      `]\n`,
  );
  const results = await runTestFile(file);
  assert.equal(results.slice(0, 2).map((r) => [r.name, r.problems]), [['a repeat within the hour is dropped', []], ['a repeat an hour later passes', []]]);
  assert.equal(results[2]!.problems, ['1 filtered, expected 0']);
});

test('runFlow: a clock step back in time is refused', async () => {
  try {
    await runFlow(local, 'campaign', [{ value: event({}) }, { advanceMs: -1 }, { value: event({}) }]);
    assert.unreachable('ran');
  } catch (error) {
    assert.match((error as Error).message, /moves forward/);
  }
});

test('runFlow: an unknown flow is an error naming the flows', async () => {
  try {
    await runFlow(local, 'nope', [{ value: '{}' }]);
    assert.unreachable('should throw');
  } catch (error) {
    assert.match((error as Error).message, /no flow "nope".*campaign/);
  }
});

test('the shipped test file passes', async () => {
  const results = await runTestFile(join(packageRoot, 'config', 'tests', 'content.test.conf'));
  assert.ok(results.length >= 4);
  for (const r of results) assert.equal(r.problems, [], r.name);
});

test('a wrong expectation fails with what differs; sluice test exits 1, 2 for a malformed file', async () => {
  const file = join(dir, 'wrong.test.conf');
  writeFileSync(
    file,
    `config = "${local}"\nflow = campaign\ncases = [\n  { name = "expects the wrong user", input = [ { value = """${event({})}""" } ], expect.outputs = [ { userId = "someone-else" } ] }\n  { name = "expects a dead letter that is not there", input = [ { value = """${event({})}""" } ], expect.dead-letters = [ { reason = E_TYPE } ] }\n]\n`,
  );
  const results = await runTestFile(file);
  assert.match(results[0]!.problems.join(), /lacks \{"userId":"someone-else"\}/);
  assert.match(results[1]!.problems.join(), /0 dead letters.*expected 1/);
  const cli = join(packageRoot, 'dist', 'src', 'cli.js');
  const failing = spawnSync(process.execPath, [cli, 'test', file], { encoding: 'utf8' });
  assert.is(failing.status, 1);
  assert.match(failing.stdout, /FAIL\t.*expects the wrong user/);
  const malformed = join(dir, 'malformed.test.conf');
  writeFileSync(malformed, `config = "${local}"\nflow = campaign\ncases = [ { name = x, input = [], expect {} } ]\n`);
  const broken = spawnSync(process.execPath, [cli, 'test', malformed], { encoding: 'utf8' });
  assert.is(broken.status, 2);
  assert.match(broken.stderr, /cases\[0\]\.input/);
});

test.run();
