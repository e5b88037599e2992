// lookup: a stream-table join. Reads the row of a named table (top-level `tables`) under the
// value of a key field and merges chosen row properties into the output record, with the
// on-missing policies of the enrichment stages. The table is in memory: one Map read per record,
// no I/O, so the stage does not call out.
import { z } from 'zod';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldValue, isScalar } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import type { TableRow } from '../component/table.ts';
import { CONTINUE, type FlowRecord, type StageOutcome } from '../component/types.ts';
import { failurePolicy, type MergeTarget, mergeDefaults, mergeTargets, onFailure, scalar, valueAt } from './merge.ts';

const config = z.strictObject({
  table: z.string().describe('A key of the top-level `tables` block'),
  key: z.string().describe('The message field whose value is the row\'s key: `placementId`, `author.id` or a JSON Pointer'),
  merge: z.record(z.string(), z.string()).describe('Output record field -> row property (a dotted path for a nested one)'),
  'on-missing': failurePolicy
    .default('dlq')
    .describe('When the table has no row for the key: send to the dead-letter sink, drop, continue without the enrichment, or merge `default`'),
  default: z.record(z.string(), scalar).optional().describe('Values merged when on-missing = default'),
});

export const lookupStage: StageSpec<typeof config> = {
  kind: 'lookup',
  buildsOutput: true,
  summary: 'Merges row properties from a table (top-level `tables`), looked up by a key field, into the output record.',
  config,
  examples: [
    { table: 'placements', key: 'placementId', merge: { surface: 'surface', slot: 'slot' }, 'on-missing': 'dlq' },
    { table: 'placements', key: 'placementId', merge: { surface: 'surface' }, 'on-missing': 'default', default: { surface: 'unknown' } },
  ],
  create(options, context) {
    const problems: ConfigProblem[] = [];
    const table = context.table(options.table);
    if (!table) problems.push({ path: 'table', message: `no table "${options.table}" in the top-level tables block` });
    if (schemaAt(context.rules, options.key) === undefined) problems.push({ path: 'key', message: `field "${options.key}" is not defined by the flow's rules` });
    const { targets } = mergeTargets('lookup', options.merge, context, problems);
    if (options['on-missing'] === 'default' && options.default === undefined) {
      problems.push({ path: 'default', message: 'on-missing = default needs a default { field = value } block' });
    }
    if (problems.length > 0) throw new SluiceError('SLC_MAPPING', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });

    const rows = table!;
    const slot = context.fields.slot(options.key);
    const policy = options['on-missing'];
    const defaults = mergeDefaults(targets, options.default);
    const names = targets.map((t) => t.name);

    /** Converts and writes the row's values; the first that does not fit fails the record. */
    const merge = (record: FlowRecord, row: TableRow, key: string): StageOutcome => {
      const message = record.output as unknown as Record<string, unknown>;
      for (let i = 0; i < targets.length; i++) {
        const raw = valueAt(row, targets[i]!.path);
        if (raw === undefined || raw === null) continue;
        const value = targets[i]!.convert(raw);
        if (value === undefined) return badRow(targets[i]!, key, raw);
        message[names[i]!] = value;
      }
      return CONTINUE;
    };
    const badRow = (target: MergeTarget, key: string, raw: unknown): StageOutcome => ({
      kind: 'fail',
      code: 'E_RESPONSE',
      message: `table ${options.table}, row ${key}: "${target.source}" = ${JSON.stringify(raw)} does not fit the output record's ${target.target}`,
      deadLetter: true,
    });

    return {
      process(record) {
        const value = fieldValue(record, slot);
        if (!isScalar(value)) {
          return { kind: 'fail', code: 'E_LOOKUP_KEY', message: `lookup key field "${options.key}" is ${value === undefined || value === null ? 'missing' : 'not a scalar'}`, deadLetter: true };
        }
        const key = String(value);
        const row = rows.get(key);
        if (row === undefined) return onFailure(policy, 'E_LOOKUP_MISS', `no row for ${options.key} = ${JSON.stringify(key)} in table ${options.table}`, record, targets, defaults);
        return merge(record, row, key);
      },
    };
  },
};
