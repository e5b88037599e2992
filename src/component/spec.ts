// A source, stage or sink is one module exporting a spec: its config schema (the single source
// of defaults, lint and docs), a summary, examples (linted in the tests) and a factory.
// Factories compile and check; they do no I/O that a `sluice check` should not do.
import type { Registry } from '@bufbuild/protobuf';
import type { z } from 'zod';
import type { FlowRules } from '../core/rule-model.ts';
import type { FieldTable } from './fields.ts';
import type { Service } from './service.ts';
import type { KeyValueStore, StoreBackendName } from './state.ts';
import type { ComponentContext, Sink, SinkRole, Source, Stage } from './types.ts';

export interface StageContext extends ComponentContext {
  /** The flow's validation rules (with the documents they reference): a stage's field references must be defined there. */
  readonly rules: FlowRules;
  /** Slots for the fields this stage reads. */
  readonly fields: FieldTable;
  readonly recordTypes: Registry;
  /** Full name of the output record type built by an earlier map stage, if any. */
  readonly outputType: string | undefined;
  /** The configured HTTP service of that name (shared by the stages naming it), if any. */
  service(name: string): Service | undefined;
  /** The flow's latency budget from receipt, for stages that call out. */
  readonly deadlineMs: number | undefined;
  /**
   * Opens the flow's store of this name (one per flow: local mode; Kafka flows will get one per
   * input partition). Opening is I/O: call it when the first record comes, not in `create`.
   */
  openStore(name: string, backend: StoreBackendName): KeyValueStore;
}

interface Spec<S extends z.ZodType> {
  readonly kind: string;
  readonly summary: string;
  /** The component's own keys (without `kind` and `name`). */
  readonly config: S;
  readonly examples: readonly z.input<S>[];
}

export interface StageSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  /** The record type the stage builds, when it is a map-like stage. */
  outputType?(config: z.output<S>): string;
  /** It keeps state (`openStore`): for now only where a flow's input is a file (local mode). */
  readonly stateful?: boolean;
  create(config: z.output<S>, context: StageContext): Stage;
}

export interface SourceSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  create(config: z.output<S>, context: ComponentContext): Source;
}

export interface SinkSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  /** The message field whose value keys each output (a field reference), if configured. */
  keyField?(config: z.output<S>): string | undefined;
  create(config: z.output<S>, context: ComponentContext, role: SinkRole): Sink;
}
