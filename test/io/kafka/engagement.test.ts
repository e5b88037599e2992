// The shipped engagement flow (config/qal.conf) on a real broker, exactly-once, through its
// repartition topic: campaign events keyed by user on 3 partitions, deduplicated, keyed by item,
// aggregated per item per 1-minute window (10 s grace). The processor is SIGKILLed 3 times while
// the input is produced; every window result must be in the output exactly once (read_committed)
// and equal to the reference computed here from the input.
// The input comes in phases, one minute of event time each (events 15–55 s into the minute, in no
// particular order), each produced once the last is through the first part: a record of a phase is
// then never late, and the next phase closes its windows (stream time past end + grace) in every
// partition of the second part. A last event per partition, minutes later, closes the last phase.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngagementWindow as Window } from '../../../bench/peers/engagement-reference.ts';
import { keyHash } from '../../../src/io/kafka/key-hash.ts';
import { packageRoot } from '../../../src/package-root.ts';
import { brokerList, BROKERS, clientLines, committedOffsets, ensureBuilt, kcat, kcatRead, Processor, requireEnvironment, sluice, uniqueNames, waitFor } from './harness.ts';

const PARTITIONS = 3;
const MINUTE = 60_000;
/** A minute boundary: 2026-01-01T00:00:00Z. */
const BASE = 1_767_225_600_000;
const ITEMS = Array.from({ length: 24 }, (_, i) => `cnt-${String(i + 1).padStart(6, '0')}`);
const unique = uniqueNames('eng', 3);

interface Event {
  schemaVersion: 2;
  eventId: string;
  type: 'impression' | 'click' | 'conversion' | 'heartbeat';
  campaignId: string;
  placementId: string;
  userId: string;
  occurredAt: number;
  itemId?: string;
  value?: number;
  currency?: string;
}

const TYPES = ['impression', 'impression', 'impression', 'click', 'conversion', 'heartbeat'] as const;

/** Phase `k`: `count` events in minute k (15–55 s in, shuffled), some without item, some heartbeats, every 8th sent twice (a retry). */
function phase(k: number, count: number): Event[] {
  const out: Event[] = [];
  for (let n = 0; n < count; n++) {
    const type = TYPES[(n * 5 + k) % TYPES.length]!;
    const event: Event = {
      schemaVersion: 2,
      eventId: randomUUID(),
      type,
      campaignId: 'cmp-0001',
      placementId: 'plc-001',
      userId: `usr-${(n * 7 + k) % 50}`,
      occurredAt: BASE + k * MINUTE + 15_000 + ((n * 7919) % 40_000),
      ...(n % 17 === 5 ? {} : { itemId: ITEMS[(n * 11 + k) % ITEMS.length]! }),
      ...(type === 'conversion' ? { value: ((n % 9) + 1) * 2.5, currency: 'EUR' } : {}),
    };
    out.push(event);
    if (n % 8 === 0) out.push(event);
  }
  return out;
}

/** Per item and minute: the counts by type and the sum of conversion values, each event once. */
function reference(events: readonly Event[]): Map<string, Window> {
  const seen = new Set<string>();
  const windows = new Map<string, Window>();
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    if (e.type === 'heartbeat' || e.itemId === undefined) continue;
    const start = Math.floor(e.occurredAt / MINUTE) * MINUTE;
    const id = `${e.itemId}@${start}`;
    let w = windows.get(id);
    if (!w) windows.set(id, (w = { itemId: e.itemId, windowStart: start, windowEnd: start + MINUTE, impressions: 0, clicks: 0, conversions: 0, conversionValue: 0 }));
    if (e.type === 'impression') w.impressions++;
    else if (e.type === 'click') w.clicks++;
    else {
      w.conversions++;
      w.conversionValue += e.value!;
    }
  }
  return windows;
}

let admin: KafkajsAdmin;
const dir = mkdtempSync(join(tmpdir(), 'sluice-engagement-kafka-'));
const topics = { input: unique('in'), output: unique('out'), dlq: unique('dlq'), group: unique('group') };
const processors: Processor[] = [];
let passed = false;

function config(name: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    [
      `include "${join(packageRoot, 'config', 'qal.conf')}"`,
      `kafka.brokers = "${BROKERS}"`,
      'kafka.topics = null',
      `kafka.topics { "${topics.input}" = ${PARTITIONS}, "${topics.output}" = ${PARTITIONS}, "${topics.dlq}" = 1 }`,
      'log.level = info',
      `log.destination = "${join(dir, `${name}.log`)}"`,
      'progress = off',
      'observe.http.port = 0',
      'flows.content.enabled = false',
      'flows.campaign.enabled = false',
      ...clientLines('engagement'),
      'flows.engagement.delivery = exactly-once',
      `flows.engagement.source { topic = "${topics.input}", group-id = "${topics.group}", state-dir = "${join(dir, 'state')}", session-timeout-ms = 6000, heartbeat-interval-ms = 1000 }`,
      `flows.engagement.sink.topic = "${topics.output}"`,
      `flows.engagement.dead-letter.topic = "${topics.dlq}"`,
    ].join('\n') + '\n',
  );
  return file;
}

function produce(events: readonly Event[]): void {
  const file = join(dir, `produce-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, events.map((e) => `${e.userId}\t${JSON.stringify(e)}\n`).join(''));
  kcat(['-P', '-t', topics.input, '-K', '\t', '-l', file]);
}

const start = (name: string) => {
  const p = new Processor(config(name), join(dir, `${name}.log`));
  processors.push(p);
  return p;
};
const explain = () => processors.map((p) => p.explain()).join('\n');
const repartition = () => `${topics.group}-engagement-by-item-repartition`;
/** Offsets a topic has taken (its end offsets): the records written, which a purge does not take back, with any transaction markers. */
const written = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);

/** The input committed to its end by the first part: every record of it is in the repartition topic. */
async function inputThrough(): Promise<boolean> {
  try {
    const committed = await committedOffsets(admin, topics.group, topics.input);
    return (await admin.fetchTopicOffsets(topics.input)).every((p) => committed.get(p.partition) === p.high);
  } catch (error) {
    if ((error as { retriable?: boolean }).retriable === true) return false;
    throw error;
  }
}

function results(): Window[] {
  return kcatRead(topics.output, false).map((m) => {
    const r = JSON.parse(m.value!.toString('utf8')) as Record<string, unknown>;
    return {
      itemId: String(r.itemId),
      windowStart: Number(r.windowStart),
      windowEnd: Number(r.windowEnd),
      impressions: Number(r.impressions ?? 0),
      clicks: Number(r.clicks ?? 0),
      conversions: Number(r.conversions ?? 0),
      conversionValue: Number(r.conversionValue ?? 0),
    };
  });
}

test.before(() => {
  requireEnvironment();
  ensureBuilt();
  admin = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('admin'), logLevel: kafkajs.logLevel.NOTHING }).admin();
  return admin.connect();
});

test.after(async () => {
  for (const p of processors) if (!p.exit) await p.stop('SIGKILL');
  await admin.deleteTopics({ topics: [topics.input, topics.output, topics.dlq, repartition()] }).catch(() => undefined);
  await admin.disconnect();
  if (passed) rmSync(dir, { recursive: true, force: true });
  else console.log(`  kept ${dir}`);
});

test('engagement, exactly-once, SIGKILLed 3 times while produced: every window result exactly once, equal to the reference', async () => {
  const created = sluice(['topics', 'create', '--config', config('topics')]);
  assert.match(created, `${repartition()}\t${PARTITIONS} partitions\tcreated`);
  const phases = [0, 1, 2, 3].map((k) => phase(k, 400));
  // minutes later, an event of an item of each partition of the second part closes the last phase
  const closers = Array.from({ length: PARTITIONS }, (_, p) => ITEMS.find((item) => keyHash(Buffer.from(item)) % PARTITIONS === p)!);
  const closing = closers.map((itemId, i): Event => ({ schemaVersion: 2, eventId: randomUUID(), type: 'impression', campaignId: 'cmp-0001', placementId: 'plc-001', userId: `usr-${i}`, occurredAt: BASE + 10 * MINUTE, itemId }));
  const expected = reference(phases.flat());
  let processor = start('run-0');
  produce(phases[0]!);
  for (let k = 1; k <= 3; k++) {
    // killed while phase k-1 crosses the hop, at a random share of it
    const before = await written(repartition());
    const target = before + 1 + Math.floor(Math.random() * phases[k - 1]!.length * 0.7);
    await waitFor(`the repartition topic past ${target} before kill ${k}`, async () => (await written(repartition())) >= target || (await inputThrough()), 60_000, 50);
    await processor.stop('SIGKILL');
    processor = start(`run-${k}`);
    await waitFor(`phase ${k - 1} through the first part`, inputThrough, 90_000, 200);
    produce(phases[k]!);
  }
  await waitFor('phase 3 through the first part', inputThrough, 90_000, 200);
  produce(closing);
  await waitFor('every expected window written', () => new Set(results().map((w) => `${w.itemId}@${w.windowStart}`)).size >= expected.size, 120_000, 200);
  await processor.stop('SIGTERM');
  assert.equal(processor.exit, { code: 0, signal: null }, explain());
  const got = results();
  const byWindow = new Map<string, Window[]>();
  for (const w of got) byWindow.set(`${w.itemId}@${w.windowStart}`, [...(byWindow.get(`${w.itemId}@${w.windowStart}`) ?? []), w]);
  const duplicated = [...byWindow].filter(([, list]) => list.length > 1).map(([id]) => id);
  const unexpected = [...byWindow.keys()].filter((id) => !expected.has(id));
  const missing = [...expected.keys()].filter((id) => !byWindow.has(id));
  assert.ok(duplicated.length === 0 && unexpected.length === 0 && missing.length === 0, `duplicated ${duplicated.slice(0, 5)}, unexpected ${unexpected.slice(0, 5)}, missing ${missing.slice(0, 5)}\n${explain()}`);
  for (const [id, want] of expected) {
    const [have] = byWindow.get(id)!;
    assert.equal({ ...have!, conversionValue: Math.round(have!.conversionValue * 100) / 100 }, { ...want, conversionValue: Math.round(want.conversionValue * 100) / 100 }, id);
  }
  console.log(`  engagement through the hop, exactly-once, 3 SIGKILLs: ${phases.flat().length} events, ${expected.size} window results, each once and equal to the reference`);
  passed = true;
});

test.run();
