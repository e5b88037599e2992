// The engagement job's windows computed straight from the input, as a reference for its peers:
// events in the order one task reads them, per item per 1-minute tumbling window of occurredAt,
// with Kafka Streams' lateness rule (a record whose window ended at or before stream time - grace
// is dropped; stream time is the highest occurredAt seen so far, this record's included).

export const WINDOW_MS = 60_000;
export const GRACE_MS = 10_000;

export interface EngagementWindow {
  itemId: string;
  windowStart: number;
  windowEnd: number;
  impressions: number;
  clicks: number;
  conversions: number;
  conversionValue: number;
}

/**
 * `events`: the valid events' bytes in order (dead letters already left out). Heartbeats and events
 * without an itemId count nowhere; conversionValue sums `value` over the window's events.
 */
export function engagementReference(events: readonly Uint8Array[]): EngagementWindow[] {
  const windows = new Map<string, EngagementWindow>();
  let streamTime = -Infinity;
  const decoder = new TextDecoder();
  for (const bytes of events) {
    const event = JSON.parse(decoder.decode(bytes)) as { type: string; itemId?: string; occurredAt: number; value?: number };
    if (event.type === 'heartbeat' || event.itemId === undefined) continue;
    streamTime = Math.max(streamTime, event.occurredAt);
    const windowStart = event.occurredAt - (event.occurredAt % WINDOW_MS);
    if (windowStart + WINDOW_MS <= streamTime - GRACE_MS) continue; // late
    const id = `${event.itemId}@${windowStart}`;
    let window = windows.get(id);
    if (!window) {
      window = { itemId: event.itemId, windowStart, windowEnd: windowStart + WINDOW_MS, impressions: 0, clicks: 0, conversions: 0, conversionValue: 0 };
      windows.set(id, window);
    }
    if (event.type === 'impression') window.impressions++;
    else if (event.type === 'click') window.clicks++;
    else window.conversions++;
    window.conversionValue += event.value ?? 0;
  }
  return [...windows.values()];
}
