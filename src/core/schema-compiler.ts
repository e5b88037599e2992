// JSON Schema -> the rule tree: keywords checked per draft, references ($ref, $anchor, $id,
// $dynamicRef) resolved within and across documents, the fields to extract marked.
import { SluiceError } from '../errors.ts';
import { compileRegex, type RegexEngine } from './regex.ts';
import { escapeToken } from './json-pointer.ts';
import { FMT_JS, FORMATS, F_CONST, F_ENUM, F_ENUM_NUMBERS, F_EXCL_MAXIMUM, F_EXCL_MINIMUM, F_FALSE, F_FORMAT, F_MAXIMUM, F_MAX_ITEMS, F_MAX_LENGTH, F_MINIMUM, F_MIN_ITEMS, F_MIN_LENGTH, F_NO_ADDITIONAL, F_PATTERN, F_PATTERN_JS, TYPE_BITS } from './layout.ts';
import { JS_FORMATS, jsFormatScope } from './js-formats.ts';
import { META_REFERENCE, metaSchemas } from './meta-schemas.ts';
import { ANNOTATIONS, type CompileOptions, type Draft, type JsFallback, type JsonSchema, type RuleExtension, type RuleNode, type RuleProperty, SUPPORTED, dialectOf, emptyExtension, emptyNode, finiteNumber, isPlainObject, nonNegativeInteger, schemaError, type JsonType, propertyOf } from './rule-model.ts';

/** Where a schema was found while indexing: its base URI. */
export interface Indexed { readonly base: string }

/** What compiling one schema document shares: its draft, its resources by URI, the nodes made so far. */
export class Compiler {
  readonly draft: Draft;
  /** The checks of the rules that JS decides (patterns beyond the core's subset, formats in JS). */
  readonly fallbacks: JsFallback[] = [];
  readonly #engine: RegexEngine;
  readonly #resources = new Map<string, unknown>();
  readonly #anchors = new Map<string, unknown>();
  readonly #indexed = new Map<object, Indexed>();
  readonly #nodes = new Map<object, RuleNode>();
  /** The URI of the rules' own document (its `$id`, else where it was read from, else the default): locations in it are plain pointers. */
  readonly #rootDocument: string;
  /** The base URI of the rules before their own `$id`. */
  readonly #rootBase: string;

  readonly #assertFormats: boolean;
  /** The document uses unevaluated*: `additionalProperties: true` then evaluates (annotates) members. */
  readonly #annotations: boolean;
  /** The documents use $dynamicRef/$recursiveRef: nodes carry their resource for the dynamic scope. */
  readonly #dynamic: boolean;
  readonly #resourceIds = new Map<string, number>();
  /** Schemas with a $dynamicAnchor (2019-09: $recursiveAnchor true, as the name ""), by name. */
  readonly #dynamicAnchors = new Map<string, unknown[]>();
  readonly #root: JsonSchema;
  /** Keywords of vocabularies the rules' meta-schema leaves out. */
  readonly #ignored: ReadonlySet<string>;
  #reachable?: ReadonlySet<string>;

  constructor(root: JsonSchema, engine: RegexEngine, options: CompileOptions) {
    const dialect = dialectOf(root, options.schemas);
    this.draft = dialect.draft;
    this.#ignored = dialect.ignored;
    this.#root = root;
    this.#engine = engine;
    this.#assertFormats = (options.assertFormats ?? false) || dialect.assertFormats;
    let text = JSON.stringify([root, options.schemas ?? {}]);
    let schemas = options.schemas ?? {};
    // the draft's meta-schemas only when a rule names one: they use $dynamicRef, which costs every node a resource
    if (META_REFERENCE.test(text)) {
      const metas = metaSchemas(this.draft);
      schemas = { ...metas, ...schemas };
      text += JSON.stringify(metas);
    }
    this.#annotations = /"unevaluated(Properties|Items)"/.test(text);
    this.#dynamic = /"\$(dynamicRef|recursiveRef)"/.test(text);
    this.#rootBase = options.base ?? DEFAULT_BASE;
    this.#index(root, this.#rootBase);
    this.#rootDocument = isPlainObject(root) ? (this.#indexed.get(root)?.base ?? this.#rootBase) : this.#rootBase;
    for (const [uri, document] of Object.entries(schemas)) {
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
    if (base === this.#rootBase && !this.#resources.has(base)) this.#resources.set(base, schema);
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
    for (const child of subschemas(schema)) this.#index(child, base);
  }

  /** The resources (base URIs) evaluating the rules can enter: a $dynamicRef's dynamic scope holds only these. */
  #reachableResources(): ReadonlySet<string> {
    if (this.#reachable) return this.#reachable;
    const resources = new Set<string>();
    const seen = new Set<object>();
    const pending: unknown[] = [this.#root];
    while (pending.length > 0) {
      const schema = pending.pop();
      if (!isPlainObject(schema) || seen.has(schema)) continue;
      seen.add(schema);
      const base = this.#indexed.get(schema)?.base ?? this.#rootBase;
      resources.add(base);
      for (const keyword of ['$ref', '$dynamicRef', '$recursiveRef']) {
        const reference = schema[keyword];
        if (typeof reference !== 'string') continue;
        try {
          pending.push(this.#resolve(reference, base, '#').schema);
        } catch (error) {
          // compiling the reference says why it does not resolve
          if (!(error instanceof SluiceError)) throw error;
        }
      }
      pending.push(...subschemas(schema));
    }
    this.#reachable = resources;
    return resources;
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

  /** The schema `schema.$ref` names; undefined when it has none or it does not resolve (compiling says why). */
  referenced(schema: Readonly<Record<string, unknown>>): unknown {
    if (typeof schema.$ref !== 'string') return undefined;
    try {
      return this.#resolve(schema.$ref, this.#indexed.get(schema)?.base ?? this.#rootBase, '#').schema;
    } catch (error) {
      if (error instanceof SluiceError) return undefined;
      throw error;
    }
  }

  #resourceId(base: string): number {
    let id = this.#resourceIds.get(base);
    if (id === undefined) this.#resourceIds.set(base, (id = this.#resourceIds.size + 1));
    return id;
  }

  #extension(node: RuleNode): RuleExtension {
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
    base = this.#indexed.get(schema)?.base ?? base ?? this.#rootBase;
    if (this.#dynamic) node.resource = this.#resourceId(base);
    const s = this.#ignored.size === 0 ? schema : Object.fromEntries(Object.entries(schema).filter(([keyword]) => !this.#ignored.has(keyword)));
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
        const reachable = this.#reachableResources();
        const candidates = (this.#dynamicAnchors.get(name) ?? []).flatMap((anchored) => {
          const anchoredBase = this.#indexed.get(anchored as object)?.base ?? this.#rootBase;
          if (!reachable.has(anchoredBase)) return [];
          return [{ resource: this.#resourceId(anchoredBase), node: this.node(anchored, `${anchoredBase === this.#rootDocument ? '' : anchoredBase}#${name}`, anchoredBase) }];
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
          child: this.node(child, `${location}/properties/${escapeToken(name)}`, base),
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
        ext.patternProperties.push({ pattern, program, child: this.node(child, `${location}/patternProperties/${escapeToken(pattern)}`, base) });
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
          this.#extension(node).dependentSchemas.push({ name, child: this.node(dependency, `${location}/${keyword}/${escapeToken(name)}`, base) });
        }
      }
    };
    if (s.dependentRequired !== undefined) dependentRequired(s.dependentRequired, 'dependentRequired');
    if (s.dependencies !== undefined) dependentRequired(s.dependencies, 'dependencies');
    if (s.dependentSchemas !== undefined) {
      if (!isPlainObject(s.dependentSchemas)) schemaError(location, '"dependentSchemas" must be an object');
      for (const [name, child] of Object.entries(s.dependentSchemas)) {
        this.#extension(node).dependentSchemas.push({ name, child: this.node(child, `${location}/dependentSchemas/${escapeToken(name)}`, base) });
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
        const inJs = Object.hasOwn(JS_FORMATS, s.format);
        if (index < 0 && !inJs) {
          schemaError(location, `unknown format "${s.format}": the core checks ${[...FORMATS, ...Object.keys(JS_FORMATS).filter((f) => !FORMATS.includes(f))].join(', ')}; without assertFormats a format is an annotation`);
        }
        this.#extension(node).format = index >= 0 ? index + 1 : FMT_JS;
        node.flags |= F_FORMAT;
        if (inJs) {
          node.jsFormat = s.format;
          this.fallbacks.push({ keywordLocation: `${location}/format`, description: `format "${s.format}": JS decides ${jsFormatScope(s.format)} (src/core/js-formats.ts)` });
        }
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
        this.fallbacks.push({ keywordLocation: `${location}/pattern`, description: `pattern ${JSON.stringify(s.pattern)} is beyond the core's regex subset: RegExp decides it` });
        node.flags |= F_PATTERN_JS;
      }
    }
  }
}

/** The subschemas at a schema's keyword positions. */
function subschemas(schema: Readonly<Record<string, unknown>>): unknown[] {
  const found: unknown[] = [];
  for (const keyword of ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']) {
    const group = schema[keyword];
    if (isPlainObject(group)) found.push(...Object.values(group));
  }
  for (const keyword of ['additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'items', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema', 'allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    const child = schema[keyword];
    if (Array.isArray(child)) found.push(...child);
    else if (child !== undefined) found.push(child);
  }
  return found;
}

/** The base URI of a schema without `$id` (never fetched: references resolve in the document). */
export const DEFAULT_BASE = 'https://sluice.invalid/schema.json';

export function resolveUri(reference: string, base: string): string | undefined {
  try {
    return new URL(reference, base).href;
  } catch {
    return undefined;
  }
}

export function splitFragment(uri: string): [string, string] {
  const hash = uri.indexOf('#');
  return hash < 0 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash + 1)];
}
