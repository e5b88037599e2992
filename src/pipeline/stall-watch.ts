// A flow's progress, lane by lane (a Kafka partition, a file): what was handed over and is not
// delivered yet. A lane with work that delivers nothing for max-stall-ms — a batch stuck, or its
// transactions aborting and the batch coming back — makes the flow not ready (the readiness check
// names it, sluice_flow_stalled counts the lanes, one log line when the stall starts and one when
// it ends); stalled for stall-timeout-ms, the flow fails so that the process exits and is
// restarted. On a shutdown that runs out of time it says what was left undelivered.
import type { Logger } from 'pino';
import { SluiceError } from '../errors.ts';
import type { Origin } from '../component/types.ts';

interface Lane {
  /** Batches handed over and not settled, oldest first: their message counts and first origins. */
  readonly batches: { readonly messages: number; readonly first: Origin | undefined }[];
  /** performance.now() since when the lane waits for progress (its last delivery, or the work that found it idle). */
  since: number;
  /** performance.now() of its last hand-over. */
  handedOverAt: number;
  /** Batches settled undelivered (aborted transactions) since the last delivery. */
  undelivered: number;
}

export interface StallLimits {
  readonly maxStallMs: number;
  /** 0: never fail. */
  readonly stallTimeoutMs: number;
}

/** A lane's name for people: `topic partition 3`, or `the source` (a file). */
function laneName(lane: string, first: Origin | undefined): string {
  if (first?.kind === 'kafka') return `${first.topic} partition ${first.partition}`;
  if (first?.kind === 'file') return first.file;
  return lane === '' ? 'the source' : lane.replace('\u0000', ' partition ');
}

export class StallWatch {
  readonly #flow: string;
  readonly #limits: StallLimits;
  readonly #logger: Logger;
  readonly #gauge: { set(value: number): void };
  readonly #fail: (error: SluiceError) => void;
  readonly #now: () => number;
  readonly #lanes = new Map<string, Lane>();
  /** The problem the last check found (logged when it appears and when it goes). */
  #stalled: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(parts: { flow: string; limits: StallLimits; logger: Logger; gauge: { set(value: number): void }; fail: (error: SluiceError) => void; now?: () => number }) {
    this.#flow = parts.flow;
    this.#limits = parts.limits;
    this.#logger = parts.logger;
    this.#gauge = parts.gauge;
    this.#fail = parts.fail;
    this.#now = parts.now ?? (() => performance.now());
  }

  /** A batch entered the flow. */
  handedOver(lane: string, messages: number, first: Origin | undefined): void {
    const now = this.#now();
    let state = this.#lanes.get(lane);
    if (!state) this.#lanes.set(lane, (state = { batches: [], since: now, handedOverAt: now, undelivered: 0 }));
    // an idle lane starts waiting now; one whose last batch came back undelivered waits on
    else if (state.batches.length === 0 && state.undelivered === 0) state.since = now;
    state.handedOverAt = now;
    state.batches.push({ messages, first });
  }

  /** The lane's oldest batch settled: delivered (progress) or not (an aborted transaction: it comes back). */
  settled(lane: string, delivered: boolean): void {
    const state = this.#lanes.get(lane);
    if (!state) return;
    state.batches.shift();
    if (delivered) {
      state.since = this.#now();
      state.undelivered = 0;
    } else state.undelivered++;
  }

  /** What stalls the flow now, in words; undefined while it makes progress. */
  problem(): string | undefined {
    const now = this.#now();
    const stalled: string[] = [];
    let longest = 0;
    for (const [lane, state] of this.#lanes) {
      // a lane whose batch came back undelivered counts while it is being handed over again (not
      // once the partition went to another member)
      const waiting = state.batches.length > 0 || (state.undelivered > 0 && now - state.handedOverAt < this.#limits.maxStallMs);
      const forMs = now - state.since;
      if (!waiting || forMs < this.#limits.maxStallMs) continue;
      longest = Math.max(longest, forMs);
      const aborted = state.undelivered > 0 ? `, ${state.undelivered} deliveries failed in a row (transactions aborted)` : '';
      stalled.push(`${laneName(lane, state.batches[0]?.first)} delivered nothing for ${Math.round(forMs / 1000)} s${aborted}`);
    }
    this.#gauge.set(stalled.length);
    if (stalled.length === 0) return undefined;
    const problem = `flow ${this.#flow} is stalled: ${stalled.join('; ')}`;
    const timeout = this.#limits.stallTimeoutMs;
    if (timeout > 0 && longest >= timeout) this.#fail(new SluiceError('SLC_IO', `${problem}: failing after stall-timeout-ms (${timeout} ms) so that the process is restarted`));
    return problem;
  }

  /** Checks every so often (unref'd): the log line, the gauge and the timeout do not wait for a probe. */
  start(): () => void {
    const every = Math.max(50, Math.min(this.#limits.maxStallMs / 4, 5000));
    this.#timer = setInterval(() => this.#check(), every);
    this.#timer.unref();
    return () => {
      clearInterval(this.#timer);
      this.#gauge.set(0);
    };
  }

  #check(): void {
    const problem = this.problem();
    // the logger is the flow's (its name bound)
    if (problem !== undefined && this.#stalled === undefined) this.#logger.error(problem);
    else if (problem === undefined && this.#stalled !== undefined) this.#logger.info(`flow ${this.#flow} makes progress again`);
    this.#stalled = problem;
  }

  /** The batches handed over and not delivered, per lane, in words (empty when none). */
  undelivered(): string[] {
    const out: string[] = [];
    for (const [lane, state] of this.#lanes) {
      if (state.batches.length === 0) continue;
      const messages = state.batches.reduce((sum, b) => sum + b.messages, 0);
      const first = state.batches[0]!.first;
      const from = first?.kind === 'kafka' ? ` from offset ${first.offset}` : first?.kind === 'file' ? ` from line ${first.line}` : '';
      out.push(`flow ${this.#flow}: ${laneName(lane, first)}: ${messages} messages in ${state.batches.length} batches${from}`);
    }
    return out;
  }
}
