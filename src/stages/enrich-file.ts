// enrich-file: merges values from a local lookup file (NDJSON, one row per key) into the output
// record. The local stand-in for enrich-http: same merge and failure policy, no network.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SluiceError, type ConfigProblem } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldValue } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { CONTINUE } from '../component/types.ts';
import { applyMerge, failurePolicy, mergeDefaults, mergeTargets, onFailure, scalar } from './merge.ts';
import { parseJson } from '../core/json-text.ts';

const config = z.strictObject({
  path: z.string().describe('The lookup file: NDJSON, one object per line (relative to the configuration file)'),
  key: z.string().describe('The message field whose value is looked up: `id`, `author.id` or a JSON Pointer'),
  'lookup-key': z.string().optional().describe("The property of a lookup row that holds its key (default: the key field's last name)"),
  merge: z.record(z.string(), z.string()).describe('Output record field -> lookup row property'),
  'on-missing': failurePolicy
    .default('dlq')
    .describe('When no row matches: send to the dead-letter sink, drop, continue without the enrichment, or merge `default`'),
  default: z.record(z.string(), scalar).optional().describe('Values merged when on-missing = default'),
});

export const enrichFileStage: StageSpec<typeof config> = {
  kind: 'enrich-file',
  buildsOutput: true,
  summary: 'Merges values from a local lookup file into the output record.',
  config,
  examples: [
    {
      path: '../samples/lookup/placements.ndjson',
      key: 'placementId',
      merge: { surface: 'surface', slot: 'slot' },
      'on-missing': 'dlq',
    },
  ],
  create(options, context) {
    const problems: ConfigProblem[] = [];
    if (schemaAt(context.rules, options.key) === undefined) {
      problems.push({ path: 'key', message: `field "${options.key}" is not defined by the flow's rules` });
    }
    const { type, targets } = mergeTargets('enrich-file', options.merge, context, problems);
    if (options['on-missing'] === 'default' && options.default === undefined) {
      problems.push({ path: 'default', message: 'on-missing = default needs a default { field = value } block' });
    }
    if (problems.length > 0) throw new SluiceError('SLC_MAPPING', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });

    const file = resolve(context.baseDir, options.path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new SluiceError('SLC_IO', `cannot read lookup file ${file}`, { cause, problems: [{ path: 'path', message: `cannot read ${file}: ${(cause as Error).message}` }] });
    }
    const lookupKey = options['lookup-key'] ?? options.key.split(/[./]/).pop()!;
    // each row is stored as the list of converted values, in `targets` order
    const rows = new Map<string, unknown[]>();
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `${options.path}:${index + 1}`;
      let row: Record<string, unknown>;
      try {
        row = parseJson(line) as Record<string, unknown>;
      } catch (cause) {
        throw new SluiceError('SLC_IO', `${where}: not JSON: ${(cause as Error).message}`, { cause });
      }
      const values = targets.map(({ source, convert, target }) => {
        if (row[source] === undefined) return undefined;
        const value = convert(row[source]);
        if (value === undefined) throw new SluiceError('SLC_IO', `${where}: "${source}" does not fit ${type!.typeName}.${target}`);
        return value;
      });
      rows.set(String(row[lookupKey]), values);
    });
    const defaults = mergeDefaults(targets, options.default);
    const slot = context.fields.slot(options.key);
    const policy = options['on-missing'];
    return {
      process(record) {
        const key = fieldValue(record, slot);
        const values = key === undefined ? undefined : rows.get(String(key));
        if (values === undefined) {
          return onFailure(policy, 'E_LOOKUP_MISS', `no row for ${lookupKey} = ${JSON.stringify(key)} in ${options.path}`, record, targets, defaults);
        }
        applyMerge(record, targets, values);
        return CONTINUE;
      },
    };
  },
};
