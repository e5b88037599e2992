// The shipped engagement flow in local mode on samples/campaign.ndjson: every window it writes to
// its file equals a reference computed here from the sample lines — valid per the samples'
// expected outcomes, heartbeats dropped, duplicates (by eventId) dropped, events without an item
// dropped, 1-minute windows with 10 s grace on the partition's stream time, late events dropped,
// the open windows closed at the end of the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngagementWindow as Window } from '../../bench/peers/engagement-reference.ts';
import { STAGE_FAILURES } from '../../src/component/failures.ts';
import { loadConfig, resourcesOf } from '../../src/pipeline/load.ts';
import { packageRoot } from '../../src/package-root.ts';
import { buildFlows } from '../../src/pipeline/build.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-engagement-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const overlay = join(dir, 'test.conf');
writeFileSync(
  overlay,
  `include "${join(packageRoot, 'config', 'local.conf')}"
log.level = silent
flows.content.enabled = false
flows.campaign.enabled = false
flows.engagement.sink.path = "${join(dir, 'engagement.ndjson')}"
flows.engagement.dead-letter.path = "${join(dir, 'engagement.dlq.ndjson')}"
`,
);

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

// at module level, not in test.before: uvu 0.5 swallows a failing before hook and reports nothing
const config = await loadConfig(overlay);
const [flow] = buildFlows(config.flows.filter((t) => t.flow === 'engagement'), resourcesOf(config, pino({ level: 'silent' }), {}));
await flow!.run();

/** The reference over the sample lines: the windows in the order they close, the late and failed lines. */
function reference() {
  const samples = readFileSync(join(packageRoot, 'samples', 'campaign.ndjson'), 'utf8').split('\n');
  const expected = lines(join(packageRoot, 'samples', 'campaign.expected.ndjson')).map((l) => JSON.parse(l) as { ok: boolean; reason?: string });
  const size = 60_000;
  const grace = 10_000;
  const seen = new Set<string>();
  const open = new Map<string, Window>();
  const closed: Window[] = [];
  let streamTime = -Infinity;
  let late = 0;
  const failedLines: [reason: string, line: number][] = [];
  const order = (a: Window, b: Window) => a.windowStart - b.windowStart || (a.itemId < b.itemId ? -1 : 1);
  expected.forEach((outcome, i) => {
    // valid under the rules: a line the campaign flow delivered, or failed in one of its stages
    if (!outcome.ok && !(outcome.reason! in STAGE_FAILURES)) return;
    const e = JSON.parse(samples[i]!) as { eventId: string; type: string; itemId?: string; occurredAt: number; value?: number };
    if (e.type === 'heartbeat' || seen.has(e.eventId)) return;
    seen.add(e.eventId);
    if (typeof e.itemId !== 'string') return;
    // max-ahead = 1h: an event dated further ahead of the clock is dead-lettered (E_EVENT_TIME)
    if (e.occurredAt - Date.now() > 3_600_000) {
      failedLines.push(['E_EVENT_TIME', i + 1]);
      return;
    }
    streamTime = Math.max(streamTime, e.occurredAt);
    const start = e.occurredAt - (e.occurredAt % size);
    if (start + size + grace <= streamTime) {
      late++;
      return;
    }
    const id = `${start} ${e.itemId}`;
    let w = open.get(id);
    if (!w) open.set(id, (w = { itemId: e.itemId, windowStart: start, windowEnd: start + size, impressions: 0, clicks: 0, conversions: 0, conversionValue: 0 }));
    if (e.type === 'impression') w.impressions++;
    if (e.type === 'click') w.clicks++;
    if (e.type === 'conversion') {
      w.conversions++;
      w.conversionValue += e.value!;
    }
    const due = [...open].filter(([, x]) => x.windowEnd + grace <= streamTime).sort(([, a], [, b]) => order(a, b));
    for (const [key, x] of due) {
      open.delete(key);
      closed.push(x);
    }
  });
  closed.push(...[...open.values()].sort(order));
  return { windows: closed, late, failedLines };
}

test('engagement: every window written equals the reference over the samples, in closing order', () => {
  const { windows, late } = reference();
  const written = lines(join(dir, 'engagement.ndjson')).map((l) => {
    const o = JSON.parse(l) as Record<string, string | number | undefined>;
    // protobuf JSON: int64 as decimal strings, zero fields left out
    return { itemId: o.itemId, windowStart: Number(o.windowStart), windowEnd: Number(o.windowEnd), impressions: Number(o.impressions ?? 0), clicks: Number(o.clicks ?? 0), conversions: Number(o.conversions ?? 0), conversionValue: Number(o.conversionValue ?? 0) };
  });
  assert.ok(windows.length > 100, `the samples make windows (${windows.length})`);
  assert.ok(late > 0, 'and some of their events are late');
  assert.equal(written, windows);
  assert.is(flow!.stats.written, windows.length);
});

test('engagement: an event dated over an hour ahead (E_EVENT_TIME) is dead-lettered by the aggregate; a conversion without its value never reaches it (the rules: E_REQUIRED)', () => {
  const { failedLines } = reference();
  const letters = lines(join(dir, 'engagement.dlq.ndjson')).map((l) => JSON.parse(l) as { headers: Record<string, string> });
  const aggregateLetters = letters.filter((d) => d.headers['sluice.stage'] === 'engagement.per-minute');
  assert.ok(failedLines.length > 0 && failedLines.every(([reason]) => reason === 'E_EVENT_TIME'));
  assert.equal(aggregateLetters.map((d) => [d.headers['sluice.reason'], Number(d.headers['sluice.source.line'])]), failedLines);
  const withoutValue = letters.filter((d) => d.headers['sluice.reason'] === 'E_REQUIRED' && d.headers['sluice.path'] === '/value');
  assert.ok(withoutValue.length > 0, 'the samples hold conversions without a value');
  assert.ok(withoutValue.every((d) => d.headers['sluice.stage'] === 'engagement.validate' && d.headers['sluice.keyword-location'] === '/then/required'));
});

test.run();
