// What a component may record and report: narrow views of the process's metrics and readiness
// (observe/metrics.ts and observe/health.ts implement them). A component counts through these
// and never sees the registry behind them.

/** A counter child, its labels bound ahead of the hot path. */
export interface Counter {
  inc(value?: number): void;
}

/** A gauge child, its labels bound ahead. */
export interface Level {
  set(value: number): void;
}

/** A latency histogram's data for one label set, recorded without touching the registry. */
export interface Tally {
  record(seconds: number): void;
}

/** The thresholds a readiness check is judged against (observe.readiness in the configuration). */
export interface ReadinessLimits {
  readonly maxCircuitOpenMs: number;
  readonly maxBrokerSilenceMs: number;
}

/** A problem in words, or undefined when this part is ready. */
export type ReadinessCheck = (limits: ReadinessLimits) => string | undefined;

/** A Kafka source's partitions, lag, commits and transactions. */
export interface KafkaSourceMetrics {
  readonly commitsOk: Counter;
  readonly commitsFailed: Counter;
  readonly commitDuration: Tally;
  readonly transactionsCommitted: Counter;
  readonly transactionsAborted: Counter;
  readonly transactionDuration: Tally;
  /** Partitions whose fetches keep failing (0 once a fetch succeeds). */
  readonly fetchFailing: { set(partitions: number): void };
  /** A new assignment: the partitions gone lose their lag series. */
  assigned(partitions: readonly { topic: string; partition: number }[]): void;
  /** Once per batch: the partition's log end offset minus the next offset to deliver. */
  lag(topic: string, partition: number, logEnd: bigint, next: bigint): void;
}

export type CallOutcome = 'ok' | 'not_found' | 'http_status' | 'unavailable' | 'circuit_open' | 'response' | 'deadline';

export type BreakerState = 'closed' | 'half-open' | 'open';

/** An HTTP service's calls, retries and circuit breaker. */
export interface ServiceMetrics {
  readonly call: (outcome: CallOutcome) => Counter;
  readonly duration: Tally;
  readonly retries: Counter;
  breaker(state: BreakerState): void;
}

/** A state store's restore and size (all its partitions on this instance). */
export interface StateMetrics {
  /** Changelog records applied by restores. */
  readonly restored: Counter;
  /** Changelog offsets left to restore (0 once every assigned partition is ready). */
  readonly toRestore: Level;
  /** A partition's restore, from open to ready. */
  readonly restoreDuration: Tally;
  readonly keys: Level;
  readonly bytes: Level;
}

/** What the components of a flow are handed: their metrics, and readiness checks to add while they run. */
export interface ComponentMetrics {
  kafkaSource(flow: string): KafkaSourceMetrics;
  state(flow: string, store: string): StateMetrics;
  readonly readiness: { add(check: ReadinessCheck): () => void };
}
