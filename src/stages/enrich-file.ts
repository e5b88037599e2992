// enrich-file: merges values from a local lookup file (NDJSON, one row per key) into the output
// record. The local stand-in for enrich-http: same merge and failure policy, no network.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SluiceError, type ConfigProblem } from '../errors.ts';
import type { StageSpec } from '../pipeline/component.ts';
import { fieldValue } from '../pipeline/fields.ts';
import { CONTINUE, type StageFailure, type StageOutcome } from '../pipeline/types.ts';
import { schemaAt } from '../pipeline/rules.ts';
import { ScalarType } from '@bufbuild/protobuf';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const config = z.strictObject({
  path: z.string().describe('The lookup file: NDJSON, one object per line (relative to the configuration file)'),
  key: z.string().describe('The message field whose value is looked up: `id`, `author.id` or a JSON Pointer'),
  'lookup-key': z.string().optional().describe("The property of a lookup row that holds its key (default: the key field's last name)"),
  merge: z.record(z.string(), z.string()).describe('Output record field -> lookup row property'),
  'on-missing': z
    .enum(['dlq', 'drop', 'skip-stage', 'default'])
    .default('dlq')
    .describe('When no row matches: send to the dead-letter sink, drop, continue without the enrichment, or merge `default`'),
  default: z.record(z.string(), scalar).optional().describe('Values merged when on-missing = default'),
});

/** Converts a lookup value for a scalar proto field, or returns undefined when it cannot fit. */
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

export const enrichFileStage: StageSpec<typeof config> = {
  kind: 'enrich-file',
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
    const outputType = context.outputType ? context.recordTypes.getMessage(context.outputType) : undefined;
    if (!outputType) {
      throw new SluiceError('SLC_MAPPING', 'enrich-file merges into the output record: put a map stage before it', {
        problems: [{ path: 'merge', message: 'enrich-file merges into the output record: put a map stage before it' }],
      });
    }
    const targets = Object.entries(options.merge).map(([target, property]) => {
      const field = outputType.fields.find((f) => f.name === target);
      if (!field || field.fieldKind !== 'scalar') {
        problems.push({ path: `merge.${target}`, message: `${outputType.typeName} has no scalar field "${target}"` });
      }
      return { name: field?.localName ?? target, scalar: field?.fieldKind === 'scalar' ? field.scalar : ScalarType.STRING, property, target };
    });
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
        row = JSON.parse(line) as Record<string, unknown>;
      } catch (cause) {
        throw new SluiceError('SLC_IO', `${where}: not JSON: ${(cause as Error).message}`, { cause });
      }
      const values = targets.map(({ property, scalar, target }) => {
        if (row[property] === undefined) return undefined;
        const value = convert(row[property], scalar);
        if (value === undefined) throw new SluiceError('SLC_IO', `${where}: "${property}" does not fit ${outputType.typeName}.${target}`);
        return value;
      });
      rows.set(String(row[lookupKey]), values);
    });
    const defaults = targets.map(({ target, scalar }) => (options.default?.[target] === undefined ? undefined : convert(options.default[target], scalar)));
    const slot = context.fields.slot(options.key);
    const policy = options['on-missing'];
    const missing = (key: unknown): StageOutcome => {
      if (policy === 'skip-stage') return CONTINUE;
      const failure: StageFailure = { kind: 'fail', code: 'E_LOOKUP_MISS', message: `no row for ${lookupKey} = ${JSON.stringify(key)} in ${options.path}`, deadLetter: policy === 'dlq' };
      return failure;
    };
    return {
      process(record) {
        const key = fieldValue(record, slot);
        let values = key === undefined ? undefined : rows.get(String(key));
        if (values === undefined) {
          if (policy !== 'default') return missing(key);
          values = defaults;
        }
        const message = record.output as unknown as Record<string, unknown>;
        for (let i = 0; i < targets.length; i++) {
          if (values[i] !== undefined) message[targets[i]!.name] = values[i];
        }
        return CONTINUE;
      },
    };
  },
};
