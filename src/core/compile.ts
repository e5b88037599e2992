// JSON Schema (the supported subset) -> the core's rule program: schema nodes, property and enum
// tables, regex programs and name bytes, laid out at a given base address (assembly/layout.ts).
import { SluiceError } from '../errors.ts';
import { compileRegex, type RegexEngine } from './regex.ts';

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

// ---- layout constants (assembly/layout.ts) ----------------------------------------------------
export const NODE_SIZE = 96;
const N_TYPE = 0, N_FLAGS = 4, N_MIN_LENGTH = 8, N_MAX_LENGTH = 12, N_MIN_ITEMS = 16, N_MAX_ITEMS = 20;
const N_ITEMS = 24, N_PROP_COUNT = 28, N_PROPS = 32, N_SEEN_WORDS = 36, N_PATTERN = 40;
const N_ENUM_COUNT = 44, N_ENUM = 48, N_SLOT = 52, N_MINIMUM = 56, N_MAXIMUM = 64;
const N_EXCL_MINIMUM = 72, N_EXCL_MAXIMUM = 80, N_INDEX_COUNT = 88, N_INDEXES = 92;
const PROP_SIZE = 16, PF_REQUIRED = 1, PF_SYNTHETIC = 2, PF_NO_DUPLICATE_CHECK = 4;
const INDEX_SIZE = 8;
const ENUM_SIZE = 16, EK_NULL = 0, EK_FALSE = 1, EK_TRUE = 2, EK_NUMBER = 3, EK_STRING = 4;

const TYPE_BITS = { null: 1, boolean: 2, integer: 4, number: 8, string: 16, array: 32, object: 64 } as const;
export type JsonType = keyof typeof TYPE_BITS;
const ALL_TYPES = 127;

const F_FALSE = 1, F_NO_ADDITIONAL = 2, F_MINIMUM = 4, F_MAXIMUM = 8, F_EXCL_MINIMUM = 16;
const F_EXCL_MAXIMUM = 32, F_MIN_LENGTH = 64, F_MAX_LENGTH = 128, F_MIN_ITEMS = 256, F_MAX_ITEMS = 512;
const F_ENUM = 1024, F_CONST = 2048, F_PATTERN = 4096, F_PATTERN_JS = 8192, F_ENUM_NUMBERS = 16384;

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);
const SUPPORTED = new Set([
  'type', 'required', 'properties', 'additionalProperties', 'enum', 'const', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'items', 'minItems', 'maxItems',
]);

type Scalar = string | number | boolean | null;

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
  members: Scalar[];
  items?: RuleNode;
  properties: RuleProperty[];
  /** Array elements with a node of their own: the items schema plus an extraction below them. */
  indexes: { index: number; child: RuleNode }[];
  slot: number;
  address: number;
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
  readonly root: number;
  readonly any: number;
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

function scalar(value: unknown, location: string, keyword: string): Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  schemaError(location, `"${keyword}" supports only string, number, boolean and null values, not ${JSON.stringify(value)}`);
}

function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function emptyNode(location: string): RuleNode {
  return {
    location, types: ALL_TYPES, flags: 0, minLength: 0, maxLength: 0, minItems: 0, maxItems: 0,
    minimum: 0, maximum: 0, exclusiveMinimum: 0, exclusiveMaximum: 0, members: [], properties: [],
    indexes: [], slot: -1, address: 0,
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

function parseNode(schema: unknown, location: string, jsPatterns: string[], engine: RegexEngine): RuleNode {
  const node = emptyNode(location);
  if (schema === true) return node;
  if (schema === false) {
    node.flags |= F_FALSE;
    return node;
  }
  if (!isPlainObject(schema)) schemaError(location, 'a schema must be an object or a boolean');
  for (const keyword of Object.keys(schema)) {
    if (!SUPPORTED.has(keyword) && !ANNOTATIONS.has(keyword)) {
      schemaError(location, `unsupported keyword "${keyword}" (the core supports: ${[...SUPPORTED].join(', ')})`);
    }
  }
  const s = schema;
  if (s.type !== undefined) {
    const names = Array.isArray(s.type) ? s.type : [s.type];
    if (names.length === 0) schemaError(location, '"type" must not be an empty array');
    node.types = 0;
    for (const name of names) {
      if (typeof name !== 'string' || !(name in TYPE_BITS)) schemaError(location, `unknown type ${JSON.stringify(name)}`);
      node.types |= TYPE_BITS[name as JsonType];
    }
  }
  if (s.enum !== undefined) {
    if (!Array.isArray(s.enum) || s.enum.length === 0) schemaError(location, '"enum" must be a non-empty array');
    node.members = s.enum.map((member) => scalar(member, location, 'enum'));
    node.flags |= F_ENUM;
  }
  if (s.const !== undefined) {
    if (s.enum !== undefined) schemaError(location, '"enum" and "const" together are not supported');
    node.members = [scalar(s.const, location, 'const')];
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
    const program = compileRegex(s.pattern, `schema ${location}`, engine);
    if (program) {
      node.patternProgram = program;
      node.flags |= F_PATTERN;
    } else {
      jsPatterns.push(s.pattern);
      node.flags |= F_PATTERN_JS;
    }
  }
  if (s.items !== undefined) {
    if (Array.isArray(s.items)) schemaError(location, '"items" as an array (tuple validation) is not supported');
    node.items = parseNode(s.items, `${location}/items`, jsPatterns, engine);
  }
  if (s.properties !== undefined) {
    if (!isPlainObject(s.properties)) schemaError(location, '"properties" must be an object');
    for (const [name, child] of Object.entries(s.properties)) {
      node.properties.push({
        name,
        child: parseNode(child, `${location}/properties/${pointerSegment(name)}`, jsPatterns, engine),
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
    for (const name of s.required as string[]) {
      const property = propertyOf(node, name, location);
      property.required = true;
    }
  }
  if (s.additionalProperties !== undefined) {
    if (s.additionalProperties === false) node.flags |= F_NO_ADDITIONAL;
    else if (s.additionalProperties !== true) {
      schemaError(location, '"additionalProperties" supports only true or false, not a schema');
    }
  }
  return node;
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

export function compileProgram(schema: JsonSchema, extract: readonly string[], base: number, engine: RegexEngine = 'auto'): RuleProgram {
  const jsPatterns: string[] = [];
  const root = parseNode(schema, '#', jsPatterns, engine);
  markExtract(root, extract);
  const out = new ProgramWriter(base);
  const nodesByAddress = new Map<number, RuleNode>();
  const propertiesByAddress = new Map<number, RuleProperty>();
  let maxSeenWords = 0;
  let maxRegexWords = 1;

  const any = emptyNode('#');
  const emitNode = (node: RuleNode): number => {
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
  return {
    source: schema,
    bytes: out.bytes(),
    root: rootAddress,
    any: anyAddress,
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
