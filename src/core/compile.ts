// JSON Schema (the supported subset) -> the core's rule program: schema nodes, property and enum
// tables, regex programs and name bytes, laid out at a given base address (assembly/layout.ts).
import { SluiceError } from '../errors.ts';
import { compileRegex, type RegexEngine } from './regex.ts';

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

// ---- layout constants (assembly/layout.ts) ----------------------------------------------------
export const NODE_SIZE = 104;
const N_TYPE = 0, N_FLAGS = 4, N_MIN_LENGTH = 8, N_MAX_LENGTH = 12, N_MIN_ITEMS = 16, N_MAX_ITEMS = 20;
const N_ITEMS = 24, N_PROP_COUNT = 28, N_PROPS = 32, N_SEEN_WORDS = 36, N_PATTERN = 40;
const N_ENUM_COUNT = 44, N_ENUM = 48, N_SLOT = 52, N_MINIMUM = 56, N_MAXIMUM = 64;
const N_EXCL_MINIMUM = 72, N_EXCL_MAXIMUM = 80, N_INDEX_COUNT = 88, N_INDEXES = 92, N_EXT = 96, N_RESOURCE = 100;
// the extension of a node that uses applicators and the other keywords evaluated on the tape
const EXT_SIZE = 152;
const X_FLAGS = 0, X_ALL_COUNT = 4, X_ALL = 8, X_ANY_COUNT = 12, X_ANY = 16, X_ONE_COUNT = 20, X_ONE = 24;
const X_NOT = 28, X_IF = 32, X_THEN = 36, X_ELSE = 40, X_PATTERN_COUNT = 44, X_PATTERNS = 48, X_ADDITIONAL = 52;
const X_PROPERTY_NAMES = 56, X_DEP_REQUIRED_COUNT = 60, X_DEP_REQUIRED = 64, X_DEP_SCHEMA_COUNT = 68, X_DEP_SCHEMAS = 72;
const X_PREFIX_COUNT = 76, X_PREFIX = 80, X_CONTAINS = 84, X_MIN_CONTAINS = 88, X_MAX_CONTAINS = 92;
const X_MIN_PROPERTIES = 96, X_MAX_PROPERTIES = 100, X_DEEP_COUNT = 104, X_DEEP = 108, X_MULTIPLE_OF = 112, X_FORMAT = 120;
const X_UNEVALUATED_PROPERTIES = 124, X_UNEVALUATED_ITEMS = 128, XF_CONTAINS_EVALUATES = 32;
const X_DYNAMIC_FALLBACK = 136, X_DYNAMIC_COUNT = 140, X_DYNAMIC = 144;
/** The formats the core asserts, by their FMT_* number (assembly/layout.ts). */
const FORMATS = ['date', 'time', 'date-time', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'uuid', 'json-pointer', 'relative-json-pointer'];
const XF_UNIQUE = 1, XF_MULTIPLE_OF = 2, XF_MIN_PROPERTIES = 4, XF_MAX_PROPERTIES = 8, XF_MAX_CONTAINS = 16;
const TAPE_SIZE = 32, TP_KIND = 0, TP_START = 4, TP_END = 8, TP_AUX = 12, TP_NEXT = 16, TP_FLAGS = 20, TP_NUMBER = 24;
const TF_ESCAPED = 1, TF_INTEGER = 2;
const PROP_SIZE = 16, PF_REQUIRED = 1, PF_SYNTHETIC = 2, PF_NO_DUPLICATE_CHECK = 4;
const INDEX_SIZE = 8;
const ENUM_SIZE = 16, EK_NULL = 0, EK_FALSE = 1, EK_TRUE = 2, EK_NUMBER = 3, EK_STRING = 4;

const TYPE_BITS = { null: 1, boolean: 2, integer: 4, number: 8, string: 16, array: 32, object: 64 } as const;
export type JsonType = keyof typeof TYPE_BITS;
const ALL_TYPES = 127;

const F_FALSE = 1, F_NO_ADDITIONAL = 2, F_MINIMUM = 4, F_MAXIMUM = 8, F_EXCL_MINIMUM = 16;
const F_EXCL_MAXIMUM = 32, F_MIN_LENGTH = 64, F_MAX_LENGTH = 128, F_MIN_ITEMS = 256, F_MAX_ITEMS = 512;
const F_ENUM = 1024, F_CONST = 2048, F_PATTERN = 4096, F_PATTERN_JS = 8192, F_ENUM_NUMBERS = 16384;

const ANNOTATIONS = new Set([
  '$schema', '$id', '$comment', 'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly',
  '$defs', 'definitions', 'contentEncoding', 'contentMediaType', 'contentSchema',
]);
const COMMON = [
  'type', 'required', 'properties', 'additionalProperties', 'enum', 'const', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'items', 'minItems', 'maxItems',
  '$ref', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'patternProperties', 'propertyNames',
  'uniqueItems', 'contains', 'minProperties', 'maxProperties', 'multipleOf', 'format',
];

/** The drafts the core knows, by `$schema` (none: 2020-12). */
export type Draft = 'draft-07' | '2019-09' | '2020-12';
const DRAFTS: Readonly<Record<string, Draft>> = {
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};
const SUPPORTED: Readonly<Record<Draft, ReadonlySet<string>>> = {
  'draft-07': new Set([...COMMON, 'additionalItems', 'dependencies']),
  '2019-09': new Set([...COMMON, 'additionalItems', 'dependentRequired', 'dependentSchemas', 'minContains', 'maxContains', '$anchor', 'unevaluatedProperties', 'unevaluatedItems', '$recursiveRef', '$recursiveAnchor']),
  '2020-12': new Set([...COMMON, 'prefixItems', 'dependentRequired', 'dependentSchemas', 'minContains', 'maxContains', '$anchor', 'unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$dynamicAnchor']),
};

/** The draft a schema declares with `$schema`; an unknown meta-schema is refused (its vocabulary is unknown). */
export function draftOf(schema: JsonSchema): Draft {
  if (typeof schema !== 'object' || schema === null || schema.$schema === undefined) return '2020-12';
  const uri = String(schema.$schema).replace(/#$/, '');
  const draft = DRAFTS[uri];
  if (!draft) schemaError('#', `unsupported "$schema" ${JSON.stringify(schema.$schema)} (the core knows ${Object.keys(DRAFTS).join(', ')})`);
  return draft;
}

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
  /** The scalar members of enum/const; `deepMembers` holds the objects and arrays. */
  members: Scalar[];
  deepMembers: unknown[];
  items?: RuleNode;
  /** Keywords evaluated on the tape (assembly/evaluate.ts); absent on nodes of the streaming subset. */
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
  /** Not declared in `properties`: there only for `required` or extraction. */
  synthetic: boolean;
  address: number;
}

export interface RuleProgram {
  readonly source: JsonSchema;
  readonly bytes: Uint8Array;
  /** The node the scan runs: the rules (streaming), or in tape mode the extraction skeleton. */
  readonly root: number;
  readonly any: number;
  /** Tape mode: the rules' root, evaluated on the tape after the scan; 0 when the scan runs the rules. */
  readonly evalRoot: number;
  readonly draft: Draft;
  /** Deepest seen-bit need of any object node, in 32-bit words. */
  readonly maxSeenWords: number;
  /** Largest regex program, in words (sizes the VM scratch). */
  readonly maxRegexWords: number;
  /** Patterns the core cannot run; the verdicts that touch them come from JS. */
  readonly jsPatterns: readonly string[];
  readonly nodesByAddress: ReadonlyMap<number, RuleNode>;
  readonly propertiesByAddress: ReadonlyMap<number, RuleProperty>;
}

function hasSlot(node: RuleNode): boolean {
  return node.slot >= 0 || node.properties.some((p) => hasSlot(p.child)) || node.indexes.some((i) => hasSlot(i.child));
}

function schemaError(location: string, message: string): never {
  throw new SluiceError('SLC_SCHEMA', `schema ${location}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegativeInteger(value: unknown, location: string, keyword: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    schemaError(location, `"${keyword}" must be a non-negative integer`);
  }
  return value;
}

function finiteNumber(value: unknown, location: string, keyword: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) schemaError(location, `"${keyword}" must be a number`);
  return value;
}

function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function emptyNode(location: string): RuleNode {
  return {
    location, types: ALL_TYPES, flags: 0, minLength: 0, maxLength: 0, minItems: 0, maxItems: 0,
    minimum: 0, maximum: 0, exclusiveMinimum: 0, exclusiveMaximum: 0, members: [], deepMembers: [], properties: [],
    indexes: [], slot: -1, address: 0,
  };
}

function emptyExtension(): RuleExtension {
  return {
    allOf: [], anyOf: [], oneOf: [], patternProperties: [], dependentRequired: [], dependentSchemas: [],
    prefixItems: [], minContains: 1, uniqueItems: false,
  };
}

/** A deep copy (an array element extracted by index gets its own copy of the items schema). */
function cloneNode(node: RuleNode): RuleNode {
  return {
    ...node,
    members: [...node.members],
    items: node.items && cloneNode(node.items),
    properties: node.properties.map((p) => ({ ...p, child: cloneNode(p.child) })),
    indexes: node.indexes.map((i) => ({ index: i.index, child: cloneNode(i.child) })),
  };
}

/** How a schema compiles beyond its own text. */
export interface CompileOptions {
  /** Check `format` (else an annotation). */
  readonly assertFormats?: boolean;
  /** Other schema documents by URI, for `$ref`s across documents (nothing is fetched). */
  readonly schemas?: Readonly<Record<string, JsonSchema>>;
}

/** Where a schema was found while indexing: its base URI. */
interface Indexed { readonly base: string }

/** What compiling one schema document shares: its draft, its resources by URI, the nodes made so far. */
class Compiler {
  readonly draft: Draft;
  readonly jsPatterns: string[] = [];
  /** Some node needs the tape (an applicator, a deep enum, ...). */
  extended = false;
  readonly #engine: RegexEngine;
  readonly #resources = new Map<string, unknown>();
  readonly #anchors = new Map<string, unknown>();
  readonly #indexed = new Map<object, Indexed>();
  readonly #nodes = new Map<object, RuleNode>();
  /** The URI of the rules' own document (its `$id`, else the default): locations in it are plain pointers. */
  readonly #rootDocument: string;

  readonly #assertFormats: boolean;
  /** The document uses unevaluated*: `additionalProperties: true` then evaluates (annotates) members. */
  readonly #annotations: boolean;
  /** The documents use $dynamicRef/$recursiveRef: nodes carry their resource for the dynamic scope. */
  readonly #dynamic: boolean;
  readonly #resourceIds = new Map<string, number>();
  /** Schemas with a $dynamicAnchor (2019-09: $recursiveAnchor true, as the name ""), by name. */
  readonly #dynamicAnchors = new Map<string, unknown[]>();

  constructor(root: JsonSchema, engine: RegexEngine, options: CompileOptions) {
    this.draft = draftOf(root);
    this.#engine = engine;
    this.#assertFormats = options.assertFormats ?? false;
    const text = JSON.stringify([root, options.schemas ?? {}]);
    this.#annotations = /"unevaluated(Properties|Items)"/.test(text);
    this.#dynamic = /"\$(dynamicRef|recursiveRef)"/.test(text);
    this.#index(root, DEFAULT_BASE);
    this.#rootDocument = isPlainObject(root) ? (this.#indexed.get(root)?.base ?? DEFAULT_BASE) : DEFAULT_BASE;
    for (const [uri, document] of Object.entries(options.schemas ?? {})) {
      const base = resolveUri(uri, DEFAULT_BASE);
      if (base === undefined) schemaError('#', `schemas: ${JSON.stringify(uri)} is not a URI`);
      const [documentUri] = splitFragment(base);
      if (!this.#resources.has(documentUri)) this.#resources.set(documentUri, document);
      this.#index(document, documentUri);
    }
  }

  /** Records base URIs, `$id`s and anchors of every subschema at a keyword position. */
  #index(schema: unknown, base: string): void {
    if (!isPlainObject(schema)) return;
    if (this.#indexed.has(schema)) return;
    const draft07RefSibling = this.draft === 'draft-07' && schema.$ref !== undefined;
    if (typeof schema.$id === 'string' && !draft07RefSibling) {
      const uri = resolveUri(schema.$id, base);
      if (uri !== undefined) {
        const [document, fragment] = splitFragment(uri);
        if (this.draft === 'draft-07' && fragment !== '') {
          if (schema.$id.startsWith('#')) this.#anchors.set(uri, schema);
          else {
            base = document;
            this.#resources.set(document, schema);
            this.#anchors.set(uri, schema);
          }
        } else {
          base = document;
          this.#resources.set(document, schema);
        }
      }
    }
    if (base === DEFAULT_BASE && !this.#resources.has(base)) this.#resources.set(base, schema);
    if (typeof schema.$anchor === 'string' && this.draft !== 'draft-07') this.#anchors.set(`${base}#${schema.$anchor}`, schema);
    const dynamicName = this.draft === '2020-12' && typeof schema.$dynamicAnchor === 'string' ? schema.$dynamicAnchor
      : this.draft === '2019-09' && schema.$recursiveAnchor === true ? '' : undefined;
    if (dynamicName !== undefined) {
      if (dynamicName !== '') this.#anchors.set(`${base}#${dynamicName}`, schema);
      const list = this.#dynamicAnchors.get(dynamicName) ?? [];
      list.push(schema);
      this.#dynamicAnchors.set(dynamicName, list);
    }
    this.#indexed.set(schema, { base });
    for (const keyword of ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']) {
      const group = schema[keyword];
      if (isPlainObject(group)) for (const child of Object.values(group)) this.#index(child, base);
    }
    for (const keyword of ['additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'items', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema']) {
      const child = schema[keyword];
      if (Array.isArray(child)) child.forEach((c) => this.#index(c, base));
      else this.#index(child, base);
    }
    for (const keyword of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
      const list = schema[keyword];
      if (Array.isArray(list)) list.forEach((c) => this.#index(c, base));
    }
  }

  /** The schema a `$ref` names, with its base URI; a compile error when it does not resolve. */
  #resolve(ref: string, base: string, location: string): { schema: unknown; base: string; location: string } {
    const uri = resolveUri(ref, base);
    if (uri === undefined) schemaError(location, `"$ref" ${JSON.stringify(ref)} is not a URI reference`);
    const [document, fragment] = splitFragment(uri);
    if (fragment === '' || fragment.startsWith('/')) {
      let target = this.#resources.get(document);
      if (target === undefined) schemaError(location, `"$ref" ${JSON.stringify(ref)} does not resolve (no schema has the $id ${document})`);
      let targetBase = document;
      for (const raw of fragment === '' ? [] : fragment.slice(1).split('/')) {
        const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
        const container = target as Record<string, unknown> | unknown[] | null;
        if (container === null || typeof container !== 'object' || !Object.hasOwn(container, segment)) {
          schemaError(location, `"$ref" ${JSON.stringify(ref)} does not resolve (no ${JSON.stringify(segment)} in ${document}#${fragment})`);
        }
        target = (container as Record<string, unknown>)[segment];
        if (isPlainObject(target)) targetBase = this.#indexed.get(target)?.base ?? targetBase;
      }
      return { schema: target, base: targetBase, location: `${document === this.#rootDocument ? '' : document}#${fragment}` };
    }
    const anchored = this.#anchors.get(uri);
    if (anchored === undefined) schemaError(location, `"$ref" ${JSON.stringify(ref)} does not resolve (no anchor ${uri})`);
    return { schema: anchored, base: this.#indexed.get(anchored as object)?.base ?? document, location: `#${fragment}` };
  }

  #resourceId(base: string): number {
    let id = this.#resourceIds.get(base);
    if (id === undefined) this.#resourceIds.set(base, (id = this.#resourceIds.size + 1));
    return id;
  }

  #extension(node: RuleNode): RuleExtension {
    this.extended = true;
    node.ext ??= emptyExtension();
    return node.ext;
  }

  #list(value: unknown, location: string, keyword: string, base: string): RuleNode[] {
    if (!Array.isArray(value) || value.length === 0) schemaError(location, `"${keyword}" must be a non-empty array of schemas`);
    return value.map((child, i) => this.node(child, `${location}/${keyword}/${i}`, base));
  }

  /** The node of a schema (the same node for the same schema object: `$ref` cycles stay cycles). */
  node(schema: unknown, location: string, base?: string): RuleNode {
    if (isPlainObject(schema)) {
      const known = this.#nodes.get(schema);
      if (known) return known;
    }
    const node = emptyNode(location);
    if (schema === true) return node;
    if (schema === false) {
      node.flags |= F_FALSE;
      return node;
    }
    if (!isPlainObject(schema)) schemaError(location, 'a schema must be an object or a boolean');
    this.#nodes.set(schema, node);
    base = this.#indexed.get(schema)?.base ?? base ?? DEFAULT_BASE;
    if (this.#dynamic) node.resource = this.#resourceId(base);
    const s = schema;
    const supported = SUPPORTED[this.draft];
    for (const keyword of Object.keys(s)) {
      if (!supported.has(keyword) && !ANNOTATIONS.has(keyword)) {
        schemaError(location, `unsupported keyword "${keyword}" (the core supports: ${[...supported].join(', ')})`);
      }
    }
    if (s.$ref !== undefined) {
      if (typeof s.$ref !== 'string') schemaError(location, '"$ref" must be a string');
      const target = this.#resolve(s.$ref, base, location);
      this.#extension(node).allOf.push(this.node(target.schema, target.location, target.base));
      // draft-07: a $ref's siblings are ignored
      if (this.draft === 'draft-07') return node;
    }
    const dynamicRef = this.draft === '2020-12' ? s.$dynamicRef : this.draft === '2019-09' ? s.$recursiveRef : undefined;
    if (dynamicRef !== undefined) {
      const keyword = this.draft === '2020-12' ? '$dynamicRef' : '$recursiveRef';
      if (typeof dynamicRef !== 'string') schemaError(location, `"${keyword}" must be a string`);
      if (keyword === '$recursiveRef' && dynamicRef !== '#') schemaError(location, '"$recursiveRef" must be "#"');
      const target = this.#resolve(dynamicRef, base, location);
      const name = keyword === '$recursiveRef' ? '' : splitFragment(resolveUri(dynamicRef, base) ?? '')[1];
      const bookended = isPlainObject(target.schema) && (keyword === '$recursiveRef' ? target.schema.$recursiveAnchor === true : target.schema.$dynamicAnchor === name);
      const fallback = this.node(target.schema, target.location, target.base);
      if (!bookended) this.#extension(node).allOf.push(fallback);
      else {
        const candidates = (this.#dynamicAnchors.get(name) ?? []).map((anchored) => {
          const anchoredBase = this.#indexed.get(anchored as object)?.base ?? DEFAULT_BASE;
          return { resource: this.#resourceId(anchoredBase), node: this.node(anchored, `${anchoredBase === this.#rootDocument ? '' : anchoredBase}#${name}`, anchoredBase) };
        });
        this.#extension(node).dynamic = { fallback, candidates };
      }
    }
    this.#validation(node, s, location);
    if (s.items !== undefined) {
      if (Array.isArray(s.items)) {
        if (this.draft === '2020-12') schemaError(location, '"items" must be a schema (2020-12 names a tuple "prefixItems")');
        this.#extension(node).prefixItems = s.items.map((child, i) => this.node(child, `${location}/items/${i}`, base));
        if (s.additionalItems !== undefined) node.items = this.node(s.additionalItems, `${location}/additionalItems`, base);
      } else {
        node.items = this.node(s.items, `${location}/items`, base);
      }
    }
    if (s.prefixItems !== undefined) {
      if (!Array.isArray(s.prefixItems)) schemaError(location, '"prefixItems" must be an array of schemas');
      this.#extension(node).prefixItems = s.prefixItems.map((child, i) => this.node(child, `${location}/prefixItems/${i}`, base));
    }
    if (s.properties !== undefined) {
      if (!isPlainObject(s.properties)) schemaError(location, '"properties" must be an object');
      for (const [name, child] of Object.entries(s.properties)) {
        node.properties.push({
          name,
          child: this.node(child, `${location}/properties/${pointerSegment(name)}`, base),
          required: false,
          synthetic: false,
          address: 0,
        });
      }
    }
    if (s.required !== undefined) {
      if (!Array.isArray(s.required) || s.required.some((name) => typeof name !== 'string')) {
        schemaError(location, '"required" must be an array of strings');
      }
      for (const name of s.required as string[]) propertyOf(node, name, location).required = true;
    }
    if (s.patternProperties !== undefined) {
      if (!isPlainObject(s.patternProperties)) schemaError(location, '"patternProperties" must be an object');
      const ext = this.#extension(node);
      for (const [pattern, child] of Object.entries(s.patternProperties)) {
        const program = compileRegex(pattern, `schema ${location}/patternProperties`, this.#engine);
        if (!program) schemaError(location, `"patternProperties": ${JSON.stringify(pattern)} is outside the core's regex subset`);
        ext.patternProperties.push({ pattern, program, child: this.node(child, `${location}/patternProperties/${pointerSegment(pattern)}`, base) });
      }
    }
    if (s.additionalProperties !== undefined) {
      if (s.additionalProperties === false) node.flags |= F_NO_ADDITIONAL;
      else if (s.additionalProperties !== true || this.#annotations) {
        this.#extension(node).additionalProperties = this.node(s.additionalProperties, `${location}/additionalProperties`, base);
      }
    }
    if (s.propertyNames !== undefined) this.#extension(node).propertyNames = this.node(s.propertyNames, `${location}/propertyNames`, base);
    const dependentRequired = (value: unknown, keyword: string) => {
      if (!isPlainObject(value)) schemaError(location, `"${keyword}" must be an object`);
      for (const [name, dependency] of Object.entries(value)) {
        if (Array.isArray(dependency)) {
          if (dependency.some((d) => typeof d !== 'string')) schemaError(location, `"${keyword}": ${JSON.stringify(name)} must list property names`);
          this.#extension(node).dependentRequired.push({ name, required: dependency as string[] });
        } else if (keyword === 'dependentRequired') {
          schemaError(location, `"dependentRequired": ${JSON.stringify(name)} must list property names`);
        } else {
          this.#extension(node).dependentSchemas.push({ name, child: this.node(dependency, `${location}/${keyword}/${pointerSegment(name)}`, base) });
        }
      }
    };
    if (s.dependentRequired !== undefined) dependentRequired(s.dependentRequired, 'dependentRequired');
    if (s.dependencies !== undefined) dependentRequired(s.dependencies, 'dependencies');
    if (s.dependentSchemas !== undefined) {
      if (!isPlainObject(s.dependentSchemas)) schemaError(location, '"dependentSchemas" must be an object');
      for (const [name, child] of Object.entries(s.dependentSchemas)) {
        this.#extension(node).dependentSchemas.push({ name, child: this.node(child, `${location}/dependentSchemas/${pointerSegment(name)}`, base) });
      }
    }
    if (s.allOf !== undefined) this.#extension(node).allOf.push(...this.#list(s.allOf, location, 'allOf', base));
    if (s.anyOf !== undefined) this.#extension(node).anyOf = this.#list(s.anyOf, location, 'anyOf', base);
    if (s.oneOf !== undefined) this.#extension(node).oneOf = this.#list(s.oneOf, location, 'oneOf', base);
    if (s.not !== undefined) this.#extension(node).not = this.node(s.not, `${location}/not`, base);
    if (s.if !== undefined) {
      const ext = this.#extension(node);
      ext.if = this.node(s.if, `${location}/if`, base);
      if (s.then !== undefined) ext.then = this.node(s.then, `${location}/then`, base);
      if (s.else !== undefined) ext.else = this.node(s.else, `${location}/else`, base);
    }
    if (s.contains !== undefined) {
      const ext = this.#extension(node);
      ext.contains = this.node(s.contains, `${location}/contains`, base);
      ext.containsEvaluates = this.draft === '2020-12';
      if (s.minContains !== undefined) ext.minContains = nonNegativeInteger(s.minContains, location, 'minContains');
      if (s.maxContains !== undefined) ext.maxContains = nonNegativeInteger(s.maxContains, location, 'maxContains');
    }
    if (s.uniqueItems !== undefined) {
      if (typeof s.uniqueItems !== 'boolean') schemaError(location, '"uniqueItems" must be a boolean');
      if (s.uniqueItems) this.#extension(node).uniqueItems = true;
    }
    if (s.unevaluatedProperties !== undefined) this.#extension(node).unevaluatedProperties = this.node(s.unevaluatedProperties, `${location}/unevaluatedProperties`, base);
    if (s.unevaluatedItems !== undefined) this.#extension(node).unevaluatedItems = this.node(s.unevaluatedItems, `${location}/unevaluatedItems`, base);
    if (s.minProperties !== undefined) this.#extension(node).minProperties = nonNegativeInteger(s.minProperties, location, 'minProperties');
    if (s.maxProperties !== undefined) this.#extension(node).maxProperties = nonNegativeInteger(s.maxProperties, location, 'maxProperties');
    if (s.format !== undefined) {
      if (typeof s.format !== 'string') schemaError(location, '"format" must be a string');
      if (this.#assertFormats) {
        const index = FORMATS.indexOf(s.format);
        if (s.format === 'hostname') schemaError(location, 'unsupported format "hostname": the IDNA rules of A-labels (xn--) are not implemented; without assertFormats a format is an annotation');
        if (index < 0) schemaError(location, `unsupported format "${s.format}": the core checks ${FORMATS.filter((f) => f !== 'hostname').join(', ')}; without assertFormats a format is an annotation`);
        this.#extension(node).format = index + 1;
      }
    }
    if (s.multipleOf !== undefined) {
      const divisor = finiteNumber(s.multipleOf, location, 'multipleOf');
      if (divisor <= 0) schemaError(location, '"multipleOf" must be greater than 0');
      this.#extension(node).multipleOf = divisor;
    }
    return node;
  }

  #validation(node: RuleNode, s: Record<string, unknown>, location: string): void {
    if (s.type !== undefined) {
      const names = Array.isArray(s.type) ? s.type : [s.type];
      if (names.length === 0) schemaError(location, '"type" must not be an empty array');
      node.types = 0;
      for (const name of names) {
        if (typeof name !== 'string' || !(name in TYPE_BITS)) schemaError(location, `unknown type ${JSON.stringify(name)}`);
        node.types |= TYPE_BITS[name as JsonType];
      }
    }
    const members = (values: unknown[]) => {
      for (const member of values) {
        if (member !== null && typeof member === 'object') {
          node.deepMembers.push(member);
          this.extended = true;
        } else if (typeof member === 'string' || typeof member === 'number' || typeof member === 'boolean' || member === null) {
          node.members.push(member);
        } else {
          schemaError(location, `enum/const value ${String(member)} is not JSON`);
        }
      }
    };
    if (s.enum !== undefined) {
      // (an empty enum admits nothing: the suite's reading of "SHOULD have at least one element")
      if (!Array.isArray(s.enum)) schemaError(location, '"enum" must be an array');
      members(s.enum);
      node.flags |= F_ENUM;
    }
    if (s.const !== undefined) {
      if (s.enum !== undefined) schemaError(location, '"enum" and "const" together are not supported');
      members([s.const]);
      node.flags |= F_CONST;
    }
    if (node.members.some((m) => typeof m === 'number')) node.flags |= F_ENUM_NUMBERS;
    if (s.minLength !== undefined) {
      node.minLength = nonNegativeInteger(s.minLength, location, 'minLength');
      node.flags |= F_MIN_LENGTH;
    }
    if (s.maxLength !== undefined) {
      node.maxLength = nonNegativeInteger(s.maxLength, location, 'maxLength');
      node.flags |= F_MAX_LENGTH;
    }
    if (s.minItems !== undefined) {
      node.minItems = nonNegativeInteger(s.minItems, location, 'minItems');
      node.flags |= F_MIN_ITEMS;
    }
    if (s.maxItems !== undefined) {
      node.maxItems = nonNegativeInteger(s.maxItems, location, 'maxItems');
      node.flags |= F_MAX_ITEMS;
    }
    if (s.minimum !== undefined) {
      node.minimum = finiteNumber(s.minimum, location, 'minimum');
      node.flags |= F_MINIMUM;
    }
    if (s.maximum !== undefined) {
      node.maximum = finiteNumber(s.maximum, location, 'maximum');
      node.flags |= F_MAXIMUM;
    }
    if (s.exclusiveMinimum !== undefined) {
      node.exclusiveMinimum = finiteNumber(s.exclusiveMinimum, location, 'exclusiveMinimum');
      node.flags |= F_EXCL_MINIMUM;
    }
    if (s.exclusiveMaximum !== undefined) {
      node.exclusiveMaximum = finiteNumber(s.exclusiveMaximum, location, 'exclusiveMaximum');
      node.flags |= F_EXCL_MAXIMUM;
    }
    if (s.pattern !== undefined) {
      if (typeof s.pattern !== 'string') schemaError(location, '"pattern" must be a string');
      node.pattern = s.pattern;
      const program = compileRegex(s.pattern, `schema ${location}`, this.#engine);
      if (program) {
        node.patternProgram = program;
        node.flags |= F_PATTERN;
      } else {
        this.jsPatterns.push(s.pattern);
        node.flags |= F_PATTERN_JS;
      }
    }
  }
}

/** The base URI of a schema without `$id` (never fetched: references resolve in the document). */
const DEFAULT_BASE = 'https://sluice.invalid/schema.json';

function resolveUri(reference: string, base: string): string | undefined {
  try {
    return new URL(reference, base).href;
  } catch {
    return undefined;
  }
}

function splitFragment(uri: string): [string, string] {
  const hash = uri.indexOf('#');
  return hash < 0 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash + 1)];
}

/** The property entry for `name`, added as synthetic (any value) when `properties` lacks it. */
function propertyOf(node: RuleNode, name: string, location: string): RuleProperty {
  let property = node.properties.find((p) => p.name === name);
  if (!property) {
    property = {
      name,
      child: emptyNode(`${location}/properties/${pointerSegment(name)}`),
      required: false,
      synthetic: true,
      address: 0,
    };
    node.properties.push(property);
  }
  return property;
}

/** Splits an RFC 6901 JSON Pointer into property names. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is not a JSON Pointer (it must start with "/")`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Marks the node(s) a pointer reaches. A segment names an object member, or, when it is an array
 * index (0, 1, ... without leading zeros), an array element too: which one applies depends on the
 * document, so both branches are marked.
 */
function markPointer(node: RuleNode, segments: readonly string[], slot: number, pointer: string): void {
  if (segments.length === 0) {
    if (node.slot >= 0 && node.slot !== slot) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is listed twice`);
    node.slot = slot;
    return;
  }
  const [segment, ...rest] = segments as [string, ...string[]];
  markPointer(propertyOf(node, segment, node.location).child, rest, slot, pointer);
  if (/^(0|[1-9]\d{0,8})$/.test(segment)) {
    const index = Number(segment);
    let element = node.indexes.find((i) => i.index === index);
    if (!element) {
      element = { index, child: node.items ? cloneNode(node.items) : emptyNode(`${node.location}/items`) };
      node.indexes.push(element);
    }
    markPointer(element.child, rest, slot, pointer);
  }
}

function markExtract(root: RuleNode, pointers: readonly string[]): void {
  const seen = new Set<string>();
  pointers.forEach((pointer, slot) => {
    if (seen.has(pointer)) throw new SluiceError('SLC_SCHEMA', `extract: ${JSON.stringify(pointer)} is listed twice`);
    seen.add(pointer);
    markPointer(root, parsePointer(pointer), slot, pointer);
  });
}

/**
 * WTF-8: UTF-8 that also encodes lone surrogates (as JSON's \uD800 escapes can produce), so that
 * a schema string holding one compares equal to the same escape in a message.
 */
function wtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/** Writes the program into a growable buffer at absolute addresses starting at `base`. */
class ProgramWriter {
  #buffer = new ArrayBuffer(4096);
  #view = new DataView(this.#buffer);
  #size = 0;
  readonly #base: number;

  constructor(base: number) {
    this.#base = base;
  }

  alloc(size: number, align = 8): number {
    this.#size = Math.ceil(this.#size / align) * align;
    const at = this.#size;
    this.#size += size;
    if (this.#size > this.#buffer.byteLength) {
      const grown = new ArrayBuffer(Math.max(this.#size, this.#buffer.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.#buffer));
      this.#buffer = grown;
      this.#view = new DataView(grown);
    }
    return this.#base + at;
  }

  u32(address: number, value: number): void {
    this.#view.setUint32(address - this.#base, value >>> 0, true);
  }

  i32(address: number, value: number): void {
    this.#view.setInt32(address - this.#base, value, true);
  }

  f64(address: number, value: number): void {
    this.#view.setFloat64(address - this.#base, value, true);
  }

  /** WTF-8 bytes of `text`; returns [address, length]. */
  text(text: string): [number, number] {
    const bytes = wtf8(text);
    const at = this.alloc(bytes.length, 1);
    new Uint8Array(this.#buffer, at - this.#base, bytes.length).set(bytes);
    return [at, bytes.length];
  }

  words(words: Int32Array): number {
    const at = this.alloc(words.length * 4, 4);
    words.forEach((word, i) => this.i32(at + i * 4, word));
    return at;
  }

  /** The program, padded to 16 bytes. */
  bytes(): Uint8Array {
    this.alloc(0, 16);
    return new Uint8Array(this.#buffer, 0, this.#size);
  }
}

/** The node a node only refers to (nothing but one `$ref`), following chains; undefined when it does more, or the chain loops. */
function aliasOf(node: RuleNode): RuleNode | undefined {
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

function isPureReference(node: RuleNode): boolean {
  const ext = node.ext;
  return ext !== undefined && ext.allOf.length === 1 && node.types === ALL_TYPES && node.flags === 0 && node.slot < 0 &&
    node.properties.length === 0 && node.indexes.length === 0 && node.items === undefined && node.deepMembers.length === 0 &&
    ext.anyOf.length === 0 && ext.oneOf.length === 0 && !ext.not && !ext.if && !ext.then && !ext.else &&
    ext.patternProperties.length === 0 && !ext.additionalProperties && !ext.propertyNames && ext.dependentRequired.length === 0 &&
    ext.dependentSchemas.length === 0 && ext.prefixItems.length === 0 && !ext.contains && ext.minProperties === undefined &&
    ext.maxProperties === undefined && ext.multipleOf === undefined && !ext.uniqueItems && ext.format === undefined &&
    !ext.unevaluatedProperties && !ext.unevaluatedItems && !ext.dynamic && !node.resource;
}

/** The tape entries of a JSON value (the layout assembly/scanner.ts records a message in). */
function tapeCount(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((n: number, v) => n + tapeCount(v), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce((n: number, v) => n + 1 + tapeCount(v), 0);
  return 1;
}

function writeTape(out: ProgramWriter, value: unknown): number {
  const first = out.alloc(tapeCount(value) * TAPE_SIZE);
  let at = first;
  const string = (text: string) => {
    const entry = at;
    at += TAPE_SIZE;
    const [address, length] = out.text(JSON.stringify(text));
    out.u32(entry + TP_KIND, TYPE_BITS.string);
    out.u32(entry + TP_START, address);
    out.u32(entry + TP_END, address + length);
    out.u32(entry + TP_FLAGS, TF_ESCAPED);
    out.u32(entry + TP_NEXT, at);
  };
  const write = (v: unknown): void => {
    if (typeof v === 'string') return string(v);
    const entry = at;
    at += TAPE_SIZE;
    if (v === null) out.u32(entry + TP_KIND, TYPE_BITS.null);
    else if (typeof v === 'boolean') {
      out.u32(entry + TP_KIND, TYPE_BITS.boolean);
      out.u32(entry + TP_AUX, v ? 1 : 0);
    } else if (typeof v === 'number') {
      out.u32(entry + TP_KIND, TYPE_BITS.number);
      out.u32(entry + TP_FLAGS, Number.isInteger(v) ? TF_INTEGER : 0);
      out.f64(entry + TP_NUMBER, v);
    } else if (Array.isArray(v)) {
      out.u32(entry + TP_KIND, TYPE_BITS.array);
      out.u32(entry + TP_AUX, v.length);
      v.forEach(write);
    } else {
      const members = Object.entries(v as object);
      out.u32(entry + TP_KIND, TYPE_BITS.object);
      out.u32(entry + TP_AUX, members.length);
      for (const [key, member] of members) {
        string(key);
        write(member);
      }
    }
    out.u32(entry + TP_NEXT, at);
  };
  write(value);
  return first;
}

export function compileProgram(schema: JsonSchema, extract: readonly string[], base: number, engine: RegexEngine = 'auto', options: CompileOptions = {}): RuleProgram {
  const compiler = new Compiler(schema, engine, options);
  const rules = compiler.node(schema, '#');
  const jsPatterns = compiler.jsPatterns;
  // tape mode: the scan checks well-formedness and extracts (a skeleton), the rules run on the tape
  const root = compiler.extended ? emptyNode('#') : rules;
  markExtract(root, extract);
  const out = new ProgramWriter(base);
  const emitted = new Set<RuleNode>();
  const nodesByAddress = new Map<number, RuleNode>();
  const propertiesByAddress = new Map<number, RuleProperty>();
  let maxSeenWords = 0;
  let maxRegexWords = 1;

  const any = emptyNode('#');
  const emitNodes = (nodes: readonly RuleNode[]): number => {
    const list = out.alloc(nodes.length * 4, 4);
    nodes.forEach((n, i) => out.u32(list + i * 4, emitNode(n)));
    return list;
  };
  const emitExtension = (ext: RuleExtension): number => {
    const at = out.alloc(EXT_SIZE);
    let flags = 0;
    if (ext.allOf.length) {
      out.u32(at + X_ALL_COUNT, ext.allOf.length);
      out.u32(at + X_ALL, emitNodes(ext.allOf));
    }
    if (ext.anyOf.length) {
      out.u32(at + X_ANY_COUNT, ext.anyOf.length);
      out.u32(at + X_ANY, emitNodes(ext.anyOf));
    }
    if (ext.oneOf.length) {
      out.u32(at + X_ONE_COUNT, ext.oneOf.length);
      out.u32(at + X_ONE, emitNodes(ext.oneOf));
    }
    if (ext.not) out.u32(at + X_NOT, emitNode(ext.not));
    if (ext.if) out.u32(at + X_IF, emitNode(ext.if));
    if (ext.then) out.u32(at + X_THEN, emitNode(ext.then));
    if (ext.else) out.u32(at + X_ELSE, emitNode(ext.else));
    if (ext.patternProperties.length) {
      const table = out.alloc(ext.patternProperties.length * 8);
      ext.patternProperties.forEach(({ program, child }, i) => {
        out.u32(table + i * 8, out.words(program));
        maxRegexWords = Math.max(maxRegexWords, program.length);
        out.u32(table + i * 8 + 4, emitNode(child));
      });
      out.u32(at + X_PATTERN_COUNT, ext.patternProperties.length);
      out.u32(at + X_PATTERNS, table);
    }
    if (ext.additionalProperties) out.u32(at + X_ADDITIONAL, emitNode(ext.additionalProperties));
    if (ext.propertyNames) out.u32(at + X_PROPERTY_NAMES, emitNode(ext.propertyNames));
    if (ext.dependentRequired.length) {
      // (name address, name length, count, address of (name address, name length) pairs)
      const table = out.alloc(ext.dependentRequired.length * 16);
      ext.dependentRequired.forEach(({ name, required }, i) => {
        const [address, length] = out.text(name);
        const names = out.alloc(required.length * 8);
        required.forEach((r, j) => {
          const [ra, rl] = out.text(r);
          out.u32(names + j * 8, ra);
          out.u32(names + j * 8 + 4, rl);
        });
        out.u32(table + i * 16, address);
        out.u32(table + i * 16 + 4, length);
        out.u32(table + i * 16 + 8, required.length);
        out.u32(table + i * 16 + 12, names);
      });
      out.u32(at + X_DEP_REQUIRED_COUNT, ext.dependentRequired.length);
      out.u32(at + X_DEP_REQUIRED, table);
    }
    if (ext.dependentSchemas.length) {
      const table = out.alloc(ext.dependentSchemas.length * 12, 4);
      ext.dependentSchemas.forEach(({ name, child }, i) => {
        const [address, length] = out.text(name);
        out.u32(table + i * 12, address);
        out.u32(table + i * 12 + 4, length);
        out.u32(table + i * 12 + 8, emitNode(child));
      });
      out.u32(at + X_DEP_SCHEMA_COUNT, ext.dependentSchemas.length);
      out.u32(at + X_DEP_SCHEMAS, table);
    }
    if (ext.prefixItems.length) {
      out.u32(at + X_PREFIX_COUNT, ext.prefixItems.length);
      out.u32(at + X_PREFIX, emitNodes(ext.prefixItems));
    }
    if (ext.contains) {
      out.u32(at + X_CONTAINS, emitNode(ext.contains));
      out.u32(at + X_MIN_CONTAINS, ext.minContains);
      if (ext.maxContains !== undefined) {
        flags |= XF_MAX_CONTAINS;
        out.u32(at + X_MAX_CONTAINS, ext.maxContains);
      }
    }
    if (ext.minProperties !== undefined) {
      flags |= XF_MIN_PROPERTIES;
      out.u32(at + X_MIN_PROPERTIES, ext.minProperties);
    }
    if (ext.maxProperties !== undefined) {
      flags |= XF_MAX_PROPERTIES;
      out.u32(at + X_MAX_PROPERTIES, ext.maxProperties);
    }
    if (ext.multipleOf !== undefined) {
      flags |= XF_MULTIPLE_OF;
      out.f64(at + X_MULTIPLE_OF, ext.multipleOf);
    }
    if (ext.uniqueItems) flags |= XF_UNIQUE;
    if (ext.format !== undefined) out.u32(at + X_FORMAT, ext.format);
    if (ext.unevaluatedProperties) out.u32(at + X_UNEVALUATED_PROPERTIES, emitNode(ext.unevaluatedProperties));
    if (ext.unevaluatedItems) out.u32(at + X_UNEVALUATED_ITEMS, emitNode(ext.unevaluatedItems));
    if (ext.containsEvaluates) flags |= XF_CONTAINS_EVALUATES;
    if (ext.dynamic) {
      const { fallback, candidates } = ext.dynamic;
      out.u32(at + X_DYNAMIC_FALLBACK, emitNode(fallback));
      const table = out.alloc(candidates.length * 8);
      candidates.forEach(({ resource, node }, i) => {
        out.u32(table + i * 8, resource);
        out.u32(table + i * 8 + 4, emitNode(node));
      });
      out.u32(at + X_DYNAMIC_COUNT, candidates.length);
      out.u32(at + X_DYNAMIC, table);
    }
    out.u32(at + X_FLAGS, flags);
    return at;
  };
  const emitNode = (node: RuleNode): number => {
    if (emitted.has(node)) return node.address;
    // a schema that is only a $ref is its target: one evaluation less per value (a loop of such refs is kept)
    const target = aliasOf(node);
    if (target) {
      emitted.add(node);
      node.address = emitNode(target);
      return node.address;
    }
    emitted.add(node);
    const at = out.alloc(NODE_SIZE);
    node.address = at;
    nodesByAddress.set(at, node);
    out.u32(at + N_TYPE, node.types);
    out.u32(at + N_FLAGS, node.flags);
    out.u32(at + N_MIN_LENGTH, node.minLength);
    out.u32(at + N_MAX_LENGTH, node.maxLength);
    out.u32(at + N_MIN_ITEMS, node.minItems);
    out.u32(at + N_MAX_ITEMS, node.maxItems);
    out.i32(at + N_SLOT, node.slot);
    out.u32(at + N_RESOURCE, node.resource ?? 0);
    out.f64(at + N_MINIMUM, node.minimum);
    out.f64(at + N_MAXIMUM, node.maximum);
    out.f64(at + N_EXCL_MINIMUM, node.exclusiveMinimum);
    out.f64(at + N_EXCL_MAXIMUM, node.exclusiveMaximum);
    if (node.items) out.u32(at + N_ITEMS, emitNode(node.items));
    if (node.patternProgram) {
      out.u32(at + N_PATTERN, out.words(node.patternProgram));
      maxRegexWords = Math.max(maxRegexWords, node.patternProgram.length);
    }
    if (node.members.length > 0) {
      const table = out.alloc(node.members.length * ENUM_SIZE);
      node.members.forEach((member, i) => {
        const entry = table + i * ENUM_SIZE;
        if (member === null) out.u32(entry, EK_NULL);
        else if (member === true) out.u32(entry, EK_TRUE);
        else if (member === false) out.u32(entry, EK_FALSE);
        else if (typeof member === 'number') {
          out.u32(entry, EK_NUMBER);
          out.f64(entry + 8, member);
        } else {
          out.u32(entry, EK_STRING);
          const [address, length] = out.text(member);
          out.u32(entry + 4, address);
          out.u32(entry + 8, length);
        }
      });
      out.u32(at + N_ENUM_COUNT, node.members.length);
      out.u32(at + N_ENUM, table);
    }
    if (node.indexes.length > 0) {
      const table = out.alloc(node.indexes.length * INDEX_SIZE);
      node.indexes.forEach(({ index, child }, i) => {
        out.u32(table + i * INDEX_SIZE, index);
        out.u32(table + i * INDEX_SIZE + 4, emitNode(child));
      });
      out.u32(at + N_INDEX_COUNT, node.indexes.length);
      out.u32(at + N_INDEXES, table);
    }
    if (node.ext || node.deepMembers.length > 0) {
      const ext = emitExtension(node.ext ?? emptyExtension());
      if (node.deepMembers.length > 0) {
        const list = out.alloc(node.deepMembers.length * 4, 4);
        node.deepMembers.forEach((member, i) => out.u32(list + i * 4, writeTape(out, member)));
        out.u32(ext + X_DEEP_COUNT, node.deepMembers.length);
        out.u32(ext + X_DEEP, list);
      }
      out.u32(at + N_EXT, ext);
    }
    const count = node.properties.length;
    if (count > 0) {
      const table = out.alloc(count * PROP_SIZE);
      node.properties.forEach((property, i) => {
        const entry = table + i * PROP_SIZE;
        property.address = entry;
        propertiesByAddress.set(entry, property);
        const [address, length] = out.text(property.name);
        out.u32(entry, address);
        out.u32(entry + 4, length);
        out.u32(entry + 8, emitNode(property.child));
        // a repeated key matters only where a value is read: declared or extracted members
        const readsValue = !property.synthetic || hasSlot(property.child);
        out.u32(entry + 12, (property.required ? PF_REQUIRED : 0) | (property.synthetic ? PF_SYNTHETIC : 0) | (readsValue ? 0 : PF_NO_DUPLICATE_CHECK));
      });
      const seenWords = Math.ceil(count / 32);
      maxSeenWords = Math.max(maxSeenWords, seenWords);
      out.u32(at + N_PROP_COUNT, count);
      out.u32(at + N_PROPS, table);
      out.u32(at + N_SEEN_WORDS, seenWords);
    }
    return at;
  };

  const anyAddress = emitNode(any);
  const rootAddress = emitNode(root);
  const evalRoot = root === rules ? 0 : emitNode(rules);
  return {
    source: schema,
    bytes: out.bytes(),
    root: rootAddress,
    any: anyAddress,
    evalRoot,
    draft: compiler.draft,
    maxSeenWords,
    maxRegexWords,
    jsPatterns,
    nodesByAddress,
    propertiesByAddress,
  };
}

/** `string`, `string or null`, ... for messages. */
export function describeTypes(types: number): string {
  const names = (Object.keys(TYPE_BITS) as JsonType[]).filter((name) => (types & TYPE_BITS[name]) !== 0);
  if ((types & TYPE_BITS.number) !== 0) names.splice(names.indexOf('integer'), names.includes('integer') ? 1 : 0);
  return names.join(' or ');
}
