// The binding to the WebAssembly core: one instance (and one arena) per compiled schema. Messages
// are copied once each into the arena and validated many per call; verdicts are read back from
// fixed-size records, and only failing messages become objects.
import { SluiceError } from '../errors.ts';
import { AJV_KEYWORD_CODES, CODE_NAMES, FIRST_RULE_CODE, RULE_MESSAGES, SYNTAX_MESSAGES, type VerdictCode } from './codes.ts';
import { compileProgram } from './compile.ts';
import { escapeToken } from './json-pointer.ts';
import { JS_FORMATS } from './js-formats.ts';
import { describeTypes, type Draft, type JsFallback, type JsonSchema, type RuleNode, type RuleProgram } from './rule-model.ts';
import { MAX_DEPTH_LIMIT } from './limits.ts';
import type { RegexEngine } from './regex.ts';
import { coreModule, type CoreExports, type Kernel } from './wasm.ts';

export interface ValidatorOptions {
  /** Containers nested deeper than this fail with E_DEPTH. Default 64, at most MAX_DEPTH_LIMIT. */
  maxDepth?: number;
  /** Messages larger than this many bytes fail with E_SIZE. Default 1 MiB. */
  maxSize?: number;
  /** JSON Pointers of the values whose byte spans each verdict carries, in this order. */
  extract?: readonly string[];
  /** `simd` (default) or `scalar`, the reference build the SIMD one is fuzzed against. */
  kernel?: Kernel;
  /** `auto` (default) runs small patterns as DFAs; `vm` forces the Pike VM, the DFA's reference. */
  regexEngine?: RegexEngine;
  /** Check `format` (default false: an annotation, as JSON Schema 2020-12 says); an unknown format is then a compile error. */
  assertFormats?: boolean;
  /** Other schema documents by URI, which `$ref`s may name (resolved at compile time, nothing fetched). */
  schemas?: Readonly<Record<string, JsonSchema>>;
  /** The URI the schema was read from (a `file:` URL): its relative references resolve against it. */
  base?: string;
}

export interface FieldSpan {
  /** Byte offset of the value's first byte in the message (a string's opening quote). */
  start: number;
  /** Byte offset just past the value. */
  end: number;
}

export interface Verdict {
  ok: boolean;
  code: VerdictCode;
  message: string;
  /** JSON Pointer of the offending value (rule failures). */
  path?: string;
  /**
   * Where the failed keyword is written in the schema (rule failures), as JSON Schema's "basic"
   * output names it: a JSON Pointer into the rules (`/properties/conversion/then/required`); through
   * a `$ref`, the keyword where the reference leads (`/$defs/money/required`), prefixed with the
   * document's URI when that is another document than the rules.
   */
  keywordLocation?: string;
  /** An `anyOf`/`oneOf` failure: each branch's first failure (a passing branch of a `oneOf` says ok), at most MAX_BRANCHES. */
  branches?: BranchVerdict[];
  /** Byte offset in the message where the failure was found. */
  offset?: number;
  /** Part of this verdict was decided in JS (a pattern outside the core's subset, or a number whose exact value was needed). */
  fallback?: boolean;
  /** With `extract`: the span of each extracted value, null when absent. */
  fields?: (FieldSpan | null)[];
}

/** Why one branch of a failed `anyOf`/`oneOf` did not decide it: its first failure, or ok (a `oneOf` with several passing). */
export interface BranchVerdict {
  /** The branch's index in the `anyOf`/`oneOf` array. */
  branch: number;
  ok: boolean;
  code: VerdictCode;
  message: string;
  path?: string;
  keywordLocation?: string;
}

/** Branches of a failed `anyOf`/`oneOf` a verdict explains: the bound keeps a failure's cost and size small. */
export const MAX_BRANCHES = 8;

/**
 * What a flow asks of a validator, chunk by chunk: `check` a run of messages, then per message of
 * it `ok`, `verdict`, and its extracted fields — byte spans (the core) or decoded values (the
 * plain-JS validator, src/core/js-validator.ts).
 */
export interface MessageValidator {
  readonly extract: readonly string[];
  /** The checks of the rules that JS decides rather than the core (`sluice check` lists them). */
  readonly fallbacks: readonly JsFallback[];
  check(messages: readonly Uint8Array[], start?: number): number;
  ok(i: number): boolean;
  verdict(i: number): Verdict;
  spans(count: number): Int32Array;
  /** The extracted values of valid message i by slot (undefined when absent); null when they are read from `spans`. */
  values(i: number): readonly unknown[] | null;
}

const OK_VERDICT: Verdict = Object.freeze({ ok: true, code: 'OK', message: 'ok' }) as Verdict;

// Verdict record (assembly/layout.ts): code, offset, pathStart, pathLen, flags, node, then spans.
const OUT_FIXED = 6;
const OF_USED_JS = 1;
const JS_PATTERN = 1;
const JS_FORMAT = 3;
const CODE = Object.fromEntries(CODE_NAMES.map((name, i) => [name, i])) as Record<VerdictCode, number>;
const PATH_INDEX = -1;
const PATH_PROP = -2;

const PAGE = 65536;
/** Bytes per tape entry (assembly/layout.ts TAPE_SIZE). */
const TAPE_ENTRY = 32;
/** Nested evaluations beyond the document's depth (applicators, references) before E_DEPTH. */
const EVAL_LIMIT = 512;
/** Messages per crossing: bounds the verdict and error-path regions. */
const CHUNK = 1024;
const INITIAL_INPUT = 1 << 20;

const align = (n: number, to: number) => Math.ceil(n / to) * to;
const keyDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A compiled schema bound to its own core instance. Not safe to share between concurrent callers
 * that interleave `check` and the readers: each flow owns one.
 */
export class Validator implements MessageValidator {
  readonly maxDepth: number;
  readonly maxSize: number;
  readonly extract: readonly string[];
  readonly fallbacks: readonly JsFallback[];

  readonly #core: CoreExports;
  readonly #program: RuleProgram;
  readonly #stride: number; // i32 words per verdict record
  readonly #records: number;
  readonly #pathOut: number;
  readonly #explainRecord: number;
  readonly #table: number;
  readonly #input: number;
  #inputCapacity: number;
  #bytes!: Uint8Array;
  #words!: Int32Array;
  /** RegExps of the patterns outside the core's subset, by node address. */
  readonly #jsPatterns = new Map<number, RegExp>();
  /** The messages of the last `check`, for decoding keys and for the JS fallback. */
  #batch: readonly Uint8Array[] = [];
  #batchStart = 0;

  constructor(schema: JsonSchema, options: ValidatorOptions = {}) {
    this.maxDepth = options.maxDepth ?? 64;
    this.maxSize = options.maxSize ?? 1 << 20;
    this.extract = [...(options.extract ?? [])];
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 1 || this.maxDepth > MAX_DEPTH_LIMIT) {
      throw new SluiceError('SLC_SCHEMA', `maxDepth must be an integer from 1 to ${MAX_DEPTH_LIMIT} (deeper nesting would overflow the core's stack), not ${this.maxDepth}`);
    }
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1 || this.maxSize > 256 * 1024 * 1024) {
      throw new SluiceError('SLC_SCHEMA', `maxSize must be an integer from 1 to 268435456, not ${this.maxSize}`);
    }
    const instance = new WebAssembly.Instance(coreModule(options.kernel ?? 'simd'), {
      env: {
        jsCheck: (kind: number, node: number, start: number, end: number) => this.#jsCheck(kind, node, start, end),
        jsNumber: (start: number, end: number) => Number(textDecoder.decode(this.#bytes.subarray(start, end))),
      },
    });
    this.#core = instance.exports as unknown as CoreExports;
    if (this.#core.codeCount() !== CODE_NAMES.length) {
      throw new SluiceError('SLC_CORE', `the core build has ${this.#core.codeCount()} verdict codes, src/core/codes.ts ${CODE_NAMES.length}: rebuild with npm run build`);
    }
    const base = align(this.#core.heapBase(), 16);
    this.#program = compileProgram(schema, this.extract, base, options.regexEngine, options);
    this.fallbacks = this.#program.fallbacks;
    this.#stride = OUT_FIXED + 2 * this.extract.length;

    let at = base + this.#program.bytes.length;
    const pathStack = at;
    at = align(at + (this.maxDepth + 2) * 8, 16);
    const seenStack = at;
    // tape mode nests object evaluations up to the evaluation limit, not only the document's depth
    const evalLimit = this.#program.evalRoot === 0 ? 0 : this.maxDepth + EVAL_LIMIT;
    at = align(at + (this.maxDepth + 1 + evalLimit) * this.#program.maxSeenWords * 4 + 4, 16);
    const regexScratch = at;
    at = align(at + 4 * this.#program.maxRegexWords * 4, 16);
    this.#records = at;
    at = align(at + CHUNK * this.#stride * 4, 16);
    this.#pathOut = at;
    // (one more message's worth: the path of a branch being explained, src/core/validator.ts #branches)
    at = align(at + (CHUNK + 1) * (this.maxDepth + 2) * 8, 16);
    this.#explainRecord = at;
    at = align(at + this.#stride * 4, 16);
    this.#table = at;
    at = align(at + CHUNK * 8, 16);
    this.#input = at;
    this.#inputCapacity = Math.min(INITIAL_INPUT, align(this.maxSize, 16));
    this.#ensureMemory(this.#input + this.#inputCapacity + 16);
    this.#bytes.set(this.#program.bytes, base);
    this.#core.configure(
      this.#program.root, this.#program.any, this.maxDepth, this.maxSize, this.extract.length,
      pathStack, seenStack, regexScratch, this.#program.maxRegexWords, this.#pathOut,
    );
    this.#core.configureTape(this.#program.evalRoot, evalLimit);
  }

  #ensureMemory(bytes: number): void {
    const memory = this.#core.memory;
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    // growing detaches every view: always take fresh ones
    this.#bytes = new Uint8Array(memory.buffer);
    this.#words = new Int32Array(memory.buffer);
  }

  /**
   * Validates messages[start ...] in one crossing, as many as fit (at least one); returns how many.
   * The readers below (`code`, `spanStart`, `verdict`, ...) then take indexes relative to `start`.
   */
  check(messages: readonly Uint8Array[], start = 0): number {
    const total = messages.length - start;
    if (total <= 0) return 0;
    const table = this.#table >> 2;
    let words = this.#words;
    let bytes = this.#bytes;
    let cursor = this.#input;
    let count = 0;
    let longest = 0;
    while (count < CHUNK && count < total) {
      const message = messages[start + count]!;
      const length = message.length;
      let address = 0;
      if (length <= this.maxSize) {
        if (cursor + length > this.#input + this.#inputCapacity) {
          if (count > 0) break;
          this.#inputCapacity = align(length, PAGE);
          this.#ensureMemory(this.#input + this.#inputCapacity + 16);
          words = this.#words;
          bytes = this.#bytes;
        }
        bytes.set(message, cursor);
        address = cursor;
        cursor += length;
        if (length > longest) longest = length;
      }
      words[table + count * 2] = address;
      words[table + count * 2 + 1] = length;
      count++;
    }
    if (this.#program.scratch) {
      // the tape: at most one entry per byte, plus the root (a format's code points need less)
      const tape = align(this.#input + this.#inputCapacity, 16);
      const capacity = (longest + 2) * TAPE_ENTRY;
      this.#ensureMemory(tape + capacity);
      this.#core.setTapeBase(tape, capacity);
    }
    this.#core.validateBatch(this.#table, count, this.#records);
    this.#batch = messages;
    this.#batchStart = start;
    return count;
  }

  /** Copies the messages in and crosses once without validating: the benchmark's floor. */
  copyOnly(messages: readonly Uint8Array[]): number {
    let cursor = this.#input;
    const bytes = this.#bytes;
    const limit = this.#input + this.#inputCapacity;
    for (const message of messages) {
      if (cursor + message.length > limit) cursor = this.#input;
      bytes.set(message, cursor);
      cursor += message.length;
    }
    return this.#core.crossing(messages.length);
  }

  #record(i: number): number {
    return (this.#records >> 2) + i * this.#stride;
  }

  /** Raw verdict code of message i of the last check: 0 is valid. */
  code(i: number): number {
    return this.#words[this.#record(i)]!;
  }

  /** Whether message i of the last check is valid. */
  ok(i: number): boolean {
    return this.#words[this.#record(i)] === 0;
  }

  /** Byte span of extracted field `slot` of message i; start is -1 when absent. */
  spanStart(i: number, slot: number): number {
    return this.#words[this.#record(i) + OUT_FIXED + slot * 2]!;
  }

  spanEnd(i: number, slot: number): number {
    return this.#words[this.#record(i) + OUT_FIXED + slot * 2 + 1]!;
  }

  /** The extraction spans of the first `count` messages of the last check, copied out: (start, end) per slot. */
  spans(count: number): Int32Array {
    const width = this.extract.length * 2;
    const out = new Int32Array(count * width);
    const words = this.#words;
    for (let i = 0; i < count; i++) {
      const record = this.#record(i) + OUT_FIXED;
      for (let j = 0; j < width; j++) out[i * width + j] = words[record + j]!;
    }
    return out;
  }

  /** The core hands out spans only: stages decode what they read. */
  values(): null {
    return null;
  }

  /** The verdict of message i of the last check, as an object. */
  verdict(i: number): Verdict {
    const words = this.#words;
    const record = this.#record(i);
    const code = words[record]!;
    let verdict: Verdict;
    if (code !== 0 && code < FIRST_RULE_CODE) {
      verdict = { ok: false, code: CODE_NAMES[code]!, message: this.#syntaxMessage(code, i), offset: words[record + 1]! };
    } else if (code !== 0) {
      const node = this.#program.nodesByAddress.get(words[record + 5]! >>> 0);
      verdict = {
        ok: false,
        code: CODE_NAMES[code]!,
        message: '',
        path: this.#path(i, words[record + 2]!, words[record + 3]!),
        offset: words[record + 1]!,
      };
      verdict.message = this.#ruleMessage(verdict.code, node, verdict.path!);
      if (node) {
        verdict.keywordLocation = keywordLocation(node, verdict.code, this.#program.draft);
        if (verdict.code === 'E_ANY_OF' || verdict.code === 'E_ONE_OF') verdict.branches = this.#branches(i, node, verdict);
      }
    } else if (this.extract.length === 0 && (words[record + 4]! & OF_USED_JS) === 0) {
      return OK_VERDICT;
    } else {
      verdict = { ok: true, code: 'OK', message: 'ok' };
    }
    if ((words[record + 4]! & OF_USED_JS) !== 0) verdict.fallback = true;
    if (this.extract.length > 0 && verdict.ok) {
      verdict.fields = this.extract.map((_, slot) => {
        const start = words[record + OUT_FIXED + slot * 2]!;
        return start < 0 ? null : { start, end: words[record + OUT_FIXED + slot * 2 + 1]! };
      });
    }
    return verdict;
  }

  validate(bytes: Uint8Array): Verdict {
    this.check([bytes]);
    return this.verdict(0);
  }

  validateBatch(messages: readonly Uint8Array[]): Verdict[] {
    const verdicts: Verdict[] = new Array(messages.length);
    for (let start = 0; start < messages.length; ) {
      const count = this.check(messages, start);
      for (let i = 0; i < count; i++) verdicts[start + i] = this.verdict(i);
      start += count;
    }
    return verdicts;
  }

  #path(i: number, first: number, length: number): string {
    const message = this.#batch[this.#batchStart + i]!;
    const words = this.#words;
    const base = this.#pathOut >> 2;
    let path = '';
    for (let e = first; e < first + length; e++) {
      const a = words[base + e * 2]!;
      const b = words[base + e * 2 + 1]!;
      let segment: string;
      if (a === PATH_INDEX) segment = String(b);
      else if (a === PATH_PROP) segment = this.#program.propertiesByAddress.get(b >>> 0)?.name ?? '?';
      else {
        const raw = message.subarray(a, a + b);
        segment = raw.includes(0x5c) ? (JSON.parse(`"${keyDecoder.decode(raw)}"`) as string) : keyDecoder.decode(raw);
      }
      path += `/${escapeToken(segment)}`;
    }
    return path;
  }

  #syntaxMessage(code: number, i: number): string {
    const name = CODE_NAMES[code]!;
    if (name === 'E_DEPTH') return `containers nested deeper than ${this.maxDepth}`;
    if (name === 'E_SIZE') return `message larger than ${this.maxSize} bytes (${this.#batch[this.#batchStart + i]!.length})`;
    return SYNTAX_MESSAGES[name] ?? name;
  }

  /**
   * Each branch of the failed anyOf/oneOf at `node`, evaluated alone by the core on the value the
   * verdict names (it re-scans the message: a failed message's cost, never a valid one's).
   */
  #branches(i: number, node: RuleNode, verdict: Verdict): BranchVerdict[] {
    const list = (verdict.code === 'E_ANY_OF' ? node.ext?.anyOf : node.ext?.oneOf) ?? [];
    const words = this.#words;
    const table = (this.#table >> 2) + i * 2;
    const record = this.#explainRecord >> 2;
    const pathStart = CHUNK * (this.maxDepth + 2);
    const branches: BranchVerdict[] = [];
    for (let b = 0; b < list.length && b < MAX_BRANCHES; b++) {
      this.#core.explainBranch(words[table]!, words[table + 1]!, this.#explainRecord, pathStart, list[b]!.address, verdict.offset!);
      const code = words[record]!;
      if (code === 0) {
        branches.push({ branch: b, ok: true, code: 'OK', message: 'matches' });
        continue;
      }
      const name = CODE_NAMES[code]!;
      if (code < FIRST_RULE_CODE) {
        branches.push({ branch: b, ok: false, code: name, message: this.#syntaxMessage(code, i) });
        continue;
      }
      const failed = this.#program.nodesByAddress.get(words[record + 5]! >>> 0);
      const path = verdict.path! + this.#path(i, words[record + 2]!, words[record + 3]!);
      const branch: BranchVerdict = { branch: b, ok: false, code: name, message: this.#ruleMessage(name, failed, path), path };
      if (failed) branch.keywordLocation = keywordLocation(failed, name, this.#program.draft);
      branches.push(branch);
    }
    return branches;
  }

  #ruleMessage(code: VerdictCode, node: RuleNode | undefined, path: string): string {
    if (!node) return code;
    switch (code) {
      case 'E_TYPE': return `must be ${describeTypes(node.types)}`;
      case 'E_REQUIRED': return `must have required property '${path.slice(path.lastIndexOf('/') + 1)}'`;
      case 'E_ADDITIONAL': return 'must NOT have additional properties';
      case 'E_ENUM': return `must be equal to one of the allowed values: ${node.members.map((m) => JSON.stringify(m)).join(', ')}`;
      case 'E_CONST': return `must be equal to constant ${JSON.stringify(node.members[0])}`;
      case 'E_MIN_LENGTH': return `must NOT have fewer than ${node.minLength} characters`;
      case 'E_MAX_LENGTH': return `must NOT have more than ${node.maxLength} characters`;
      case 'E_PATTERN': return `must match pattern "${node.pattern}"`;
      case 'E_MINIMUM': return `must be >= ${node.minimum}`;
      case 'E_MAXIMUM': return `must be <= ${node.maximum}`;
      case 'E_EXCLUSIVE_MINIMUM': return `must be > ${node.exclusiveMinimum}`;
      case 'E_EXCLUSIVE_MAXIMUM': return `must be < ${node.exclusiveMaximum}`;
      case 'E_MIN_ITEMS': return `must NOT have fewer than ${node.minItems} items`;
      case 'E_MAX_ITEMS': return `must NOT have more than ${node.maxItems} items`;
      case 'E_FALSE_SCHEMA': return 'boolean schema is false';
      default: return RULE_MESSAGES[code] ?? code;
    }
  }

  /**
   * The checks the core hands over (assembly/scanner.ts, jsCheck): a pattern outside its regex
   * subset, a format it leaves to JS (src/core/js-formats.ts), or the numeric checks of a number
   * whose exact double it does not compute. Decided as
   * ajv would on JSON.parse of the message; answers 0 or the code that failed.
   */
  #jsCheck(kind: number, address: number, start: number, end: number): number {
    const node = this.#program.nodesByAddress.get(address >>> 0)!;
    const bytes = this.#bytes.subarray(start, end);
    if (kind === JS_PATTERN) {
      let regex = this.#jsPatterns.get(address);
      if (!regex) {
        regex = new RegExp(node.pattern!, 'u');
        this.#jsPatterns.set(address, regex);
      }
      return regex.test(JSON.parse(`"${textDecoder.decode(bytes)}"`) as string) ? 0 : CODE.E_PATTERN;
    }
    if (kind === JS_FORMAT) return JS_FORMATS[node.jsFormat!]!(JSON.parse(`"${textDecoder.decode(bytes)}"`) as string) ? 0 : CODE.E_FORMAT;
    // a number is ASCII; decoded whole (a spread of its bytes overflows the stack past ~100k digits)
    return numberFailure(node, Number(textDecoder.decode(bytes)));
  }
}

const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The keyword each rule code reports (E_FALSE_SCHEMA: the schema itself; E_UNEVALUATED: the one the node has). */
const CODE_KEYWORDS: Partial<Record<VerdictCode, string>> = Object.fromEntries(
  Object.entries(AJV_KEYWORD_CODES).filter(([keyword]) => !['false schema', 'dependencies', 'minContains', 'maxContains', 'unevaluatedItems'].includes(keyword)).map(([keyword, code]) => [code, keyword]),
);

/** The schema location of the keyword behind `code` at `node` (see Verdict.keywordLocation). */
export function keywordLocation(node: RuleNode, code: VerdictCode, draft: Draft): string {
  const at = node.location.startsWith('#') ? node.location.slice(1) : node.location;
  if (code === 'E_FALSE_SCHEMA') return at;
  let keyword = CODE_KEYWORDS[code];
  if (keyword === undefined) return at;
  if (code === 'E_DEPENDENT_REQUIRED' && draft === 'draft-07') keyword = 'dependencies';
  else if (code === 'E_UNEVALUATED' && node.ext?.unevaluatedProperties === undefined) keyword = 'unevaluatedItems';
  return `${at}/${keyword}`;
}
const T_INT = 4, T_NUM = 8;
const F_MINIMUM = 4, F_MAXIMUM = 8, F_EXCL_MINIMUM = 16, F_EXCL_MAXIMUM = 32, F_ENUM = 1024, F_CONST = 2048;

/** The first numeric check `value` fails under `node` (the core's order), as ajv decides them. */
function numberFailure(node: RuleNode, value: number): number {
  const integerOnly = (node.types & T_NUM) === 0 && (node.types & T_INT) !== 0;
  if (integerOnly && (value % 1 || Number.isNaN(value))) return CODE.E_TYPE;
  const f = node.flags;
  if (f & F_MINIMUM && value < node.minimum) return CODE.E_MINIMUM;
  if (f & F_MAXIMUM && value > node.maximum) return CODE.E_MAXIMUM;
  if (f & F_EXCL_MINIMUM && value <= node.exclusiveMinimum) return CODE.E_EXCLUSIVE_MINIMUM;
  if (f & F_EXCL_MAXIMUM && value >= node.exclusiveMaximum) return CODE.E_EXCLUSIVE_MAXIMUM;
  if (f & (F_ENUM | F_CONST) && !node.members.includes(value)) return f & F_CONST ? CODE.E_CONST : CODE.E_ENUM;
  return 0;
}

export function compileSchema(schema: JsonSchema, options?: ValidatorOptions): Validator {
  return new Validator(schema, options);
}
