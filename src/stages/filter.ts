// filter: keeps or drops records by a condition on one field. Dropped records are counted as
// filtered, not failed: they are valid, just not for this sink.
import { z } from 'zod';
import { SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldPresent, fieldValue } from '../component/fields.ts';
import { CONTINUE, FILTERED, type FlowRecord, type JsonValue } from '../component/types.ts';
import { schemaAt } from '../component/rules.ts';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const condition = z
  .strictObject({
    field: z.string().describe('The field to test: `status`, `author.id` or a JSON Pointer'),
    in: z.array(scalar).min(1).optional().describe('True when the field equals one of these values'),
    equals: scalar.optional().describe('True when the field equals this value'),
    exists: z.boolean().optional().describe('True when the field is present (true) or absent (false)'),
  })
  .refine((c) => [c.in, c.equals, c.exists].filter((op) => op !== undefined).length === 1, {
    message: 'give exactly one of: in, equals, exists',
  });

const config = z
  .strictObject({
    'drop-if': condition.optional().describe('Drop the records for which this is true'),
    'keep-if': condition.optional().describe('Keep only the records for which this is true'),
  })
  .refine((c) => (c['drop-if'] === undefined) !== (c['keep-if'] === undefined), {
    message: 'give exactly one of: drop-if, keep-if',
  });

type Condition = z.output<typeof condition>;

function compileCondition(c: Condition, slot: number): (record: FlowRecord) => boolean {
  if (c.exists !== undefined) {
    const wanted = c.exists;
    return (record) => fieldPresent(record, slot) === wanted;
  }
  const values = new Set<JsonValue | undefined>(c.in ?? [c.equals as JsonValue]);
  return (record) => values.has(fieldValue(record, slot));
}

export const filterStage: StageSpec<typeof config> = {
  kind: 'filter',
  summary: 'Keeps or drops records by a condition on one field.',
  config,
  examples: [
    { 'drop-if': { field: 'status', in: ['draft'] } },
    { 'keep-if': { field: 'consent', equals: true } },
  ],
  create(options, context) {
    const c = (options['drop-if'] ?? options['keep-if'])!;
    if (schemaAt(context.rules, c.field) === undefined) {
      throw new SluiceError('SLC_MAPPING', `field "${c.field}" is not defined by the flow's rules`, {
        problems: [{ path: `${options['drop-if'] ? 'drop-if' : 'keep-if'}.field`, message: `field "${c.field}" is not defined by the flow's rules` }],
      });
    }
    const test = compileCondition(c, context.fields.slot(c.field));
    const keepWhen = options['keep-if'] !== undefined;
    return {
      process: (record) => (test(record) === keepWhen ? CONTINUE : FILTERED),
    };
  },
};
