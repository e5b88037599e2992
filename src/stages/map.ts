// map: builds the output record (a protobuf message named in config) from validated fields.
// Every source field must be defined by the flow's rules with a type that fits the target field;
// that is checked when the flow is built, so a bad mapping fails `sluice check`, not a message.
import { create, type DescField, type DescMessage, type Message, ScalarType } from '@bufbuild/protobuf';
import { z } from 'zod';
import type { JsonType } from '../core/rule-model.ts';
import { SluiceError, type ConfigProblem } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldBigInt, fieldValue } from '../component/fields.ts';
import { CONTINUE, type FlowRecord } from '../component/types.ts';
import { type FieldSchema, itemsAt, schemaAt, typesAllowed } from '../component/rules.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const source = z.union([
  z.string().describe('A field of the message: `title`, `author.id` or a JSON Pointer'),
  z.strictObject({ const: scalar.describe('A constant value') }),
]);

const config = z.strictObject({
  target: z.string().describe('Full name of the protobuf message to build, e.g. sluice.recommender.v1.ItemRecord'),
  fields: z.record(z.string(), source).describe('Target field name (as in the .proto) -> where its value comes from'),
});

type Setter = (record: FlowRecord, message: Record<string, unknown>) => void;

const INT32_RANGE: Partial<Record<ScalarType, [number, number]>> = {
  [ScalarType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
  [ScalarType.SINT32]: [-(2 ** 31), 2 ** 31 - 1],
  [ScalarType.SFIXED32]: [-(2 ** 31), 2 ** 31 - 1],
  [ScalarType.UINT32]: [0, 2 ** 32 - 1],
  [ScalarType.FIXED32]: [0, 2 ** 32 - 1],
};
const INT64 = new Set([ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64, ScalarType.UINT64, ScalarType.FIXED64]);
const UNSIGNED64 = new Set([ScalarType.UINT64, ScalarType.FIXED64]);

function subset(types: Set<JsonType>, allowed: JsonType[]): boolean {
  return [...types].every((t) => allowed.includes(t));
}

/** The tightest lower (or upper) bound any schema of the field sets. */
function bound(field: FieldSchema, lower: boolean): number | undefined {
  const values: number[] = [];
  for (const schema of field) {
    if (typeof schema !== 'object') continue;
    for (const keyword of lower ? ['minimum', 'exclusiveMinimum'] : ['maximum', 'exclusiveMaximum']) {
      if (typeof schema[keyword] === 'number') values.push(schema[keyword]);
    }
  }
  if (values.length === 0) return undefined;
  return lower ? Math.max(...values) : Math.min(...values);
}

/** Why a value under `schema` cannot fit a scalar field of type `scalarType`, or null when it fits. */
function misfit(schema: FieldSchema, scalarType: ScalarType): string | null {
  const types = typesAllowed(schema);
  if (types.size === 7) return 'the rules give it no type: add one';
  const name = ScalarType[scalarType].toLowerCase();
  if (scalarType === ScalarType.STRING) return subset(types, ['string', 'null']) ? null : `a ${[...types].join('/')} does not fit ${name}`;
  if (scalarType === ScalarType.BOOL) return subset(types, ['boolean', 'null']) ? null : `a ${[...types].join('/')} does not fit ${name}`;
  if (scalarType === ScalarType.DOUBLE || scalarType === ScalarType.FLOAT) {
    return subset(types, ['number', 'integer', 'null']) ? null : `a ${[...types].join('/')} does not fit ${name}`;
  }
  const range = INT32_RANGE[scalarType];
  if (range || INT64.has(scalarType)) {
    if (!subset(types, ['integer', 'null'])) return `a ${[...types].join('/')} does not fit ${name} (the rules must say "type": "integer")`;
    const [min, max] = range ?? [UNSIGNED64.has(scalarType) ? 0 : -(2 ** 63), 2 ** 64];
    const low = bound(schema, true);
    const high = bound(schema, false);
    if (range && (low === undefined || high === undefined)) return `an integer without minimum and maximum in the rules may overflow ${name}`;
    if (low !== undefined ? low < min : min === 0) return `values below ${min} do not fit ${name}`;
    if (high !== undefined && high > max) return `values above ${max} do not fit ${name}`;
    return null;
  }
  return `target type ${name} is not supported by map`;
}

function setterFor(field: DescField, slot: number): Setter {
  const name = field.localName;
  if (field.fieldKind === 'list') {
    return (record, message) => {
      const value = fieldValue(record, slot);
      if (Array.isArray(value)) message[name] = value;
    };
  }
  if (field.fieldKind === 'scalar' && INT64.has(field.scalar)) {
    return (record, message) => {
      const value = fieldBigInt(record, slot);
      if (value !== undefined) message[name] = value;
    };
  }
  return (record, message) => {
    const value = fieldValue(record, slot);
    if (value !== undefined && value !== null) message[name] = value;
  };
}

function constSetter(field: DescField, value: string | number | boolean): Setter {
  const name = field.localName;
  const converted = field.fieldKind === 'scalar' && INT64.has(field.scalar) ? BigInt(value) : value;
  return (_record, message) => {
    message[name] = converted;
  };
}

export const mapStage: StageSpec<typeof config> = {
  kind: 'map',
  buildsOutput: true,
  summary: 'Builds the output record (a protobuf message) from validated fields.',
  config,
  examples: [
    {
      target: 'sluice.recommender.v1.ItemRecord',
      fields: { item_id: 'id', title: 'title', author_id: 'author.id', item_type: { const: 'article' } },
    },
  ],
  outputType: (options) => options.target,
  create(options, context) {
    const problems: ConfigProblem[] = [];
    const type: DescMessage | undefined = context.recordTypes.getMessage(options.target);
    if (!type) {
      throw new SluiceError('SLC_MAPPING', `unknown record type ${options.target}`, {
        problems: [{ path: 'target', message: `unknown record type "${options.target}" (known: ${[...listTypes(context.recordTypes)].join(', ')})` }],
      });
    }
    const setters: Setter[] = [];
    for (const [targetName, from] of Object.entries(options.fields)) {
      const path = `fields.${targetName}`;
      const field = type.fields.find((f) => f.name === targetName);
      if (!field) {
        problems.push({ path, message: `${options.target} has no field "${targetName}" (fields: ${type.fields.map((f) => f.name).join(', ')})` });
        continue;
      }
      if (typeof from !== 'string') {
        setters.push(constSetter(field, from.const));
        continue;
      }
      const schema = schemaAt(context.rules, from);
      if (schema === undefined) {
        problems.push({ path, message: `source field "${from}" is not defined by the flow's rules` });
        continue;
      }
      let why: string | null;
      if (field.fieldKind === 'scalar') why = misfit(schema, field.scalar);
      else if (field.fieldKind === 'list' && field.listKind === 'scalar') {
        const types = typesAllowed(schema);
        const items = itemsAt(context.rules, schema);
        why = !subset(types, ['array', 'null']) ? `repeated ${ScalarType[field.scalar].toLowerCase()} needs an array in the rules`
          : items === undefined ? 'the rules give the array no "items" schema' : misfit(items, field.scalar);
      } else why = `${field.fieldKind} fields are not supported by map`;
      if (why) {
        problems.push({ path, message: `"${from}" -> ${options.target}.${targetName}: ${why}` });
        continue;
      }
      setters.push(setterFor(field, context.fields.slot(from)));
    }
    if (problems.length > 0) {
      throw new SluiceError('SLC_MAPPING', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });
    }
    return {
      process(record) {
        const message = create(type) as Message & Record<string, unknown>;
        for (const set of setters) set(record, message);
        record.output = message;
        return CONTINUE;
      },
    };
  },
};

function* listTypes(registry: Iterable<{ kind: string; typeName: string }>): Generator<string> {
  for (const desc of registry) if (desc.kind === 'message') yield desc.typeName;
}
