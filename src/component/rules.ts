// What the flow's rules say about a field: used by stages to check their field references
// before anything runs. A field's schema is every schema that applies to it: the one its parent
// names under `properties`, and those it reaches through `$ref` and `allOf` (all of them hold).
import { type FlowRules, isPlainObject, type JsonSchema, type JsonType } from '../core/rule-model.ts';
import { parsePointer } from '../core/json-pointer.ts';
import { Compiler } from '../core/schema-compiler.ts';
import { toPointer } from './fields.ts';

/** The schemas that all apply to one value (a conjunction). */
export type FieldSchema = readonly JsonSchema[];

type Resolve = (schema: Readonly<Record<string, unknown>>) => unknown;

interface Walk {
  readonly resolve: Resolve;
  /** draft-07: a `$ref`'s siblings are ignored. */
  readonly refAlone: boolean;
}

/**
 * Adds `schema` and every schema it reaches through `$ref` and `allOf` (each once: references may
 * cycle). A draft-07 `$ref` stands for its target alone.
 */
function expand(schema: unknown, walk: Walk, into: JsonSchema[], seen = new Set<unknown>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  if (typeof schema === 'boolean') {
    into.push(schema);
    return;
  }
  if (!isPlainObject(schema)) return;
  const target = walk.resolve(schema);
  if (target !== undefined) expand(target, walk, into, seen);
  if (walk.refAlone && target !== undefined) return;
  into.push(schema);
  if (Array.isArray(schema.allOf)) for (const member of schema.allOf) expand(member, walk, into, seen);
}

const walks = new WeakMap<object, Walk>();

/** Follows `$ref`s of the rules' subschemas, into the documents they reference too (one index per flow's rules, built on first use). */
function walkOf(rules: FlowRules): Walk {
  let walk = walks.get(rules);
  if (!walk) {
    const compiler = new Compiler(rules.schema, 'auto', { base: rules.base, schemas: rules.schemas });
    walk = { resolve: (schema) => compiler.referenced(schema), refAlone: compiler.draft === 'draft-07' };
    walks.set(rules, walk);
  }
  return walk;
}

/** The field schema of a member `name` under `field`, undefined when no schema of it names the member. */
function member(field: FieldSchema, name: string, walk: Walk): FieldSchema | undefined {
  const found: JsonSchema[] = [];
  for (const schema of field) {
    if (typeof schema !== 'object') continue;
    const properties = schema.properties;
    if (isPlainObject(properties) && Object.hasOwn(properties, name)) expand(properties[name], walk, found);
  }
  return found.length > 0 ? found : undefined;
}

/** The schema the rules give for a field reference, or undefined when they do not define it. */
export function schemaAt(rules: FlowRules, reference: string): FieldSchema | undefined {
  const walk = walkOf(rules);
  let field: FieldSchema | undefined = [];
  expand(rules.schema, walk, field as JsonSchema[]);
  for (const name of parsePointer(toPointer(reference))) {
    field = member(field, name, walk);
    if (field === undefined) return undefined;
  }
  return field;
}

/** The schema of an array field's elements (`items`), undefined when no schema of it says. */
export function itemsAt(rules: FlowRules, field: FieldSchema): FieldSchema | undefined {
  const walk = walkOf(rules);
  const found: JsonSchema[] = [];
  for (const schema of field) {
    if (typeof schema !== 'object') continue;
    if (schema.items !== undefined && !Array.isArray(schema.items)) expand(schema.items, walk, found);
  }
  return found.length > 0 ? found : undefined;
}

const ALL: JsonType[] = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];

/** The JSON types one schema allows (from `type`, else from enum/const members). */
function typesOf(schema: JsonSchema): JsonType[] {
  if (typeof schema === 'boolean') return schema ? ALL : [];
  if (schema.type !== undefined) return (Array.isArray(schema.type) ? schema.type : [schema.type]) as JsonType[];
  const members = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  if (Array.isArray(members)) {
    return members.map((m): JsonType => (m === null ? 'null' : typeof m === 'number' ? (Number.isInteger(m) ? 'integer' : 'number') : (typeof m as JsonType)));
  }
  return ALL;
}

/** The JSON types a value under this field schema can have: those every schema of it allows. */
export function typesAllowed(field: FieldSchema): Set<JsonType> {
  let types: JsonType[] | undefined;
  for (const schema of field) {
    const allowed = typesOf(schema);
    if (allowed === ALL) continue;
    // an integer is a number: "number" and "integer" together allow the integers
    types = (types ?? ALL).filter((t) => allowed.includes(t) || (t === 'integer' && allowed.includes('number')));
  }
  if (types === undefined) return new Set(ALL);
  return new Set(types.includes('number') ? types.filter((t) => t !== 'integer') : types);
}
