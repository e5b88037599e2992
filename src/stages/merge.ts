// What the enrichment stages share: merging looked-up values into the output record (checked
// against the record type when the flow is built) and the policy for a failed lookup.
import { type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { z } from 'zod';
import type { ConfigProblem } from '../errors.ts';
import type { StageFailureCode } from '../component/failures.ts';
import type { StageContext } from '../component/spec.ts';
import { CONTINUE, type FlowRecord, type StageOutcome } from '../component/types.ts';

export const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const failurePolicy = z.enum(['dlq', 'drop', 'skip-stage', 'default']);
export type FailurePolicy = z.output<typeof failurePolicy>;

/** Converts a looked-up value for a scalar proto field, or returns undefined when it cannot fit. */
function convert(value: unknown, scalarType: ScalarType): unknown {
  switch (scalarType) {
    case ScalarType.STRING:
      return typeof value === 'string' ? value : undefined;
    case ScalarType.BOOL:
      return typeof value === 'boolean' ? value : undefined;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return typeof value === 'number' ? value : undefined;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return Number.isInteger(value) ? BigInt(value as number) : undefined;
    default:
      return Number.isInteger(value) ? value : undefined;
  }
}

export interface MergeTarget {
  /** The proto field name, as configured. */
  readonly target: string;
  /** Where the value comes from in a looked-up object (a property, or a dotted path). */
  readonly source: string;
  /** `source` split at its dots, once: what `valueAt` walks. */
  readonly path: readonly string[];
  /** Converts a looked-up value for the field; undefined when it does not fit. */
  readonly convert: (value: unknown) => unknown;
  /** The property of the generated message. */
  readonly name: string;
}

/** The merge targets of a stage, checked against the output record type; problems are collected. */
export function mergeTargets(stage: string, merge: Readonly<Record<string, string>>, context: StageContext, problems: ConfigProblem[]): { type: DescMessage | undefined; targets: MergeTarget[] } {
  const type = context.outputType ? context.recordTypes.getMessage(context.outputType) : undefined;
  if (!type) {
    problems.push({ path: 'merge', message: `${stage} merges into the output record: put a map stage before it` });
    return { type, targets: [] };
  }
  const targets = Object.entries(merge).map(([target, source]) => {
    const field = type.fields.find((f) => f.name === target);
    if (!field || field.fieldKind !== 'scalar') problems.push({ path: `merge.${target}`, message: `${type.typeName} has no scalar field "${target}"` });
    const scalarType = field?.fieldKind === 'scalar' ? field.scalar : ScalarType.STRING;
    return { target, source, path: source.split('.'), name: field?.localName ?? target, convert: (value: unknown) => convert(value, scalarType) };
  });
  return { type, targets };
}

/** The converted defaults, in target order (undefined where none is given). */
export function mergeDefaults(targets: readonly MergeTarget[], defaults: Readonly<Record<string, unknown>> | undefined): unknown[] {
  return targets.map((t) => (defaults?.[t.target] === undefined ? undefined : t.convert(defaults[t.target])));
}

/** Writes converted values (in target order) into the record's output. */
export function applyMerge(record: FlowRecord, targets: readonly MergeTarget[], values: readonly unknown[]): void {
  const message = record.output as unknown as Record<string, unknown>;
  for (let i = 0; i < targets.length; i++) {
    if (values[i] !== undefined) message[targets[i]!.name] = values[i];
  }
}

/** What a failed lookup becomes under a policy (`default` merges `defaults` and continues). */
export function onFailure(policy: FailurePolicy, code: StageFailureCode, message: string, record: FlowRecord, targets: readonly MergeTarget[], defaults: readonly unknown[]): StageOutcome {
  if (policy === 'skip-stage') return CONTINUE;
  if (policy === 'default') {
    applyMerge(record, targets, defaults);
    return CONTINUE;
  }
  return { kind: 'fail', code, message, deadLetter: policy === 'dlq' };
}

/** The value at `path` (property names) inside a looked-up object, or undefined. */
export function valueAt(node: unknown, path: readonly string[]): unknown {
  for (const name of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}
