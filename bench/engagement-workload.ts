// The e2e bench's engagement workload (--workload engagement): per item per 1-minute window
// (10 s grace), Sluice's engagement flow against the Kafka Streams peer's engagement job. Every
// message's occurredAt is rewritten to its send time (open loop) or to a time spread over the past
// (saturation); a window result's latency is from when it could close at the earliest (its end +
// the grace) to its arrival.
import { GRACE_MS } from './peers/engagement-reference.ts';

/**
 * Saturation: events a millisecond of event time. The re-keyed stream interleaves the input
 * partitions as each is read, so a partition read ahead of another by more than the grace's worth
 * of events makes the other's late: 1 a millisecond (10,000 events of grace) had both Sluice and the
 * Kafka Streams peer drop events.
 */
export const SATURATION_EVENTS_PER_MS = 10;

const OCCURRED_AT = /"occurredAt"\s*:\s*(\d{13})(?![\d.eE])/;
/** Items of the closing events: their own windows never close, they are not counted. */
export const CLOSING_ITEM_PREFIX = 'cnt-9999';

export interface EngagementCorpus {
  /** Byte offset of each message's 13-digit occurredAt, -1 without one. */
  offsets: Int32Array;
}

export function engagementCorpus(corpus: readonly Uint8Array[]): EngagementCorpus {
  const offsets = new Int32Array(corpus.length).fill(-1);
  for (const [k, message] of corpus.entries()) {
    const found = OCCURRED_AT.exec(Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1'));
    if (found) offsets[k] = found.index + found[0].length - 13;
  }
  return { offsets };
}

/** Message `index` of the replayed corpus with its occurredAt set to `eventTime` (13 digits). */
export function engagementMessage(state: EngagementCorpus, corpus: readonly Uint8Array[], index: number, eventTime: number): Buffer {
  const k = index % corpus.length;
  const out = Buffer.from(corpus[k]!);
  if (state.offsets[k]! >= 0) out.write(String(eventTime), state.offsets[k]!, 'latin1');
  return out;
}

/**
 * Closing events: valid impressions at `eventTime` on 64 items of their own (spread over every
 * partition of the re-keyed stream), which move each task's stream time past the other windows.
 */
export function closingEvents(eventTime: number): { key: string; value: Buffer; timestamp: string }[] {
  return Array.from({ length: 64 }, (_, i) => ({
    key: `closer-${i}`,
    value: Buffer.from(JSON.stringify({
      eventId: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, type: 'impression', campaignId: 'cmp-0001',
      placementId: 'plc-001', userId: 'bench-closer', occurredAt: eventTime, itemId: `${CLOSING_ITEM_PREFIX}${String(i).padStart(2, '0')}`,
    })),
    timestamp: String(eventTime),
  }));
}

/** A window result as either side writes it (numbers, or int64 as strings in proto JSON). */
export interface WindowResult {
  itemId: string;
  windowEnd: number | string;
  impressions?: number | string;
  clicks?: number | string;
  conversions?: number | string;
}

/** The events a window result counts, and ms from when it could close to `now`; undefined for a closing item's. */
export function windowArrival(result: WindowResult, now: number): { events: number; latencyMs: number } | undefined {
  if (result.itemId.startsWith(CLOSING_ITEM_PREFIX)) return undefined;
  return {
    events: Number(result.impressions ?? 0) + Number(result.clicks ?? 0) + Number(result.conversions ?? 0),
    latencyMs: now - (Number(result.windowEnd) + GRACE_MS),
  };
}
