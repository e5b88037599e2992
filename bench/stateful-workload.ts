// The e2e bench's stateful workload (--workload stateful): the campaign flow with a dedupe by
// eventId and the placements lookup from a table on a Kafka topic, on Sluice and on the Kafka
// Streams peer's campaign-stateful job (a RocksDB window store with its changelog, a GlobalKTable).
// The corpus is replayed with a fresh eventId per message, but every 10th message (index i with
// i % 10 === 9) repeats the eventId of message i - 5: a duplicate whenever that one was valid and
// not a heartbeat (the dedupe comes after the heartbeat filter, so a heartbeat is not remembered).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type kafkajs from 'kafkajs';
import { packageRoot } from '../src/package-root.ts';

const EVENT_ID = /"eventId"\s*:\s*"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/;
const HEX = '0123456789abcdef';

/** Every 10th message repeats the eventId of the one 5 before it. */
export const DUPLICATE_EVERY = 10;
const DUPLICATE_OF = 5;

export interface StatefulCorpus {
  /** Byte offset of each message's eventId value (a well-formed one: rewriting it keeps the message's validity), -1 without one. */
  offsets: Int32Array;
  /** Per run: 8 hex digits that make its eventIds its own. */
  nonce: string;
}

export function statefulCorpus(corpus: readonly Uint8Array[]): StatefulCorpus {
  const offsets = new Int32Array(corpus.length).fill(-1);
  for (const [k, message] of corpus.entries()) {
    const text = Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1');
    const found = EVENT_ID.exec(text);
    if (found) offsets[k] = found.index + found[0].length - 37;
  }
  return { offsets, nonce: '' };
}

/** Which earlier message's eventId message `index` carries (itself unless a duplicate). */
const idSource = (index: number) => (index % DUPLICATE_EVERY === DUPLICATE_EVERY - 1 && index >= DUPLICATE_OF ? index - DUPLICATE_OF : index);

/** The index whose key message `index` is sent with: a duplicate's original's, so they share a partition. */
export const statefulKeyIndex = idSource;

/** Message `index` of the replayed corpus, its eventId made from the run's nonce and idSource(index). */
export function statefulMessage(state: StatefulCorpus, corpus: readonly Uint8Array[], index: number): Buffer {
  const k = index % corpus.length;
  const out = Buffer.from(corpus[k]!);
  const at = state.offsets[k]!;
  if (at < 0) return out;
  // nnnnnnnn-0000-4000-8000-iiiiiiiiiiii: the run's nonce, then the source index in 12 hex digits
  out.write(`${state.nonce}-0000-4000-8000-`, at, 'latin1');
  let n = idSource(index);
  for (let d = 35; d >= 24; d--) {
    out[at + d] = HEX.charCodeAt(n % 16);
    n = Math.floor(n / 16);
  }
  return out;
}

/**
 * Outputs and dead letters expected from messages 0..count: every message but heartbeats and the
 * duplicates dropped. `passes(k)`: corpus message k is valid and not a heartbeat (by the
 * contender's validator); `deadLetter(k)`: it is invalid.
 */
export function statefulExpected(state: StatefulCorpus, corpusLength: number, count: number, passes: (k: number) => boolean, deadLetter: (k: number) => boolean): { expected: number; duplicates: number } {
  let expected = 0;
  let duplicates = 0;
  for (let i = 0; i < count; i++) {
    const k = i % corpusLength;
    if (deadLetter(k)) expected++;
    else if (passes(k)) {
      const source = idSource(i);
      const j = source % corpusLength;
      if (source !== i && state.offsets[k]! >= 0 && state.offsets[j]! >= 0 && passes(j)) duplicates++;
      else expected++;
    }
  }
  return { expected, duplicates };
}

/** The placements table's topic, compacted, fed from samples/placements.ndjson (a row with _deleted: a tombstone). */
export async function feedPlacements(kafka: kafkajs.Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
  await admin.disconnect();
  const rows = readFileSync(join(packageRoot, 'samples', 'placements.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { placementId: string; _deleted?: boolean });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: rows.map((row) => ({ key: row.placementId, value: row._deleted ? null : JSON.stringify(row) })) });
  await producer.disconnect();
}

/** Sluice's configuration lines for the stateful workload: the stages and the table on `topic`. */
export function statefulOverlay(stages: readonly { kind: string }[], brokers: string, topic: string, stateDir: string): string {
  const flowStages = [
    stages.find((s) => s.kind === 'filter')!,
    { kind: 'dedupe', name: 'dedupe-event-id', key: 'eventId', retention: '24h' },
    ...stages.filter((s) => s.kind === 'map' || s.kind === 'lookup'),
  ];
  return `flows.campaign.stages = ${JSON.stringify(flowStages)}
flows.campaign.source.state-dir = "${stateDir}"
tables.placements = null
tables.placements { kind = kafka, brokers = "${brokers}", topic = "${topic}" }
`;
}
