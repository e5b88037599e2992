// The records that flow through a pipeline, and the interfaces of its parts.
import type { Message } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { StageFailureCode } from './failures.ts';
import type { ComponentMetrics } from './metrics.ts';
import type { BatchState, PartitionedState } from './state.ts';

/** Where a message came from: the coordinates a dead letter carries. */
export type Origin = FileOrigin | KafkaOrigin;

export interface FileOrigin {
  readonly kind: 'file';
  readonly file: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

export interface KafkaOrigin {
  readonly kind: 'kafka';
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Kafka-style headers: passed through to outputs, kept in dead letters. */
export type Headers = Readonly<Record<string, string | Uint8Array>>;

export const NO_HEADERS: Headers = Object.freeze({});

/** A message as a source hands it over: raw bytes, untouched. */
export interface InputMessage {
  readonly value: Uint8Array;
  readonly key: Uint8Array | null;
  readonly headers: Headers;
  /** The producer's timestamp in ms since the epoch, as Kafka gives it (a decimal string), if any. */
  readonly timestamp: string | undefined;
  readonly origin: Origin;
  /** performance.now() when the source handed it over: the start of its in-process latency. */
  readonly receivedAt: number;
}

/** What a source yields: messages in order, and how to acknowledge them once delivered. */
export interface SourceBatch extends Acknowledgement {
  readonly messages: readonly InputMessage[];
  /**
   * Batches of one lane (a Kafka partition) are delivered in the order they were handed over;
   * those of different lanes may be delivered concurrently. Default: one lane for the source.
   */
  readonly lane?: string;
}

/**
 * How a batch is acknowledged. The flow keeps these functions, not the batch, until delivery (so
 * that the messages die young) and calls them on their own: they must not use `this`.
 */
export interface Acknowledgement {
  /** At-least-once: called after every output and dead letter of the batch is acknowledged; commits. */
  readonly done: () => Promise<void>;
  /**
   * Exactly-once sources: writes the batch's outputs and dead letters and commits its offsets in
   * one transaction, instead of the sinks' writes and done(). False when it was aborted (the
   * batch comes again).
   */
  readonly deliverAtomically?: (sends: readonly TopicSend[]) => Promise<boolean>;
}

/** A message its writer places on a partition, maybe a tombstone (a changelog's). */
export interface PlacedMessage extends Omit<OutboundMessage, 'value'> {
  /** null: a tombstone (compaction then drops the key). */
  readonly value: Uint8Array | null;
  /** The partition it must go to; absent: by key hash. */
  readonly partition?: number;
}

/** A batch's messages for one topic. */
export interface TopicSend {
  readonly topic: string;
  readonly messages: readonly PlacedMessage[];
  readonly compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Dead letters: one the topic refuses as too large may lose its value (never the batch). */
  readonly deadLetters?: boolean;
}

export type Delivery = 'at-least-once' | 'exactly-once';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A validated message on its way through the stages. */
export interface FlowRecord extends InputMessage {
  /** The source's key until a key-by stage sets another (later stages and the sink see it). */
  key: Uint8Array | null;
  /** Byte spans of the extracted fields, (start, end) per slot, -1 when absent; shared by a batch. */
  readonly spans: Int32Array;
  /** Index in `spans` of this record's first span. */
  readonly spanAt: number;
  /** The extracted fields already decoded, by slot (the plain-JS validator): then `spans` is not read. */
  readonly values?: readonly unknown[] | null;
  /** The record being built for the sink (set by a map stage). */
  output: Message | null;
  /** The stores of the record's partition as its batch sees them (a flow with stateful stages). */
  readonly state?: BatchState | undefined;
}

/** A message ready for a sink: what Kafka would carry. */
export interface OutboundMessage {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers: Headers;
  readonly timestamp?: string | undefined;
}

export interface StageFailure {
  readonly kind: 'fail';
  /** Why, from the closed list of component/failures.ts (e.g. E_LOOKUP_MISS). */
  readonly code: StageFailureCode;
  readonly message: string;
  /** Send to the flow's dead-letter sink (true) or drop with a log line (false). */
  readonly deadLetter: boolean;
}

export const CONTINUE = Object.freeze({ kind: 'continue' as const });
export const FILTERED = Object.freeze({ kind: 'filtered' as const });
/** Taken into the stage's state (an aggregate's window): goes no further, what comes out is emitted. */
export const ABSORBED = Object.freeze({ kind: 'absorbed' as const });
export type StageOutcome = typeof CONTINUE | typeof FILTERED | typeof ABSORBED | StageFailure;

/** A record a stage emits of its own (a window's result), not an input record going on. */
export interface EmittedRecord {
  readonly key: Uint8Array | null;
  readonly output: Message;
  /** Its time in ms since the epoch, as Kafka carries it (a decimal string). */
  readonly timestamp?: string | undefined;
}

/** Takes a stage's emitted record into the outputs of the batch it works in. */
export type Emit = (record: EmittedRecord) => void;

/**
 * A stage that emits (the flow's last stage): what it emits joins the outputs of the batch it
 * works in, so that under exactly-once its results, its store writes and the batch's offsets
 * commit together.
 */
export interface EmittingStage {
  /** After a batch's records went through the stages, and on an empty batch (the clock moved): emits what is due. */
  afterBatch(state: BatchState, emit: Emit): void;
  /** The input ended (local mode): emits everything it still holds (every open window). */
  flush(state: BatchState, emit: Emit): void;
}

export interface Stage {
  /** Synchronous for local work; a Promise only where there is real I/O. */
  process(record: FlowRecord): StageOutcome | Promise<StageOutcome>;
  /**
   * The stage waits on I/O: the flow then runs a batch's records concurrently through its stages
   * (one key at a time, in input order) instead of one after the other.
   */
  readonly callsOut?: boolean;
  /** It emits records of its own (see EmittingStage). */
  readonly emitting?: EmittingStage;
  close?(): Promise<void> | void;
}

/** Batches of messages, in order; ends when the input ends or after close(). */
export interface Source extends AsyncIterable<SourceBatch> {
  /** Stop fetching; the batches already handed over are still processed and acknowledged. */
  close(): Promise<void>;
}

export interface Sink {
  /** How output records are encoded for this sink. */
  readonly encoding: 'json' | 'protobuf';
  /** Where it writes, for sinks that can take part in a source's transaction (Kafka). */
  readonly transactional?: Omit<TopicSend, 'messages'>;
  write(batch: readonly OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

export type SinkRole = 'output' | 'dead-letter';

export interface ComponentContext {
  readonly flow: string;
  /** Directory the component's relative paths are resolved against (that of the file setting them). */
  readonly baseDir: string;
  readonly logger: Logger;
  /** The flow's delivery guarantee. */
  readonly delivery: Delivery;
  /** The process's metrics and readiness checks. */
  readonly metrics: ComponentMetrics;
  /** Wall-clock time for components that use it (the system clock; the test driver's can be advanced). */
  readonly clock: Clock;
  /** The flow's state, given to a partitioned source (Kafka) of a flow with stateful stages. */
  readonly state?: PartitionedState;
  /** Given to a source reading the flow's own repartition topic, which no one else reads (pipeline/repartition.ts). */
  readonly readsInternalTopic?: boolean;
}
