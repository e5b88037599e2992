// The shape of a Sluice configuration. Components (sources, stages, sinks) are checked against
// their own specs from the registry; here they are only `{ kind, name?, ... }`.
import { z } from 'zod';
import { serviceConfig } from '../component/service.ts';
import { connectionFields, integerFromEnv, localServiceConfig } from '../component/settings.ts';
import { MAX_DEPTH_LIMIT } from '../core/limits.ts';

export const component = z.looseObject({
  kind: z.string().describe('The component kind, e.g. file, map, filter'),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'a name is lower-case letters, digits and dashes')
    .optional()
    .describe('A stable name for logs and metrics (default: <kind>-<index>)'),
});

export const limits = z.strictObject({
  'max-depth': z
    .number()
    .int()
    .min(1)
    .max(MAX_DEPTH_LIMIT, `at most ${MAX_DEPTH_LIMIT}: deeper nesting would overflow the validator's stack`)
    .default(64)
    .describe(`Containers nested deeper than this are invalid (E_DEPTH); at most ${MAX_DEPTH_LIMIT}`),
  'max-size': z.number().int().min(1).max(256 * 1024 * 1024).default(1024 * 1024).describe('Messages larger than this many bytes are invalid (E_SIZE)'),
});

export const flow = z.strictObject({
  enabled: z.boolean().default(true).describe('A disabled flow is checked but not run'),
  description: z.string().optional(),
  source: component.describe('Where messages come from'),
  rules: z
    .union([z.boolean(), z.record(z.string(), z.unknown())])
    .optional()
    .describe('The validation rules: a JSON Schema (the subset the core runs)'),
  'rules-file': z.string().optional().describe('A .json file holding the rules (relative to the configuration file); its $refs may name sibling schema files, relative to it'),
  schemas: z
    .array(z.string())
    .default([])
    .describe('Schema files (relative to the configuration file) whose $id the rules may $ref; resolved when the configuration loads'),
  limits: limits.prefault({}),
  stages: z.array(component).default([]).describe('Run in order after validation'),
  sink: component.describe('Where records go'),
  'dead-letter': component.optional().describe('Where failed messages go, with the reason in headers'),
  'max-in-flight': z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(4)
    .describe('Batches being processed or delivered at once; each lane (a Kafka partition, a file) is still delivered in order'),
  'deadline-ms': z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Latency budget from receipt: a record past it is not sent to a stage that calls out (E_DEADLINE)'),
  'max-stall-ms': z
    .number()
    .int()
    .min(100)
    .default(60_000)
    .describe('A lane (Kafka partition) with messages waiting and nothing delivered for this long (transactions aborting, a batch stuck) makes /readyz fail naming the flow, sets sluice_flow_stalled and logs once'),
  'stall-timeout-ms': z
    .number()
    .int()
    .min(0)
    .default(300_000)
    .describe('A flow stalled this long fails (exit 70, the reason logged) so that its orchestrator restarts it, as Kafka Streams does after task.timeout.ms; 0: never'),
  delivery: z
    .enum(['at-least-once', 'exactly-once'])
    .default('at-least-once')
    .describe('at-least-once: offsets committed after outputs are acknowledged; exactly-once: outputs, dead letters and offsets in one Kafka transaction per batch (kafka source and sinks)'),
  validator: z
    .enum(['wasm', 'js'])
    .default('wasm')
    .describe('wasm: parse and validate in the WebAssembly core; js: JSON.parse + ajv on the same rules, the plain-JavaScript path it is measured against (accepts duplicate keys)'),
  'on-invalid': z
    .enum(['dlq', 'drop'])
    .default('dlq')
    .describe('Messages failing validation: to the dead-letter sink (dlq) or dropped, logged either way'),
});

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const log = z.strictObject({
  level: logLevel.default('info').describe('The least severe level written; $SLUICE_LOG_LEVEL overrides it'),
  destination: z.string().default('stderr').describe('stderr, stdout or a file path (relative to the configuration file)'),
  format: z.enum(['json', 'pretty']).default('json').describe('json: one JSON object a line (for collectors); pretty: coloured lines for a person at a terminal'),
  'failures-per-second': z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('Failed messages logged per second, per stage and reason; past it one line counts the rest (dead letters keep every one)'),
});

export const kafka = z.strictObject({
  brokers: z.string().describe('Bootstrap brokers "host:port,…": refer to it as ${kafka.brokers} in components'),
  tls: connectionFields.tls.describe('TLS for `sluice topics` and `sluice produce` (components: tls = ${?kafka.tls})'),
  sasl: connectionFields.sasl.describe('SASL for `sluice topics` and `sluice produce` (components: sasl = ${?kafka.sasl})'),
  topics: z
    .record(z.string(), z.number().int().min(1))
    .default({})
    .describe('Topics `sluice topics create` makes, with their partition counts'),
});

export const observe = z.strictObject({
  http: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve GET /metrics, /healthz and /readyz while `sluice run` runs'),
      host: z.string().min(1).default('127.0.0.1').describe('Address to listen on (0.0.0.0 in a container, for the probes and the scraper)'),
      port: integerFromEnv(z.number().int().min(0).max(65535))
        .default(9464)
        .describe('Port to listen on; 0 picks a free one (logged as "ops server listening")'),
    })
    .prefault({})
    .describe('The operations endpoint: Prometheus metrics, liveness and readiness'),
  readiness: z
    .strictObject({
      'max-circuit-open-ms': z.number().int().min(0).default(30_000).describe('/readyz fails once a service\'s circuit breaker has not been closed for this long'),
      'max-broker-silence-ms': z.number().int().min(1000).default(30_000).describe('/readyz fails once a Kafka consumer has had no fetch or heartbeat answered for this long, or its fetches have kept failing this long'),
    })
    .prefault({}),
});

export const tableName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a table name is lower-case letters, digits and dashes');

export const flowName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a flow name is lower-case letters, digits and dashes');

export const root = z.strictObject({
  log: log.prefault({}),
  'shutdown-timeout-ms': z
    .number()
    .int()
    .min(0)
    .default(25_000)
    .describe('On SIGTERM or SIGINT, the batches in flight are delivered and committed for at most this long; then the process exits 70 naming what was left undelivered (its offsets are not committed: a restart reads it again). Keep it below the orchestrator\'s grace period (30 s on Kubernetes); 0: wait for ever'),
  progress: z.enum(['auto', 'on', 'off']).default('auto').describe('Live progress on a terminal (auto: when stderr is a TTY)'),
  observe: observe.prefault({}).describe('Metrics and health endpoints of `sluice run`'),
  kafka: kafka.optional().describe('The Kafka cluster of this environment, for `sluice topics` and `sluice produce`'),
  services: z.record(z.string(), serviceConfig).default({}).describe('HTTP services the enrich-http stages call, with their resilience'),
  'local-services': z
    .record(z.string(), localServiceConfig)
    .default({})
    .describe('Built-in HTTP servers serving lookup files, started by sluice run (local mode)'),
  tables: z
    .record(tableName, component.omit({ name: true }))
    .default({})
    .describe('Tables the lookup stages read, by name: each held whole by every instance (kind = kafka, file or inline)'),
  flows: z.record(flowName, flow),
});

export type RootConfig = z.output<typeof root>;
export type FlowConfig = z.output<typeof flow>;
export type ComponentConfig = z.output<typeof component>;
