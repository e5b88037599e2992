// The plain-JavaScript validator: what a pipeline without the WebAssembly core would do — decode,
// JSON.parse (through src/core/json-text.ts, safe from V8's escaped-key bug), ajv on the same JSON
// Schema, then the extracted fields read off the parsed value. It answers through the same
// interface and Verdict codes, so a flow's stages run unchanged on it; it is selected per flow
// (`validator = js`) and exists to measure the core against.
//
// Where it differs from the core (documented in the README):
// - duplicate keys are accepted (JSON.parse keeps the last copy); the core rejects E_DUPLICATE_KEY;
// - syntax codes come from V8's JSON.parse messages, so some differ (E_TOKEN where the core says
//   more), and their offset is the character position V8 reports turned into bytes;
// - integers beyond 2^53 reach int64 targets through a double (JSON.parse has no exact form).
// - a message breaking several rules may have another of them named (ajv checks if/then before
//   properties).
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { AJV_KEYWORD_CODES, SYNTAX_MESSAGES, type VerdictCode } from './codes.ts';
import { compileProgram } from './compile.ts';
import { JS_FORMATS } from './js-formats.ts';
import { ajvOf } from './meta-schemas.ts';
import type { Draft, JsFallback, JsonSchema } from './rule-model.ts';
import { escapeToken, unescapeToken } from './json-pointer.ts';
import { MAX_BRANCHES, type BranchVerdict, type MessageValidator, type ValidatorOptions, type Verdict } from './validator.ts';
import { parseJson } from './json-text.ts';

/** Messages per `check`, as the core's crossings. */
const CHUNK = 1024;

/** V8's JSON.parse messages (Node 20 and Deno 2) to the core's syntax codes; E_TOKEN otherwise. */
const SYNTAX_PATTERNS: readonly (readonly [RegExp, VerdictCode])[] = [
  [/^Unterminated string/, 'E_UNTERMINATED'],
  [/^Unexpected non-whitespace character after JSON/, 'E_TRAILING'],
  [/^Bad control character/, 'E_CONTROL'],
  [/^Bad (escaped character|Unicode escape)/, 'E_ESCAPE'],
  [/^(No number after minus sign|Exponent part is missing|Unterminated fractional number)/, 'E_NUMBER'],
];

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** An upper bound of a message's nesting depth: its count of `{` and `[` bytes (memchr, no decoding). */
function containerBound(bytes: Uint8Array, limit: number): number {
  let count = 0;
  for (const byte of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let at = bytes.indexOf(byte); at >= 0 && count <= limit; at = bytes.indexOf(byte, at + 1)) count++;
  }
  return count;
}

/**
 * Whether well-formed JSON nests containers deeper than `limit`: a scan of its bytes (strings
 * skipped), never a recursion over the parsed value, which overflowed the stack at ~10,000 levels.
 */
function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  for (let at = 0; at < bytes.length; at++) {
    const byte = bytes[at]!;
    if (byte === QUOTE) {
      for (at++; bytes[at] !== QUOTE; at++) if (bytes[at] === BACKSLASH) at++;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The value at a parsed JSON Pointer, undefined when absent. */
function valueAt(root: unknown, tokens: readonly string[]): unknown {
  let value = root;
  for (const token of tokens) {
    if (value === null || typeof value !== 'object') return undefined;
    if (Array.isArray(value)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      value = value[Number(token)];
    } else {
      if (!Object.hasOwn(value, token)) return undefined;
      value = (value as Record<string, unknown>)[token];
    }
  }
  return value;
}

function byteLength(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function syntaxVerdict(text: string, error: SyntaxError): Verdict {
  const position = /at position (\d+)/.exec(error.message);
  const at = position ? Number(position[1]) : undefined;
  let code: VerdictCode;
  if (text.trim() === '') code = 'E_EMPTY';
  else if (/^Unexpected end of JSON input/.test(error.message) || (at !== undefined && at >= text.length)) code = 'E_UNTERMINATED';
  else code = SYNTAX_PATTERNS.find(([pattern]) => pattern.test(error.message))?.[1] ?? 'E_TOKEN';
  const verdict: Verdict = { ok: false, code, message: SYNTAX_MESSAGES[code] ?? error.message };
  if (at !== undefined) verdict.offset = byteLength(text.slice(0, at));
  return verdict;
}

function ruleVerdict(error: ErrorObject): Verdict {
  let path = error.instancePath;
  if (error.keyword === 'required') path += `/${escapeToken(String(error.params.missingProperty))}`;
  else if (error.keyword === 'additionalProperties') path += `/${escapeToken(String(error.params.additionalProperty))}`;
  return { ok: false, code: AJV_KEYWORD_CODES[error.keyword] ?? 'E_TYPE', message: error.message ?? error.keyword, path, keywordLocation: decodeURIComponent(error.schemaPath.replace(/^#/, '').replace(/\/false schema$/, '')) };
}

const isBranching = (error: ErrorObject) => error.keyword === 'anyOf' || error.keyword === 'oneOf';

/**
 * The verdict of ajv's errors (allErrors off): validation stops at the first failure, so a failed
 * anyOf/oneOf is the last error (before the "if" errors of the if/then around it), after its
 * branches' errors; it is the verdict, with the first error of each branch (as the core gives
 * them). Otherwise the first error is the verdict.
 */
function failureVerdict(errors: readonly ErrorObject[]): Verdict {
  const first = errors[0]!;
  let last = errors.length - 1;
  while (last > 0 && errors[last]!.keyword === 'if') last--;
  const top = isBranching(errors[last]!) ? errors[last]! : undefined;
  if (!top) return ruleVerdict(first);
  const verdict = ruleVerdict(top);
  const prefix = `${top.schemaPath}/`;
  const byBranch = new Map<number, BranchVerdict>();
  for (const error of errors) {
    if (!error.schemaPath.startsWith(prefix)) continue;
    const branch = Number(error.schemaPath.slice(prefix.length).split('/')[0]);
    if (byBranch.has(branch) || branch >= MAX_BRANCHES) continue;
    const { code, message, path, keywordLocation } = ruleVerdict(error);
    byBranch.set(branch, { branch, ok: false, code, message, path, keywordLocation });
  }
  const passing = top.keyword === 'oneOf' && Array.isArray(top.params.passingSchemas) ? (top.params.passingSchemas as number[]) : [];
  for (const branch of passing) if (branch < MAX_BRANCHES) byBranch.set(branch, { branch, ok: true, code: 'OK', message: 'matches' });
  verdict.branches = [...byBranch.values()].sort((a, b) => a.branch - b.branch);
  return verdict;
}

/** A compiled schema for one flow; like the core's Validator, one caller at a time. */
export class JsValidator implements MessageValidator {
  readonly maxDepth: number;
  readonly maxSize: number;
  readonly extract: readonly string[];
  /** All of it: JSON.parse and ajv decide every message. */
  readonly fallbacks: readonly JsFallback[] = [{ keywordLocation: '#', description: 'engine = js: JSON.parse and ajv decide every message' }];
  readonly #tokens: readonly (readonly string[])[];
  readonly #validate: ValidateFunction;
  /** Of the last check: a failure's verdict (null when valid) and a valid message's field values. */
  readonly #failures: (Verdict | null)[] = new Array(CHUNK).fill(null);
  readonly #values: (unknown[] | null)[] = new Array(CHUNK).fill(null);

  constructor(schema: JsonSchema, options: ValidatorOptions = {}) {
    this.maxDepth = options.maxDepth ?? 64;
    this.maxSize = options.maxSize ?? 1 << 20;
    this.extract = [...(options.extract ?? [])];
    // the same rules as the core: a schema or pointer it refuses is refused here with its error
    const assertFormats = options.assertFormats ?? false;
    const { draft } = compileProgram(schema, this.extract, 0, 'auto', options);
    this.#tokens = this.extract.map((pointer) => pointer.split('/').slice(1).map(unescapeToken));
    const ajv = ajvFor(draft, assertFormats);
    for (const [uri, document] of Object.entries(options.schemas ?? {})) {
      // a document whose $id another one already holds is already there
      if (!ajv.getSchema(uri)) {
        try {
          ajv.addSchema(document as object, uri);
        } catch {
          // the same $id in two documents: the first stays, as the core keeps it
        }
      }
    }
    if (options.base === undefined) this.#validate = ajv.compile(schema as object | boolean);
    else {
      // keyed by the URI the rules were read from: ajv resolves their relative references against it
      ajv.addSchema(schema as object, options.base);
      this.#validate = ajv.getSchema(options.base)!;
    }
  }

  check(messages: readonly Uint8Array[], start = 0): number {
    const count = Math.min(CHUNK, messages.length - start);
    for (let i = 0; i < count; i++) this.#values[i] = this.#checkOne(messages[start + i]!, i);
    return Math.max(0, count);
  }

  /** Validates one message; its field values when valid, else null with its failure recorded. */
  #checkOne(bytes: Uint8Array, i: number): unknown[] | null {
    this.#failures[i] = null;
    if (bytes.length > this.maxSize) return this.#fail(i, { ok: false, code: 'E_SIZE', message: `message larger than ${this.maxSize} bytes (${bytes.length})` });
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return this.#fail(i, { ok: false, code: 'E_UTF8', message: SYNTAX_MESSAGES.E_UTF8! });
    }
    let document: unknown;
    try {
      document = parseJson(text);
    } catch (error) {
      return this.#fail(i, syntaxVerdict(text, error as SyntaxError));
    }
    if (containerBound(bytes, this.maxDepth) > this.maxDepth && nestsDeeperThan(bytes, this.maxDepth)) {
      return this.#fail(i, { ok: false, code: 'E_DEPTH', message: `containers nested deeper than ${this.maxDepth}` });
    }
    let valid: boolean;
    try {
      valid = this.#validate(document) as boolean;
    } catch (error) {
      // ajv recurses without end on some $dynamicRef schemas: a verdict, not a crash of the flow
      if (!(error instanceof RangeError)) throw error;
      return this.#fail(i, { ok: false, code: 'E_DEPTH', message: `the schema's evaluation ran out of stack in ajv (${error.message})` });
    }
    if (!valid) return this.#fail(i, failureVerdict(this.#validate.errors!));
    return this.#tokens.map((tokens) => valueAt(document, tokens));
  }

  #fail(i: number, verdict: Verdict): null {
    this.#failures[i] = verdict;
    return null;
  }

  ok(i: number): boolean {
    return this.#failures[i] === null;
  }

  verdict(i: number): Verdict {
    return this.#failures[i] ?? { ok: true, code: 'OK', message: 'ok' };
  }

  /** The core's spans do not exist here: the stages read `values`. */
  spans(): Int32Array {
    return NO_SPANS;
  }

  values(i: number): readonly unknown[] | null {
    return this.#values[i] ?? null;
  }

}

const NO_SPANS = new Int32Array(0);

/**
 * ajv for the schema's draft (the core's drafts, chosen by `$schema` the same way), with
 * ajv-formats when asserting; loaded by the first validator, so that flows on the core never load it.
 */
function ajvFor(draft: Draft, assertFormats: boolean): Ajv {
  const ajv = new (ajvOf(draft))({ strict: false, allErrors: false, logger: false, validateFormats: assertFormats });
  if (assertFormats) {
    (createRequire(import.meta.url)('ajv-formats') as typeof import('ajv-formats')).default(ajv);
    // the formats ajv-formats lacks, checked as the core's JS fallback checks them
    for (const [name, check] of Object.entries(JS_FORMATS)) if (!ajv.formats[name]) ajv.addFormat(name, check);
  }
  return ajv;
}
