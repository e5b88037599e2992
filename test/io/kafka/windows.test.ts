// The aggregate on a real broker (npm test starts one): the engagement flow of config/qal.conf on
// this run's own 1-partition topics, exactly-once, fed events in and out of order (some late) and
// a last one far ahead that closes every earlier window: the committed window results equal a
// reference computed here from the events, each once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { BROKERS, clientLines, ensureBuilt, kcat, Processor, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';

requireEnvironment();
ensureBuilt();

const unique = uniqueNames('windows');
const names = { input: unique('in'), output: unique('out'), dlq: unique('dlq'), group: unique('group') };
const dir = mkdtempSync(join(tmpdir(), 'sluice-windows-kafka-'));
let processor: Processor | undefined;
let passed = false;

interface Event {
  eventId: string;
  type: 'impression' | 'click' | 'conversion';
  itemId: string;
  occurredAt: number;
  value?: number;
  currency?: string;
}

/** Events a second or so apart over ~6 minutes, up to 20 s out of order, 3 items; then one 10 minutes ahead. */
function events(): Event[] {
  let state = 42;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Event[] = [];
  let clock = 1_740_000_000_000;
  for (let i = 0; i < 400; i++) {
    clock += Math.floor(next() * 1_800);
    const type = (['impression', 'impression', 'click', 'conversion'] as const)[Math.floor(next() * 4)]!;
    const e: Event = { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type, itemId: `cnt-00000${Math.floor(next() * 3)}`, occurredAt: clock - Math.floor(next() * 20_000) };
    if (type === 'conversion') {
      e.value = Math.round(next() * 5_000) / 100;
      e.currency = 'EUR'; // the rules want a conversion's value and currency
    }
    out.push(e);
  }
  out.push({ eventId: '00000000-0000-4000-8000-999999999999', type: 'impression', itemId: 'cnt-000009', occurredAt: clock + 600_000 });
  return out;
}

/** The windows closed by the events, in closing order: 1 minute, 10 s grace, late events left out. */
function reference(input: readonly Event[]): string[] {
  const open = new Map<string, { itemId: string; start: number; impressions: number; clicks: number; conversions: number; value: number }>();
  const closed: string[] = [];
  let streamTime = -Infinity;
  for (const e of input) {
    streamTime = Math.max(streamTime, e.occurredAt);
    const start = e.occurredAt - (e.occurredAt % 60_000);
    if (start + 70_000 > streamTime) {
      const id = `${start} ${e.itemId}`;
      if (!open.has(id)) open.set(id, { itemId: e.itemId, start, impressions: 0, clicks: 0, conversions: 0, value: 0 });
      const w = open.get(id)!;
      if (e.type === 'impression') w.impressions++;
      else if (e.type === 'click') w.clicks++;
      else {
        w.conversions++;
        w.value += e.value!;
      }
    }
    const due = [...open].filter(([, w]) => w.start + 70_000 <= streamTime).sort(([, a], [, b]) => a.start - b.start || (a.itemId < b.itemId ? -1 : 1));
    for (const [id, w] of due) {
      open.delete(id);
      closed.push(JSON.stringify([w.itemId, w.start, w.start + 60_000, w.impressions, w.clicks, w.conversions, w.value]));
    }
  }
  return closed;
}

/** The committed results, as the reference writes them. */
function committedResults(): string[] {
  const text = kcat(['-C', '-t', names.output, '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\n']).toString('utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const o = JSON.parse(l) as Record<string, string | number | undefined>;
    return JSON.stringify([o.itemId, Number(o.windowStart), Number(o.windowEnd), Number(o.impressions ?? 0), Number(o.clicks ?? 0), Number(o.conversions ?? 0), Number(o.conversionValue ?? 0)]);
  });
}

test.after(async () => {
  if (processor && !processor.exit) await processor.stop('SIGKILL');
  if (passed) rmSync(dir, { recursive: true, force: true });
  else console.log(`  kept ${dir} (the processor's log)`);
});

test('engagement on Kafka, exactly-once: every closed window once, equal to the reference', async () => {
  const config = join(dir, 'windows.conf');
  writeFileSync(
    config,
    [
      `include "${join(packageRoot, 'config', 'qal.conf')}"`,
      `kafka.brokers = "${BROKERS}"`,
      'kafka.topics = null',
      `kafka.topics { "${names.input}" = 1, "${names.output}" = 1, "${names.dlq}" = 1 }`,
      'log.level = info',
      `log.destination = "${join(dir, 'sluice.log')}"`,
      'progress = off',
      'flows.content.enabled = false',
      'flows.campaign.enabled = false',
      ...clientLines('engagement'),
      'flows.engagement.delivery = exactly-once',
      `flows.engagement.source { topic = "${names.input}", group-id = "${names.group}" }`,
      `flows.engagement.sink.topic = "${names.output}"`,
      `flows.engagement.dead-letter.topic = "${names.dlq}"`,
    ].join('\n') + '\n',
  );
  sluice(['topics', 'create', '--config', config]);
  const input = events();
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, input.map((e) => JSON.stringify({ ...e, campaignId: 'cmp-0001', placementId: 'plc-001', userId: 'usr-1' })).join('\n') + '\n');
  sluice(['produce', '--config', config, '--topic', names.input, '--file', file]);
  const expected = reference(input);
  assert.ok(expected.length > 10, `the events close windows (${expected.length})`);
  processor = new Processor(config, join(dir, 'sluice.log'));
  await waitFor('the window results', () => {
    if (processor!.exit) throw new Error(`sluice run exited:\n${processor!.explain()}`);
    return committedResults().length >= expected.length;
  }, 120_000, 500).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${processor!.explain()}`);
  });
  await processor.stop('SIGTERM');
  assert.equal(committedResults(), expected);
  passed = true;
});

test.run();
