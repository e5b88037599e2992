// The records that flow through a pipeline, and the interfaces of its parts.
import type { Message } from '@bufbuild/protobuf';
import type { Logger } from 'pino';

/** Where a message came from: the coordinates a dead letter carries. */
export interface Origin {
  readonly file: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

/** A message as a source hands it over: raw bytes, untouched. */
export interface InputMessage {
  readonly value: Uint8Array;
  readonly key: Uint8Array | null;
  readonly origin: Origin;
  /** performance.now() when the source read it: the start of its end-to-end latency. */
  readonly receivedAt: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A validated message on its way through the stages. */
export interface FlowRecord extends InputMessage {
  /** Byte spans of the extracted fields, (start, end) per slot, -1 when absent; shared by a batch. */
  readonly spans: Int32Array;
  /** Index in `spans` of this record's first span. */
  readonly spanAt: number;
  /** The record being built for the sink (set by a map stage). */
  output: Message | null;
}

/** A message ready for a sink: what Kafka would carry. */
export interface OutboundMessage {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers: readonly (readonly [string, string])[];
}

export interface StageFailure {
  readonly kind: 'fail';
  /** A stable reason code, e.g. E_LOOKUP_MISS. */
  readonly code: string;
  readonly message: string;
  /** Send to the flow's dead-letter sink (true) or drop with a log line (false). */
  readonly deadLetter: boolean;
}

export const CONTINUE = Object.freeze({ kind: 'continue' as const });
export const FILTERED = Object.freeze({ kind: 'filtered' as const });
export type StageOutcome = typeof CONTINUE | typeof FILTERED | StageFailure;

export interface Stage {
  /** Synchronous for local work; a Promise only where there is real I/O. */
  process(record: FlowRecord): StageOutcome | Promise<StageOutcome>;
  close?(): Promise<void> | void;
}

/** Batches of messages, in order; ends when the input ends. */
export interface Source extends AsyncIterable<readonly InputMessage[]> {
  close(): Promise<void>;
}

export interface Sink {
  /** How output records are encoded for this sink. */
  readonly encoding: 'json' | 'protobuf';
  write(batch: readonly OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

export type SinkRole = 'output' | 'dead-letter';

export interface ComponentContext {
  readonly flow: string;
  /** Directory the component's relative paths are resolved against (that of the file setting them). */
  readonly baseDir: string;
  readonly logger: Logger;
}
