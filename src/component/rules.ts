// What the flow's rules say about a field: used by stages to check their field references
// before anything runs.
import type { JsonSchema, JsonType } from '../core/rule-model.ts';
import { parsePointer } from '../core/json-pointer.ts';
import { toPointer } from './fields.ts';

/** The sub-schema the rules give for a field reference, or undefined when they do not define it. */
export function schemaAt(rules: JsonSchema, reference: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = rules;
  for (const name of parsePointer(toPointer(reference))) {
    if (typeof node !== 'object' || node === null) return undefined;
    const properties = node.properties as Record<string, JsonSchema> | undefined;
    node = properties && Object.hasOwn(properties, name) ? properties[name] : undefined;
  }
  return node;
}

const ALL: JsonType[] = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];

/** The JSON types a value under this schema can have (from `type`, else from enum/const members). */
export function typesAllowed(schema: JsonSchema): Set<JsonType> {
  if (typeof schema === 'boolean') return new Set(schema ? ALL : []);
  if (schema.type !== undefined) return new Set((Array.isArray(schema.type) ? schema.type : [schema.type]) as JsonType[]);
  const members = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  if (Array.isArray(members)) {
    return new Set(members.map((m): JsonType => (m === null ? 'null' : typeof m === 'number' ? (Number.isInteger(m) ? 'integer' : 'number') : (typeof m as JsonType))));
  }
  return new Set(ALL);
}
