// A JSON Schema as the compiler sees it: the drafts and keywords the core knows, and the rule
// tree (nodes, extensions, properties) it compiles a schema into before laying it out.
import { SluiceError } from '../errors.ts';
import { escapeToken } from './json-pointer.ts';
import { ALL_TYPES, TYPE_BITS } from './layout.ts';

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export type JsonType = keyof typeof TYPE_BITS;

export const ANNOTATIONS = new Set([
  '$schema', '$id', '$comment', '$vocabulary', 'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly',
  '$defs', 'definitions', 'contentEncoding', 'contentMediaType', 'contentSchema',
]);
export const COMMON = [
  'type', 'required', 'properties', 'additionalProperties', 'enum', 'const', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'items', 'minItems', 'maxItems',
  '$ref', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'patternProperties', 'propertyNames',
  'uniqueItems', 'contains', 'minProperties', 'maxProperties', 'multipleOf', 'format',
];

/** The drafts the core knows, by `$schema` (none: 2020-12). */
export type Draft = 'draft-07' | '2019-09' | '2020-12';
export const DRAFTS: Readonly<Record<string, Draft>> = {
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};
export const SUPPORTED: Readonly<Record<Draft, ReadonlySet<string>>> = {
  'draft-07': new Set([...COMMON, 'additionalItems', 'dependencies']),
  '2019-09': new Set([...COMMON, 'additionalItems', 'dependentRequired', 'dependentSchemas', 'minContains', 'maxContains', '$anchor', 'unevaluatedProperties', 'unevaluatedItems', '$recursiveRef', '$recursiveAnchor']),
  '2020-12': new Set([...COMMON, 'prefixItems', 'dependentRequired', 'dependentSchemas', 'minContains', 'maxContains', '$anchor', 'unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$dynamicAnchor']),
};

const VALIDATION = ['type', 'const', 'enum', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains', 'maxProperties', 'minProperties', 'required', 'dependentRequired'];
const APPLICATOR = ['items', 'contains', 'additionalProperties', 'properties', 'patternProperties', 'dependentSchemas', 'propertyNames', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'not'];
/** The keywords of each vocabulary a meta-schema's `$vocabulary` may leave out, by draft and URI (core's always apply). */
const VOCABULARIES: Readonly<Record<'2019-09' | '2020-12', Readonly<Record<string, readonly string[]>>>> = {
  '2019-09': {
    'https://json-schema.org/draft/2019-09/vocab/core': [],
    'https://json-schema.org/draft/2019-09/vocab/applicator': [...APPLICATOR, 'additionalItems', 'unevaluatedItems', 'unevaluatedProperties'],
    'https://json-schema.org/draft/2019-09/vocab/validation': VALIDATION,
    'https://json-schema.org/draft/2019-09/vocab/format': ['format'],
    'https://json-schema.org/draft/2019-09/vocab/meta-data': [],
    'https://json-schema.org/draft/2019-09/vocab/content': [],
  },
  '2020-12': {
    'https://json-schema.org/draft/2020-12/vocab/core': [],
    'https://json-schema.org/draft/2020-12/vocab/applicator': [...APPLICATOR, 'prefixItems'],
    'https://json-schema.org/draft/2020-12/vocab/unevaluated': ['unevaluatedItems', 'unevaluatedProperties'],
    'https://json-schema.org/draft/2020-12/vocab/validation': VALIDATION,
    'https://json-schema.org/draft/2020-12/vocab/format-annotation': ['format'],
    'https://json-schema.org/draft/2020-12/vocab/format-assertion': ['format'],
    'https://json-schema.org/draft/2020-12/vocab/meta-data': [],
    'https://json-schema.org/draft/2020-12/vocab/content': [],
  },
};

/** How a schema is read: its draft, and what the vocabularies of its meta-schema leave out or add. */
export interface Dialect {
  readonly draft: Draft;
  /** Keywords of the draft's vocabularies that the meta-schema does not list: not evaluated. */
  readonly ignored: ReadonlySet<string>;
  /** The meta-schema lists the 2020-12 format-assertion vocabulary. */
  readonly assertFormats: boolean;
}

/**
 * The dialect a schema declares with `$schema` (none: 2020-12): a draft's meta-schema, or one of
 * `schemas` whose own `$schema` is a draft's and whose `$vocabulary` picks that draft's
 * vocabularies. Anything else is refused: its keywords' meaning is unknown.
 */
export function dialectOf(schema: JsonSchema, schemas: Readonly<Record<string, JsonSchema>> = {}): Dialect {
  const standard = (draft: Draft): Dialect => ({ draft, ignored: new Set(), assertFormats: false });
  if (typeof schema !== 'object' || schema === null || schema.$schema === undefined) return standard('2020-12');
  const uri = withoutEmptyFragment(schema.$schema);
  const known = DRAFTS[uri];
  if (known) return standard(known);
  const meta = Object.entries(schemas).find(([key, document]) => withoutEmptyFragment(key) === uri || (isPlainObject(document) && withoutEmptyFragment(document.$id) === uri))?.[1];
  const draft = isPlainObject(meta) && meta.$schema !== undefined ? DRAFTS[withoutEmptyFragment(meta.$schema)] : undefined;
  if (!isPlainObject(meta) || !draft) schemaError('#', `unsupported "$schema" ${JSON.stringify(schema.$schema)} (the core knows ${Object.keys(DRAFTS).join(', ')}, and meta-schemas listed with the rules whose own "$schema" is one of these)`);
  if (draft === 'draft-07' || meta.$vocabulary === undefined) return standard(draft);
  if (!isPlainObject(meta.$vocabulary)) schemaError('#', `the meta-schema ${uri}: "$vocabulary" must be an object`);
  const vocabularies = VOCABULARIES[draft];
  const listed = meta.$vocabulary;
  for (const [vocabulary, required] of Object.entries(listed)) {
    if (required === true && !vocabularies[vocabulary]) {
      schemaError('#', `the meta-schema ${uri} requires the vocabulary ${vocabulary}, which the core does not know`);
    }
  }
  const kept = new Set(Object.keys(listed).flatMap((vocabulary) => vocabularies[vocabulary] ?? []));
  const ignored = new Set(Object.values(vocabularies).flat().filter((keyword) => !kept.has(keyword)));
  return { draft, ignored, assertFormats: Object.hasOwn(listed, 'https://json-schema.org/draft/2020-12/vocab/format-assertion') };
}

/** A meta-schema URI as `$schema` and `$id` write it, with or without an empty fragment. */
const withoutEmptyFragment = (uri: unknown): string => String(uri).replace(/#$/, '');

export type Scalar = string | number | boolean | null;

/** One schema position, as compiled; kept beside the program to explain verdicts. */
export interface RuleNode {
  /** Where in the schema, as a JSON Pointer fragment (`#/properties/title`). */
  readonly location: string;
  types: number;
  flags: number;
  minLength: number;
  maxLength: number;
  minItems: number;
  maxItems: number;
  minimum: number;
  maximum: number;
  exclusiveMinimum: number;
  exclusiveMaximum: number;
  pattern?: string;
  patternProgram?: Int32Array;
  /** An asserted format checked (wholly, or for hostname partly) in JS: src/core/js-formats.ts. */
  jsFormat?: string;
  /** The scalar members of enum/const; `deepMembers` holds the objects and arrays. */
  members: Scalar[];
  deepMembers: unknown[];
  items?: RuleNode;
  /** Keywords evaluated on the tape (assembly/scanner.ts); absent on nodes of the streaming subset. */
  ext?: RuleExtension;
  properties: RuleProperty[];
  /** Array elements with a node of their own: the items schema plus an extraction below them. */
  indexes: { index: number; child: RuleNode }[];
  slot: number;
  address: number;
  /** The schema resource the node belongs to (numbered; 0 when no dynamic reference needs it). */
  resource?: number;
}

export interface RuleExtension {
  allOf: RuleNode[];
  anyOf: RuleNode[];
  oneOf: RuleNode[];
  not?: RuleNode;
  if?: RuleNode;
  then?: RuleNode;
  else?: RuleNode;
  patternProperties: { pattern: string; program: Int32Array; child: RuleNode }[];
  additionalProperties?: RuleNode;
  propertyNames?: RuleNode;
  dependentRequired: { name: string; required: string[] }[];
  dependentSchemas: { name: string; child: RuleNode }[];
  prefixItems: RuleNode[];
  contains?: RuleNode;
  minContains: number;
  maxContains?: number;
  minProperties?: number;
  maxProperties?: number;
  multipleOf?: number;
  uniqueItems: boolean;
  /** The asserted format (FORMATS index + 1). */
  format?: number;
  unevaluatedProperties?: RuleNode;
  unevaluatedItems?: RuleNode;
  /** 2020-12: the items `contains` matches count as evaluated for unevaluatedItems. */
  containsEvaluates?: boolean;
  /** `$dynamicRef` (2019-09: `$recursiveRef`) whose target is bookended: the outermost resource of the dynamic scope with the anchor wins. */
  dynamic?: { fallback: RuleNode; candidates: { resource: number; node: RuleNode }[] };
}

export interface RuleProperty {
  readonly name: string;
  readonly child: RuleNode;
  required: boolean;
  /** Not declared in `properties`: there only for `required`, extraction or a condition. */
  synthetic: boolean;
  /** 1 + the slot of the member's span that a condition's `if` tests (compile.ts scanConditions); absent when none does. */
  probe?: number;
  address: number;
}

/** A check the core hands to JavaScript: where the rules ask for it, and what JS decides. */
export interface JsFallback {
  /** Where the keyword is in the rules (`#/properties/id/pattern`). */
  readonly keywordLocation: string;
  readonly description: string;
}

export interface RuleProgram {
  readonly source: JsonSchema;
  readonly bytes: Uint8Array;
  /** The node the scan runs: the rules (streaming), or in tape mode the extraction skeleton. */
  readonly root: number;
  readonly any: number;
  /** Tape mode: the rules' root, evaluated on the tape after the scan; 0 when the scan runs the rules. */
  readonly evalRoot: number;
  /** The core needs room past the messages: for the tape, or for a format's code points. */
  readonly scratch: boolean;
  readonly draft: Draft;
  /** Deepest seen-bit need of any object node, in 32-bit words. */
  readonly maxSeenWords: number;
  /** Largest regex program, in words (sizes the VM scratch). */
  readonly maxRegexWords: number;
  /** The checks the core hands to JS; the verdicts that touch them say `fallback`. */
  readonly fallbacks: readonly JsFallback[];
  readonly nodesByAddress: ReadonlyMap<number, RuleNode>;
  readonly propertiesByAddress: ReadonlyMap<number, RuleProperty>;
}

export function hasSlot(node: RuleNode): boolean {
  return node.slot >= 0 || node.properties.some((p) => hasSlot(p.child)) || node.indexes.some((i) => hasSlot(i.child));
}

export function schemaError(location: string, message: string): never {
  throw new SluiceError('SLC_SCHEMA', `schema ${location}: ${message}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nonNegativeInteger(value: unknown, location: string, keyword: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    schemaError(location, `"${keyword}" must be a non-negative integer`);
  }
  return value;
}

export function finiteNumber(value: unknown, location: string, keyword: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) schemaError(location, `"${keyword}" must be a number`);
  return value;
}


export function emptyNode(location: string): RuleNode {
  return {
    location, types: ALL_TYPES, flags: 0, minLength: 0, maxLength: 0, minItems: 0, maxItems: 0,
    minimum: 0, maximum: 0, exclusiveMinimum: 0, exclusiveMaximum: 0, members: [], deepMembers: [], properties: [],
    indexes: [], slot: -1, address: 0,
  };
}

export function emptyExtension(): RuleExtension {
  return {
    allOf: [], anyOf: [], oneOf: [], patternProperties: [], dependentRequired: [], dependentSchemas: [],
    prefixItems: [], minContains: 1, uniqueItems: false,
  };
}

/** The node a node only refers to (nothing but one `$ref`), following chains; undefined when it does more, or the chain loops. */
export function aliasOf(node: RuleNode): RuleNode | undefined {
  const seen = new Set<RuleNode>([node]);
  let target: RuleNode | undefined;
  for (let at = node; isPureReference(at); ) {
    at = at.ext!.allOf[0]!;
    if (seen.has(at)) return undefined;
    seen.add(at);
    target = at;
  }
  return target;
}

/** The keywords an extension holds: its fields set beyond emptyExtension's. */
export function extensionKeywords(ext: RuleExtension): string[] {
  return Object.entries(ext)
    .filter(([keyword, value]) => value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0) && !(keyword === 'minContains' && value === 1))
    .map(([keyword]) => keyword);
}

/** Nothing but one `$ref`. */
function isPureReference(node: RuleNode): boolean {
  const ext = node.ext;
  return ext !== undefined && ext.allOf.length === 1 && node.types === ALL_TYPES && node.flags === 0 && node.slot < 0 &&
    node.properties.length === 0 && node.indexes.length === 0 && node.items === undefined && node.deepMembers.length === 0 &&
    !node.resource && extensionKeywords(ext).length === 1;
}

/** An extension of nothing but an asserted format, which the scan checks as it reads the string (F_FORMAT). */
export function onlyFormat(ext: RuleExtension): boolean {
  const keywords = extensionKeywords(ext);
  return keywords.length === 1 && keywords[0] === 'format';
}

/**
 * A node of its own standing where `node` is (its target, when it is only a `$ref`): marking it for
 * extraction leaves the nodes other places share alone. Its properties and indexes are its own too.
 */
export function ownCopy(node: RuleNode): RuleNode {
  const target = aliasOf(node) ?? node;
  return { ...target, members: [...target.members], properties: target.properties.map((p) => ({ ...p })), indexes: target.indexes.map((i) => ({ ...i })) };
}

/** How a schema compiles beyond its own text. */
export interface CompileOptions {
  /** Check `format` (else an annotation). */
  readonly assertFormats?: boolean;
  /** Other schema documents by URI, for `$ref`s across documents (nothing is fetched). */
  readonly schemas?: Readonly<Record<string, JsonSchema>>;
  /** The URI the schema was read from (a `file:` URL): its relative references resolve against it. */
  readonly base?: string;
}

/** A flow's rules with the documents they reference, as the configuration loaded them. */
export interface FlowRules extends Pick<CompileOptions, 'schemas' | 'base'> {
  readonly schema: JsonSchema;
}

/** `string`, `string or null`, ... for messages. */
export function describeTypes(types: number): string {
  const names = (Object.keys(TYPE_BITS) as JsonType[]).filter((name) => (types & TYPE_BITS[name]) !== 0);
  if ((types & TYPE_BITS.number) !== 0) names.splice(names.indexOf('integer'), names.includes('integer') ? 1 : 0);
  return names.join(' or ');
}

/** The property entry for `name`, added as synthetic (any value) when `properties` lacks it. */
export function propertyOf(node: RuleNode, name: string, location: string): RuleProperty {
  let property = node.properties.find((p) => p.name === name);
  if (!property) {
    property = {
      name,
      child: emptyNode(`${location}/properties/${escapeToken(name)}`),
      required: false,
      synthetic: true,
      address: 0,
    };
    node.properties.push(property);
  }
  return property;
}
