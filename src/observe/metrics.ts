// Prometheus metrics (prom-client). Every metric is declared once in METRICS below (name, type,
// help, labels): the registry, the README table and the tests come from that list. The hot path
// never touches a label set: counters are incremented once per batch on children created ahead,
// and latencies go into Tallies (plain bucket arrays, see TallyHistogram) because prom-client's
// observe() hashes the labels on every call (~0.7 µs, measured on a shared machine). Stage
// durations are sampled (see STAGE_TIMING_SAMPLE in pipeline/flow.ts).
import client from 'prom-client';
import type { BreakerState, CallOutcome, StateMetrics } from '../component/metrics.ts';
import { Readiness } from './health.ts';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Declaration {
  readonly type: Kind;
  readonly help: string;
  readonly labels: readonly string[];
}

/** Every Sluice metric. Label values are flow, stage and service names, reason codes, topics and partitions: bounded sets. */
export const METRICS = {
  sluice_messages_in_total: { type: 'counter', help: 'Messages read from the flow\'s source', labels: ['flow'] },
  sluice_messages_valid_total: { type: 'counter', help: 'Messages that passed validation', labels: ['flow'] },
  sluice_messages_invalid_total: { type: 'counter', help: 'Messages that failed validation, by verdict code', labels: ['flow', 'reason'] },
  sluice_messages_out_total: { type: 'counter', help: 'Records written to the flow\'s sink (acknowledged)', labels: ['flow'] },
  sluice_messages_filtered_total: { type: 'counter', help: 'Records a filter stage let go', labels: ['flow', 'stage'] },
  sluice_messages_dead_lettered_total: { type: 'counter', help: 'Messages sent to the dead-letter sink, by stage (validate for validation) and reason', labels: ['flow', 'stage', 'reason'] },
  sluice_messages_dropped_total: { type: 'counter', help: 'Failed messages dropped (logged, not dead-lettered), by stage and reason', labels: ['flow', 'stage', 'reason'] },
  sluice_stage_messages_in_total: { type: 'counter', help: 'Records that entered a stage', labels: ['flow', 'stage'] },
  sluice_stage_messages_out_total: { type: 'counter', help: 'Records a stage passed on to the next one (or the sink)', labels: ['flow', 'stage'] },
  sluice_stage_duration_seconds: { type: 'histogram', help: 'Time a record spent in a stage (for enrichment: waiting included), sampled: one record in 16', labels: ['flow', 'stage'] },
  sluice_end_to_end_latency_seconds: { type: 'histogram', help: 'From the hand-over by the source to the acknowledged write, per written record', labels: ['flow'] },
  sluice_flow_stalled: { type: 'gauge', help: 'Lanes (Kafka partitions) of the flow with messages waiting and nothing delivered for max-stall-ms (0: the flow makes progress)', labels: ['flow'] },
  sluice_core_batch_duration_seconds: { type: 'histogram', help: 'WebAssembly core time (validation and extraction) per batch', labels: ['flow'] },
  sluice_kafka_consumer_lag: { type: 'gauge', help: 'Log end offset minus the next offset to deliver, per partition, as of the last fetch (the figure KEDA scales on)', labels: ['flow', 'topic', 'partition'] },
  sluice_kafka_fetch_failing_partitions: { type: 'gauge', help: 'Partitions whose fetches keep failing while the group still answers (0: fetches succeed); /readyz fails once that lasts max-broker-silence-ms', labels: ['flow'] },
  sluice_kafka_partitions_assigned: { type: 'gauge', help: 'Partitions assigned to this member of the consumer group', labels: ['flow'] },
  sluice_kafka_commits_total: { type: 'counter', help: 'Offset commits (at-least-once), by outcome (ok, error)', labels: ['flow', 'outcome'] },
  sluice_kafka_commit_duration_seconds: { type: 'histogram', help: 'Offset commit round trip', labels: ['flow'] },
  sluice_kafka_transactions_total: { type: 'counter', help: 'Transactions (exactly-once), by outcome (committed, aborted)', labels: ['flow', 'outcome'] },
  sluice_kafka_transaction_duration_seconds: { type: 'histogram', help: 'A batch\'s transaction: begin, produce, send offsets, commit', labels: ['flow'] },
  sluice_state_restored_records_total: { type: 'counter', help: 'Changelog records applied to a state store by restores', labels: ['flow', 'store'] },
  sluice_state_records_to_restore: { type: 'gauge', help: 'Changelog offsets a state store has left to restore on this instance (0: ready)', labels: ['flow', 'store'] },
  sluice_state_restore_duration_seconds: { type: 'histogram', help: 'A partition store\'s restore, from open to ready for its first batch', labels: ['flow', 'store'] },
  sluice_state_keys: { type: 'gauge', help: 'Keys in a state store (its partitions on this instance), as of the last checkpoint', labels: ['flow', 'store'] },
  sluice_state_bytes: { type: 'gauge', help: 'Bytes a state store takes (files or memory, its partitions on this instance), as of the last checkpoint', labels: ['flow', 'store'] },
  sluice_enrichment_calls_total: { type: 'counter', help: 'Calls to an HTTP service, by outcome (ok, not_found, http_status, unavailable, circuit_open, response, deadline)', labels: ['service', 'outcome'] },
  sluice_enrichment_call_duration_seconds: { type: 'histogram', help: 'A call to an HTTP service, retries and backoff included', labels: ['service'] },
  sluice_enrichment_retries_total: { type: 'counter', help: 'Attempts retried after a network error, timeout, 5xx or 429', labels: ['service'] },
  sluice_circuit_breaker_state: { type: 'gauge', help: 'A service\'s circuit breaker: 0 closed, 1 half-open, 2 open', labels: ['service'] },
} as const satisfies Record<string, Declaration>;

type Name = keyof typeof METRICS;
type LabelsOf<N extends Name> = (typeof METRICS)[N]['labels'][number];

/** Prefix of the default process and Node.js metrics (prom-client's collectDefaultMetrics). */
export const PROCESS_PREFIX = 'sluice_';

/** Upper bounds in seconds: 100 µs to 10 s. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One label set's histogram data, recorded without prom-client on the path (a bucket search and three additions). */
export class Tally {
  readonly counts = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;

  record(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A prom-client histogram whose data are Tallies: registered and rendered by prom-client, recorded in batches by Sluice. */
class TallyHistogram<T extends string> extends client.Histogram<T> {
  readonly #tallies = new Map<string, { labels: Record<T, string>; tally: Tally }>();
  readonly #name: string;
  readonly #help: string;

  constructor(config: client.HistogramConfiguration<T>) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
  }

  tally(labels: Record<T, string>): Tally {
    const key = JSON.stringify(labels);
    let entry = this.#tallies.get(key);
    if (!entry) this.#tallies.set(key, (entry = { labels, tally: new Tally() }));
    return entry.tally;
  }

  override get(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<T>>> {
    return this.getForPromString();
  }

  /** What the registry renders (prom-client calls this instead of get() when a metric has it). */
  async getForPromString(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<T>>> {
    const name = this.#name;
    const values: client.MetricValueWithName<T>[] = [];
    for (const { labels, tally } of this.#tallies.values()) {
      const bucket = (le: number | string, value: number) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le } as client.LabelValues<T>, value });
      let cumulative = 0;
      BUCKETS.forEach((le, i) => bucket(le, (cumulative += tally.counts[i]!)));
      bucket('+Inf', tally.count);
      values.push({ metricName: `${name}_sum`, labels, value: tally.sum });
      values.push({ metricName: `${name}_count`, labels, value: tally.count });
    }
    // prom-client's runtime type names are strings; its typings declare a numeric enum
    const type = 'histogram' as unknown as client.MetricType;
    return { name, help: this.#help, type, values, aggregator: 'sum', collect: () => undefined };
  }
}

type Counter = client.Counter.Internal;
type Gauge = client.Gauge.Internal<string>;

/** `make(key)` once per key, then from the cache: label children are created once. */
function cached<V>(make: (key: string) => V): (key: string) => V {
  const children = new Map<string, V>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) children.set(key, (child = make(key)));
    return child;
  };
}

/** The counters and tallies of one flow, children created ahead of the hot path. */
export class FlowMetrics {
  readonly in: Counter;
  readonly valid: Counter;
  readonly out: Counter;
  readonly invalid: (reason: string) => Counter;
  /** Failed messages by `"<stage> <dead_lettered|dropped> <reason>"`; the stage of validation failures is `validate`. */
  readonly failed: (stageFateReason: string) => Counter;
  readonly latency: Tally;
  readonly coreBatch: Tally;
  readonly #metrics: Metrics;
  readonly #flow: string;

  constructor(metrics: Metrics, flow: string) {
    this.#metrics = metrics;
    this.#flow = flow;
    this.in = metrics.counter('sluice_messages_in_total').labels(flow);
    this.valid = metrics.counter('sluice_messages_valid_total').labels(flow);
    this.out = metrics.counter('sluice_messages_out_total').labels(flow);
    this.invalid = cached((reason) => metrics.counter('sluice_messages_invalid_total').labels(flow, reason));
    this.failed = cached((key) => {
      const [stage, fate, reason] = key.split(' ') as [string, string, string];
      return metrics.counter(fate === 'dead_lettered' ? 'sluice_messages_dead_lettered_total' : 'sluice_messages_dropped_total').labels(flow, stage, reason);
    });
    this.latency = metrics.histogram('sluice_end_to_end_latency_seconds').tally({ flow });
    this.coreBatch = metrics.histogram('sluice_core_batch_duration_seconds').tally({ flow });
  }

  /** Counters and tally of a stage. */
  stage(stage: string): StageMetrics {
    const m = this.#metrics;
    const flow = this.#flow;
    return {
      stage,
      in: m.counter('sluice_stage_messages_in_total').labels(flow, stage),
      out: m.counter('sluice_stage_messages_out_total').labels(flow, stage),
      filtered: m.counter('sluice_messages_filtered_total').labels(flow, stage),
      duration: m.histogram('sluice_stage_duration_seconds').tally({ flow, stage }),
    };
  }
}

export interface StageMetrics {
  /** The stage's label. */
  readonly stage: string;
  readonly in: Counter;
  readonly out: Counter;
  readonly filtered: Counter;
  readonly duration: Tally;
}

/** A Kafka source's partitions, lag, commits and transactions. */
export class KafkaSourceMetrics {
  readonly commitsOk: Counter;
  readonly commitsFailed: Counter;
  readonly commitDuration: Tally;
  readonly transactionsCommitted: Counter;
  readonly transactionsAborted: Counter;
  readonly transactionDuration: Tally;
  readonly fetchFailing: Gauge;
  readonly #lag: client.Gauge<string>;
  readonly #assigned: Gauge;
  readonly #flow: string;
  #lagged = new Set<string>();
  /** The partitions assigned now (`topic partition`); undefined before the first assignment. */
  #assignment: Set<string> | undefined;

  constructor(metrics: Metrics, flow: string) {
    this.#flow = flow;
    const commits = metrics.counter('sluice_kafka_commits_total');
    this.commitsOk = commits.labels(flow, 'ok');
    this.commitsFailed = commits.labels(flow, 'error');
    this.commitDuration = metrics.histogram('sluice_kafka_commit_duration_seconds').tally({ flow });
    const transactions = metrics.counter('sluice_kafka_transactions_total');
    this.transactionsCommitted = transactions.labels(flow, 'committed');
    this.transactionsAborted = transactions.labels(flow, 'aborted');
    this.transactionDuration = metrics.histogram('sluice_kafka_transaction_duration_seconds').tally({ flow });
    this.#lag = metrics.gauge('sluice_kafka_consumer_lag');
    this.#assigned = metrics.gauge('sluice_kafka_partitions_assigned').labels(flow);
    this.fetchFailing = metrics.gauge('sluice_kafka_fetch_failing_partitions').labels(flow);
  }

  /** A new assignment: the partitions gone lose their lag series (another member reports them now). */
  assigned(partitions: readonly { topic: string; partition: number }[]): void {
    this.#assigned.set(partitions.length);
    const kept = new Set(partitions.map((p) => `${p.topic} ${p.partition}`));
    this.#assignment = kept;
    for (const key of this.#lagged) {
      if (kept.has(key)) continue;
      const [topic, partition] = key.split(' ') as [string, string];
      this.#lag.remove(this.#flow, topic, partition);
      this.#lagged.delete(key);
    }
  }

  /**
   * Once per batch: the partition's log end offset minus the next offset to deliver. A batch of a
   * partition given up meanwhile (it finished after a rebalance) reports nothing: its new owner
   * does, and a sum over the members must count each partition once.
   */
  lag(topic: string, partition: number, logEnd: bigint, next: bigint): void {
    const key = `${topic} ${partition}`;
    if (this.#assignment !== undefined && !this.#assignment.has(key)) return;
    const lag = logEnd > next ? logEnd - next : 0n;
    this.#lag.labels(this.#flow, topic, String(partition)).set(Number(lag));
    this.#lagged.add(key);
  }
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** An HTTP service's calls, retries and circuit breaker. */
export class ServiceMetrics {
  readonly call: (outcome: CallOutcome) => Counter;
  readonly duration: Tally;
  readonly retries: Counter;
  readonly #state: Gauge;
  /** performance.now() when the breaker last left the closed state (open, then half-open…); undefined while closed. */
  unhealthySince: number | undefined;

  constructor(metrics: Metrics, service: string) {
    this.call = cached((outcome) => metrics.counter('sluice_enrichment_calls_total').labels(service, outcome));
    this.duration = metrics.histogram('sluice_enrichment_call_duration_seconds').tally({ service });
    this.retries = metrics.counter('sluice_enrichment_retries_total').labels(service);
    this.#state = metrics.gauge('sluice_circuit_breaker_state').labels(service);
    this.#state.set(0);
  }

  breaker(state: BreakerState): void {
    this.#state.set(BREAKER_VALUE[state]);
    if (state === 'closed') this.unhealthySince = undefined;
    else this.unhealthySince ??= performance.now();
  }
}

/**
 * A process's metrics and readiness: one registry, shared by every flow, source and service
 * built with it; handles are created once per flow or service name and kept (a rebuilt flow
 * counts on where the previous one left off).
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly readiness = new Readiness();
  /** This registry is served (`sluice run`): the process metrics are in it and stages are timed per record. */
  readonly served: boolean;
  readonly #metrics = new Map<Name, client.Counter<string> | client.Gauge<string> | TallyHistogram<string>>();
  readonly flow = cached((flow) => new FlowMetrics(this, flow));
  readonly kafkaSource = cached((flow) => new KafkaSourceMetrics(this, flow));
  /** A state store's metrics, by flow and store. */
  state(flow: string, store: string): StateMetrics {
    return this.#state(`${flow}\u0000${store}`);
  }
  readonly #state = cached((id) => {
    const [flow, store] = id.split('\u0000') as [string, string];
    return {
      restored: this.counter('sluice_state_restored_records_total').labels(flow, store),
      toRestore: this.gauge('sluice_state_records_to_restore').labels(flow, store),
      restoreDuration: this.histogram('sluice_state_restore_duration_seconds').tally({ flow, store }),
      keys: this.gauge('sluice_state_keys').labels(flow, store),
      bytes: this.gauge('sluice_state_bytes').labels(flow, store),
    };
  });
  readonly service = cached((service) => {
    const metrics = new ServiceMetrics(this, service);
    this.readiness.add(({ maxCircuitOpenMs }) => {
      const since = metrics.unhealthySince;
      if (since === undefined || performance.now() - since <= maxCircuitOpenMs) return undefined;
      return `service ${service}: circuit breaker not closed for ${Math.round((performance.now() - since) / 1000)} s`;
    });
    return metrics;
  });

  constructor(options: { served?: boolean } = {}) {
    this.served = options.served ?? false;
    for (const [name, declaration] of Object.entries(METRICS) as [Name, Declaration][]) {
      const config = { name, help: declaration.help, labelNames: [...declaration.labels], registers: [this.registry] };
      this.#metrics.set(
        name,
        declaration.type === 'counter' ? new client.Counter(config) : declaration.type === 'gauge' ? new client.Gauge(config) : new TallyHistogram({ ...config, buckets: BUCKETS }),
      );
    }
    if (this.served) client.collectDefaultMetrics({ register: this.registry, prefix: PROCESS_PREFIX });
  }

  counter<N extends Name>(name: N): client.Counter<LabelsOf<N>> {
    return this.#metrics.get(name) as client.Counter<LabelsOf<N>>;
  }

  gauge<N extends Name>(name: N): client.Gauge<LabelsOf<N>> {
    return this.#metrics.get(name) as client.Gauge<LabelsOf<N>>;
  }

  histogram<N extends Name>(name: N): TallyHistogram<LabelsOf<N>> {
    return this.#metrics.get(name) as TallyHistogram<LabelsOf<N>>;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Where the README holds the generated table (scripts/readme-tables.ts). */
export const README_MARKERS = ['<!-- metrics table: generated by npm run docs:metrics -->', '<!-- end of metrics table -->'] as const;

/** The metrics table of the README, from METRICS. */
export function metricsTable(): string {
  const rows = Object.entries(METRICS).map(([name, d]) => `| \`${name}\` | ${d.type} | ${d.labels.join(', ')} | ${d.help} |`);
  return ['| metric | type | labels | what |', '|---|---|---|---|', ...rows].join('\n');
}
