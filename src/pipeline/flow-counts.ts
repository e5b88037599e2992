// What a flow counts, counted once: into plain per-batch counters on the hot path, then added at
// the end of each batch to the run statistics (FlowStats: the progress line and the summary) and
// to the Prometheus metrics (FlowMetrics) from the same numbers, so the two never disagree.
import type { FlowMetrics, StageMetrics } from '../observe/metrics.ts';
import type { FlowStats } from '../observe/stats.ts';

/** Per stage, counted per record: IN, OUT, FILTERED slots each. */
const IN = 0;
const OUT = 1;
const FILTERED = 2;
const COUNTS = 3;

interface Failures {
  /** The failure's stage label (`validate` for validation) and reason. */
  readonly stage: string;
  readonly code: string;
  readonly deadLettered: boolean;
  count: number;
}

export class FlowCounts {
  readonly #stats: FlowStats;
  readonly #metrics: FlowMetrics;
  readonly #stages: readonly StageMetrics[];
  #read = 0;
  #valid = 0;
  /** IN, OUT, FILTERED per stage. */
  readonly #stageCounts: Float64Array;
  /** Validation failures by verdict code. */
  readonly #invalid = new Map<string, number>();
  /** Stage failures by reason code. */
  readonly #stageFailures = new Map<string, number>();
  /** Failed messages by `"<stage> <dead_lettered|dropped> <reason>"`. */
  readonly #failed = new Map<string, Failures>();

  constructor(stats: FlowStats, metrics: FlowMetrics, stages: readonly StageMetrics[]) {
    this.#stats = stats;
    this.#metrics = metrics;
    this.#stages = stages;
    this.#stageCounts = new Float64Array(stages.length * COUNTS);
  }

  read(messages: number): void {
    this.#read += messages;
  }

  valid(): void {
    this.#valid++;
  }

  invalid(code: string): void {
    this.#invalid.set(code, (this.#invalid.get(code) ?? 0) + 1);
  }

  stageIn(stage: number): void {
    this.#stageCounts[stage * COUNTS + IN]!++;
  }

  stageOut(stage: number): void {
    this.#stageCounts[stage * COUNTS + OUT]!++;
  }

  stageFiltered(stage: number): void {
    this.#stageCounts[stage * COUNTS + FILTERED]!++;
  }

  /** A stage's failure of a record (whatever became of it: see `failed`). */
  stageFailed(code: string): void {
    this.#stageFailures.set(code, (this.#stageFailures.get(code) ?? 0) + 1);
  }

  /** A failed message, dead-lettered or dropped; `stage` is its label (`validate` for validation). */
  failed(stage: string, code: string, deadLettered: boolean): void {
    const key = `${stage} ${deadLettered ? 'dead_lettered' : 'dropped'} ${code}`;
    const entry = this.#failed.get(key);
    if (entry) entry.count++;
    else this.#failed.set(key, { stage, code, deadLettered, count: 1 });
  }

  /**
   * Adds what was counted since the last flush to the statistics and the metrics, and starts over.
   * Batches in flight share the counters: a flush adds whatever they counted so far.
   */
  flush(): void {
    const stats = this.#stats;
    const metrics = this.#metrics;
    if (this.#read > 0) {
      stats.read += this.#read;
      metrics.in.inc(this.#read);
      this.#read = 0;
    }
    if (this.#valid > 0) {
      stats.valid += this.#valid;
      metrics.valid.inc(this.#valid);
      this.#valid = 0;
    }
    for (const [code, count] of this.#invalid) {
      stats.countInvalid(code, count);
      metrics.invalid(code).inc(count);
    }
    this.#invalid.clear();
    for (const [code, count] of this.#stageFailures) stats.countFailed(code, count);
    this.#stageFailures.clear();
    for (const [key, failures] of this.#failed) {
      if (failures.count === 0) continue;
      if (failures.deadLettered) stats.deadLettered += failures.count;
      else stats.dropped += failures.count;
      metrics.failed(key).inc(failures.count);
      failures.count = 0;
    }
    const counts = this.#stageCounts;
    for (let i = 0; i < this.#stages.length; i++) {
      const stage = this.#stages[i]!;
      const at = i * COUNTS;
      if (counts[at + IN]! > 0) stage.in.inc(counts[at + IN]!);
      if (counts[at + OUT]! > 0) stage.out.inc(counts[at + OUT]!);
      if (counts[at + FILTERED]! > 0) {
        stage.filtered.inc(counts[at + FILTERED]!);
        stats.countFiltered(stage.stage, counts[at + FILTERED]!);
      }
    }
    counts.fill(0);
  }

  /** A batch's outputs, acknowledged `now` (performance.now()): written, and each one's latency from receipt. */
  delivered(receivedAt: readonly number[], now: number): void {
    const outputs = receivedAt.length;
    this.#stats.written += outputs;
    if (outputs > 0) this.#metrics.out.inc(outputs);
    const latency = this.#metrics.latency;
    const histogram = this.#stats.latency;
    for (const received of receivedAt) {
      const micros = Math.max(1, Math.round((now - received) * 1000));
      histogram.recordValue(micros);
      latency.record(micros / 1e6);
    }
  }
}
