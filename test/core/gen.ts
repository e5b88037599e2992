// Shared helpers for the core test suites: a seeded generator, oracles, random JSON
// generation, a byte-level reference span finder. Not a test file itself.
import { prng } from '../../scripts/support/random.ts';
import { AJV_KEYWORD_CODES } from '../../src/core/codes.ts';

export const enc = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Seed for all randomized suites; override with SLUICE_SEED=<n> to explore, failures print it. */
export const SEED: number = process.env.SLUICE_SEED ? Number(process.env.SLUICE_SEED) >>> 0 : 0x5151ce;

/** Test generation over the seeded PRNG (scripts/support/random.ts): fully reproducible. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }
  u32(): number {
    return this.#next() * 4294967296; // exact: the generator divides a u32 by 2^32
  }
  float(): number {
    return this.#next();
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(p = 0.5): boolean {
    return this.float() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

export function hex(bytes: Uint8Array, max = 4096): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  if (bytes.length > max) s += `...(+${bytes.length - max} bytes)`;
  return s;
}

export function bytesOf(...parts: (string | number | number[] | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = parts.map((p) =>
    typeof p === 'string' ? enc.encode(p) : typeof p === 'number' ? Uint8Array.of(p) : Uint8Array.from(p),
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * The well-formedness oracle: strict UTF-8 decode (no BOM stripping: the contract
 * says a leading BOM is E_TOKEN, and JSON.parse rejects U+FEFF) then JSON.parse.
 */
export function oracleParse(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** nesting depth of arrays/objects in a parsed value (scalar = 0) */
export function depthOf(v: unknown): number {
  if (Array.isArray(v)) {
    let d = 0;
    for (const x of v) d = Math.max(d, depthOf(x));
    return d + 1;
  }
  if (v !== null && typeof v === 'object') {
    let d = 0;
    for (const k of Object.keys(v)) d = Math.max(d, depthOf((v as any)[k]));
    return d + 1;
  }
  return 0;
}

export function escapePointerToken(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

export const SYNTAX_CODES = new Set([
  'E_EMPTY', 'E_UTF8', 'E_TOKEN', 'E_NUMBER', 'E_CONTROL', 'E_ESCAPE', 'E_UNTERMINATED',
  'E_TRAILING', 'E_DEPTH', 'E_SIZE', 'E_DUPLICATE_KEY',
]);
export const RULE_CODES = new Set([
  'E_TYPE', 'E_REQUIRED', 'E_ADDITIONAL', 'E_ENUM', 'E_CONST', 'E_MIN_LENGTH', 'E_MAX_LENGTH',
  'E_PATTERN', 'E_MINIMUM', 'E_MAXIMUM', 'E_EXCLUSIVE_MINIMUM', 'E_EXCLUSIVE_MAXIMUM',
  'E_MIN_ITEMS', 'E_MAX_ITEMS', 'E_FALSE_SCHEMA', 'E_ANY_OF', 'E_ONE_OF', 'E_NOT', 'E_DEPENDENT_REQUIRED',
  'E_MIN_PROPERTIES', 'E_MAX_PROPERTIES', 'E_UNIQUE_ITEMS', 'E_CONTAINS', 'E_MULTIPLE_OF', 'E_FORMAT', 'E_UNEVALUATED',
]);

/** ajv error keyword -> core code */
export const AJV_KEYWORD_TO_CODE: Readonly<Record<string, string>> = AJV_KEYWORD_CODES;

/** The pointer the core should report for a single ajv error. */
export function ajvErrorPointer(e: { keyword: string; instancePath: string; params: any }): string {
  if (e.keyword === 'required') return e.instancePath + '/' + escapePointerToken(e.params.missingProperty);
  if (e.keyword === 'additionalProperties')
    return e.instancePath + '/' + escapePointerToken(e.params.additionalProperty);
  if (e.keyword === 'unevaluatedProperties')
    return e.instancePath + '/' + escapePointerToken(e.params.unevaluatedProperty);
  return e.instancePath;
}

// ---------------------------------------------------------------------------
// Raw JSON text & a randomizing serializer

/** A number emitted verbatim (lets documents carry texts like 1.0, 1e2, 0.99999999999999999). */
export class Raw {
  constructor(public text: string) {}
}

export interface SerOpts {
  /** probability of \u-escaping each string character */
  escapeP?: number;
  /** probability of inserting whitespace at each structural position */
  wsP?: number;
  /** probability of rewriting a number in an equivalent alternative textual form */
  altNumP?: number;
}

const WS = [' ', '\t', '\n', '\r', '  ', '\r\n'];

function u4(c: number): string {
  return '\\u' + c.toString(16).padStart(4, '0');
}

export function serString(s: string, rng: Rng | null, escapeP: number): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // surrogate handling: valid pairs may be raw or escaped; lone surrogates must be escaped
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        if (rng && rng.bool(escapeP)) {
          const upper = rng.bool();
          out += upper ? u4(c).toUpperCase().replace('\\U', '\\u') : u4(c);
          out += upper ? u4(d).toUpperCase().replace('\\U', '\\u') : u4(d);
        } else out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      out += u4(c);
      continue;
    }
    if (rng && rng.bool(escapeP)) {
      const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
      const sh = short[s[i]!];
      if (sh && rng.bool()) out += sh;
      else out += rng.bool() ? u4(c).toUpperCase().replace('\\U', '\\u') : u4(c);
      continue;
    }
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += JSON.stringify(s[i]).slice(1, -1);
    else out += s[i];
  }
  return out + '"';
}

function altNumber(n: number, rng: Rng): string {
  const s = JSON.stringify(n);
  if (s === 'null') return '0'; // NaN/Infinity never produced, just in case
  const forms: string[] = [];
  if (!/[eE]/.test(s)) {
    forms.push(s + 'e0', s + 'E+0', s + 'e-0');
    if (!s.includes('.')) forms.push(s + '.0', s + '.000');
    else forms.push(s + '0');
    if (!s.includes('.') && s !== '0' && s !== '-0') forms.push(s + '00e-2');
  } else {
    const [m = '', e = ''] = s.split('e');
    forms.push(m + 'E' + e, m + 'e' + e.replace('+', ''));
  }
  return rng.pick(forms);
}

export function serialize(v: unknown, rng: Rng, opts: SerOpts = {}): string {
  const escapeP = opts.escapeP ?? 0;
  const wsP = opts.wsP ?? 0;
  const altNumP = opts.altNumP ?? 0;
  const ws = () => (wsP > 0 && rng.bool(wsP) ? rng.pick(WS) : '');
  const go = (x: unknown): string => {
    if (x instanceof Raw) return x.text;
    if (x === null) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') {
      if (altNumP > 0 && rng.bool(altNumP)) return altNumber(x, rng);
      return JSON.stringify(x);
    }
    if (typeof x === 'string') return serString(x, rng, escapeP);
    if (Array.isArray(x)) {
      if (x.length === 0) return '[' + ws() + ']';
      return '[' + x.map((e) => ws() + go(e) + ws()).join(',') + ']';
    }
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 0) return '{' + ws() + '}';
    return '{' + keys.map((k) => ws() + serString(k, rng, escapeP) + ws() + ':' + ws() + go(o[k]) + ws()).join(',') + '}';
  };
  return ws() + go(v) + ws();
}

/** JSON-compatible view of a value tree with Raw nodes (Raw -> parsed number). */
export function plain(v: unknown): unknown {
  if (v instanceof Raw) return JSON.parse(v.text);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = plain((v as any)[k]);
    return o;
  }
  return v;
}

// ---------------------------------------------------------------------------
// Random values

/** characters used for random strings: ASCII, escapes-needing chars, 2/3/4-byte UTF-8, line terminators */
export const CHAR_POOL = [
  'a', 'b', 'z', 'A', 'Z', '0', '9', '_', '-', ' ', '.', '@', '/', '~', '"', '\\', '\n', '\t', '\r', '\b', '\f',
  '\u0000', '\u001f', '\u007f', '\u0080', 'é', 'ß', '\u00a0', 'Ω', '\u07ff', '\u0800', '€', '中', '\u2028',
  '\u2029', '\ufeff', '\uffff', '\ue000', '😀', '𝄞', '\u{10ffff}', '\u{10000}', 'e\u0301',
];

export function randomString(rng: Rng, maxLen = 8, lone = 0.02): string {
  const n = rng.int(maxLen + 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (rng.bool(lone)) s += String.fromCharCode(rng.bool() ? 0xd800 + rng.int(0x400) : 0xdc00 + rng.int(0x400));
    else if (rng.bool(0.1)) s += String.fromCodePoint(rng.int(0xd800));
    else s += rng.pick(CHAR_POOL);
  }
  return s;
}

const NUM_TEXTS = [
  '0', '-0', '0.0', '-0.0', '1', '-1', '1.5', '1E+2', '1e-7', '1e400', '-1e400', '2e-400', '5e-324', '0e0',
  '123456789012345678901234567890', '1.7976931348623157e308', '0.1', '9007199254740993', '1.00000000000000001',
  '-12.5E-3', '1E0', '100e-2',
];

export function randomNumber(rng: Rng): number | Raw {
  switch (rng.int(5)) {
    case 0:
      return new Raw(rng.pick(NUM_TEXTS));
    case 1:
      return rng.int(2001) - 1000;
    case 2:
      return (rng.float() - 0.5) * 10 ** rng.range(-10, 25);
    case 3:
      return rng.int(10);
    default:
      return Math.round((rng.float() - 0.5) * 2000) / 8;
  }
}

export function randomValue(rng: Rng, depth = 0, maxDepth = 5): unknown {
  const r = rng.int(depth >= maxDepth ? 6 : 9);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
    case 3:
      return randomNumber(rng);
    case 4:
    case 5:
      return randomString(rng, rng.bool(0.2) ? 48 : 8);
    case 6:
    case 7: {
      const n = rng.int(5);
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(randomValue(rng, depth + 1, maxDepth));
      return a;
    }
    default: {
      const n = rng.int(5);
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[randomString(rng, 4, 0.01)] = randomValue(rng, depth + 1, maxDepth);
      delete (o as any)['__proto__'];
      return o;
    }
  }
}

/** interesting byte sequences for mutation-based fuzzing */
export const INTERESTING: number[][] = [
  [0x22], [0x5c], [0x5c, 0x75], [0x5c, 0x75, 0x64, 0x38, 0x30, 0x30], [0x2c], [0x3a], [0x5b], [0x5d], [0x7b], [0x7d],
  [0x00], [0x1f], [0x0a], [0x20], [0x09], [0x0c], [0x0b], [0x7f], [0x80], [0xbf], [0xc0, 0x80], [0xc2], [0xc3, 0xa9],
  [0xe0, 0x80, 0x80], [0xe0, 0xa0, 0x80], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xef, 0xbb, 0xbf], [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xfe], [0xff],
  [0x2d], [0x2e], [0x2b], [0x65], [0x45], [0x30], [0x31], [0x74, 0x72, 0x75, 0x65], [0x6e], [0x2f, 0x2a], [0x27],
];

export function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = Array.from(src);
  const rounds = rng.range(1, 3);
  for (let r = 0; r < rounds; r++) {
    const pos = rng.int(b.length + 1);
    switch (rng.int(7)) {
      case 0: // random byte flip
        if (b.length) b[Math.min(pos, b.length - 1)] = rng.int(256);
        break;
      case 1: // bit flip
        if (b.length) b[Math.min(pos, b.length - 1)]! ^= 1 << rng.int(8);
        break;
      case 2: // truncate
        b = b.slice(0, pos);
        break;
      case 3: // insert random byte(s)
        b.splice(pos, 0, ...Array.from({ length: rng.range(1, 3) }, () => rng.int(256)));
        break;
      case 4: // insert interesting sequence
        b.splice(pos, 0, ...rng.pick(INTERESTING));
        break;
      case 5: // delete a range
        b.splice(pos, rng.range(1, 4));
        break;
      default: // replace a byte by an interesting one
        if (b.length) b.splice(Math.min(pos, b.length - 1), 1, ...rng.pick(INTERESTING));
    }
  }
  return new Uint8Array(b);
}

const JSONISH = Array.from(enc.encode('{}[]{}[]""""::,,, \t\n\r0123456789-+.eEtrufalsn\\\\u/*\'xX'));

export function randomBytes(rng: Rng): Uint8Array {
  const n = rng.int(rng.bool(0.8) ? 24 : 96);
  const out = new Uint8Array(n);
  const mode = rng.int(3);
  for (let i = 0; i < n; i++) {
    if (mode === 0) out[i] = rng.int(256);
    else if (mode === 1) out[i] = rng.bool(0.85) ? rng.pick(JSONISH) : rng.int(256);
    else out[i] = rng.bool(0.9) ? rng.pick(JSONISH) : rng.pick([0x80, 0xc3, 0xa9, 0xed, 0xa0, 0xf0, 0x9f, 0xff, 0x00, 0x1f]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reference span finder (input must be well-formed JSON)

export type Span = { start: number; end: number } | null;

export function refSpans(bytes: Uint8Array, pointers: string[]): Span[] {
  const want = new Map<string, number[]>();
  pointers.forEach((p, i) => {
    if (!want.has(p)) want.set(p, []);
    want.get(p)!.push(i);
  });
  const out: Span[] = pointers.map(() => null);
  const dec = new TextDecoder();
  let i = 0;
  const ws = () => {
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  };
  const str = () => {
    const s = i;
    i++;
    while (bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
    i++;
    return JSON.parse(dec.decode(bytes.subarray(s, i))) as string;
  };
  const value = (ptr: string) => {
    ws();
    const start = i;
    const c = bytes[i];
    if (c === 0x7b) {
      i++;
      ws();
      if (bytes[i] === 0x7d) i++;
      else
        for (;;) {
          ws();
          const k = str();
          ws();
          i++; // :
          value(ptr + '/' + escapePointerToken(k));
          ws();
          if (bytes[i++] === 0x7d) break;
        }
    } else if (c === 0x5b) {
      i++;
      ws();
      if (bytes[i] === 0x5d) i++;
      else
        for (let idx = 0; ; idx++) {
          value(ptr + '/' + idx);
          ws();
          if (bytes[i++] === 0x5d) break;
        }
    } else if (c === 0x22) str();
    else while (i < bytes.length && !' \t\n\r,]}'.includes(String.fromCharCode(bytes[i]!))) i++;
    const hit = want.get(ptr);
    if (hit && ptr !== '') for (const h of hit) out[h] = { start, end: i };
  };
  value('');
  return out;
}

// ---------------------------------------------------------------------------
// Duplicate declared keys (the contract's E_DUPLICATE_KEY), on well-formed input

type Tree = { o: [string, Tree][] } | { a: Tree[] } | null;

/** Parses well-formed JSON bytes keeping every object member in order (duplicates included). */
export function parseEntries(bytes: Uint8Array): Tree {
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  let i = 0;
  const ws = () => {
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  };
  const str = () => {
    const s = i++;
    while (bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
    i++;
    return JSON.parse(dec.decode(bytes.subarray(s, i))) as string;
  };
  const value = (): Tree => {
    ws();
    const c = bytes[i];
    if (c === 0x7b) {
      i++;
      const o: [string, Tree][] = [];
      ws();
      if (bytes[i] === 0x7d) {
        i++;
        return { o };
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++;
        o.push([k, value()]);
        ws();
        if (bytes[i++] === 0x7d) return { o };
      }
    }
    if (c === 0x5b) {
      i++;
      const a: Tree[] = [];
      ws();
      if (bytes[i] === 0x5d) {
        i++;
        return { a };
      }
      for (;;) {
        a.push(value());
        ws();
        if (bytes[i++] === 0x5d) return { a };
      }
    }
    if (c === 0x22) str();
    else while (i < bytes.length && !' \t\n\r,]}'.includes(String.fromCharCode(bytes[i]!))) i++;
    return null;
  };
  return value();
}

/**
 * Whether an object repeats a *declared* property: one named in `properties` of the schema that
 * applies to it, or the next segment of an `extract` pointer that leads to it (contract wording).
 */
export function hasDeclaredDuplicate(bytes: Uint8Array, schema: unknown, extract: string[] = []): boolean {
  const ptrs = extract.map((p) => p.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')));
  const walk = (t: Tree, s: any, paths: string[][]): boolean => {
    if (t === null) return false;
    if ('a' in t) return t.a.some((x) => walk(x, s && typeof s === 'object' ? (s.items ?? true) : true, []));
    const declared = new Set<string>(s && typeof s === 'object' && s.properties ? Object.keys(s.properties) : []);
    for (const p of paths) if (p.length) declared.add(p[0]!);
    const seen = new Set<string>();
    for (const [k] of t.o) {
      if (declared.has(k) && seen.has(k)) return true;
      seen.add(k);
    }
    return t.o.some(([k, x]) =>
      walk(x, s && typeof s === 'object' && s.properties ? s.properties[k] : undefined, paths.filter((p) => p[0] === k).map((p) => p.slice(1))),
    );
  };
  return walk(parseEntries(bytes), schema, ptrs);
}
