// JSON Schema (the supported subset) -> the core's rule program: schema nodes, property and enum
// tables, regex programs and name bytes, laid out at a given base address (assembly/layout.ts).
import { type RegexEngine } from './regex.ts';
import { ALL_TYPES, CD_ELSE, CD_ELSE_COUNT, CD_ELSE_REQUIRED, CD_TESTS, CD_TEST_COUNT, CD_THEN, CD_THEN_COUNT, CD_THEN_REQUIRED, CONDITION_SIZE, CT_NODE, CT_PROPERTY, CT_REQUIRED, F_CONDITIONS, PF_PROBE_SHIFT, TEST_SIZE, X_CONDITIONS, X_CONDITION_COUNT, EK_FALSE, EK_NULL, EK_NUMBER, EK_STRING, EK_TRUE, ENUM_SIZE, EXT_SIZE, INDEX_SIZE, NODE_SIZE, N_ENUM, N_ENUM_COUNT, N_EXCL_MAXIMUM, N_EXCL_MINIMUM, N_EXT, N_FLAGS, N_INDEXES, N_INDEX_COUNT, N_ITEMS, N_MAXIMUM, N_MAX_ITEMS, N_MAX_LENGTH, N_MINIMUM, N_MIN_ITEMS, N_MIN_LENGTH, N_PATTERN, N_PROPS, N_PROP_COUNT, N_RESOURCE, N_SEEN_WORDS, N_SLOT, N_TYPE, PF_NO_DUPLICATE_CHECK, PF_REQUIRED, PF_SYNTHETIC, PROP_SIZE, TAPE_SIZE, TF_ESCAPED, TF_INTEGER, TP_AUX, TP_END, TP_FLAGS, TP_KIND, TP_NEXT, TP_NUMBER, TP_START, TYPE_BITS, XF_CONTAINS_EVALUATES, XF_MAX_CONTAINS, XF_MAX_PROPERTIES, XF_MIN_PROPERTIES, XF_MULTIPLE_OF, XF_UNIQUE, X_ADDITIONAL, X_ALL, X_ALL_COUNT, X_ANY, X_ANY_COUNT, X_CONTAINS, X_DEEP, X_DEEP_COUNT, X_DEP_REQUIRED, X_DEP_REQUIRED_COUNT, X_DEP_SCHEMAS, X_DEP_SCHEMA_COUNT, X_DYNAMIC, X_DYNAMIC_COUNT, X_DYNAMIC_FALLBACK, X_ELSE, X_FLAGS, X_FORMAT, X_IF, X_MAX_CONTAINS, X_MAX_PROPERTIES, X_MIN_CONTAINS, X_MIN_PROPERTIES, X_MULTIPLE_OF, X_NOT, X_ONE, X_ONE_COUNT, X_PATTERNS, X_PATTERN_COUNT, X_PREFIX, X_PREFIX_COUNT, X_PROPERTY_NAMES, X_THEN, X_UNEVALUATED_ITEMS, X_UNEVALUATED_PROPERTIES } from './layout.ts';
import { type CompileOptions, type JsonSchema, type RuleExtension, type RuleNode, type RuleProgram, type RuleProperty, aliasOf, emptyExtension, emptyNode, hasSlot, ownCopy, propertyOf } from './rule-model.ts';
import { markExtract } from './extract-marks.ts';
import { Compiler } from './schema-compiler.ts';
import { needsTape, type ScanCondition, scanConditions } from './scan-rules.ts';

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

/** The schema `true` in effect: nothing to check, extract or evaluate at or below the node (the core then only scans it). */
function isUnconstrained(node: RuleNode): boolean {
  return node.types === ALL_TYPES && node.flags === 0 && node.slot < 0 && node.ext === undefined && !node.resource &&
    node.properties.length === 0 && node.indexes.length === 0 && node.items === undefined && node.members.length === 0 &&
    node.deepMembers.length === 0 && node.pattern === undefined && node.patternProgram === undefined && node.jsFormat === undefined;
}

const HASH_MULTIPLIER = 0x9e3779b97f4a7c15n;

/** A property name's slot in a hash index of 2^bits slots: the core's (assembly/scanner.ts propertySlot), over its first 8 bytes and length. */
function propertySlot(name: Uint8Array, bits: number): number {
  let head = 0n;
  for (let i = Math.min(8, name.length) - 1; i >= 0; i--) head = (head << 8n) | BigInt(name[i]!);
  return Number(BigInt.asUintN(64, (head + BigInt(name.length)) * HASH_MULTIPLIER) >> BigInt(64 - bits));
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
  // tape mode: the scan checks well-formedness and extracts (a skeleton), the rules run on the tape
  const tape = needsTape(rules);
  // the scan's root is the rules' own copy: extraction marks it (rules that are one `$ref` stay its target)
  const root = tape ? emptyNode('#') : ownCopy(rules);
  markExtract(root, extract);
  const out = new ProgramWriter(base);
  const emitted = new Set<RuleNode>();
  const nodesByAddress = new Map<number, RuleNode>();
  const propertiesByAddress = new Map<number, RuleProperty>();
  let maxSeenWords = 0;
  let maxRegexWords = 1;
  /** A format is asserted: the core decodes the string's code points into the scratch. */
  let formats = false;

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
    if (ext.format !== undefined) {
      out.u32(at + X_FORMAT, ext.format);
      formats = true;
    }
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
  /** Gives `node` a property for each member its conditions test or require, each tested one a span slot; returns how many. */
  const prepareConditions = (node: RuleNode, conditions: readonly ScanCondition[]): number => {
    let probes = 0;
    for (const condition of conditions) {
      for (const { name } of condition.test.properties) propertyOf(node, name, node.location).probe ??= ++probes;
      for (const branch of [condition.then, condition.else]) for (const { name } of branch?.properties ?? []) propertyOf(node, name, node.location);
    }
    return probes;
  };
  /** The conditions' table (CONDITION_SIZE entries) in the node's extension. */
  const emitConditions = (ext: number, node: RuleNode, conditions: readonly ScanCondition[]): void => {
    const indexOf = (name: string) => node.properties.findIndex((p) => p.name === name);
    const table = out.alloc(conditions.length * CONDITION_SIZE, 4);
    conditions.forEach((condition, k) => {
      const entry = table + k * CONDITION_SIZE;
      const members = condition.test.properties;
      const tests = out.alloc(Math.max(1, members.length) * TEST_SIZE, 4);
      members.forEach((member, t) => {
        out.u32(tests + t * TEST_SIZE + CT_PROPERTY, indexOf(member.name));
        out.u32(tests + t * TEST_SIZE + CT_NODE, emitNode(member.child));
        out.u32(tests + t * TEST_SIZE + CT_REQUIRED, member.required ? 1 : 0);
      });
      out.u32(entry + CD_TEST_COUNT, members.length);
      out.u32(entry + CD_TESTS, tests);
      for (const [branch, at, count, list] of [[condition.then, CD_THEN, CD_THEN_COUNT, CD_THEN_REQUIRED], [condition.else, CD_ELSE, CD_ELSE_COUNT, CD_ELSE_REQUIRED]] as const) {
        if (!branch) continue;
        const required = out.alloc(Math.max(1, branch.properties.length) * 4, 4);
        branch.properties.forEach((p, i) => out.u32(required + i * 4, indexOf(p.name)));
        out.u32(entry + at, emitNode(branch));
        out.u32(entry + count, branch.properties.length);
        out.u32(entry + list, required);
      }
    });
    out.u32(ext + X_CONDITION_COUNT, conditions.length);
    out.u32(ext + X_CONDITIONS, table);
  };
  const emitNode = (node: RuleNode): number => {
    if (emitted.has(node)) return node.address;
    // a schema that is only a $ref is its target: one evaluation less per value (a loop of such refs is kept)
    // and an unconstrained one is the shared `true` node, which the core scans for well-formedness alone
    const target = node !== any && isUnconstrained(node) ? any : aliasOf(node);
    if (target) {
      emitted.add(node);
      node.address = emitNode(target);
      return node.address;
    }
    emitted.add(node);
    const conditions = tape ? undefined : scanConditions(node);
    const tests = conditions && prepareConditions(node, conditions);
    const at = out.alloc(NODE_SIZE);
    node.address = at;
    nodesByAddress.set(at, node);
    out.u32(at + N_TYPE, node.types);
    out.u32(at + N_FLAGS, node.flags | (conditions ? F_CONDITIONS : 0));
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
      if (conditions) emitConditions(ext, node, conditions);
    }
    const count = node.properties.length;
    if (count > 0) {
      // the entries, then their hash index (assembly/scanner.ts findProperty): shift, mask, the
      // names' lengths as bits (63 for 63 and longer), slots
      const bits = Math.max(2, Math.ceil(Math.log2(count * 2)));
      const table = out.alloc(count * PROP_SIZE + 16 + (4 << bits));
      const index = table + count * PROP_SIZE;
      out.u32(index, 64 - bits);
      out.u32(index + 4, (1 << bits) - 1);
      const taken = new Uint8Array(1 << bits);
      let lengths = 0n;
      node.properties.forEach((property, i) => {
        const name = wtf8(property.name);
        lengths |= 1n << BigInt(Math.min(name.length, 63));
        // linear probing; entries go in in order, so a lookup meets the first of equal names first
        let slot = propertySlot(name, bits);
        while (taken[slot] === 1) slot = (slot + 1) & ((1 << bits) - 1);
        taken[slot] = 1;
        out.u32(index + 16 + slot * 4, i + 1);
        const entry = table + i * PROP_SIZE;
        property.address = entry;
        propertiesByAddress.set(entry, property);
        const [address, length] = out.text(property.name);
        out.u32(entry, address);
        out.u32(entry + 4, length);
        out.u32(entry + 8, emitNode(property.child));
        // a repeated key matters only where a value is read: declared or extracted members
        const readsValue = !property.synthetic || hasSlot(property.child) || property.probe !== undefined;
        const flags = (property.required ? PF_REQUIRED : 0) | (property.synthetic ? PF_SYNTHETIC : 0) | (readsValue ? 0 : PF_NO_DUPLICATE_CHECK);
        out.u32(entry + 12, flags | ((property.probe ?? 0) << PF_PROBE_SHIFT));
      });
      out.u32(index + 8, Number(lengths & 0xffffffffn));
      out.u32(index + 12, Number(lengths >> 32n));
      // the seen bits, then (conditions) the spans of the members an `if` tests, 2 words each
      const seenWords = Math.ceil(count / 32) + 2 * (tests ?? 0);
      maxSeenWords = Math.max(maxSeenWords, seenWords);
      out.u32(at + N_PROP_COUNT, count);
      out.u32(at + N_PROPS, table);
      out.u32(at + N_SEEN_WORDS, seenWords);
    }
    return at;
  };

  const anyAddress = emitNode(any);
  const rootAddress = emitNode(root);
  const evalRoot = tape ? emitNode(rules) : 0;
  return {
    source: schema,
    bytes: out.bytes(),
    root: rootAddress,
    any: anyAddress,
    evalRoot,
    scratch: tape || formats,
    draft: compiler.draft,
    maxSeenWords,
    maxRegexWords,
    fallbacks: compiler.fallbacks,
    nodesByAddress,
    propertiesByAddress,
  };
}
