// Per-flow counters and the end-to-end latency histogram (HDR, microseconds) behind the progress
// line and the run summary.
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

let buildHistogram: typeof import('hdr-histogram-js').build | undefined;

/**
 * hdr-histogram-js's build, imported on the first call (synchronously): by `sluice run` before its
 * flows start, else when a flow's first histogram is used. Importing the package costs about 20 ms
 * of start-up that `sluice check`, which builds flows but runs none, never needs.
 */
export function loadHistograms(): typeof import('hdr-histogram-js').build {
  return (buildHistogram ??= (createRequire(import.meta.url)('hdr-histogram-js') as typeof import('hdr-histogram-js')).build);
}

const histogram = (highestTrackableValue: number): Histogram => loadHistograms()({ numberOfSignificantValueDigits: 3, highestTrackableValue });

export class FlowStats {
  readonly flow: string;
  read = 0;
  valid = 0;
  invalid = 0;
  filtered = 0;
  written = 0;
  deadLettered = 0;
  dropped = 0;
  /** Validation failures by verdict code. */
  readonly invalidByReason = new Map<string, number>();
  /** Stage failures by reason code. */
  readonly failedByReason = new Map<string, number>();
  /** Filtered records by the stage that let them go (a filter, a dedupe, a latest). */
  readonly filteredByStage = new Map<string, number>();
  readonly startedAt = performance.now();
  endedAt = 0;
  #latency: Histogram | undefined;
  #sourceLag: Histogram | undefined;

  constructor(flow: string) {
    this.flow = flow;
  }

  /** Read -> written, microseconds (made on first use). */
  get latency(): Histogram {
    return (this.#latency ??= histogram(3_600_000_000));
  }

  /** Producer timestamp -> hand-over to the flow, of the oldest message of each batch, milliseconds (made on first use). */
  get sourceLag(): Histogram {
    return (this.#sourceLag ??= histogram(86_400_000));
  }

  countInvalid(code: string, messages = 1): void {
    this.invalid += messages;
    this.invalidByReason.set(code, (this.invalidByReason.get(code) ?? 0) + messages);
  }

  countFiltered(stage: string, messages: number): void {
    this.filtered += messages;
    this.filteredByStage.set(stage, (this.filteredByStage.get(stage) ?? 0) + messages);
  }

  countFailed(code: string, messages = 1): void {
    this.failedByReason.set(code, (this.failedByReason.get(code) ?? 0) + messages);
  }

  get seconds(): number {
    return ((this.endedAt || performance.now()) - this.startedAt) / 1000;
  }
}

function reasons(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
}

export interface FlowSummary {
  flow: string;
  read: number;
  valid: number;
  invalid: number;
  invalidByReason: Record<string, number>;
  failedByReason: Record<string, number>;
  filtered: number;
  filteredByStage: Record<string, number>;
  written: number;
  deadLettered: number;
  dropped: number;
  seconds: number;
  messagesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Present for sources with producer timestamps (Kafka). */
  sourceLagMs?: { p50: number; p99: number; max: number };
}

export function summarize(stats: FlowStats): FlowSummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    flow: stats.flow,
    read: stats.read,
    valid: stats.valid,
    invalid: stats.invalid,
    invalidByReason: reasons(stats.invalidByReason),
    failedByReason: reasons(stats.failedByReason),
    filtered: stats.filtered,
    filteredByStage: reasons(stats.filteredByStage),
    written: stats.written,
    deadLettered: stats.deadLettered,
    dropped: stats.dropped,
    seconds: Math.round(stats.seconds * 1000) / 1000,
    messagesPerSecond: Math.round(stats.read / Math.max(stats.seconds, 1e-6)),
    latencyMs: {
      p50: ms(stats.latency.getValueAtPercentile(50)),
      p99: ms(stats.latency.getValueAtPercentile(99)),
      max: ms(stats.latency.maxValue),
    },
    ...(stats.sourceLag.totalCount > 0
      ? { sourceLagMs: { p50: stats.sourceLag.getValueAtPercentile(50), p99: stats.sourceLag.getValueAtPercentile(99), max: stats.sourceLag.maxValue } }
      : {}),
  };
}

export function formatSummary(summaries: readonly FlowSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`${s.flow}: ${s.read} read, ${s.valid} valid, ${s.invalid} invalid, ${s.filtered} filtered, ${s.written} written, ${s.deadLettered} dead-lettered, ${s.dropped} dropped`);
    lines.push(`  ${s.messagesPerSecond} msg/s over ${s.seconds} s; latency p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms, max ${s.latencyMs.max} ms`);
    if (s.sourceLagMs) lines.push(`  produced -> handed over (oldest of each batch): p50 ${s.sourceLagMs.p50} ms, p99 ${s.sourceLagMs.p99} ms, max ${s.sourceLagMs.max} ms`);
    const invalid = Object.entries(s.invalidByReason);
    if (invalid.length > 0) lines.push(`  invalid by reason: ${invalid.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    const filtered = Object.entries(s.filteredByStage);
    if (filtered.length > 0) lines.push(`  filtered by stage: ${filtered.map(([stage, n]) => `${stage} ${n}`).join(', ')}`);
    const failed = Object.entries(s.failedByReason);
    if (failed.length > 0) lines.push(`  stage failures: ${failed.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
