// Differential test: the core vs ajv on random schemas (supported keywords only) and documents.
import { test } from 'uvu';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileSchema } from '../../src/index.ts';
import { parseJson } from '../../src/core/json-text.ts';
import {
  Rng, SEED, Raw, enc, hex, serialize, randomValue, CHAR_POOL, refSpans, escapePointerToken,
  AJV_KEYWORD_TO_CODE, ajvErrorPointer, RULE_CODES, depthOf, hasDeclaredDuplicate,
} from './gen.ts';

const ajvFirst = new Ajv({ strict: false, allErrors: false });
const ajvAll = new Ajv({ strict: false, allErrors: true });
const ajv2020First = addFormats.default(new Ajv2020({ strict: false, allErrors: false }));
const ajv2020All = addFormats.default(new Ajv2020({ strict: false, allErrors: true }));

const SCHEMAS = Number(process.env.SLUICE_DIFF_SCHEMAS ?? 1000);
const DOCS_PER_SCHEMA = Number(process.env.SLUICE_DIFF_DOCS ?? 200);

// ---------------------------------------------------------------------------
// pattern pool (core-subset regexes) with strings that match / do not match

const PATTERNS: { re: string; pos: string[]; neg: string[] }[] = [
  { re: '^[a-z]+$', pos: ['abc', 'a', 'zz'], neg: ['', 'ABC', 'ab1', 'é', 'a b'] },
  { re: '\\d{3}', pos: ['123', 'a1234b', '000'], neg: ['12', '1-2-3', '١٢٣', ''] },
  { re: '^(ab|cd)*$', pos: ['', 'ab', 'abcd', 'cdab'], neg: ['abc', 'a', 'ba'] },
  { re: 'x.y', pos: ['xay', 'x😀y', '--x-y', 'x\ty'], neg: ['xy', 'x\ny', 'x\u2028y', 'x\ry'] },
  { re: '^\\S+@\\S+$', pos: ['a@b', 'é@😀', 'me@example.org'], neg: ['a @b', '@b', 'a@', 'a@b\u00a0'] },
  { re: '^[A-Z][a-z]{2,4}$', pos: ['Abc', 'Abcde'], neg: ['abc', 'Ab', 'Abcdef'] },
  { re: 'colou?r', pos: ['color', 'colour', 'my colors'], neg: ['colr', 'COLOR'] },
  { re: '^[^\\s]{1,3}$', pos: ['a', '😀😀😀', 'abc'], neg: ['', 'abcd', ' a', '😀😀😀😀'] },
  { re: '^\\w+$', pos: ['a_1', 'Z'], neg: ['a-b', 'é', ''] },
  { re: '^.{2}$', pos: ['ab', '😀é'], neg: ['a', 'abc', 'a\n', '😀'] },
  { re: '^[0-9a-f]{4}-[0-9a-f]{4}$', pos: ['dead-beef', '0000-0000'], neg: ['DEAD-BEEF', 'dead_beef'] },
  { re: '^$', pos: [''], neg: ['a', ' '] },
  { re: 'a|b', pos: ['xa', 'b'], neg: ['xyz', ''] },
  { re: '^[à-ÿ]+$', pos: ['éè', 'ÿ'], neg: ['e', 'ÿz', ''] },
  { re: '^(?:ab)+c?$', pos: ['ab', 'ababc'], neg: ['abcab', 'c'] },
  { re: '^[+-]?\\d+(\\.\\d+)?$', pos: ['1', '-1.5', '+0.25'], neg: ['1.', '.5', '--1'] },
  { re: '^\\s*$', pos: ['', '  ', '\t\u00a0\u2028'], neg: ['a', ' a '] },
  { re: '^a.c$', pos: ['abc', 'a😀c', 'a c'], neg: ['ac', 'a\nc', 'a😀😀c'] },
  { re: '[0-9]+\\.[0-9]{2}$', pos: ['1.50', 'x 10.00'], neg: ['1.5', '1.500'] },
];

// (a name starting with U+FEFF: decoders that strip a BOM must not touch it)
const NAMES = ['a', 'b', 'id', 'name', 'tags', 'x/y', 'm~n', 'é', '😀', 'with space', '', 'n', 'A', 'q"uote', '\ufeffbom'];
const TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'] as const;
const BOUNDS = [-10, -1.5, 0, 0.1, 0.3, 1, 2.5, 3, 10, 100, 1e-7, -0.5, 9007199254740992, 1e21];
const ENUM_POOL: unknown[] = [0, 1, -1, 1.5, 0.1, 1e21, 'a', 'é', '😀', '', '1', 'A', null, true, false, 'a"b', 'x/y', 'lone\udc00', '\ufeffbom'];

// ---------------------------------------------------------------------------
// schema generator

function numericKeywords(rng: Rng, s: any) {
  if (rng.bool(0.35)) s.minimum = rng.pick(BOUNDS);
  if (rng.bool(0.35)) s.maximum = rng.pick(BOUNDS);
  if (rng.bool(0.2)) s.exclusiveMinimum = rng.pick(BOUNDS);
  if (rng.bool(0.2)) s.exclusiveMaximum = rng.pick(BOUNDS);
  // keep most schemas satisfiable
  if (s.minimum !== undefined && s.maximum !== undefined && s.minimum > s.maximum && rng.bool(0.8))
    [s.minimum, s.maximum] = [s.maximum, s.minimum];
}

function stringKeywords(rng: Rng, s: any) {
  const long = rng.bool(0.2); // long strings cross the SIMD kernel's 16-byte blocks
  if (rng.bool(0.4)) s.minLength = long ? rng.range(10, 40) : rng.int(4);
  if (rng.bool(0.4)) s.maxLength = (s.minLength ?? 0) + rng.int(long ? 30 : 5) - (rng.bool(0.1) ? 1 : 0);
  if (s.maxLength < 0) s.maxLength = 0;
  if (rng.bool(0.35)) s.pattern = rng.pick(PATTERNS).re;
}

function arrayKeywords(rng: Rng, s: any, depth: number) {
  if (rng.bool(0.85)) s.items = genSchema(rng, depth + 1);
  if (rng.bool(0.3)) s.minItems = rng.int(3);
  if (rng.bool(0.3)) s.maxItems = (s.minItems ?? 0) + rng.int(4);
}

function objectKeywords(rng: Rng, s: any, depth: number) {
  const n = rng.int(5);
  const names = rng.shuffle(NAMES.slice()).slice(0, n);
  if (n > 0 || rng.bool(0.3)) {
    s.properties = {};
    for (const k of names) s.properties[k] = genSchema(rng, depth + 1);
  }
  if (rng.bool(0.6)) {
    // never require "": ajv 8 cannot report it missing (see rules.test.ts), so it is no oracle for that case
    const req = names.filter((k) => k !== '' && rng.bool(0.5));
    if (rng.bool(0.15)) req.push(rng.pick(NAMES.filter((k) => k !== '')));
    s.required = [...new Set(req)];
  }
  if (rng.bool(0.35)) s.additionalProperties = false;
  else if (rng.bool(0.1)) s.additionalProperties = true;
}

export function genSchema(rng: Rng, depth = 0): any {
  if (depth > 0 && rng.bool(0.04)) return rng.bool(0.7);
  const leaf = depth >= 4;
  const kinds = leaf
    ? ['string', 'number', 'integer', 'boolean', 'null', 'enum', 'const', 'multi']
    : ['object', 'object', 'object', 'array', 'array', 'string', 'string', 'number', 'integer', 'boolean', 'null', 'enum', 'const', 'multi', 'untyped'];
  const kind = rng.pick(kinds);
  const s: any = {};
  const typed = rng.bool(0.85);
  switch (kind) {
    case 'object':
      if (typed) s.type = 'object';
      objectKeywords(rng, s, depth);
      break;
    case 'array':
      if (typed) s.type = 'array';
      arrayKeywords(rng, s, depth);
      break;
    case 'string':
      if (typed) s.type = 'string';
      stringKeywords(rng, s);
      break;
    case 'number':
    case 'integer':
      if (typed) s.type = kind;
      numericKeywords(rng, s);
      break;
    case 'boolean':
    case 'null':
      s.type = kind;
      break;
    case 'enum': {
      const n = rng.range(1, 5);
      s.enum = [...new Set(Array.from({ length: n }, () => rng.pick(ENUM_POOL)))];
      if (rng.bool(0.3)) s.type = rng.pick(['string', 'number', 'integer', 'null']);
      break;
    }
    case 'const':
      s.const = rng.pick(ENUM_POOL);
      break;
    case 'multi':
    case 'untyped': {
      const ts = rng.shuffle(TYPES.filter((t) => !leaf || (t !== 'array' && t !== 'object')).slice()).slice(0, rng.range(2, 3));
      if (kind === 'multi') s.type = ts;
      for (const t of ts) {
        if (t === 'string') stringKeywords(rng, s);
        if (t === 'number' || t === 'integer') numericKeywords(rng, s);
        if (t === 'array') arrayKeywords(rng, s, depth);
        if (t === 'object') objectKeywords(rng, s, depth);
      }
      break;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// document generator: conforming values with adversarial substitutions at rate `mr`

function cpString(rng: Rng, len: number, pool = CHAR_POOL): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    let c = rng.pick(pool);
    if ([...c].length !== 1) c = 'x';
    s += c;
  }
  return s;
}

const WIDE = ['😀', 'é', '€', '𝄞', 'a', '\u{10ffff}', '\ud800', 'ß'];

function numText(n: number): string {
  return JSON.stringify(n);
}

/** an equivalent spelling of n that is not JSON.stringify's (1.0, 1e0, 1E+21 ...) */
function altText(n: number, rng: Rng): Raw {
  const t = numText(n);
  if (/e/.test(t)) return new Raw(t.replace('e', rng.pick(['E', 'e'])).replace('+', rng.pick(['+', ''])));
  if (!Number.isInteger(n)) return new Raw(t + rng.pick(['0', 'e0', '00', 'E-0']));
  return new Raw(t + rng.pick(t === '0' ? ['.0', 'e0', '.000', 'E+0'] : ['.0', 'e0', '.000', '00e-2', 'E+0']));
}

function nearBoundNumbers(rng: Rng, b: number): (number | Raw)[] {
  const t = numText(b);
  const out: (number | Raw)[] = [b, b + 1, b - 1, b + 0.5, b - 0.5, b * (1 + 1e-15), b * (1 - 1e-15), -b];
  if (!/e/i.test(t)) {
    const frac = t.includes('.') ? t : t + '.';
    out.push(new Raw(frac + '00000000000000001'), new Raw(frac + '0000000000000001'), new Raw(t + 'e0'), new Raw(frac + '0'));
    if (Number.isInteger(b)) {
      const below = b - 1;
      out.push(new Raw(numText(below) + '.99999999999999999'), new Raw(numText(below) + '.9999999999999999'));
    }
  }
  return out;
}

function genNumber(rng: Rng, s: any, integer: boolean): number | Raw {
  let lo = -1000;
  let hi = 1000;
  if (typeof s.minimum === 'number') lo = Math.max(lo, s.minimum);
  if (typeof s.exclusiveMinimum === 'number') lo = Math.max(lo, s.exclusiveMinimum + 1e-9);
  if (typeof s.maximum === 'number') hi = Math.min(hi, s.maximum);
  if (typeof s.exclusiveMaximum === 'number') hi = Math.min(hi, s.exclusiveMaximum - 1e-9);
  if (lo > hi) hi = lo;
  let x = lo + (hi - lo) * rng.float();
  if (integer || rng.bool(0.3)) {
    const c = Math.ceil(lo);
    x = c <= hi ? Math.min(Math.floor(hi), c + rng.int(Math.max(1, Math.floor(hi) - c + 1))) : Math.round(x);
    if (rng.bool(0.2)) return altText(x, rng);
  }
  return x;
}

function genString(rng: Rng, s: any): string {
  if (typeof s.pattern === 'string' && rng.bool(0.8)) {
    const p = PATTERNS.find((q) => q.re === s.pattern);
    if (p) return rng.pick(p.pos);
  }
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? min + 6;
  const len = max >= min ? min + rng.int(max - min + 1) : min;
  return cpString(rng, len, rng.bool(0.5) ? WIDE : CHAR_POOL);
}

function adversarial(rng: Rng, s: any, depth: number): unknown {
  if (typeof s !== 'object' || s === null) return randomValue(rng, depth, 3);
  const opts: (() => unknown)[] = [() => randomValue(rng, depth, 3)];
  const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].filter((k) => typeof s[k] === 'number');
  for (const k of bounds) opts.push(() => rng.pick(nearBoundNumbers(rng, s[k])));
  if (s.minLength !== undefined || s.maxLength !== undefined) {
    for (const L of [s.minLength, s.maxLength]) {
      if (L === undefined) continue;
      for (const d of [-1, 0, 1]) if (L + d >= 0) opts.push(() => cpString(rng, L + d, WIDE));
    }
  }
  if (typeof s.pattern === 'string') {
    const p = PATTERNS.find((q) => q.re === s.pattern);
    if (p) opts.push(() => rng.pick(p.neg), () => rng.pick(p.pos) + cpString(rng, 1), () => cpString(rng, 1) + rng.pick(p.pos));
  }
  if (Array.isArray(s.enum) || 'const' in s) {
    const members: unknown[] = Array.isArray(s.enum) ? s.enum : [s.const];
    opts.push(() => {
      const m = rng.pick(members);
      if (typeof m === 'number') return rng.pick([altText(m, rng), altText(m, rng), m + 1, String(m)]);
      if (typeof m === 'string') return rng.pick([m.toUpperCase(), m + ' ', m.slice(1), JSON.stringify(m), 0]);
      return rng.pick([null, false, true, 0, '']);
    });
  }
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('integer') || types.includes('number')) opts.push(() => rng.pick([new Raw('1.5'), new Raw('2.0'), new Raw('1e2'), new Raw('1e-2'), 0.5]));
  return rng.pick(opts)();
}

function genValue(rng: Rng, s: any, mr: number, depth = 0): unknown {
  if (rng.bool(mr)) return adversarial(rng, s, depth);
  if (s === true || s === false) return randomValue(rng, depth, 3);
  if (Array.isArray(s.enum) && s.enum.length && rng.bool(0.9)) return rng.pick(s.enum);
  if ('const' in s && rng.bool(0.9)) return s.const;
  let types: string[] = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length === 0) {
    if (s.properties || s.required || s.additionalProperties !== undefined) types.push('object');
    if (s.items !== undefined || s.minItems !== undefined || s.maxItems !== undefined) types.push('array');
    if (s.minLength !== undefined || s.maxLength !== undefined || s.pattern !== undefined) types.push('string');
    if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((k) => k in s)) types.push('number');
    if (types.length === 0 || rng.bool(0.1)) types.push(...TYPES);
  }
  const t = rng.pick(types);
  switch (t) {
    case 'null':
      return null;
    case 'boolean':
      return rng.bool();
    case 'integer':
      return genNumber(rng, s, true);
    case 'number':
      return genNumber(rng, s, false);
    case 'string':
      return genString(rng, s);
    case 'array': {
      const min = s.minItems ?? 0;
      let max = s.maxItems ?? min + 3;
      if (max < min) max = min;
      let n = min + rng.int(Math.min(max, min + 4) - min + 1);
      if (rng.bool(mr)) n = Math.max(0, rng.pick([min - 1, max + 1, n]));
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(genValue(rng, s.items ?? true, mr, depth + 1));
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      const props: Record<string, unknown> = s.properties ?? {};
      const req: string[] = s.required ?? [];
      const keys = rng.shuffle(Object.keys(props));
      for (const k of keys) {
        const sub = props[k];
        const required = req.includes(k);
        let include = required ? !rng.bool(mr) : rng.bool(0.6);
        if (sub === false && !rng.bool(mr)) include = false;
        if (include) o[k] = genValue(rng, sub, mr, depth + 1);
      }
      for (const k of req) if (!(k in o) && !(k in props) && !rng.bool(mr)) o[k] = randomValue(rng, depth + 1, 2);
      const extraP = s.additionalProperties === false ? mr : 0.2;
      if (rng.bool(extraP)) {
        const k = rng.pick(['extra', ...NAMES.filter((n) => !(n in props))]);
        if (!(k in o)) o[k] = randomValue(rng, depth + 1, 2);
      }
      return o;
    }
  }
}

function hasRaw(v: unknown): boolean {
  if (v instanceof Raw) return true;
  if (Array.isArray(v)) return v.some(hasRaw);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasRaw);
  return false;
}

function serializeDoc(rng: Rng, v: unknown): string {
  if (!hasRaw(v) && rng.bool(0.5)) return JSON.stringify(v, null, rng.pick([0, 0, 0, 2, '\t']));
  return serialize(v, rng, { escapeP: rng.pick([0, 0, 0.05, 0.3]), wsP: rng.pick([0, 0, 0.2]), altNumP: rng.pick([0, 0.1]) });
}

function propertyPointers(s: any, prefix = '', depth = 0, out: string[] = []): string[] {
  if (!s || typeof s !== 'object' || depth > 3 || !s.properties) return out;
  for (const k of Object.keys(s.properties)) {
    const p = prefix + '/' + escapePointerToken(k);
    out.push(p);
    propertyPointers(s.properties[k], p, depth + 1, out);
  }
  return out;
}

// ---------------------------------------------------------------------------

interface Source {
  label: string;
  schema: unknown;
  extract?: string[];
  /** fixed documents to check first (e.g. sample messages), then `docs` generated ones */
  fixed?: string[];
  docs: number;
  /** document generator; default: genValue from the schema */
  gen?: (rng: Rng) => unknown;
  /** the oracle is ajv's 2020-12 class with ajv-formats (schemas with 2020-12 keywords, formats); default ajv (draft-07) */
  draft2020?: boolean;
  /** compile with assertFormats */
  formats?: boolean;
}

/** A sample document with schema-aware damage: adversarial values, dropped and extra properties. */
function mutateSample(rng: Rng, v: unknown, s: any, p: number): unknown {
  if (rng.bool(p)) return adversarial(rng, s, 1);
  if (Array.isArray(v)) {
    const a = v.map((x) => mutateSample(rng, x, s && typeof s === 'object' ? (s.items ?? true) : true, p));
    if (rng.bool(p) && a.length) a.splice(rng.int(a.length), 1);
    if (rng.bool(p)) a.push(a.length ? a[rng.int(a.length)] : adversarial(rng, s?.items ?? true, 1));
    return a;
  }
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (rng.bool(p / 2)) continue; // drop (maybe a required one)
      o[k] = mutateSample(rng, x, s && typeof s === 'object' ? (s.properties?.[k] ?? true) : true, p);
    }
    if (rng.bool(p / 2)) o[rng.pick(['extra', 'id', 'ID', 'é'])] = randomValue(rng, 2, 3);
    return o;
  }
  return v;
}

/** Runs every source against the core and ajv; returns stats, throws (assert) on any mismatch. */
function runDifferential(name: string, rng: Rng, sources: Iterable<Source>, kernel: 'simd' | 'scalar') {
  const t0 = Date.now();
  let schemas = 0;
  let docs = 0;
  let invalid = 0;
  let classCompared = 0;
  let spansCompared = 0;
  let fallbacks = 0;
  const failures: string[] = [];
  // mismatches grouped by signature (core code vs ajv's answer) so that one frequent bug
  // cannot hide the others: the count of each group and up to 3 examples are printed
  const groups = new Map<string, { n: number; examples: string[] }>();
  const record = (sig: string, example: string) => {
    let g = groups.get(sig);
    if (!g) groups.set(sig, (g = { n: 0, examples: [] }));
    g.n++;
    if (g.examples.length < 3) g.examples.push(example);
  };
  const codeCounts: Record<string, number> = {};

  for (const src of sources) {
    const { schema, extract: ptrs } = src;
    schemas++;
    let v: any;
    try {
      // `kernel` selects the SIMD or scalar build: an implementation option beyond the contract
      v = compileSchema(schema as any, { ...(ptrs ? { extract: ptrs } : {}), kernel, ...(src.formats ? { assertFormats: true } : {}) } as any);
    } catch (e) {
      failures.push(`compileSchema threw for a supported-keyword schema (${src.label}): ${JSON.stringify(schema)}\n  ${(e as Error).message}`);
      continue;
    }
    const first = (src.draft2020 ? ajv2020First : ajvFirst).compile(schema as any);
    const all = (src.draft2020 ? ajv2020All : ajvAll).compile(schema as any);
    const fixed = src.fixed ?? [];
    const hasRef = JSON.stringify(schema).includes('"$ref"');
    for (let di = 0; di < fixed.length + src.docs; di++) {
      let text: string;
      if (di < fixed.length) text = fixed[di]!;
      else {
        const mr = rng.pick([0, 0, 0.03, 0.1, 0.25, 0.4]);
        text = serializeDoc(rng, src.gen ? src.gen(rng) : genValue(rng, schema, mr));
      }
      const bytes = enc.encode(text);
      let parsed: unknown;
      try {
        // not JSON.parse alone: from Node 24 on it may misread an escaped key (src/core/json-text.ts)
        parsed = parseJson(text);
      } catch {
        failures.push(`generator bug: invalid JSON ${text}`);
        continue;
      }
      const where = `seed ${SEED}, ${src.label} [${kernel}], doc #${di}`;
      // the contract's deliberate departures from JSON.parse + ajv (default limits)
      const strict: string[] = [];
      if (bytes.length > 1048576) strict.push('E_SIZE');
      else {
        if (depthOf(parsed) > 64) strict.push('E_DEPTH');
        if (hasDeclaredDuplicate(bytes, schema, ptrs)) strict.push('E_DUPLICATE_KEY');
      }
      const expected = strict.length === 0 && (first(parsed) as boolean);
      let r: any;
      try {
        r = v.validate(bytes);
      } catch (e) {
        failures.push(`validate threw (${where}): schema=${JSON.stringify(schema)} doc=${text} hex=${hex(bytes, 512)}: ${(e as Error).stack}`);
        continue;
      }
      docs++;
      if (!expected) invalid++;
      codeCounts[r.code] = (codeCounts[r.code] ?? 0) + 1;
      if (r.fallback) fallbacks++;
      if (strict.length) {
        if (!strict.includes(r.code))
          record(`strictness: core ${r.code} / expected ${strict.join('|')}`, `STRICTNESS MISMATCH (${where})\n  schema=${JSON.stringify(schema)}\n  doc=${text.slice(0, 2000)}\n  core=${JSON.stringify(r)}`);
        continue;
      }
      if (r.ok !== expected) {
        record(
          `verdict: core ${r.code}${r.fallback ? ' (fallback)' : ''} / ajv ${expected ? 'valid' : first.errors?.[0]?.keyword}`,
          `MISMATCH (${where})\n  schema=${JSON.stringify(schema)}${ptrs ? ` extract=${JSON.stringify(ptrs)}` : ''}\n  doc=${text}\n  hex=${hex(bytes, 512)}\n  core=${JSON.stringify(r)}\n  ajv=${expected} ${JSON.stringify(first.errors)}`,
        );
        continue;
      }
      if (!r.ok && !RULE_CODES.has(r.code)) {
        failures.push(`JSON.stringify output rejected with a syntax code (${where}): schema=${JSON.stringify(schema)} doc=${text} core=${JSON.stringify(r)}`);
        continue;
      }
      if (!expected) {
        // error class: only where it is unambiguous, i.e. ajv (allErrors) finds exactly one error;
        // its schema location too, but not through $ref (ajv's schemaPath restarts at "#" inside a
        // recursive reference's own function, where the core names the keyword in $defs)
        all(parsed);
        if (all.errors && all.errors.length === 1) {
          const e = all.errors[0]!;
          const code = AJV_KEYWORD_TO_CODE[e.keyword];
          const path = ajvErrorPointer(e);
          // ajv reports items: false after prefixItems as "items" at the array, the core the false schema at the element
          if (code === undefined) continue;
          classCompared++;
          if (r.code !== code || r.path !== path) {
            record(
              `error class: core ${r.code}${r.code === code ? ' (path differs)' : ''} / ajv ${code}`,
              `ERROR CLASS MISMATCH (${where})\n  schema=${JSON.stringify(schema)}\n  doc=${text}\n  core=${JSON.stringify(r)}\n  ajv: ${code} at ${JSON.stringify(path)} ${JSON.stringify(e)}`,
            );
          } else if (!hasRef && r.keywordLocation !== decodeURIComponent(e.schemaPath.replace(/^#/, '').replace(/\/false schema$/, ''))) {
            record(
              'keyword location',
              `KEYWORD LOCATION MISMATCH (${where})\n  schema=${JSON.stringify(schema)}\n  doc=${text}\n  core=${JSON.stringify(r)}\n  ajv: ${JSON.stringify(e)}`,
            );
          }
        }
      } else if (ptrs) {
        const ref = refSpans(bytes, ptrs);
        spansCompared++;
        if (JSON.stringify(r.fields) !== JSON.stringify(ref))
          record(
            'extract spans',
            `SPAN MISMATCH (${where}): schema=${JSON.stringify(schema)} extract=${JSON.stringify(ptrs)}\n  doc=${text}\n  core=${JSON.stringify(r.fields)}\n  ref=${JSON.stringify(ref)}`,
          );
      }
    }
  }
  const ms = Date.now() - t0;
  console.log(
    `  ${name}: ${schemas} schemas, ${docs} documents (${invalid} invalid per ajv), ${classCompared} single-error classes compared, ${spansCompared} span sets compared, ${fallbacks} fallback verdicts, ${ms} ms\n  codes: ${JSON.stringify(codeCounts)}`,
  );
  assert.ok(failures.length === 0, `${failures.length} failures:\n\n${failures.slice(0, 25).join('\n\n')}`);
  const report = [...groups].map(([sig, g]) => `### ${g.n} x ${sig}\n${g.examples.join('\n')}`).join('\n\n');
  assert.ok(groups.size === 0, `mismatches in ${groups.size} groups:\n\n${report}`);
  return { docs, invalid };
}

function* randomSources(rng: Rng, n: number, label: string): Generator<Source> {
  for (let si = 0; si < n; si++) {
    const schema = genSchema(rng);
    const extract = rng.bool(0.5) ? rng.shuffle(propertyPointers(schema)).slice(0, 3).concat(['/nope']) : undefined;
    yield { label: `${label} schema #${si}`, schema, ...(extract ? { extract } : {}), docs: DOCS_PER_SCHEMA };
  }
}

for (const [i, kernel] of (['simd', 'scalar'] as const).entries()) {
  test(`differential [${kernel} kernel]: core verdict === ajv on random schemas and documents`, () => {
    const rng = new Rng(SEED ^ 0xd1ff ^ (i * 0x9e3779b9));
    const { docs, invalid } = runDifferential(`random/${kernel}`, rng, randomSources(rng, SCHEMAS / 2, 'random'), kernel);
    assert.ok(docs >= 5000, `at least 5000 documents (got ${docs})`);
    assert.ok(invalid > docs * 0.15 && invalid < docs * 0.85, `healthy mix of valid/invalid documents (invalid=${invalid}/${docs})`);
  });
}

// ---------------------------------------------------------------------------
// keyword families evaluated on the tape: each family's schemas are built from generated subschemas,
// and its documents come from one branch or another (so both sides of each keyword are hit)

const DEEP_POOL: unknown[] = [
  { a: 1 }, { a: 1, b: [true, null] }, [1, 'x'], [], {}, [[1]], { 'é': { '😀': 'q"uote' } }, [1.5, { a: 'lone\udc00' }],
];

/** Equal in JSON but spelled differently: keys reordered, 1 as 1.0, escapes (serializeDoc adds some). */
function respell(rng: Rng, v: unknown): unknown {
  if (typeof v === 'number' && Number.isSafeInteger(v) && rng.bool(0.5)) return new Raw(`${v}.0`);
  if (Array.isArray(v)) return v.map((x) => respell(rng, x));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of rng.shuffle(Object.keys(v))) o[k] = respell(rng, (v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

type Family = (rng: Rng) => { schema: unknown; gen: (rng: Rng) => unknown };

const FAMILIES: Record<string, Family> = {
  refs: (rng) => {
    const a = genSchema(rng, 2);
    const b = genSchema(rng, 2);
    const tree = {
      type: 'object',
      properties: { value: { $ref: '#/$defs/a' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
      required: rng.bool(0.5) ? ['value'] : [],
    };
    const schema = {
      $defs: { a, b, node: tree },
      type: 'object',
      properties: { x: { $ref: '#/$defs/a' }, y: { $ref: '#/$defs/b' }, tree: { $ref: '#/$defs/node' } },
      ...(rng.bool(0.3) ? { additionalProperties: false } : {}),
    };
    const genTree = (r: Rng, depth: number): unknown => {
      const o: Record<string, unknown> = {};
      if (r.bool(0.85)) o.value = genValue(r, a, r.pick([0, 0.1]));
      if (depth < 4 && r.bool(0.6)) o.children = Array.from({ length: r.int(3) }, () => genTree(r, depth + 1));
      if (r.bool(0.05)) o.children = [r.pick([1, 'x', null])];
      return o;
    };
    return {
      schema,
      gen: (r) => {
        const o: Record<string, unknown> = {};
        if (r.bool(0.7)) o.x = genValue(r, a, r.pick([0, 0.1, 0.3]));
        if (r.bool(0.7)) o.y = genValue(r, b, r.pick([0, 0.1, 0.3]));
        if (r.bool(0.7)) o.tree = genTree(r, 0);
        if (r.bool(0.1)) o.extra = 1;
        return o;
      },
    };
  },
  combinators: (rng) => {
    const branches = Array.from({ length: rng.range(2, 3) }, () => genSchema(rng, 2));
    const kind = rng.pick(['allOf', 'anyOf', 'oneOf', 'not', 'if']);
    let schema: any;
    if (kind === 'not') schema = { not: branches[0] };
    else if (kind === 'if') schema = { if: branches[0], then: branches[1], ...(rng.bool(0.7) ? { else: branches[2] ?? genSchema(rng, 2) } : {}) };
    else schema = { [kind]: branches };
    if (rng.bool(0.3)) schema = { type: 'object', properties: { v: schema }, required: ['v'] };
    const wrapped = schema.properties !== undefined;
    const pool = [...branches, ...(schema.else ? [schema.else] : [])];
    return {
      schema,
      gen: (r) => {
        const v = r.bool(0.85) ? genValue(r, r.pick(pool), r.pick([0, 0.05, 0.2])) : randomValue(r, 2, 3);
        return wrapped ? { v } : v;
      },
    };
  },
  deepEnum: (rng) => {
    const members = rng.shuffle(DEEP_POOL.slice()).slice(0, rng.range(1, 4));
    const scalars = rng.bool(0.5) ? [rng.pick(ENUM_POOL)] : [];
    const all: unknown[] = rng.bool(0.5) ? [...members, ...scalars] : [members[0]];
    const schema = all.length > 1 || rng.bool(0.5) ? { enum: all } : { const: all[0] };
    return {
      schema,
      gen: (r) => (r.bool(0.6) ? respell(r, r.pick(all)) : r.bool(0.5) ? respell(r, r.pick(DEEP_POOL)) : randomValue(r, 1, 3)),
    };
  },
  objects: (rng) => {
    // (no "" in dependentRequired: like required, ajv 8 does not see it missing)
    const names = rng.shuffle(NAMES.filter((n) => n !== '')).slice(0, 4);
    const schema: any = { type: 'object' };
    if (rng.bool(0.6)) schema.properties = { [names[0]!]: genSchema(rng, 2) };
    if (rng.bool(0.6)) schema.patternProperties = { [rng.pick(['^a', '^[a-z]+$', 'e', '^$', '\\d'])]: genSchema(rng, 3) };
    if (rng.bool(0.4)) schema.additionalProperties = rng.bool(0.3) ? false : genSchema(rng, 3);
    if (rng.bool(0.4)) schema.propertyNames = rng.pick([{ maxLength: 3 }, { pattern: '^[a-z]*$' }, { enum: names }, { not: { const: 'b' } }]);
    if (rng.bool(0.4)) schema.dependentRequired = { [names[1]!]: [names[2]!], [names[2]!]: rng.bool(0.5) ? [names[3]!] : [] };
    if (rng.bool(0.3)) schema.dependentSchemas = { [names[3]!]: genSchema(rng, 2) };
    if (rng.bool(0.4)) schema.minProperties = rng.int(3);
    if (rng.bool(0.4)) schema.maxProperties = rng.range(1, 4);
    const pool = [...names, 'a', 'ab', 'a1', 'zz', 'extra', ''];
    return {
      schema,
      gen: (r) => {
        const o: Record<string, unknown> = {};
        for (let i = r.int(5); i > 0; i--) {
          const k = r.pick(pool);
          const sub = schema.properties?.[k] ?? (r.bool(0.5) ? Object.values(schema.patternProperties ?? {})[0] : undefined) ?? schema.additionalProperties;
          o[k] = sub && typeof sub === 'object' && r.bool(0.8) ? genValue(r, sub, r.pick([0, 0.1])) : randomValue(r, 1, 2);
        }
        return r.bool(0.05) ? randomValue(r, 0, 2) : o;
      },
    };
  },
  arrays: (rng) => {
    const prefix = Array.from({ length: rng.int(3) }, () => genSchema(rng, 3));
    const schema: any = { type: 'array' };
    if (prefix.length) schema.prefixItems = prefix;
    if (rng.bool(0.5)) schema.items = rng.bool(0.2) ? false : genSchema(rng, 3);
    // (not with prefixItems: ajv 8 skips contains on an array shorter than prefixItems, see rules.test.ts)
    if (prefix.length === 0 && rng.bool(0.7)) {
      schema.contains = rng.pick([{ type: 'integer' }, { const: 1 }, { type: 'string', minLength: 2 }, genSchema(rng, 3)]);
      if (rng.bool(0.4)) schema.minContains = rng.int(3);
      if (rng.bool(0.4)) schema.maxContains = rng.range(1, 3);
    }
    // (not with prefixItems: ajv 8 compares only elements of the items schema's type then, see rules.test.ts)
    if (prefix.length === 0 && rng.bool(0.5)) schema.uniqueItems = true;
    const elements = [...prefix, schema.items, schema.contains].filter((x) => x && typeof x === 'object');
    return {
      schema,
      draft2020: true,
      gen: (r) => {
        const a: unknown[] = [];
        for (let i = r.int(6); i > 0; i--) {
          const sub = i <= prefix.length && r.bool(0.7) ? prefix[a.length] : elements.length ? r.pick(elements) : true;
          a.push(r.bool(0.15) && a.length ? respell(r, r.pick(a)) : genValue(r, sub ?? true, r.pick([0, 0.1])));
        }
        return r.bool(0.05) ? randomValue(r, 0, 2) : a;
      },
    };
  },
  // quotients stay below 1e21: beyond, ajv 8 answers "not a multiple" for integers (it compares the
  // quotient with parseInt of its exponent spelling), the core follows the specification (rules.test.ts)
  unevaluated: (rng) => {
    const names = ['a', 'b', 'c', 'x-1', 'd'];
    const branch = (): any => ({ properties: { [rng.pick(names)]: genSchema(rng, 3) }, ...(rng.bool(0.3) ? { required: [rng.pick(names)] } : {}) });
    const schema: any = rng.bool(0.5)
      ? {
          type: 'object',
          properties: { a: genSchema(rng, 3) },
          ...(rng.bool(0.5) ? { allOf: [branch()] } : {}),
          ...(rng.bool(0.5) ? { anyOf: [branch(), branch()] } : {}),
          // (no if/then/else: ajv 8 keeps the annotations of a failed if; see rules.test.ts)
          ...(rng.bool(0.4) ? { dependentSchemas: { b: branch() } } : {}),
          ...(rng.bool(0.3) ? { patternProperties: { '^x-': true } } : {}),
          unevaluatedProperties: rng.bool(0.6) ? false : { type: 'integer' },
        }
      : {
          type: 'array',
          prefixItems: [genSchema(rng, 3)],
          ...(rng.bool(0.5) ? { allOf: [{ prefixItems: [true, genSchema(rng, 3)] }] } : {}),
          // (no contains: ajv 8 does not count the items contains matched; see rules.test.ts)
          unevaluatedItems: rng.bool(0.6) ? false : { type: 'integer' },
        };
    return {
      schema,
      draft2020: true,
      gen: (r) => {
        if (schema.type === 'array') return Array.from({ length: r.int(4) }, () => (r.bool(0.5) ? r.int(3) : randomValue(r, 1, 1)));
        const o: Record<string, unknown> = {};
        for (let i = r.int(4); i > 0; i--) o[r.pick(names)] = r.bool(0.5) ? r.int(3) : randomValue(r, 1, 1);
        return o;
      },
    };
  },
  numbers: (rng) => {
    const small = BOUNDS.filter((b) => Math.abs(b) < 1e12);
    const schema: any = { multipleOf: rng.pick([1, 2, 0.5, 0.1, 3, 1e-8, 0.0001, 7.5]) };
    if (rng.bool(0.4)) schema.type = rng.pick(['integer', 'number']);
    if (rng.bool(0.3)) schema.minimum = rng.pick(small);
    return {
      schema,
      gen: (r) => {
        const v = r.pick([
          () => r.int(40) * schema.multipleOf,
          () => r.int(200) / 10,
          () => r.pick(small),
          () => new Raw(r.pick(['1.0', '1e2', '2.50', '0.30000000000000004', '-0', '12345678.9012345678901234567890', '1E+3'])),
          () => (r.bool(0.5) ? r.pick(['1', null, true]) : randomValue(r, 1, 2)),
        ])();
        const n = v instanceof Raw ? Number(v.text) : v;
        return typeof n === 'number' && Math.abs(n / schema.multipleOf) >= 1e21 ? 1 : v;
      },
    };
  },
};

// formats: typical values on both sides of each check (the edge cases where ajv-formats and the
// specification part ways are the JSON-Schema-Test-Suite's business, see json-schema-suite.test.ts,
// and rules.test.ts: a space for the T of a date-time, a one-label mail domain)
const FORMAT_SAMPLES: Record<string, string[]> = {
  uuid: [
    '2eb8aa08-aa98-11ea-b4aa-73b441d16380', 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6', '2eb8aa08-aa98-11ea-b4aa-73b441d1638', '2eb8aa08aa9811eab4aa73b441d16380', 'g81d4fae-7dec-11d0-a765-00a0c91e6bf6', '',
    // each 16-byte block of the SIMD check and the 4 bytes after them, with the bytes next to the hex ranges
    ...[0, 7, 9, 15, 17, 22, 24, 31, 32, 35].flatMap((at) => ['/', ':', '@', 'G', '`', 'g', '-'].map((c) => `2eb8aa08-aa98-11ea-b4aa-73b441d16380`.slice(0, at) + c + `2eb8aa08-aa98-11ea-b4aa-73b441d16380`.slice(at + 1))),
    '2eb8aa0-8aa98-11ea-b4aa-73b441d16380', '2eb8aa08-aa9811-ea-b4aa-73b441d16380',
  ],
  date: ['2024-02-29', '2023-02-29', '1963-06-19', '2020-13-01', '2020-04-31', '2020-1-01', '2020-01-01T00:00:00Z'],
  time: ['08:30:06Z', '08:30:06.283185Z', '08:30:06+01:00', '8:30:06Z', '08:30:06', '24:00:00Z', '08:60:00Z'],
  'date-time': ['1963-06-19T08:30:06.283185Z', '1963-06-19T08:30:06Z', '1963-06-19t08:30:06z', '1963-06-19T08:30:06+02:00', '1990-02-31T15:59:59.123-08:00', '1963-06-19T08:30:06'],
  ipv4: ['192.168.0.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '192.168.0', '192.168.0.1.2', '087.10.0.1'],
  ipv6: ['::1', '::', '1:2:3:4:5:6:7:8', 'fe80::1', '::ffff:192.168.0.1', '1:2:3:4:5:6:7:8:9', '12345::', ':2:3:4:5:6:7:8', '1::2::3'],
  email: ['joe.bloggs@example.com', 'te~st@example.com', '.test@example.com', 'test.@example.com', 'te..st@example.com', '2962', 'joe@@example.com'],
  uri: ['http://foo.bar/?baz=qux#quux', 'urn:isbn:0451450523', 'mailto:a@b.c', '//foo.bar/?baz=qux#quux', 'abc', '\\WINDOWS\\fileshare', 'http:// shouldfail.com'],
  'json-pointer': ['', '/foo/bar~0/baz~1/%a', '/foo/-', '/foo/baz~', '#/foo', 'a/b'],
};

function* familySources(rng: Rng, family: string, n: number): Generator<Source> {
  if (family === 'formats') {
    for (const [format, samples] of Object.entries(FORMAT_SAMPLES)) {
      const schema = rng.bool(0.5) ? { format } : { type: 'object', properties: { v: { type: 'string', format } }, required: ['v'] };
      const wrapped = 'properties' in schema;
      yield {
        label: `format ${format}`, schema, docs: DOCS_PER_SCHEMA, draft2020: true, formats: true,
        gen: (r) => {
          const v = r.bool(0.9) ? r.pick(samples) : r.pick([1, null, ['x']]);
          return wrapped ? { v } : v;
        },
      };
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const { schema, gen, draft2020 } = FAMILIES[family]!(rng) as ReturnType<Family> & { draft2020?: boolean };
    const extract = rng.bool(0.3) ? ['/x', '/v', '/0', '/tree/value'] : undefined;
    const needs2020 = draft2020 || JSON.stringify(schema).includes('"dependentRequired"') || JSON.stringify(schema).includes('"dependentSchemas"');
    yield { label: `${family} schema #${i}`, schema, ...(extract ? { extract } : {}), docs: DOCS_PER_SCHEMA / 2, gen, draft2020: needs2020 };
  }
}

for (const family of [...Object.keys(FAMILIES), 'formats']) {
  for (const [i, kernel] of (['simd', 'scalar'] as const).entries()) {
    test(`differential [${kernel} kernel]: ${family} (tape mode) === ajv, valid and invalid documents`, () => {
      const rng = new Rng(SEED ^ 0x7a9e ^ (family.length * 0x51ed) ^ (i * 0x9e3779b9) ^ family.charCodeAt(0));
      const { docs, invalid } = runDifferential(`${family}/${kernel}`, rng, familySources(rng, family, Math.max(20, SCHEMAS / 20)), kernel);
      assert.ok(docs >= 1000, `at least 1000 documents (got ${docs})`);
      assert.ok(invalid > docs * 0.1 && invalid < docs * 0.9, `valid and invalid documents both (invalid=${invalid}/${docs})`);
    });
  }
}

test('differential: the project rule schemas (config/rules) on sample messages and generated/mutated documents', () => {
  const root = new URL('../../', import.meta.url);
  const dir = new URL('config/rules/', root);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.schema.json')) : [];
  if (files.length === 0) {
    console.log('  (no config/rules/*.schema.json: skipped)');
    return;
  }
  const rng = new Rng(SEED ^ 0xc0f1);
  const sources: Source[] = [];
  for (const f of files) {
    const schema = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
    const sample = new URL(`samples/${f.replace('.schema.json', '')}.ndjson`, root);
    const fixed = existsSync(sample) ? readFileSync(sample, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
    // only lines that are JSON (JSON.parse oracle); malformed sample lines are the scanner suite's business
    const parsable = fixed.filter((l) => {
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    });
    const values = parsable.map((l) => JSON.parse(l) as unknown);
    const gen = (r: Rng) =>
      values.length && r.bool(0.8) ? mutateSample(r, r.pick(values), schema, r.pick([0, 0.02, 0.05, 0.15])) : genValue(r, schema, r.pick([0, 0.1, 0.3]));
    for (const kernel of ['simd', 'scalar'] as const)
      // a 2020-12 document (its $schema says so) against ajv's 2020-12 class, formats asserted as the flows assert them
      sources.push({ label: `${f} (${kernel})`, schema, extract: propertyPointers(schema).slice(0, 4), fixed: parsable, docs: 3000, gen, ...(String(schema.$schema ?? '').includes('2020-12') ? { draft2020: true, formats: true } : {}) });
  }
  // run per kernel so each source is compiled with its kernel
  runDifferential('project/simd', rng, sources.filter((s) => s.label.endsWith('(simd)')), 'simd');
  runDifferential('project/scalar', rng, sources.filter((s) => s.label.endsWith('(scalar)')), 'scalar');
});

test.run();
