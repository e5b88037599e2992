// A flow at run time: source -> core (validate + extract, one crossing per chunk) -> stages ->
// sink, with failures routed to the dead-letter sink or dropped, never blocking the rest.
import type { Registry } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { type MessageValidator, type Verdict } from '../core/validator.ts';
import type { JsFallback } from '../core/rule-model.ts';
import { FailureLog } from '../observe/failure-log.ts';
import type { Readiness } from '../observe/health.ts';
import { type FlowMetrics, Metrics, type StageMetrics } from '../observe/metrics.ts';
import { FlowStats } from '../observe/stats.ts';
import { type FlowBatchState, FlowState } from '../state/flow-state.ts';
import { fieldBytes } from '../component/fields.ts';
import { untilInterrupted } from './interruptible.ts';
import { StallWatch } from './stall-watch.ts';
import { type FlowTables } from './tables.ts';
import { type FlowTopology, validateSettings } from './topology.ts';
import { type Acknowledgement, type Emit, type EmittingStage, type FlowRecord, type InputMessage, NO_HEADERS, type OutboundMessage, type Sink, type Source, type Stage, type StageOutcome, type TopicSend } from '../component/types.ts';
import { deadLetter, loggable } from './dead-letter.ts';
import { FlowCounts } from './flow-counts.ts';
import { KeyScheduler } from './key-scheduler.ts';
import { OutputEncoder } from './output-encoder.ts';

/** What became of a record: an output, a dead letter, or nothing (filtered or dropped). */
interface Result {
  readonly output?: OutboundMessage;
  readonly letter?: OutboundMessage;
}

const NOTHING: Result = Object.freeze({});

interface Delivered {
  /** The batch's writes to the flow's stores, remembered with its delivery. */
  readonly state: FlowBatchState | undefined;
  readonly outputs: OutboundMessage[];
  readonly letters: OutboundMessage[];
  /** When each output's input was received, for its latency (not the records: they die young). */
  readonly receivedAt: number[];
}

export interface NamedStage {
  readonly name: string;
  readonly stage: Stage;
}

/**
 * Stage durations are timed on one record in this many (a power of two): a clock read costs
 * 0.1–0.3 µs on a shared machine, several per record would rival the core's own work.
 */
export const STAGE_TIMING_SAMPLE = 16;

export class Flow {
  readonly name: string;
  readonly stats: FlowStats;
  readonly #validator: MessageValidator;
  readonly #stages: readonly NamedStage[];
  readonly #source: Source;
  readonly #sink: Sink;
  readonly #deadLetters: Sink | undefined;
  readonly #onInvalid: 'dlq' | 'drop';
  readonly #logger: Logger;
  readonly #failures: FailureLog;
  readonly #validateName: string;
  readonly #slots: number;
  /** Its stores, for queries (undefined: no stateful stage). */
  get state(): FlowState | undefined {
    return this.#state;
  }

  /** The checks of the flow's rules that JS decides rather than the core (`sluice check` lists them). */
  get fallbacks(): readonly JsFallback[] {
    return this.#validator.fallbacks;
  }

  /** Slot of the field that keys outputs, or -1 to keep the input key. */
  readonly #keySlot: number;
  readonly #encoder: OutputEncoder;
  /** Some stage waits on I/O: records of a batch run concurrently (see #runConcurrently). */
  readonly #callsOut: boolean;
  readonly #maxInFlight: number;
  /** Records of the batches in flight with the same key run in order (see #runConcurrently). */
  readonly #keys = new KeyScheduler();
  readonly #metrics: FlowMetrics;
  readonly #stageMetrics: readonly StageMetrics[];
  /** What the statistics and the metrics count, counted once per batch for both. */
  readonly #counts: FlowCounts;
  /** Stages are timed only when the metrics are served. */
  readonly #timeStages: boolean;
  /** Records that entered the stages: one in STAGE_TIMING_SAMPLE is timed. */
  #staged = 0;
  readonly #readiness: Readiness;
  readonly #watch: StallWatch;
  /** The stores of the flow's stateful stages, if any. */
  readonly #state: FlowState | undefined;
  readonly #tables: FlowTables | undefined;
  /** The last stage, when it emits records of its own (window results). */
  readonly #emitting: EmittingStage | undefined;
  /** Fails the run under way (set while it runs). */
  #failRun: (error: unknown) => void = () => undefined;
  #stopping = false;

  constructor(parts: {
    topology: FlowTopology;
    validator: MessageValidator;
    stages: NamedStage[];
    source: Source;
    sink: Sink;
    deadLetters: Sink | undefined;
    logger: Logger;
    failuresPerSecond: number;
    registry: Registry;
    keySlot: number;
    /** Counters to continue (a flow restarted by a reload counts on where its predecessor ended). */
    stats?: FlowStats | undefined;
    metrics: Metrics;
    state?: FlowState | undefined;
    /** The tables its lookups read: loaded before the first batch, let go of when the run ends. */
    tables?: FlowTables;
  }) {
    this.#tables = parts.tables;
    this.name = parts.topology.flow;
    this.stats = parts.stats ?? new FlowStats(this.name);
    this.#validator = parts.validator;
    this.#stages = parts.stages;
    this.#source = parts.source;
    this.#sink = parts.sink;
    this.#deadLetters = parts.deadLetters;
    this.#onInvalid = validateSettings(parts.topology)['on-invalid'];
    this.#logger = parts.logger.child({ flow: this.name });
    this.#failures = new FailureLog(this.#logger, parts.failuresPerSecond);
    this.#validateName = `${this.name}.validate`;
    this.#slots = parts.validator.extract.length;
    this.#encoder = new OutputEncoder(parts.registry, parts.sink.encoding);
    this.#keySlot = parts.keySlot;
    this.#callsOut = parts.stages.some((s) => s.stage.callsOut === true);
    this.#maxInFlight = parts.topology.maxInFlight;
    this.#metrics = parts.metrics.flow(this.name);
    this.#stageMetrics = parts.stages.map((s) => this.#metrics.stage(this.#stageLabel(s.name)));
    this.#counts = new FlowCounts(this.stats, this.#metrics, this.#stageMetrics);
    this.#timeStages = parts.metrics.served;
    this.#readiness = parts.metrics.readiness;
    this.#state = parts.state;
    this.#emitting = parts.stages.at(-1)?.stage.emitting;
    this.#watch = new StallWatch({
      flow: this.name,
      limits: parts.topology,
      logger: this.#logger,
      gauge: parts.metrics.gauge('sluice_flow_stalled').labels(this.name),
      fail: (error) => this.#failRun(error),
    });
  }

  /** A stage's name without the flow's (`content.drop-drafts` -> `drop-drafts`; validation: `validate`): the flow is a label of its own. */
  #stageLabel(stage: string): string {
    return stage.startsWith(`${this.name}.`) ? stage.slice(this.name.length + 1) : stage;
  }

  /** Logs a failed message and returns its dead letter (undefined when it is dropped). */
  #fail(message: InputMessage, stage: string, code: string, text: string, toDeadLetters: boolean, verdict?: Verdict): OutboundMessage | undefined {
    // the stable fields: flow (bound), stage, reason and the source coordinates at the top level
    this.#failures.warn(stage, code, { path: verdict?.path, byte: verdict?.offset, ...loggable(message.origin) }, text);
    const deadLettered = toDeadLetters && this.#deadLetters !== undefined;
    this.#counts.failed(this.#stageLabel(stage), code, deadLettered);
    return deadLettered ? deadLetter(this.name, stage, message, code, text, verdict) : undefined;
  }

  /**
   * Runs a record through the stages: its output, or its dead letter, or nothing (filtered,
   * dropped). Synchronous while the stages are: a Promise only once a stage waits on I/O.
   */
  #runStages(record: FlowRecord): Result | Promise<Result> {
    return this.#stagesFrom(record, 0, this.#timeStages && (this.#staged++ & (STAGE_TIMING_SAMPLE - 1)) === 0);
  }

  #stagesFrom(record: FlowRecord, from: number, timed: boolean): Result | Promise<Result> {
    for (let i = from; i < this.#stages.length; i++) {
      this.#counts.stageIn(i);
      const started = timed ? performance.now() : 0;
      const outcome = this.#stages[i]!.stage.process(record);
      if (outcome instanceof Promise) {
        return outcome.then((settled) => {
          if (timed) this.#stageMetrics[i]!.duration.record((performance.now() - started) / 1000);
          return this.#afterStage(record, i, settled) ?? this.#stagesFrom(record, i + 1, timed);
        });
      }
      if (timed) this.#stageMetrics[i]!.duration.record((performance.now() - started) / 1000);
      const ended = this.#afterStage(record, i, outcome);
      if (ended) return ended;
    }
    const key = this.#keySlot < 0 ? record.key : (fieldBytes(record, this.#keySlot) ?? record.key);
    return { output: { key, value: this.#encoder.encode(record), headers: record.headers, timestamp: record.timestamp } };
  }

  /** Counts a stage's outcome: undefined to go on to the next stage, else the record's result. */
  #afterStage(record: FlowRecord, stage: number, outcome: StageOutcome): Result | undefined {
    if (outcome.kind === 'continue') {
      this.#counts.stageOut(stage);
      return undefined;
    }
    if (outcome.kind === 'absorbed') {
      this.#counts.stageOut(stage);
      return NOTHING;
    }
    if (outcome.kind === 'filtered') {
      this.#counts.stageFiltered(stage);
      return NOTHING;
    }
    this.#counts.stageFailed(outcome.code);
    const letter = this.#fail(record, this.#stages[stage]!.name, outcome.code, outcome.message, outcome.deadLetter);
    return letter ? { letter } : NOTHING;
  }

  /**
   * Stages that call out: the batch's records run concurrently, except that records with the same
   * key run one after the other, in input order (also across the batches in flight). Results come
   * back in input order.
   */
  #runConcurrently(records: readonly FlowRecord[]): Promise<Result[]> {
    return this.#keys.run(records, (record) => record.key, (record) => this.#runStages(record));
  }

  /** Validates and runs the stages over a batch; returns what to deliver. */
  async #processBatch(batch: readonly InputMessage[]): Promise<Delivered> {
    try {
      return await this.#validateAndStage(batch);
    } finally {
      this.#counts.flush();
    }
  }

  async #validateAndStage(batch: readonly InputMessage[]): Promise<Delivered> {
    const stats = this.stats;
    const counts = this.#counts;
    const validator = this.#validator;
    const values = batch.map((m) => m.value);
    const outputs: OutboundMessage[] = [];
    const letters: OutboundMessage[] = [];
    const receivedAt: number[] = [];
    const metrics = this.#metrics;
    counts.read(batch.length);
    let coreSeconds = 0;
    const produced = batch[0]?.timestamp;
    if (produced !== undefined) stats.sourceLag.recordValue(Math.max(0, Date.now() - Number(produced)));
    const records: FlowRecord[] = [];
    const state = this.#state && batch.length > 0 ? this.#beginState(batch) : this.#emptyBatchState();
    for (let start = 0; start < batch.length; ) {
      const checkStarted = performance.now();
      const count = validator.check(values, start);
      coreSeconds += (performance.now() - checkStarted) / 1000;
      const spans = validator.spans(count);
      for (let i = 0; i < count; i++) {
        const message = batch[start + i]!;
        if (!validator.ok(i)) {
          const verdict = validator.verdict(i);
          counts.invalid(verdict.code);
          const letter = this.#fail(message, this.#validateName, verdict.code, verdict.message, this.#onInvalid === 'dlq', verdict);
          if (letter) letters.push(letter);
          continue;
        }
        counts.valid();
        records.push({
          value: message.value,
          key: message.key,
          headers: message.headers,
          timestamp: message.timestamp,
          origin: message.origin,
          receivedAt: message.receivedAt,
          spans,
          spanAt: i * this.#slots * 2,
          values: validator.values(i),
          output: null,
          state,
        });
      }
      start += count;
    }
    metrics.coreBatch.record(coreSeconds);
    const collect = (record: FlowRecord, result: Result) => {
      if (result.output) {
        outputs.push(result.output);
        receivedAt.push(record.receivedAt);
      } else if (result.letter) letters.push(result.letter);
    };
    if (this.#callsOut) {
      const results = await this.#runConcurrently(records);
      for (let i = 0; i < records.length; i++) collect(records[i]!, results[i]!);
    } else {
      for (const record of records) {
        const result = this.#runStages(record);
        collect(record, result instanceof Promise ? await result : result);
      }
    }
    if (this.#emitting && state) this.#emitting.afterBatch(state, this.#emitInto(outputs, receivedAt));
    return { state, outputs, letters, receivedAt };
  }

  /** Where an emitting stage's records go: encoded by the sink's encoding among the batch's outputs. */
  #emitInto(outputs: OutboundMessage[], receivedAt: number[]): Emit {
    const now = performance.now(); // an emitted result's latency counts from its emission
    return (emitted) => {
      outputs.push({ key: emitted.key, value: this.#encoder.encodeMessage(emitted.output), headers: NO_HEADERS, timestamp: emitted.timestamp });
      receivedAt.push(now);
    };
  }

  /** An empty batch in local mode (the test driver's clock moved): an emitting stage's partition 0, to emit what is due. */
  #emptyBatchState(): FlowBatchState | undefined {
    return this.#emitting && this.#state?.local ? this.#state.begin(0, 0n) : undefined;
  }

  /** Local mode, the input ended: the emitting stage emits everything it holds, delivered like a batch. */
  async #flushEmitting(): Promise<void> {
    const state = this.#state!.begin(0, 0n);
    const outputs: OutboundMessage[] = [];
    const receivedAt: number[] = [];
    try {
      this.#emitting!.flush(state, this.#emitInto(outputs, receivedAt));
      if (outputs.length > 0) await this.#sink.write(outputs);
      await state.remember();
    } catch (error) {
      state.abort();
      throw error;
    }
    this.#counts.delivered(receivedAt, performance.now());
    this.#counts.flush();
  }

  /** The state a batch works in: its partition's stores (partition 0 but on Kafka). */
  #beginState(batch: readonly InputMessage[]): FlowBatchState {
    const last = batch[batch.length - 1]!.origin;
    return last.kind === 'kafka' ? this.#state!.begin(last.partition, last.offset) : this.#state!.begin(0, BigInt(last.line));
  }

  /** Writes a batch's outputs and dead letters and acknowledges it to its source. */
  async #deliver(batch: Acknowledgement, { state, outputs, letters, receivedAt }: Delivered): Promise<boolean> {
    if (batch.deliverAtomically) {
      const sends: TopicSend[] = [{ ...this.#sink.transactional!, messages: outputs }];
      if (this.#deadLetters) sends.push({ ...this.#deadLetters.transactional!, messages: letters });
      if (state) sends.push(...state.changelogSends());
      if (!(await batch.deliverAtomically(sends))) {
        state?.abort(); // aborted: nothing was written, and nothing of the batch is remembered
        return false;
      }
      state?.committed();
    } else {
      // outputs and dead letters go to different topics: both requests in flight at once
      await Promise.all([outputs.length > 0 && this.#sink.write(outputs), letters.length > 0 && this.#deadLetters!.write(letters)]);
      // remembered only now that every output and dead letter is acknowledged, before the commit
      await state?.remember();
      await batch.done(); // only now: every output and dead letter of the batch is acknowledged
    }
    this.#counts.delivered(receivedAt, performance.now());
    return true;
  }

  /** Runs until the source ends (or `stop` is called), then closes the sinks. */
  async run(): Promise<void> {
    this.stats.endedAt = 0;
    // Up to max-in-flight batches at once: a batch is validated and staged while earlier ones wait
    // on their services or are written. Each lane is delivered in hand-over order, so a source
    // never acknowledges a batch before the earlier ones of its partition (or file).
    const inFlight = new Set<Promise<void>>();
    const lastOfLane = new Map<string, Promise<void>>();
    let failure: { error: unknown } | undefined;
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    /** Wakes the wait for a batch in flight to settle (a failure does not wait for a stuck one). */
    let wakeWait: (() => void) | undefined;
    this.#failRun = (error) => {
      failure ??= { error };
      interrupt();
      wakeWait?.();
    };
    const watch = this.#watch;
    const stopWatching = watch.start();
    const stopped = this.#readiness.flowRunning(() => (this.#stopping ? `flow ${this.name}: stopping` : watch.problem()));
    try {
      // startup waits until each table caught up with its source
      await this.#tables?.open();
      for await (const { messages, lane = '', ...acknowledgement } of untilInterrupted(this.#source, interrupted)) {
        // kept until delivery: the acknowledgement, not the messages (they die young)
        watch.handedOver(lane, messages.length, messages[0]?.origin);
        const processed = this.#processBatch(messages);
        const settled: Promise<void> = Promise.all([processed, lastOfLane.get(lane)])
          .then(([delivery]) => (failure ? false : this.#deliver(acknowledgement, delivery)))
          .then(
            (delivered) => watch.settled(lane, delivered),
            (error: unknown) => {
              watch.settled(lane, false);
              this.#failRun(error);
            },
          )
          .finally(() => {
            inFlight.delete(settled);
            if (lastOfLane.get(lane) === settled) lastOfLane.delete(lane);
          });
        lastOfLane.set(lane, settled);
        inFlight.add(settled);
        // not a race with `interrupted`: that promise lives as long as the run, a reaction per wait would pile up on it
        while (inFlight.size >= this.#maxInFlight && !failure) {
          await new Promise<void>((resolve) => {
            wakeWait = resolve;
            for (const batch of inFlight) void batch.then(resolve);
          });
          wakeWait = undefined;
        }
        if (failure) throw failure.error;
      }
      await Promise.race([interrupted, Promise.all(inFlight)]);
      if (failure) throw failure.error;
      // a file's end (not a stop): the open windows close
      if (this.#emitting && this.#state?.local && !this.#stopping) await this.#flushEmitting();
    } finally {
      // a failed flow does not wait for its batches in flight: one may be stuck for good
      if (!failure) await Promise.all(inFlight);
      stopWatching();
      this.#failRun = () => undefined;
      stopped();
      this.stats.endedAt = performance.now();
      this.#failures.flush();
      await Promise.all([this.#sink.close(), this.#deadLetters?.close(), ...this.#stages.map((s) => s.stage.close?.()), this.#tables?.release()]);
      await this.#state?.close();
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // a table still loading stops waiting (its last holder closes it)
    await Promise.all([this.#source.close(), this.#tables?.release()]);
  }

  /** What was handed over and not delivered yet, in words (a shutdown that ran out of time says it). */
  undelivered(): string[] {
    return this.#watch.undelivered();
  }
}
