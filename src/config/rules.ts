// A flow's rules with every document they reference, resolved when the configuration loads:
// sibling schema files (a relative URI resolves against the file that holds it) and the schema
// files the configuration lists (named by their `$id`). The rules stay as written: the documents
// go to the core beside them (its `schemas` option, with the rules' own URI as `base`), so it
// compiles them with nothing left to find. A reference that does not resolve is an error naming
// the file and the pointer of the `$ref`.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { escapeToken, parsePointer } from '../core/json-pointer.ts';
import type { FlowRules, JsonSchema } from '../core/rule-model.ts';
import { SluiceError } from '../errors.ts';
import { displayPath } from './hocon.ts';
import { parseJson } from '../core/json-text.ts';

/** A reference that does not resolve, or a document that cannot be read (SLC_SCHEMA): where, and why. */
const referenceError = (file: string, pointer: string, message: string) =>
  new SluiceError('SLC_SCHEMA', `${displayPath(file)}${pointer === '' ? '' : `: ${pointer}`}: ${message}`);

/** Keywords whose values are data, not schemas: a `$ref` inside them is no reference. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'examples', 'default']);

interface Document {
  readonly schema: JsonSchema;
  /** The file it was read from (the rules file, or the configuration file for inline rules). */
  readonly file: string;
}

interface Reference {
  readonly ref: string;
  readonly base: string;
  readonly file: string;
  /** JSON Pointer of the `$ref` keyword in its file. */
  readonly pointer: string;
}

function readSchema(file: string, referrer: string, pointer: string): JsonSchema {
  try {
    return parseJson(readFileSync(file, 'utf8')) as JsonSchema;
  } catch (error) {
    throw referenceError(referrer, pointer, `cannot read a JSON Schema from ${displayPath(file)}: ${(error as Error).message}`);
  }
}

function documentUri(uri: string): [string, string] {
  const hash = uri.indexOf('#');
  return hash < 0 ? [uri, ''] : [uri.slice(0, hash), decodeURIComponent(uri.slice(hash + 1))];
}

/** Collects the `$id`s (with the subschemas they name) and the `$ref`s of one document. */
function walk(schema: unknown, base: string, pointer: string, file: string, ids: Map<string, unknown>, refs: Reference[]): void {
  if (Array.isArray(schema)) {
    schema.forEach((item, i) => walk(item, base, `${pointer}/${i}`, file, ids, refs));
    return;
  }
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (typeof s.$id === 'string') {
    const id = URL.canParse(s.$id, base) ? new URL(s.$id, base).href : undefined;
    if (id !== undefined) {
      const [document, fragment] = documentUri(id);
      if (fragment === '') {
        base = document;
        if (!ids.has(document)) ids.set(document, schema);
      }
    }
  }
  if (typeof s.$ref === 'string') refs.push({ ref: s.$ref, base, file, pointer: `${pointer}/$ref` });
  for (const [keyword, value] of Object.entries(s)) {
    if (!DATA_KEYWORDS.has(keyword)) walk(value, base, `${pointer}/${escapeToken(keyword)}`, file, ids, refs);
  }
}

/** The subschema at a JSON Pointer fragment, undefined when there is none. */
function at(schema: unknown, fragment: string): unknown {
  let node = schema;
  for (const token of parsePointer(fragment)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Array.isArray(node) ? node[Number(token)] : (node as Record<string, unknown>)[token];
  }
  return node;
}

/**
 * The rules with the documents they reference (none: the rules alone). `file` is where the rules
 * are (for inline rules: the configuration file), `listed` the schema files the configuration
 * lists, as absolute paths.
 */
export function loadRuleDocuments(rules: JsonSchema, file: string, listed: readonly string[] = []): FlowRules {
  const rootUri = pathToFileURL(file).href;
  const documents = new Map<string, Document>([[rootUri, { schema: rules, file }]]);
  for (const path of listed) documents.set(pathToFileURL(path).href, { schema: readSchema(path, file, ''), file: path });
  const ids = new Map<string, unknown>();
  const refs: Reference[] = [];
  const queue = [...documents.keys()];
  while (queue.length > 0) {
    const uri = queue.shift()!;
    const document = documents.get(uri)!;
    const first = refs.length;
    walk(document.schema, uri, '', document.file, ids, refs);
    // sibling files, read as they are found
    for (const reference of refs.slice(first)) {
      if (!URL.canParse(reference.ref, reference.base)) continue;
      const [target] = documentUri(new URL(reference.ref, reference.base).href);
      if (target.startsWith('file:') && !documents.has(target) && !ids.has(target)) {
        const path = fileURLToPath(target);
        documents.set(target, { schema: readSchema(path, reference.file, reference.pointer), file: path });
        queue.push(target);
      }
    }
  }
  for (const { ref, base, file: referrer, pointer } of refs) {
    if (!URL.canParse(ref, base)) throw referenceError(referrer, pointer, `"$ref" ${JSON.stringify(ref)} is not a URI reference`);
    const [target, fragment] = documentUri(new URL(ref, base).href);
    const schema = ids.has(target) ? ids.get(target) : documents.get(target)?.schema;
    if (schema === undefined) {
      throw referenceError(referrer, pointer, `"$ref" ${JSON.stringify(ref)} does not resolve: no file or listed schema is ${target}`);
    }
    if ((fragment === '' || fragment.startsWith('/')) && at(schema, fragment) === undefined) {
      const where = documents.get(target)?.file;
      throw referenceError(referrer, pointer, `"$ref" ${JSON.stringify(ref)} does not resolve: no ${fragment} in ${where ? displayPath(where) : target}`);
    }
  }
  if (documents.size === 1) return { schema: rules };
  documents.delete(rootUri);
  return { schema: rules, base: rootUri, schemas: Object.fromEntries([...documents].map(([uri, document]) => [uri, document.schema])) };
}
