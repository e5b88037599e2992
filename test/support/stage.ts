// One stage on its own, as a flow runs it: its config checked against its spec, built with a
// stage context (the flow's rules, a field table, the record types), and messages validated by
// the real core so that the stage reads the real field spans. No flow, no source, no sink.
import { pino } from 'pino';
import { recordTypes } from '../../schemas/index.ts';
import { type Clock, systemClock } from '../../src/component/clock.ts';
import { FieldTable } from '../../src/component/fields.ts';
import type { Service } from '../../src/component/service.ts';
import type { StageContext, StageSpec } from '../../src/component/spec.ts';
import type { StoreDeclaration } from '../../src/component/state.ts';
import { type FlowBatchState, FlowState } from '../../src/state/flow-state.ts';
import type { TableRows } from '../../src/component/table.ts';
import type { EmittedRecord, FlowRecord, Stage, StageOutcome } from '../../src/component/types.ts';
import type { JsonSchema } from '../../src/core/rule-model.ts';
import { compileSchema, type MessageValidator } from '../../src/core/validator.ts';
import { Metrics } from '../../src/observe/metrics.ts';

export interface StageUnderTest {
  readonly stage: Stage;
  /** Closes the stage's stores (what the flow does at the end of a run). */
  close(): Promise<void>;
  /** The keys (as latin1 text) the stage's store `slot` holds, as the delivered records left it. */
  storeKeys(slot?: number): string[];
  /** Validates `json` (a value, or its JSON text) against the rules (it must be valid) and runs the stage on its record. */
  run(json: unknown, options?: { key?: string; output?: FlowRecord['output'] }): Promise<{ outcome: StageOutcome; record: FlowRecord; emitted: EmittedRecord[] }>;
  /** An emitting stage, at the end of the input (local mode): what it emits. */
  flush(): Promise<EmittedRecord[]>;
  /** An emitting stage, on an empty batch (the clock moved): what it emits. */
  tick(): Promise<EmittedRecord[]>;
}

export interface StageOptions {
  readonly baseDir?: string;
  readonly outputType?: string;
  readonly services?: Readonly<Record<string, Service>>;
  readonly deadlineMs?: number;
  /** Where a stage's on-disk stores go; absent: every store is in memory. */
  readonly stateDir?: string;
  /** The stage's wall clock (default: the system clock). */
  readonly clock?: Clock;
  /** The tables a lookup may name, by name. */
  readonly tables?: Readonly<Record<string, TableRows>>;
}

/** Builds `spec` with `config` (checked by the spec: throws what a check would) for a flow with `rules`. */
export function stageUnderTest(spec: StageSpec, config: unknown, rules: JsonSchema, options: StageOptions = {}): StageUnderTest {
  const fields = new FieldTable();
  const metrics = new Metrics();
  const declared: StoreDeclaration[] = [];
  // local mode: partition 0 of each store, every store in memory unless a state dir is given
  const state = new FlowState({ flow: 'test', stores: declared, stateDir: options.stateDir ?? '', log: pino({ level: 'silent' }), metrics });
  const context: StageContext = {
    flow: 'test',
    baseDir: options.baseDir ?? process.cwd(),
    logger: pino({ level: 'silent' }),
    delivery: 'at-least-once',
    metrics,
    clock: options.clock ?? systemClock,
    rules: { schema: rules },
    fields,
    recordTypes,
    outputType: options.outputType,
    service: (name) => options.services?.[name],
    deadlineMs: options.deadlineMs,
    store: (name, backend) => {
      const slot = declared.push({ name, backend: options.stateDir === undefined ? 'memory' : backend }) - 1;
      return { of: (record) => record.state!.view(slot) };
    },
    table: (name) => options.tables?.[name],
  };
  const stage = spec.create(spec.config.parse(config), context);
  const validator: MessageValidator = compileSchema(rules, { extract: fields.pointers });
  const encoder = new TextEncoder();
  let line = 0;
  const emptyBatch = async (hook: (state: FlowBatchState, emit: (record: EmittedRecord) => void) => void) => {
    const emitted: EmittedRecord[] = [];
    const batchState = state.begin(0, BigInt(++line));
    hook(batchState, (r) => emitted.push(r));
    await batchState.remember();
    return emitted;
  };
  return {
    stage,
    close: () => state.close(),
    storeKeys(slot = 0) {
      const probe = state.begin(0, 0n); // a batch of nothing, to read the store through
      try {
        return [...probe.view(slot).entries()].map(([key]) => Buffer.from(key).toString('latin1'));
      } finally {
        probe.abort();
      }
    },
    async run(json, { key, output = null } = {}) {
      const value = encoder.encode(typeof json === 'string' ? json : JSON.stringify(json));
      const batchState: FlowBatchState | undefined = declared.length > 0 ? state.begin(0, BigInt(++line)) : undefined;
      const count = validator.check([value], 0);
      if (count !== 1 || !validator.ok(0)) throw new Error(`not valid under the rules: ${JSON.stringify(json)} (${validator.verdict(0).code})`);
      const record: FlowRecord = {
        value,
        key: key === undefined ? null : encoder.encode(key),
        headers: {},
        timestamp: undefined,
        origin: { kind: 'file', file: '(test)', line: 1 },
        receivedAt: performance.now(),
        spans: validator.spans(1).slice(),
        spanAt: 0,
        values: validator.values(0),
        output,
        state: batchState,
      };
      // each message is a batch of its own, delivered (its writes remembered) once processed
      const outcome = await stage.process(record);
      const emitted: EmittedRecord[] = [];
      if (batchState) stage.emitting?.afterBatch(batchState, (r) => emitted.push(r));
      await batchState?.remember();
      return { outcome, record, emitted };
    },
    flush: () => emptyBatch((batchState, emit) => stage.emitting!.flush(batchState, emit)),
    tick: () => emptyBatch((batchState, emit) => stage.emitting!.afterBatch(batchState, emit)),
  };
}
