// A source, stage or sink is one module exporting a spec: its config schema (the single source
// of defaults, lint and docs), a summary, examples (linted in the tests) and a factory.
// Factories compile and check; they do no I/O that a `sluice check` should not do.
import type { Registry } from '@bufbuild/protobuf';
import type { z } from 'zod';
import type { FlowRules } from '../core/rule-model.ts';
import type { FieldTable } from './fields.ts';
import type { Service } from './service.ts';
import type { StateStore, StoreBackendName, StoreDeclaration } from './state.ts';
import type { Table, TableContext, TableRows } from './table.ts';
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
   * Declares the stage's store of this name (its directory under the state dir and, on Kafka, its
   * changelog <group>-<name>-changelog), one per input partition. No I/O: the flow opens and
   * restores the stores; a record's view of its partition's store is `of(record)`.
   */
  store(name: string, backend: StoreBackendName): StateStore;
  /** The table of that name (top-level `tables`), if any: filled once the flow starts. */
  table(name: string): TableRows | undefined;
}

interface Spec<S extends z.ZodType> {
  readonly kind: string;
  readonly summary: string;
  /** The component's own keys (without `kind` and `name`). */
  readonly config: S;
  readonly examples: readonly z.input<S>[];
  /**
   * Imports what `create` needs and costs start-up time (a Kafka client library): awaited when a
   * configuration using the component is loaded, so a command or flow without it never pays.
   */
  load?(config: z.output<S>): Promise<void>;
}

export interface StageSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  /** The record type the stage builds, when it is a map-like stage. */
  outputType?(config: z.output<S>): string;
  /**
   * It sets the record's key (key-by): on Kafka, a stateful stage after it needs its records
   * repartitioned by the new key, so the flow is split here.
   */
  readonly rekeys?: boolean;
  /** It builds or enriches the output record (map, enrich, lookup): work a repartition topic does not carry. */
  readonly buildsOutput?: boolean;
  /** It emits records of its own (Stage.emitting): it must be the flow's last stage. */
  readonly emits?: boolean;
  /** It keeps state (`store`). */
  readonly stateful?: boolean;
  /** The stores it declares with this config (their changelogs are listed and created from this). */
  stores?(config: z.output<S>): readonly StoreDeclaration[];
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

export interface TableSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  /** Builds the table without reading anything: `open` reads. */
  create(config: z.output<S>, context: TableContext): Table;
}
