// The test driver, like Kafka Streams' TopologyTestDriver: runs a flow of a real configuration on
// in-memory input, with the configured rules and stages, and returns its outputs, dead letters
// and counts. No broker, no files: the flow's source and sinks are replaced by memory.
import { fromBinary } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { recordTypes } from '../../schemas/index.ts';
import { loadConfig, resourcesOf } from '../pipeline/load.ts';
import { startLocalServices } from '../io/http/local-server.ts';
import { SluiceError } from '../errors.ts';
import { summarize, type FlowSummary } from '../observe/stats.ts';
import { buildFlows } from '../pipeline/build.ts';
import { stages } from '../pipeline/registry.ts';
import { ManualClock } from './clock.ts';
import { type FlowTopology, tableNodeName } from '../pipeline/topology.ts';
import type { Headers, InputMessage, OutboundMessage, Sink } from '../component/types.ts';

export interface TestInput {
  value: string | Uint8Array;
  key?: string | Uint8Array | null;
  headers?: Record<string, string>;
}

/** A step among the inputs: once every input before it is processed, the flow's clock moves on by `advanceMs`. */
export interface ClockAdvance {
  advanceMs: number;
}

export interface RunOptions {
  /** Where the flow's clock starts, in ms since the epoch (default: the time of the call); it moves only by ClockAdvance steps. */
  startTime?: number;
  /** Tables by name, each replacing the configured table of that name (its file or topic is not read). */
  tables?: Readonly<Record<string, TestTable>>;
}

export interface TestOutput {
  key: string | null;
  /** The record: parsed JSON for a json sink; for a protobuf sink, the message as proto JSON. */
  value: unknown;
  headers: Record<string, string>;
}

export interface TestDeadLetter {
  reason: string;
  stage: string;
  message: string;
  path?: string;
  /** 0-based index in the given inputs (clock steps included) of the input it came from. */
  input: number;
  value: Uint8Array;
}

/** A table given inline, in place of the configured one of that name: key -> row. */
export type TestTable = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface FlowRun {
  outputs: TestOutput[];
  deadLetters: TestDeadLetter[];
  summary: FlowSummary;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? encoder.encode(v) : v);
const text = (v: string | Uint8Array) => (typeof v === 'string' ? v : decoder.decode(v));

function memorySink(encoding: Sink['encoding'], into: OutboundMessage[]): Sink {
  return {
    encoding,
    write: async (batch) => void into.push(...batch),
    close: async () => undefined,
  };
}

function plainHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, text(v)]));
}

/**
 * Runs `flow` of the configuration `configFile` on `inputs`, in order, in one process. The flow's
 * wall clock stands still (at `options.startTime`) except for the ClockAdvance steps among them.
 */
export async function runFlow(configFile: string, flow: string, inputs: readonly (TestInput | ClockAdvance)[], options: RunOptions = {}): Promise<FlowRun> {
  const config = await loadConfig(configFile);
  const configured = config.flows.find((f) => f.flow === flow);
  if (!configured) throw new SluiceError('SLC_USAGE', `${configFile} has no flow "${flow}" (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
  const topology = withTables(configured, options.tables ?? {});
  const encoding = topology.nodes.find((n) => n.role === 'sink')?.config.encoding === 'protobuf' ? 'protobuf' : 'json';
  const outputs: OutboundMessage[] = [];
  const letters: OutboundMessage[] = [];
  // started before the inputs are stamped received: the lookup worker's start-up is no record's latency
  const localServices = await startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file']));
  const clock = new ManualClock(options.startTime ?? Date.now());
  /** Runs of consecutive messages, each with the clock step that precedes it. */
  const runs: { advanceMs: number; messages: InputMessage[] }[] = [{ advanceMs: 0, messages: [] }];
  inputs.forEach((input, index) => {
    if ('advanceMs' in input) {
      runs.push({ advanceMs: input.advanceMs, messages: [] });
      return;
    }
    runs.at(-1)!.messages.push({
      value: bytes(input.value),
      key: input.key === undefined || input.key === null ? null : bytes(input.key),
      headers: input.headers ?? {},
      timestamp: undefined,
      origin: { kind: 'file', file: '(test input)', line: index + 1 },
      receivedAt: performance.now(),
    });
  });
  const source = {
    async *[Symbol.asyncIterator]() {
      for (const [step, { advanceMs, messages }] of runs.entries()) {
        clock.advance(advanceMs);
        const acknowledged: Promise<void>[] = [];
        if (step > 0) {
          // an empty batch after a clock step: a stage that closes windows on the clock (close-idle-after) sees the time
          let done!: () => Promise<void>;
          acknowledged.push(new Promise<void>((resolve) => (done = async () => resolve())));
          yield { messages: [], done };
        }
        for (let i = 0; i < messages.length; i += 1024) {
          let done!: () => Promise<void>;
          acknowledged.push(new Promise<void>((resolve) => (done = async () => resolve())));
          yield { messages: messages.slice(i, i + 1024), done };
        }
        // the clock moves only once the flow has delivered every message before the step
        await Promise.all(acknowledged);
      }
    },
    close: async () => undefined,
  };
  let built;
  try {
    [built] = buildFlows(
      [topology],
      resourcesOf(config, pino({ level: 'silent' }), {
        io: () => ({ source, sink: memorySink(encoding, outputs), deadLetters: memorySink('json', letters) }),
        localUrls: localServices.urls,
        clock,
      }),
    );
    await built!.run();
  } finally {
    await localServices.stop();
  }
  // the record type of the last stage that builds one (map, aggregate)
  const outputType = topology.nodes.reduce<string | undefined>((type, n) => (n.role === 'stage' ? (stages[n.kind]?.outputType?.(n.config) ?? type) : type), undefined);
  const protobufType = encoding === 'protobuf' && outputType !== undefined ? recordTypes.getMessage(outputType) : undefined;
  return {
    outputs: outputs.map((o) => ({
      key: o.key === null ? null : text(o.key),
      value: protobufType ? fromBinary(protobufType, o.value) : JSON.parse(text(o.value)),
      headers: plainHeaders(o.headers),
    })),
    deadLetters: letters.map((d) => {
      const h = plainHeaders(d.headers);
      return {
        reason: h['sluice.reason']!,
        stage: h['sluice.stage']!,
        message: h['sluice.message']!,
        ...(h['sluice.path'] !== undefined ? { path: h['sluice.path'] } : {}),
        input: Number(h['sluice.source.line']) - 1,
        value: d.value,
      };
    }),
    summary: summarize(built!.stats),
  };
}

/** The topology with the given tables inline in place of the configured ones of the same names. */
function withTables(topology: FlowTopology, tables: Readonly<Record<string, TestTable>>): FlowTopology {
  const unknown = Object.keys(tables).filter((name) => !topology.nodes.some((n) => n.name === tableNodeName(name)));
  if (unknown.length > 0) throw new SluiceError('SLC_USAGE', `flow ${topology.flow} reads no table ${unknown.join(', ')}`);
  const nodes = topology.nodes.map((node) => {
    const rows = node.role === 'table' ? tables[node.name.slice(tableNodeName('').length)] : undefined;
    return rows === undefined ? node : { ...node, kind: 'inline', config: { rows } };
  });
  return { ...topology, nodes };
}
