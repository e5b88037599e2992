// Window results through the test driver and `sluice test`: the shipped engagement flow's test
// file, and the driver's clock closing the windows of a quiet input (close-idle-after).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFlow } from '../../src/index.ts';
import { packageRoot } from '../../src/package-root.ts';
import { runTestFile } from '../../src/testing/test-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-windows-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_740_000_000_000; // a minute's start
let eventNumber = 0;
const event = (itemId: string, occurredAt: number, type = 'impression') =>
  JSON.stringify({ eventId: `00000000-0000-4000-8000-${String(++eventNumber).padStart(12, '0')}`, type, campaignId: 'cmp-0001', placementId: 'plc-001', userId: 'usr-1', itemId, occurredAt });

/** local.conf with a flow `windows`: key-by itemId, a 1-minute count with 10 s grace closing after 30 s idle on the clock. */
function overlay(): string {
  const file = join(dir, 'windows.conf');
  writeFileSync(
    file,
    `include "${join(packageRoot, 'config', 'local.conf')}"
flows.windows {
  rules-file = "${join(packageRoot, 'config', 'rules', 'campaign.schema.json')}"
  source { kind = file, path = "${join(dir, 'unused.ndjson')}" }
  sink { kind = file, path = "${join(dir, 'out.ndjson')}", encoding = json }
  on-invalid = drop
  stages = [
    { kind = key-by, name = by-item, field = itemId }
    {
      kind = aggregate, name = per-minute, time = occurredAt, window { size = 1m, grace = 10s }, close-idle-after = 30s, backend = memory
      aggregations { impressions { op = count } }
      output { target = "sluice.recommender.v1.ItemEngagement", fields { item_id = key, window_start = window.start, impressions = impressions } }
    }
  ]
}
`,
  );
  return file;
}

test('sluice test: the engagement flow\'s window results (config/tests/engagement.test.conf)', async () => {
  const results = await runTestFile(join(packageRoot, 'config', 'tests', 'engagement.test.conf'));
  assert.ok(results.length >= 4);
  for (const r of results) assert.equal(r.problems, [], r.name);
});

test('sluice test: a window result that differs is a problem of its case', async () => {
  const file = join(dir, 'wrong.test.conf');
  writeFileSync(
    file,
    `config = "${join(packageRoot, 'config', 'local.conf')}"
flow = engagement
cases = [{ name = wrong, input = [{ value = """${event('cnt-000001', T0)}""" }], expect.outputs = [{ itemId = "cnt-000001", impressions = "2" }] }]
`,
  );
  const [result] = await runTestFile(file);
  assert.is(result!.problems.length, 1);
  assert.match(result!.problems[0]!, /"impressions":"1"\} lacks \{"impressions":"2"/);
});

test('driver: a clock step past close-idle-after closes the quiet input\'s windows; one below it does not', async () => {
  const config = overlay();
  // 35 s of quiet on the clock: stream time moves to the clock (T0 + 45 s), the window [T0, T0 + 60 s) is still open
  const open = await runFlow(config, 'windows', [{ value: event('cnt-000001', T0 + 10_000) }, { advanceMs: 35_000 }, { value: event('cnt-000001', T0 + 20_000) }], { startTime: T0 + 10_000 });
  assert.equal(open.outputs.map((o) => o.value), [{ itemId: 'cnt-000001', windowStart: String(T0), impressions: '2' }]);
  // 70 s of quiet: at clock time T0 + 80 s the window has closed (end + grace = T0 + 70 s): emitted, and a later event for it is late
  const closed = await runFlow(config, 'windows', [{ value: event('cnt-000001', T0 + 10_000) }, { advanceMs: 70_000 }, { value: event('cnt-000001', T0 + 20_000) }], { startTime: T0 + 10_000 });
  assert.equal(closed.outputs.map((o) => o.value), [{ itemId: 'cnt-000001', windowStart: String(T0), impressions: '1' }]);
  assert.is(closed.summary.filtered, 1, 'the event after the close is late');
  assert.is(closed.outputs[0]!.key, 'cnt-000001', 'a result is keyed by its item');
});

test('driver: a protobuf sink gives the window results as ItemEngagement messages', async () => {
  const file = join(dir, 'protobuf.conf');
  writeFileSync(file, `include "${join(packageRoot, 'config', 'local.conf')}"\nflows.engagement.sink.encoding = protobuf\n`);
  const run = await runFlow(file, 'engagement', [{ value: event('cnt-000001', T0) }, { value: event('cnt-000001', T0 + 1, 'click') }]);
  const result = run.outputs[0]!.value as { $typeName: string; windowStart: bigint; impressions: bigint; clicks: bigint };
  assert.equal([result.$typeName, result.windowStart, result.impressions, result.clicks], ['sluice.recommender.v1.ItemEngagement', BigInt(T0), 1n, 1n]);
});

test.run();
