/**
 * Deterministic generator for Sluice sample data (samples/).
 *
 *   npx tsx scripts/gen-samples.ts           # (re)generate all sample files
 *   npx tsx scripts/gen-samples.ts --check   # generate, then self-check independently of Sluice
 *   npx tsx scripts/gen-samples.ts --verbose # also list how many lines each fault / edge case got
 *
 * Outputs:
 *   samples/content.ndjson               content items (OICMS flow), one message per line
 *   samples/content.expected.ndjson      expected outcome per input line
 *   samples/campaign.ndjson              campaign events (CM flow)
 *   samples/campaign.expected.ndjson
 *   samples/lookup/content-documents.ndjson
 *   samples/lookup/placements.ndjson     the placements as they end (the local lookup server's)
 *   samples/placements.ndjson            the placements table's log (campaign flow): first versions,
 *                                        updates and a tombstone, ending as lookup/placements.ndjson
 *   samples/lookup/user-segments.ndjson  the recommender API's user segments (campaign flow)
 *
 * Every invalid message carries exactly ONE fault; the expected outcome is derived from the
 * fault that was applied (no Sluice code is used). Pipeline order: validate (syntax, then
 * rules) -> filter (content: status "draft"; campaign: type "heartbeat") -> state (content: the
 * latest version per id, a line whose version is not higher is filtered with E_STALE; campaign:
 * dedupe by eventId, a line whose eventId went through before is filtered with E_DUPLICATE)
 * -> lookup. Some written lines are sent again later: campaign events as the same bytes
 * (duplicates), content items at an older version (stale); a line remembered by the state stays
 * remembered when a later stage dead-letters it.
 *
 * The --check mode verifies every line with a small strict reference tokenizer written here
 * (the syntax codes of src/core/codes.ts, each for the fault it names), TextDecoder({fatal:true}), JSON.parse and
 * ajv (rule codes + paths), recomputes filter/lookup outcomes from the lookup files, and
 * verifies that a second in-memory run is byte-identical to the files on disk.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { AJV_KEYWORD_CODES } from '../src/core/codes.ts';
import { prng } from './support/random.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'samples');
const CONTENT_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'config/rules/content.schema.json'), 'utf8'));
const CAMPAIGN_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'config/rules/campaign.schema.json'), 'utf8'));

const N_CONTENT = 3000;
const N_CAMPAIGN = 3000;
const INVALID_RATE = 0.08; // target share of invalid lines (5-10 %)
const MISS_RATE = 0.02; // share of valid, unfiltered lines whose lookup row is missing
const MAX_DEPTH = 64; // contract defaults
const MAX_SIZE = 1048576;

const SYNTAX_CODES = new Set([
  'E_EMPTY', 'E_UTF8', 'E_TOKEN', 'E_NUMBER', 'E_CONTROL', 'E_ESCAPE', 'E_UNTERMINATED',
  'E_TRAILING', 'E_DEPTH', 'E_SIZE', 'E_DUPLICATE_KEY',
]);

/** a[i], asserting that i is a valid index (the generator never relies on reading past the end). */
function at<T>(a: readonly T[], i: number): T {
  if (!Number.isInteger(i) || i < 0 || i >= a.length) throw new RangeError(`index ${i} out of range [0, ${a.length})`);
  return a[i]!;
}

// ---------------------------------------------------------------------------------------------
// draws over the seeded PRNG (scripts/support/random.ts)

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return at(a, Math.floor(this.next() * a.length)); // throws on an empty array
  }
  weighted<T>(a: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of a) total += w;
    let x = this.next() * total;
    for (const [v, w] of a) {
      if ((x -= w) < 0) return v;
    }
    return at(a, a.length - 1)[0]; // only reached through rounding; throws on an empty list
  }
  shuffle<T>(a: readonly T[]): T[] {
    const b = a.slice();
    for (let i = b.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [b[i], b[j]] = [b[j]!, b[i]!]; // 0 <= j <= i < b.length
    }
    return b;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  uuid(): string {
    const v = '89ab'[this.int(0, 3)];
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${v}${this.hex(3)}-${this.hex(12)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Pointer helpers (RFC 6901)

const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
const unesc = (k: string) => k.replace(/~1/g, '/').replace(/~0/g, '~');
const parts = (ptr: string) => (ptr === '' ? [] : ptr.slice(1).split('/').map(unesc));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JObj = { [k: string]: Json };

function getPtr(obj: Json, ptr: string): Json | undefined {
  let cur: any = obj;
  for (const p of parts(ptr)) {
    if (cur === null || typeof cur !== 'object' || !(p in cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}
/** Splits a non-root pointer into its parent's tokens and its last token. */
function splitLast(ptr: string): [string[], string] {
  const ps = parts(ptr);
  const last = ps.pop();
  if (last === undefined) throw new Error('cannot set/delete the root pointer');
  return [ps, last];
}
function setPtr(obj: Json, ptr: string, v: Json): void {
  const [ps, last] = splitLast(ptr);
  let cur: any = obj;
  for (const p of ps) cur = cur[p];
  cur[last] = v;
}
function delPtr(obj: Json, ptr: string): void {
  const [ps, last] = splitLast(ptr);
  let cur: any = obj;
  for (const p of ps) cur = cur[p];
  delete cur[last];
}

// ---------------------------------------------------------------------------------------------
// Message model, render tree and serializer

const CUT = Symbol('cut'); // everything after this chunk is dropped (input ends there)
type Chunk = string | Uint8Array | typeof CUT;

interface Entry {
  key: string;
  keyRaw?: string; // exact key text incl. quotes (escaped keys, syntax faults)
  pre?: string; // raw text before the key
  sep?: string; // raw text instead of the colon
  after?: string; // raw text instead of the comma that follows this entry
  val: RNode;
}
interface ONode { t: 'o'; entries: Entry[]; trailingComma?: boolean }
interface ANode { t: 'a'; items: RNode[]; trailingComma?: boolean }
type RNode =
  | ONode
  | ANode
  | { t: 's'; v: string }
  | { t: 'n'; v: number }
  | { t: 'l'; v: boolean | null }
  | { t: 'r'; chunks: Chunk[] };

interface Style {
  ws: 'min' | 'std' | 'spaced' | 'tabs';
  esc: 'raw' | 'ascii' | 'mixed';
  slash: boolean; // escape "/" as "\/"
  upper: boolean; // upper-case hex digits in \u escapes
}

type Expect =
  | { ok: true }
  | { ok: true; filtered: true }
  | { ok: true; filtered: true; reason: StateReason }
  | { ok: false; reason: string; path?: string };

/** Why a stateful stage drops a valid record: a duplicate (dedupe) or a stale version (latest). */
type StateReason = 'E_DUPLICATE' | 'E_STALE';

interface Msg {
  obj: Json; // logical value (what JSON.parse would see, for valid / rule-invalid messages)
  overrides: Map<string, Chunk[]>; // pointer -> raw value text
  keyRaw: Map<string, string>; // pointer -> raw key text
  nodeMods: ((root: ONode, r: Rng) => void)[];
  whole?: Chunk[]; // the whole line, raw
  truncate?: boolean | 'last'; // cut at a random safe position / just before the final }
  append?: string;
  keepOrder: boolean;
  style: Style;
  lead: string;
  trail: string;
  fault?: { code: string; path?: string; name: string };
  edge?: string;
  expect?: Expect;
}

function u4(cp: number, upper: boolean): string {
  const h = cp.toString(16).padStart(4, '0');
  return '\\u' + (upper ? h.toUpperCase() : h);
}
const SHORT: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

function escStr(s: string, st: Style, r: Rng, isKey: boolean): string {
  let o = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') o += '\\"';
    else if (ch === '\\') o += '\\\\';
    else if (cp < 0x20) o += SHORT[cp] && !r.chance(0.2) ? SHORT[cp] : u4(cp, st.upper);
    else if (ch === '/' && st.slash) o += '\\/';
    else if (cp >= 0xd800 && cp <= 0xdfff) o += u4(cp, st.upper); // lone surrogate: only escaped
    else if (cp >= 0x80 && (st.esc === 'ascii' || (st.esc === 'mixed' && r.chance(0.5)))) {
      if (cp > 0xffff) {
        const c = cp - 0x10000;
        o += u4(0xd800 + (c >> 10), st.upper) + u4(0xdc00 + (c & 0x3ff), st.upper);
      } else o += u4(cp, st.upper);
    } else if (cp < 0x80 && st.esc === 'mixed' && !isKey && r.chance(0.01)) o += u4(cp, st.upper);
    else o += ch;
  }
  return o + '"';
}

function toNode(v: Json, ptr: string, m: Msg, r: Rng): RNode {
  const o = m.overrides.get(ptr);
  if (o) return { t: 'r', chunks: o };
  if (v === null || typeof v === 'boolean') return { t: 'l', v };
  if (typeof v === 'number') return { t: 'n', v };
  if (typeof v === 'string') return { t: 's', v };
  if (Array.isArray(v)) return { t: 'a', items: v.map((x, i) => toNode(x, `${ptr}/${i}`, m, r)) };
  const keys = Object.keys(v);
  const order = m.keepOrder ? keys : r.shuffle(keys);
  return {
    t: 'o',
    entries: order.map((k) => {
      const p = `${ptr}/${esc(k)}`;
      const e: Entry = { key: k, val: toNode(v[k]!, p, m, r) }; // k comes from Object.keys(v)
      const kr = m.keyRaw.get(p);
      if (kr !== undefined) e.keyRaw = kr;
      return e;
    }),
  };
}

function nodeAt(root: RNode, ptr: string): RNode {
  let cur: RNode = root;
  for (const p of parts(ptr)) {
    if (cur.t === 'o') cur = cur.entries.find((e) => e.key === p)!.val;
    else if (cur.t === 'a') cur = at(cur.items, Number(p));
    else throw new Error(`nodeAt: ${ptr}`);
  }
  return cur;
}

function ser(n: RNode, st: Style, r: Rng, out: Chunk[]): void {
  const comma = { min: ',', std: ', ', spaced: ', ', tabs: ',\t' }[st.ws];
  const colon = { min: ':', std: ': ', spaced: ' : ', tabs: ':\t' }[st.ws];
  const pad = st.ws === 'spaced' ? ' ' : '';
  switch (n.t) {
    case 'r':
      out.push(...n.chunks);
      return;
    case 'n':
      out.push(JSON.stringify(n.v));
      return;
    case 'l':
      out.push(String(n.v));
      return;
    case 's':
      out.push(escStr(n.v, st, r, false));
      return;
    case 'a':
      if (!n.items.length && !n.trailingComma) {
        out.push('[]');
        return;
      }
      out.push('[' + pad);
      n.items.forEach((it, i) => {
        if (i) out.push(comma);
        ser(it, st, r, out);
      });
      if (n.trailingComma) out.push(',');
      out.push(pad + ']');
      return;
    case 'o':
      if (!n.entries.length && !n.trailingComma) {
        out.push('{}');
        return;
      }
      out.push('{' + pad);
      n.entries.forEach((e, i) => {
        if (i) out.push(n.entries[i - 1]!.after ?? comma); // i >= 1
        if (e.pre) out.push(e.pre);
        out.push(e.keyRaw ?? escStr(e.key, st, r, true));
        out.push(e.sep ?? colon);
        ser(e.val, st, r, out);
      });
      if (n.trailingComma) out.push(',');
      out.push(pad + '}');
      return;
  }
}

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Byte positions where cutting the input yields E_UNTERMINATED without any doubt:
 * never inside a number, an escape sequence or a multi-byte UTF-8 character. */
function safeCuts(b: Uint8Array): number[] {
  const res: number[] = [];
  let inStr = false;
  let escState = 0; // -1: after backslash, >0: hex digits left
  let first = -1;
  const lastClose = b.lastIndexOf(0x7d);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (first >= 0 && i > first && i <= lastClose) {
      if (inStr) {
        if (escState === 0 && c < 0x80) res.push(i);
      } else {
        const prev = b[i - 1]!; // i > first >= 0
        const prevNum = (prev >= 0x30 && prev <= 0x39) || prev === 0x2e || prev === 0x2b || prev === 0x2d || prev === 0x45 || prev === 0x65;
        const isLower = (x: number) => x >= 0x61 && x <= 0x7a;
        if (!prevNum && ('{}[],:"'.includes(String.fromCharCode(c)) || isWs(c))) res.push(i);
        else if (isLower(c) && isLower(prev) && !prevNum) res.push(i); // inside true/false/null
      }
    }
    if (first < 0 && !isWs(c)) first = i;
    if (inStr) {
      if (escState === -1) escState = c === 0x75 ? 4 : 0;
      else if (escState > 0) escState--;
      else if (c === 0x5c) escState = -1;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
  }
  return res;
}

function render(m: Msg, r: Rng): Buffer {
  let chunks: Chunk[] = [];
  if (m.whole) chunks = m.whole.slice();
  else {
    const root = toNode(m.obj, '', m, r) as ONode;
    for (const mod of m.nodeMods) mod(root, r);
    ser(root, m.style, r, chunks);
  }
  const cut = chunks.indexOf(CUT);
  if (cut >= 0) chunks = chunks.slice(0, cut);
  let buf = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c as Uint8Array))));
  if (m.truncate) {
    buf = buf.subarray(0, m.truncate === 'last' ? buf.lastIndexOf(0x7d) : r.pick(safeCuts(buf)));
  }
  if (m.append !== undefined) buf = Buffer.concat([buf, Buffer.from(m.append, 'utf8')]);
  buf = Buffer.concat([Buffer.from(m.lead), buf, Buffer.from(m.trail)]);
  if (buf.length === 0 || buf.includes(0x0a)) throw new Error(`bad line for ${m.fault?.name ?? m.edge}`);
  return buf;
}

function pickStyle(r: Rng): Style {
  return {
    ws: r.weighted([['min', 55], ['std', 25], ['spaced', 15], ['tabs', 5]] as const),
    esc: r.weighted([['raw', 80], ['ascii', 12], ['mixed', 8]] as const),
    slash: r.chance(0.08),
    upper: r.chance(0.3),
  };
}

function newMsg(obj: Json, r: Rng, keepOrderP: number): Msg {
  const lead = r.chance(0.03) ? r.pick([' ', '\t', '  ', ' \t']) : '';
  const trail = r.chance(0.02) ? '\r' : r.chance(0.03) ? r.pick([' ', '\t', '   ']) : '';
  return {
    obj,
    overrides: new Map(),
    keyRaw: new Map(),
    nodeMods: [],
    keepOrder: r.chance(keepOrderP),
    style: pickStyle(r),
    lead,
    trail,
  };
}

// ---------------------------------------------------------------------------------------------
// Fault / edge-case specifications

interface Spec {
  code: string; // expected reason ('' for valid edge cases)
  name: string;
  apply: (m: Msg, r: Rng) => string | void; // returns the JSON Pointer for rule errors
}

interface Flow {
  /** make sure the containers for ptr exist and the field itself exists with a valid value */
  prepare: (m: Msg, ptr: string, r: Rng) => void;
}

const B = (...bytes: number[]) => Uint8Array.from(bytes);
const show = (v: unknown) => {
  if (typeof v === 'symbol') return '<EOF>';
  const s = typeof v === 'string' ? JSON.stringify(v) : v instanceof Uint8Array ? `<${Buffer.from(v).toString('hex')}>` : JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
};

function specKit(flow: Flow) {
  const S = (code: string, name: string, apply: Spec['apply']): Spec => ({ code, name, apply });
  return {
    S,
    /** rule fault: set a logical value */
    rule: (code: string, ptr: string, v: Json | ((r: Rng) => Json), label?: string) =>
      S(code, `${code} ${ptr}=${label ?? show(v)}`, (m, r) => {
        flow.prepare(m, ptr, r);
        setPtr(m.obj, ptr, typeof v === 'function' ? v(r) : v);
        return ptr;
      }),
    /** rule fault written with a specific number text (logical value = what JSON.parse yields) */
    ruleRaw: (code: string, ptr: string, text: string) =>
      S(code, `${code} ${ptr}=${text}`, (m, r) => {
        flow.prepare(m, ptr, r);
        setPtr(m.obj, ptr, JSON.parse(text));
        m.overrides.set(ptr, [text]);
        return ptr;
      }),
    missing: (ptr: string) =>
      S('E_REQUIRED', `E_REQUIRED ${ptr}`, (m, r) => {
        flow.prepare(m, ptr, r);
        delPtr(m.obj, ptr);
        return ptr;
      }),
    extra: (parent: string, key: string, v: Json) =>
      S('E_ADDITIONAL', `E_ADDITIONAL ${parent}/${esc(key)}`, (m, r) => {
        if (parent) flow.prepare(m, parent, r);
        (getPtr(m.obj, parent) as JObj)[key] = v;
        return `${parent}/${esc(key)}`;
      }),
    /** syntax fault (or valid edge case) as raw value text */
    raw: (code: string, ptr: string, chunks: Chunk[], label?: string) =>
      S(code, `${code || 'valid'} ${ptr}=${label ?? JSON.stringify(chunks.map((c) => (typeof c === 'string' ? c : show(c))).join(''))}`, (m, r) => {
        flow.prepare(m, ptr, r);
        if (getPtr(m.obj, ptr) === undefined) setPtr(m.obj, ptr, 0); // placeholder so the member is emitted
        m.overrides.set(ptr, chunks);
      }),
    /** valid edge case written with a specific number text */
    validRaw: (ptr: string, text: string) =>
      S('', `valid ${ptr}=${text}`, (m, r) => {
        flow.prepare(m, ptr, r);
        setPtr(m.obj, ptr, JSON.parse(text));
        m.overrides.set(ptr, [text]);
      }),
    valid: (name: string, f: (m: Msg, r: Rng) => void) => S('', `valid ${name}`, f),
    node: (code: string, name: string, f: (root: ONode, r: Rng, m: Msg) => void, prep?: (m: Msg, r: Rng) => void) =>
      S(code, `${code} ${name}`, (m, r) => {
        prep?.(m, r);
        m.nodeMods.push((root, rr) => f(root, rr, m));
      }),
    /** insert a duplicate of the member `key` of the object at `objPtr`, after the original */
    dup: (objPtr: string, key: string, opts: { keyRaw?: string; val?: (r: Rng) => RNode } = {}) =>
      S('E_DUPLICATE_KEY', `E_DUPLICATE_KEY ${objPtr}/${key}${opts.keyRaw ? ' as ' + opts.keyRaw : ''}`, (m, r) => {
        flow.prepare(m, `${objPtr}/${esc(key)}`, r);
        m.nodeMods.push((root, rr) => {
          const o = nodeAt(root, objPtr) as ONode;
          const idx = o.entries.findIndex((e) => e.key === key);
          const orig = at(o.entries, idx); // prepare() made sure the member exists
          const copy: Entry = { key, val: opts.val ? opts.val(rr) : orig.val };
          if (opts.keyRaw) copy.keyRaw = opts.keyRaw;
          o.entries.splice(rr.int(idx + 1, o.entries.length), 0, copy);
        });
      }),
  };
}

/** entries of the root except the last (so a replaced separator is really between two members) */
const notLast = (root: ONode, r: Rng) => at(root.entries, r.int(0, root.entries.length - 2));
const anyEntry = (root: ONode, r: Rng) => at(root.entries, r.int(0, root.entries.length - 1));

/** Invalid UTF-8 byte sequences, each inside an otherwise valid string. */
const BAD_UTF8: [string, string, Uint8Array, string][] = [
  ['latin-1 ü (FC)', 'M', B(0xfc), 'nchen im Schnee'],
  ['latin-1 é (E9) before quote', 'Caf', B(0xe9), ''],
  ['latin-1 é (E9) before space', 'Caf', B(0xe9), ' au lait'],
  ['overlong 2-byte / (C0 AF)', 'a', B(0xc0, 0xaf), 'b'],
  ['overlong C1 BF', 'x', B(0xc1, 0xbf), 'y'],
  ['overlong 3-byte (E0 80 AF)', 'path', B(0xe0, 0x80, 0xaf), 'etc'],
  ['overlong 4-byte (F0 80 80 AF)', 'p', B(0xf0, 0x80, 0x80, 0xaf), 'q'],
  ['UTF-8 encoded high surrogate (ED A0 80)', 'sur', B(0xed, 0xa0, 0x80), 'rogate'],
  ['UTF-8 encoded low surrogate (ED BF BF)', 'low ', B(0xed, 0xbf, 0xbf), ''],
  ['CESU-8 emoji (ED A0 BD ED B8 80)', 'smile ', B(0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80), ' ok'],
  ['> U+10FFFF (F4 90 80 80)', 'big', B(0xf4, 0x90, 0x80, 0x80), ''],
  ['lead F5', 'f5', B(0xf5, 0x80, 0x80, 0x80), 'x'],
  ['byte FF', 'ff', B(0xff), 'x'],
  ['byte FE', 'fe', B(0xfe), 'x'],
  ['stray continuation 80', 'stray', B(0x80), 'byte'],
  ['stray continuation BF', '', B(0xbf), 'start'],
  ['cp1252 smart quotes (93 .. 94)', 'He said ', B(0x93), 'hello'],
  ['truncated € (E2 82) before space', 'Price 5 ', B(0xe2, 0x82), ' only'],
  ['truncated emoji (F0 9F 98) before quote', 'Nice ', B(0xf0, 0x9f, 0x98), ''],
  ['lead followed by lead (C3 C3 A9)', 'd', B(0xc3, 0xc3, 0xa9), 'j'],
];

// ---------------------------------------------------------------------------------------------
// Text pools

const TITLES: Record<'en' | 'de' | 'fr', string[]> = {
  en: [
    'Why the city’s new bike lanes are “a game changer”',
    'Champions League: 5 things we learned from Tuesday’s matches',
    'The "real" cost of working from home',
    'How AC\\DC’s first tour changed rock’n’roll',
    'Review: the café that serves crème brûlée at 3 a.m.',
    'Election night live: results as they come in 🗳️',
    'Scientists find water ice near the Moon’s south pole 🌙',
    '10 recipes for a rainy Sunday ☔',
    'Markets slide as oil tops $90 a barrel 📉',
    'The quiet revolution in Zürich’s tech scene',
    'Podcast: “We didn’t see it coming” — a founder’s story',
    'Watch: the best goals of the season ⚽',
    'Naïve or brave? The résumé gap debate',
    'What is C:\\Windows\\System32 and why you shouldn’t delete it',
    'Gallery: 24 hours in São Paulo 📸',
    'Interview: Björk on nature, music & technology',
    'Your questions answered: pensions, taxes and the “triple lock”',
    'Is the 4-day week here to stay?',
    'Travel: the 12 most beautiful train rides in Europe 🚆',
    'Tech giants face new EU rules — what changes for you',
    'Opinion: <script> tags, "quotes" and other things editors break',
    'Weather warning: storms expected across the UK ⛈️',
  ],
  de: [
    'Bundesliga: Dortmund schlägt München in letzter Minute ⚽',
    '„Wir müssen reden“ – Die Zukunft der Rente',
    'Wetter: Hitzewelle über Süddeutschland 🌡️',
    'Die größten Fehler beim Hauskauf',
    'Grüne Woche: Was Verbraucher über Bio-Siegel wissen müssen',
    'Kommentar: Warum die Straßenbahn zurückkommt',
    'Überraschung in Köln: Oberbürgermeisterin tritt zurück',
    'Rezept: Käsespätzle wie bei Oma 🧀',
    'Ärger um neue Öffnungszeiten im Bürgeramt',
    'Fußball-WM: Alle Spiele, alle Tore',
    'Podcast: „Ich dachte, das schaffe ich nie“',
    'Zwölf Tipps für günstiges Reisen mit der Bahn 🚄',
    'Mietpreise: Wo Wohnen in Deutschland noch bezahlbar ist',
    'Künstliche Intelligenz im Klassenzimmer – Fluch oder Segen?',
    'Galerie: Die schönsten Weihnachtsmärkte Österreichs 🎄',
    'Börse: DAX schließt über 18.000 Punkten 📈',
    'Straßenkarneval: Jecken feiern trotz Regen',
    'Interview mit „Tatort“-Kommissarin: "Ich bin gern die Böse"',
  ],
  fr: [
    'Ligue 1 : le PSG s’impose à Marseille ⚽',
    '« On n’a rien vu venir » : récit d’une nuit d’orage',
    'Réforme des retraites : ce qui change au 1er janvier',
    'Cuisine : la vraie recette de la crème brûlée 🍮',
    'Été caniculaire : les conseils des médecins ☀️',
    'Élections européennes : les résultats en direct',
    'Vidéo : les plus beaux buts de la saison',
    'Où partir en week-end à moins de 2 h de Paris ? 🚆',
    'Cinéma : « Anatomie d’une chute » triomphe aux César',
    'Économie : l’inflation ralentit en zone euro',
    'Podcast : à la découverte des cafés de Montréal ☕',
    'Théâtre : Molière revisité à la Comédie-Française',
    'Galerie : Noël à Strasbourg en 30 photos 🎄',
    'Société : la semaine de quatre jours, mythe ou réalité ?',
    'Sécurité routière : un été noir sur les routes',
    'Santé : faut-il vraiment boire 2 litres d’eau par jour ?',
    'Mode : l’œuf, le bœuf et la « cuisine d’hier »',
  ],
};
const TITLE_SUFFIX: Record<'en' | 'de' | 'fr', string[]> = {
  en: [' (Update)', ' – live', ': what we know', ' 🔴', ' [video]', ' — analysis'],
  de: [' (aktualisiert)', ' – live', ': Was wir wissen', ' 🔴', ' [Video]', ' – Eine Analyse'],
  fr: [' (mise à jour)', ' – en direct', ' : ce que l’on sait', ' 🔴', ' [vidéo]', ' — décryptage'],
};
const SUMMARIES: Record<'en' | 'de' | 'fr', string[]> = {
  en: [
    'Everything you need to know, in five minutes.',
    'Our correspondent reports from the scene.\nUpdated as the story develops.',
    'A look behind the headlines — with data, maps and the voices of those affected.',
    'Key points:\n\t• what happened\n\t• why it matters\n\t• what’s next',
    'The "short" version: it’s complicated.',
    'Read the full transcript below. Contains strong language.',
  ],
  de: [
    'Alles Wichtige in fünf Minuten.',
    'Unsere Korrespondentin berichtet vor Ort.\nDieser Artikel wird laufend aktualisiert.',
    'Ein Blick hinter die Schlagzeilen – mit Daten, Karten und Stimmen der Betroffenen.',
    'Die wichtigsten Punkte:\n\t• Was ist passiert?\n\t• Warum ist das wichtig?',
    '„Kurz gesagt“: Es ist kompliziert.',
  ],
  fr: [
    'L’essentiel en cinq minutes.',
    'Notre envoyée spéciale raconte.\nArticle mis à jour régulièrement.',
    'Derrière les gros titres : données, cartes et témoignages.',
    'À retenir :\n\t• ce qui s’est passé\n\t• pourquoi c’est important',
    '« En bref » : c’est compliqué.',
  ],
};
const LANGS: [string, number][] = [
  ['en', 20], ['en-GB', 10], ['en-US', 8], ['de', 18], ['de-DE', 8], ['de-AT', 4], ['de-CH', 3],
  ['fr', 16], ['fr-FR', 6], ['fr-CA', 4], ['fr-BE', 3],
];
const TAGS = [
  'news', 'sport', 'football', 'Fußball', 'politik', 'économie', 'tech', 'ai', 'künstliche-intelligenz',
  'climate', 'klima', 'météo', 'recipes', 'café', 'travel', 'bahn', '🎄 christmas', 'k-pop', 'live',
  'video', 'podcast', 'markets', 'santé', 'bundesliga', 'ligue-1', 'cinéma', 'élections', 'wahl-2025',
  'culture', 'science', 'C++', 'r&b', 'q&a', '#breaking',
];
const AUTHORS = [
  'Anna Müller', 'Jean-Luc Bérard', 'Zoë O’Brien', 'François Lefèvre', 'Jürgen Groß', 'María José García',
  'Ólafur Arnalds', 'Chloé Dubois', 'Max Mustermann', 'Łukasz Wiśniewski', 'Emily Carter', 'Noémie Laurent',
  'Björn Åström', 'Dr. Hans-Peter Schäfer', '李娜', 'Aiko Tanaka (田中愛子)', 'Dana "DJ" Smith', 'Renée Çelik',
];
const CP_PARTS = [
  'Émission spéciale ', '„Größer als gedacht“ ', '😀', '🇩🇪', ' café ', '🎬', ' naïve ', '—', ' Über ', '👍🏽',
  '« Voilà » ', 'ß', '𝄞', ' Ω ', '中文', '🎉🎉', ' straße ', 'x',
];
function cpString(r: Rng, n: number, extra: string[] = []): string {
  const pool = CP_PARTS.concat(extra);
  const cps: string[] = [];
  while (cps.length < n) cps.push(...Array.from(r.pick(pool)));
  return cps.slice(0, n).join('');
}

// ---------------------------------------------------------------------------------------------
// Content flow (OICMS)

const contentFlow: Flow = {
  prepare(m, ptr, r) {
    const o = m.obj as JObj;
    if (ptr.startsWith('/author')) {
      if (!o.author) o.author = { id: `aut-${r.int(1, 4999)}` };
      const a = o.author as JObj;
      if (ptr === '/author/name' && !('name' in a)) a.name = r.pick(AUTHORS);
    }
    if (ptr.startsWith('/tags')) {
      if (!Array.isArray(o.tags)) o.tags = [];
      const t = o.tags as string[];
      const need = ptr === '/tags' ? 2 : Number(parts(ptr)[1]) + 1;
      while (t.length < Math.max(need, 2)) t.push(r.pick(TAGS));
    }
    const defaults: Record<string, () => Json> = {
      '/summary': () => r.pick(SUMMARIES.en),
      '/durationSec': () => r.int(30, 3600),
      '/rating': () => r.int(0, 50) / 10,
    };
    const def = defaults[ptr];
    const top = parts(ptr)[0];
    if (def && top !== undefined && !(top in o)) o[top] = def();
  },
};

function contentSpecs(): { faults: Spec[]; edges: Spec[] } {
  const k = specKit(contentFlow);
  const { S, rule, ruleRaw, missing, extra, raw, validRaw, valid, node, dup } = k;
  const tagItem = (code: string, v: Json) =>
    S(code, `${code} /tags/k=${show(v)}`, (m, r) => {
      contentFlow.prepare(m, '/tags', r);
      const t = (m.obj as JObj).tags as Json[];
      const i = r.int(0, t.length - 1);
      t[i] = v;
      return `/tags/${i}`;
    });
  const str = (ptr: string, inner: Chunk[], code: string) => raw(code, ptr, ['"', ...inner, '"']);
  const faults: Spec[] = [
    // ---- E_TYPE (incl. null where null is not allowed)
    rule('E_TYPE', '/title', 42),
    rule('E_TYPE', '/title', null),
    rule('E_TYPE', '/title', ['Headline']),
    rule('E_TYPE', '/id', null),
    rule('E_TYPE', '/id', 123),
    rule('E_TYPE', '/version', '3'),
    rule('E_TYPE', '/version', 2.5),
    rule('E_TYPE', '/version', null),
    rule('E_TYPE', '/durationSec', '600'),
    rule('E_TYPE', '/durationSec', 1.5),
    ruleRaw('E_TYPE', '/durationSec', '86399.5'),
    rule('E_TYPE', '/durationSec', null),
    rule('E_TYPE', '/durationSec', true),
    rule('E_TYPE', '/tags', 'news'),
    rule('E_TYPE', '/tags', null),
    rule('E_TYPE', '/tags', { 0: 'news' }),
    tagItem('E_TYPE', 7),
    tagItem('E_TYPE', null),
    tagItem('E_TYPE', ['nested']),
    rule('E_TYPE', '/author', 'aut-7'),
    rule('E_TYPE', '/author', null),
    rule('E_TYPE', '/author', [{ id: 'aut-7' }]),
    rule('E_TYPE', '/author/id', 12),
    rule('E_TYPE', '/author/id', null),
    rule('E_TYPE', '/author/name', null),
    rule('E_TYPE', '/author/name', false),
    rule('E_TYPE', '/summary', 123),
    rule('E_TYPE', '/summary', false),
    rule('E_TYPE', '/summary', { text: 'x' }),
    rule('E_TYPE', '/rating', '4.5'),
    rule('E_TYPE', '/rating', null),
    rule('E_TYPE', '/language', null),
    rule('E_TYPE', '/language', 49),
    rule('E_TYPE', '/publishedAt', 1700000000),
    rule('E_TYPE', '/publishedAt', null),
    S('E_TYPE', 'E_TYPE root=null (tombstone)', (m) => {
      m.whole = ['null'];
      return '';
    }),
    S('E_TYPE', 'E_TYPE root=[item] (batch)', (m, r) => {
      const inner: Chunk[] = [];
      ser(toNode(m.obj, '', m, r), m.style, r, inner);
      m.whole = ['[', ...inner, ']'];
      return '';
    }),
    S('E_TYPE', 'E_TYPE root="...json..." (double-encoded)', (m) => {
      m.whole = [JSON.stringify(JSON.stringify(m.obj))];
      return '';
    }),
    // ---- E_REQUIRED
    missing('/id'),
    missing('/type'),
    missing('/status'),
    missing('/title'),
    missing('/language'),
    missing('/publishedAt'),
    missing('/version'),
    missing('/author/id'),
    missing('/author/id'),
    // ---- E_ADDITIONAL (top level and inside author)
    extra('', 'subtitle', 'A second line'),
    extra('', 'Title', 'Case matters'),
    extra('', 'category', 'sport'),
    extra('', 'thumbnail_url', 'https://img.example.com/x.jpg'),
    extra('', 'a/b', 1),
    extra('', 'x~y', true),
    extra('', '', 'empty key'),
    extra('', 'créé', '2024-01-01'),
    extra('', 'summary ', null),
    extra('/author', 'email', 'anna@example.com'),
    extra('/author', 'url', 'https://example.com/anna'),
    extra('/author', 'ID', 'aut-1'),
    // ---- E_ENUM
    rule('E_ENUM', '/type', 'blog'),
    rule('E_ENUM', '/type', 'Article'),
    rule('E_ENUM', '/type', null),
    rule('E_ENUM', '/type', 1),
    rule('E_ENUM', '/status', 'live'),
    rule('E_ENUM', '/status', 'Draft'),
    rule('E_ENUM', '/status', null),
    rule('E_ENUM', '/status', 'published '),
    rule('E_ENUM', '/status', ['draft']),
    // ---- E_MIN_LENGTH
    rule('E_MIN_LENGTH', '/title', ''),
    tagItem('E_MIN_LENGTH', ''),
    // ---- E_MAX_LENGTH (code points)
    rule('E_MAX_LENGTH', '/title', (r) => cpString(r, 201), '<201 code points with emoji>'),
    rule('E_MAX_LENGTH', '/title', '🎉'.repeat(201), '<201 x U+1F389>'),
    rule('E_MAX_LENGTH', '/title', 'x'.repeat(201), '<201 x "x">'),
    rule('E_MAX_LENGTH', '/summary', (r) => cpString(r, 1001, ['\n', '\t', '"']), '<1001 code points>'),
    tagItem('E_MAX_LENGTH', 'ü'.repeat(41)),
    tagItem('E_MAX_LENGTH', 'x'.repeat(41)),
    rule('E_MAX_LENGTH', '/author/name', (r) => cpString(r, 121), '<121 code points>'),
    // ---- E_PATTERN
    rule('E_PATTERN', '/id', 'cnt-12345'),
    rule('E_PATTERN', '/id', 'CNT-000001'),
    rule('E_PATTERN', '/id', 'cnt-0000001'),
    rule('E_PATTERN', '/id', 'cnt-000001\n'),
    rule('E_PATTERN', '/id', ' cnt-000001'),
    rule('E_PATTERN', '/id', 'cnt-００００４２'),
    rule('E_PATTERN', '/id', ''),
    rule('E_PATTERN', '/language', 'EN'),
    rule('E_PATTERN', '/language', 'en-us'),
    rule('E_PATTERN', '/language', 'eng'),
    rule('E_PATTERN', '/language', 'en_US'),
    rule('E_PATTERN', '/language', 'de-DE\n'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01 10:00:00Z'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01T10:00:00'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01T10:00:00.1234Z'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01T10:00:00+01:00'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01'),
    rule('E_PATTERN', '/publishedAt', '２０２４-03-01T10:00:00Z'),
    rule('E_PATTERN', '/publishedAt', '2024-03-01T10:00:00.Z'),
    rule('E_PATTERN', '/author/id', 'aut-'),
    rule('E_PATTERN', '/author/id', 'AUT-12'),
    rule('E_PATTERN', '/author/id', 'author-12'),
    // ---- E_MINIMUM
    rule('E_MINIMUM', '/durationSec', -1),
    rule('E_MINIMUM', '/version', 0),
    rule('E_MINIMUM', '/version', -3),
    ruleRaw('E_MINIMUM', '/version', '-0'),
    rule('E_MINIMUM', '/rating', -0.5),
    ruleRaw('E_MINIMUM', '/rating', '-1e-9'),
    // ---- E_MAXIMUM
    rule('E_MAXIMUM', '/durationSec', 86401),
    ruleRaw('E_MAXIMUM', '/durationSec', '1e5'),
    ruleRaw('E_MAXIMUM', '/durationSec', '86401.0'),
    // ---- E_EXCLUSIVE_MAXIMUM
    rule('E_EXCLUSIVE_MAXIMUM', '/rating', 5.01),
    ruleRaw('E_EXCLUSIVE_MAXIMUM', '/rating', '5.0100000000000001'),
    rule('E_EXCLUSIVE_MAXIMUM', '/rating', 5.5),
    rule('E_EXCLUSIVE_MAXIMUM', '/rating', 7),
    ruleRaw('E_EXCLUSIVE_MAXIMUM', '/rating', '1e400'),
    // ---- E_MAX_ITEMS
    rule('E_MAX_ITEMS', '/tags', (r) => Array.from({ length: 21 }, (_, i) => `${r.pick(TAGS)}-${i}`), '<21 tags>'),
    rule('E_MAX_ITEMS', '/tags', (r) => Array.from({ length: 30 }, () => r.pick(TAGS)), '<30 tags>'),

    // ---- E_UTF8 (raw invalid bytes inside strings)
    ...BAD_UTF8.map(([label, a, bytes, z], i) =>
      raw('E_UTF8', at(['/title', '/summary', '/author/name', '/tags/1'], i % 4), ['"', a, bytes, z, '"'], `<${label}>`),
    ),
    // ---- E_TOKEN
    node('E_TOKEN', 'trailing comma in top-level object', (root) => (root.trailingComma = true)),
    node('E_TOKEN', 'trailing comma in author', (root) => ((nodeAt(root, '/author') as ONode).trailingComma = true), (m, r) => contentFlow.prepare(m, '/author/name', r)),
    node('E_TOKEN', 'trailing comma in tags', (root) => ((nodeAt(root, '/tags') as ANode).trailingComma = true), (m, r) => contentFlow.prepare(m, '/tags', r)),
    raw('E_TOKEN', '/rating', ['NaN']),
    raw('E_TOKEN', '/durationSec', ['Infinity']),
    raw('E_TOKEN', '/type', ["'article'"]),
    node('E_TOKEN', "single-quoted key 'title'", (root) => (root.entries.find((e) => e.key === 'title')!.keyRaw = "'title'")),
    node('E_TOKEN', 'unquoted key id', (root) => (root.entries.find((e) => e.key === 'id')!.keyRaw = 'id')),
    node('E_TOKEN', 'smart-quoted key “title”', (root) => (root.entries.find((e) => e.key === 'title')!.keyRaw = '“title”')),
    node('E_TOKEN', '/* comment */ before a key', (root, r) => (anyEntry(root, r).pre = '/* legacy field */ ')),
    node('E_TOKEN', '// comment after {', (root) => (at(root.entries, 0).pre = '// generated by cms-export v2 ')),
    node('E_TOKEN', 'missing colon', (root, r) => (anyEntry(root, r).sep = ' ')),
    node('E_TOKEN', '= instead of colon', (root, r) => (anyEntry(root, r).sep = '=')),
    node('E_TOKEN', 'missing comma', (root, r) => (notLast(root, r).after = ' ')),
    node('E_TOKEN', 'semicolon instead of comma', (root, r) => (notLast(root, r).after = ';')),
    node('E_TOKEN', 'double comma', (root, r) => (notLast(root, r).after = ',,')),
    node('E_TOKEN', 'leading comma', (root) => (at(root.entries, 0).pre = ',')),
    node('E_TOKEN', 'NBSP (C2 A0) between tokens', (root, r) => (anyEntry(root, r).pre = '\u00a0')),
    raw('E_TOKEN', '/summary', ['nul1']),
    raw('E_TOKEN', '/summary', ['Null']),
    raw('E_TOKEN', '/summary', ['undefined']),
    raw('E_TOKEN', '/summary', ['None']),
    raw('E_TOKEN', '/rating', ['.5']),
    raw('E_TOKEN', '/version', ['+1']),
    raw('E_TOKEN', '/version', ['']),
    raw('E_TOKEN', '/tags', ['[,"news"]']),
    raw('E_TOKEN', '/tags', ['["news" "sport"]']),
    raw('E_TOKEN', '/title', ['“Smart-quoted title”']),
    // ---- E_NUMBER
    raw('E_NUMBER', '/version', ['01']),
    raw('E_NUMBER', '/version', ['007']),
    raw('E_NUMBER', '/durationSec', ['-00']),
    raw('E_NUMBER', '/durationSec', ['00']),
    raw('E_NUMBER', '/rating', ['-']),
    raw('E_NUMBER', '/rating', ['4.']),
    raw('E_NUMBER', '/rating', ['-.5']),
    raw('E_NUMBER', '/durationSec', ['1e']),
    raw('E_NUMBER', '/version', ['1e+']),
    raw('E_NUMBER', '/durationSec', ['1.e3']),
    raw('E_NUMBER', '/rating', ['4.5e']),
    raw('E_NUMBER', '/rating', ['--1']),
    // ---- E_CONTROL (raw byte < 0x20 inside a string)
    str('/title', ['Breaking', '\t', 'news'], 'E_CONTROL'),
    str('/title', ['Tab at end', '\t'], 'E_CONTROL'),
    str('/summary', ['Zeile 1', '\u0001', 'Zeile 2'], 'E_CONTROL'),
    str('/tags/0', ['\u0000', 'news'], 'E_CONTROL'),
    str('/author/name', ['Anna', '\u001f', 'Müller'], 'E_CONTROL'),
    str('/summary', ['colored ', '\u001b', '[31mred'], 'E_CONTROL'),
    str('/summary', ['form', '\u000c', 'feed'], 'E_CONTROL'),
    // ---- E_ESCAPE
    raw('E_ESCAPE', '/title', ['"Caf\\xe9 au lait"']),
    raw('E_ESCAPE', '/title', ['"Gr\\u00g6n"']),
    raw('E_ESCAPE', '/title', ['"Price 5\\u20"']),
    raw('E_ESCAPE', '/title', ['"It\\\'s here"']),
    raw('E_ESCAPE', '/summary', ['"C:\\Users\\anna\\notes.txt"']),
    raw('E_ESCAPE', '/summary', ['"bell\\a"']),
    raw('E_ESCAPE', '/author/name', ['"Anna\\ Müller"']),
    raw('E_ESCAPE', '/tags/0', ['"\\U0001F600"']),
    raw('E_ESCAPE', '/summary', ['"nul\\0"']),
    // ---- E_UNTERMINATED
    ...Array.from({ length: 6 }, (_, i) => S('E_UNTERMINATED', `E_UNTERMINATED truncated line #${i + 1}`, (m) => void (m.truncate = true))),
    raw('E_UNTERMINATED', '/summary', ['nul', CUT]),
    raw('E_UNTERMINATED', '/title', ['"Markets ra', CUT]),
    raw('E_UNTERMINATED', '/title', [CUT]),
    raw('E_UNTERMINATED', '/tags', ['["news", "sport"', CUT]),
    raw('E_UNTERMINATED', '/author', ['{"id":"aut-12",', CUT]),
    node('E_UNTERMINATED', 'line ends after a comma', (root) => root.entries.push({ key: '', keyRaw: '', sep: '', val: { t: 'r', chunks: [CUT] } })),
    S('E_UNTERMINATED', 'E_UNTERMINATED missing final }', (m) => void (m.truncate = 'last')),
    // ---- E_TRAILING
    S('E_TRAILING', 'E_TRAILING extra }', (m) => void (m.append = '}')),
    S('E_TRAILING', 'E_TRAILING ", " after value', (m) => void (m.append = ',')),
    S('E_TRAILING', 'E_TRAILING bare word', (m) => void (m.append = ' x')),
    S('E_TRAILING', 'E_TRAILING // comment after value', (m) => void (m.append = ' // exported 2024-05-01')),
    S('E_TRAILING', 'E_TRAILING second object on the same line', (m) => void (m.append = '{"id":"cnt-000001"}')),
    S('E_TRAILING', 'E_TRAILING number', (m) => void (m.append = ' 42')),
    S('E_TRAILING', 'E_TRAILING ]', (m) => void (m.append = ']')),
    // ---- E_DUPLICATE_KEY (declared properties only)
    dup('', 'title'),
    dup('', 'id'),
    dup('', 'status'),
    dup('', 'version', { val: (r) => ({ t: 'n', v: r.int(2, 9) }) }),
    dup('', 'id', { keyRaw: '"\\u0069d"' }),
    dup('/author', 'id'),
  ];

  const edges: Spec[] = [
    valid('title = 200 code points with emoji', (m, r) => void ((m.obj as JObj).title = cpString(r, 200))),
    valid('title = 200 code points, all escaped', (m, r) => {
      (m.obj as JObj).title = cpString(r, 200);
      m.style.esc = 'ascii';
    }),
    valid('title = 200 x U+1F389 (400 UTF-16 units)', (m) => void ((m.obj as JObj).title = '🎉'.repeat(200))),
    valid('title = 1 code point', (m, r) => void ((m.obj as JObj).title = r.pick(['A', '😀', 'é']))),
    valid('title with lone escaped surrogate \\ud800', (m) => void ((m.obj as JObj).title = 'Broken emoji \ud800 in a title')),
    valid('title with lone escaped low surrogate \\udc00', (m) => void ((m.obj as JObj).title = '\udc00 low surrogate first')),
    valid('title with reversed surrogate pair', (m) => void ((m.obj as JObj).title = 'reversed \ude00\ud83d pair')),
    valid('title with raw DEL 0x7F', (m) => void ((m.obj as JObj).title = 'DEL\u007fcharacter is allowed raw')),
    valid('title with raw U+2028/U+2029', (m) => {
      (m.obj as JObj).title = 'Line\u2028separator and paragraph\u2029separator';
      m.style.esc = 'raw';
    }),
    valid('title with U+FFFF, U+10FFFF, U+FEFF raw', (m) => {
      (m.obj as JObj).title = 'Non-characters \uffff \u{10ffff} and BOM \ufeff inside';
      m.style.esc = 'raw';
    }),
    valid('title with combining accent', (m) => void ((m.obj as JObj).title = 'Cafe\u0301 crème')),
    valid('title with quotes and backslashes', (m) => void ((m.obj as JObj).title = 'He said "\\o/" and left \\\\server\\share')),
    valid('summary null', (m) => void ((m.obj as JObj).summary = null)),
    valid('summary empty string', (m) => void ((m.obj as JObj).summary = '')),
    valid('summary = 1000 code points', (m, r) => void ((m.obj as JObj).summary = cpString(r, 1000, ['\n', '\t', '"', '\\']))),
    valid('summary with escaped / (\\/)', (m) => {
      (m.obj as JObj).summary = 'See https://www.example.com/a/b?c=d for details / sources';
      m.style.slash = true;
    }),
    validRaw('/durationSec', '0'),
    validRaw('/durationSec', '86400'),
    validRaw('/durationSec', '-0'),
    validRaw('/durationSec', '86400.0'),
    validRaw('/durationSec', '1e2'),
    validRaw('/durationSec', '8.64e4'),
    validRaw('/durationSec', '0.0'),
    validRaw('/durationSec', '0e0'),
    validRaw('/durationSec', '86400.0000000000001'),
    validRaw('/version', '1.0'),
    validRaw('/version', '1e0'),
    validRaw('/version', '10E-1'),
    validRaw('/version', '2.00'),
    validRaw('/version', '1'),
    validRaw('/rating', '5.0'),
    validRaw('/rating', '5'),
    validRaw('/rating', '0'),
    validRaw('/rating', '0.0'),
    validRaw('/rating', '-0'),
    validRaw('/rating', '5.00999'),
    validRaw('/rating', '5.009999999999999'),
    validRaw('/rating', '1e-400'),
    validRaw('/rating', '4.99999999999999999999'),
    validRaw('/rating', '0.5E1'),
    valid('tags = 20 items', (m, r) => void ((m.obj as JObj).tags = Array.from({ length: 20 }, () => r.pick(TAGS)))),
    valid('tags = []', (m) => void ((m.obj as JObj).tags = [])),
    valid('tag = 40 code points', (m, r) => void ((m.obj as JObj).tags = ['news', cpString(r, 40)])),
    valid('author.name = 120 code points', (m, r) => void ((m.obj as JObj).author = { id: 'aut-77', name: cpString(r, 120) })),
    valid('author with id only', (m, r) => void ((m.obj as JObj).author = { id: `aut-${r.int(1, 99999999)}` })),
    valid('author.name empty', (m) => void ((m.obj as JObj).author = { name: '', id: 'aut-0' })),
    valid('escaped key \\u0069d', (m) => void m.keyRaw.set('/id', '"\\u0069d"')),
    valid('escaped key t\\u0069tle', (m) => void m.keyRaw.set('/title', '"t\\u0069tle"')),
    valid('escaped key /author/\\u0069\\u0064', (m, r) => {
      contentFlow.prepare(m, '/author/id', r);
      m.keyRaw.set('/author/id', '"\\u0069\\u0064"');
    }),
    valid('escaped value status dr\\u0061ft (filtered)', (m) => {
      (m.obj as JObj).status = 'draft';
      m.overrides.set('/status', ['"dr\\u0061ft"']);
    }),
    valid('escaped digit in id value', (m) => {
      const id = (m.obj as JObj).id as string;
      m.overrides.set('/id', [`"${id.slice(0, -1)}\\u00${id.charCodeAt(id.length - 1).toString(16)}"`]);
    }),
    valid('publishedAt with 1-digit millis', (m) => void ((m.obj as JObj).publishedAt = '2024-02-29T23:59:59.9Z')),
    valid('publishedAt with 2-digit millis', (m) => void ((m.obj as JObj).publishedAt = '2025-12-31T00:00:00.05Z')),
    valid('all non-ASCII escaped, upper-case hex', (m) => void (m.style = { ...m.style, esc: 'ascii', upper: true })),
    valid('spaced style with tabs and CRLF', (m) => {
      m.style.ws = 'spaced';
      m.lead = '\t';
      m.trail = ' \r';
    }),
    valid('draft (filtered) with every optional field', (m, r) => {
      const o = m.obj as JObj;
      o.status = 'draft';
      contentFlow.prepare(m, '/author/name', r);
      contentFlow.prepare(m, '/tags', r);
      contentFlow.prepare(m, '/rating', r);
      contentFlow.prepare(m, '/summary', r);
      contentFlow.prepare(m, '/durationSec', r);
    }),
  ];
  return { faults, edges };
}

interface ContentCtx {
  next: number;
  issued: string[];
  /** The last version drawn per id: a later message of the id gets a higher one. */
  versions: Map<string, number>;
}

function makeContent(r: Rng, ctx: ContentCtx): JObj {
  const type = r.weighted([['article', 50], ['video', 25], ['podcast', 12], ['gallery', 13]] as const);
  const status = r.weighted([['published', 72], ['updated', 16], ['withdrawn', 6], ['draft', 3.5]] as const);
  let id: string;
  if ((status === 'updated' || status === 'withdrawn') && ctx.issued.length > 20 && r.chance(0.6)) id = r.pick(ctx.issued);
  else {
    ctx.next += r.int(1, 4);
    id = `cnt-${String(ctx.next).padStart(6, '0')}`;
    ctx.issued.push(id);
  }
  const language = r.weighted(LANGS);
  const l = language.slice(0, 2) as 'en' | 'de' | 'fr';
  let title = r.pick(TITLES[l]);
  if (r.chance(0.25)) title += r.pick(TITLE_SUFFIX[l]);
  const t = new Date(Date.UTC(2023, 0, 1) + r.int(0, 3 * 365 * 86400) * 1000 + r.int(0, 999)).toISOString();
  const ms = r.weighted([[0, 45], [3, 35], [2, 10], [1, 10]] as const);
  const publishedAt = ms === 0 ? t.slice(0, 19) + 'Z' : t.slice(0, 20 + ms) + 'Z';
  const o: JObj = {
    id,
    type,
    status,
    title,
    language,
    publishedAt,
    version: status === 'updated' ? r.int(2, 9) : status === 'withdrawn' ? r.int(1, 5) : 1,
  };
  // the CMS numbers an item's versions upwards (stale versions are added later, on purpose)
  const before = ctx.versions.get(id);
  if (before !== undefined && (o.version as number) <= before) o.version = before + 1;
  ctx.versions.set(id, o.version as number);
  const sr = r.next();
  if (sr < 0.55) o.summary = r.pick(SUMMARIES[l]);
  else if (sr < 0.7) o.summary = null;
  if ((type === 'video' || type === 'podcast') && r.chance(0.9)) o.durationSec = type === 'video' ? r.int(15, 3600) : r.int(600, 7200);
  if (r.chance(0.7)) {
    const n = r.int(0, 6);
    o.tags = [...new Set(Array.from({ length: n }, () => r.pick(TAGS)))];
  }
  if (r.chance(0.85)) {
    const a: JObj = { id: `aut-${r.int(1, 4999)}` };
    if (r.chance(0.8)) a.name = r.pick(AUTHORS);
    o.author = a;
  }
  if (r.chance(0.25)) o.rating = r.chance(0.2) ? r.int(0, 5) : r.int(0, 50) / 10;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Campaign flow (CM)

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF', 'SEK'];
const SURFACES = ['home', 'article', 'video', 'search', 'app-feed', 'newsletter'];
const SEGMENTS = ['casual', 'engaged', 'loyal', 'lapsing', 'premium'];
const UNKNOWN_USER_RATE = 0.12; // users the recommender does not know yet: the flow defaults them
const SLOTS = ['hero', 'sidebar', 'inline-1', 'inline-2', 'footer', 'interstitial', 'preroll', 'teaser'];
const N_PLACEMENTS = 40;
const plc = (n: number) => `plc-${String(n).padStart(3, '0')}`;
const MISSING_PLACEMENTS = ['plc-041', 'plc-042', 'plc-047', 'plc-099', 'plc-404', 'plc-777'];

const campaignFlow: Flow = {
  prepare(m, ptr, r) {
    const o = m.obj as JObj;
    if (ptr.startsWith('/device')) {
      if (!o.device) o.device = { os: r.pick(['ios', 'android', 'web']) };
      const d = o.device as JObj;
      if (ptr === '/device/appVersion' && !('appVersion' in d)) d.appVersion = `${r.int(1, 9)}.${r.int(0, 30)}.${r.int(0, 9)}`;
    }
    const defaults: Record<string, () => Json> = {
      '/value': () => r.int(99, 49999) / 100,
      '/currency': () => r.pick(CURRENCIES),
      '/itemId': () => `cnt-${String(r.int(1, 9000)).padStart(6, '0')}`,
      '/consent': () => r.chance(0.8),
      '/schemaVersion': () => 2,
      '/referrer': () => 'https://www.example.com/sport/',
      '/page': () => ({ path: '/sport/fussball', title: 'Bundesliga live' }),
      '/geo': () => ({ country: 'DE', region: 'BY' }),
      '/experiments': () => ['hero-v2', 'cta-blue'],
    };
    const top = parts(ptr)[0];
    const def = top === undefined ? undefined : defaults['/' + top];
    if (def && top !== undefined && !(top in o)) o[top] = def();
  },
};

function campaignSpecs(): { faults: Spec[]; edges: Spec[] } {
  const k = specKit(campaignFlow);
  const { S, rule, ruleRaw, missing, raw, validRaw, valid, node, dup } = k;
  const str = (ptr: string, inner: Chunk[], code: string) => raw(code, ptr, ['"', ...inner, '"']);
  const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const deepObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const deepMixed = (n: number) => '[{"x":'.repeat(n / 2) + 'null' + '}]'.repeat(n / 2);
  const faults: Spec[] = [
    // ---- E_TYPE
    rule('E_TYPE', '/occurredAt', '1700000000000'),
    rule('E_TYPE', '/occurredAt', 1700000000000.5),
    rule('E_TYPE', '/occurredAt', null),
    ruleRaw('E_TYPE', '/occurredAt', '1.7000000000005e12'),
    rule('E_TYPE', '/userId', 12345),
    rule('E_TYPE', '/userId', null),
    rule('E_TYPE', '/value', '9.99'),
    rule('E_TYPE', '/value', null),
    rule('E_TYPE', '/value', true),
    rule('E_TYPE', '/consent', 'true'),
    rule('E_TYPE', '/consent', 1),
    rule('E_TYPE', '/consent', null),
    rule('E_TYPE', '/device', 'ios'),
    rule('E_TYPE', '/device', null),
    rule('E_TYPE', '/device', []),
    rule('E_TYPE', '/device/appVersion', 5),
    rule('E_TYPE', '/device/appVersion', null),
    rule('E_TYPE', '/eventId', null),
    rule('E_TYPE', '/campaignId', 17),
    rule('E_TYPE', '/placementId', null),
    rule('E_TYPE', '/itemId', 123),
    rule('E_TYPE', '/currency', null),
    S('E_TYPE', 'E_TYPE root=null (tombstone)', (m) => {
      m.whole = ['null'];
      return '';
    }),
    S('E_TYPE', 'E_TYPE root=[event] (batch)', (m, r) => {
      const inner: Chunk[] = [];
      ser(toNode(m.obj, '', m, r), m.style, r, inner);
      m.whole = ['[', ...inner, ']'];
      return '';
    }),
    S('E_TYPE', 'E_TYPE root="...json..." (double-encoded)', (m) => {
      m.whole = [JSON.stringify(JSON.stringify(m.obj))];
      return '';
    }),
    S('E_TYPE', 'E_TYPE root=42', (m) => {
      m.whole = ['42'];
      return '';
    }),
    // ---- E_REQUIRED
    missing('/eventId'),
    missing('/type'),
    missing('/campaignId'),
    missing('/placementId'),
    missing('/userId'),
    missing('/occurredAt'),
    missing('/device/os'),
    missing('/device/os'),
    // ---- E_ENUM
    rule('E_ENUM', '/type', 'purchase'),
    rule('E_ENUM', '/type', 'Click'),
    rule('E_ENUM', '/type', null),
    rule('E_ENUM', '/type', 'heartbeat '),
    rule('E_ENUM', '/device/os', 'iOS'),
    rule('E_ENUM', '/device/os', 'windows'),
    rule('E_ENUM', '/device/os', null),
    // ---- E_CONST
    rule('E_CONST', '/schemaVersion', 1),
    rule('E_CONST', '/schemaVersion', '2'),
    rule('E_CONST', '/schemaVersion', 2.5),
    rule('E_CONST', '/schemaVersion', null),
    rule('E_CONST', '/schemaVersion', 3),
    rule('E_CONST', '/schemaVersion', true),
    // ---- E_MIN_LENGTH (code points)
    rule('E_MIN_LENGTH', '/userId', 'ab'),
    rule('E_MIN_LENGTH', '/userId', 'é1'),
    rule('E_MIN_LENGTH', '/userId', '😀a'),
    rule('E_MIN_LENGTH', '/userId', ''),
    // ---- E_MAX_LENGTH (code points)
    rule('E_MAX_LENGTH', '/userId', (r) => cpString(r, 65), '<65 code points>'),
    rule('E_MAX_LENGTH', '/userId', (r) => r.hex(65), '<65 hex chars>'),
    rule('E_MAX_LENGTH', '/device/appVersion', (r) => cpString(r, 33), '<33 code points>'),
    rule('E_MAX_LENGTH', '/device/appVersion', '1.0.0-beta+build.20240501.abcdef0', '<33 chars>'),
    // ---- E_FORMAT (format: uuid, RFC 4122's hex-and-dashes form)
    rule('E_FORMAT', '/eventId', (r) => r.uuid().replace(/-/g, '_'), '<uuid with underscores>'),
    rule('E_FORMAT', '/eventId', (r) => r.uuid().replace(/-/g, ''), '<uuid without dashes>'),
    rule('E_FORMAT', '/eventId', (r) => `{${r.uuid()}}`, '<{uuid}>'),
    rule('E_FORMAT', '/eventId', (r) => r.uuid().slice(1), '<35-char uuid>'),
    // ---- E_PATTERN
    rule('E_PATTERN', '/campaignId', 'cmp-12'),
    rule('E_PATTERN', '/campaignId', 'CMP-0001'),
    rule('E_PATTERN', '/placementId', 'plc-1234'),
    rule('E_PATTERN', '/placementId', 'plc-12'),
    rule('E_PATTERN', '/placementId', 'plc-٠١٢'),
    rule('E_PATTERN', '/currency', 'eur'),
    rule('E_PATTERN', '/currency', 'EURO'),
    rule('E_PATTERN', '/currency', '€'),
    rule('E_PATTERN', '/itemId', 'cnt-1'),
    rule('E_PATTERN', '/itemId', 'cnt-000001\n'),
    // ---- E_MINIMUM
    rule('E_MINIMUM', '/occurredAt', 1499999999999),
    rule('E_MINIMUM', '/occurredAt', 1700000000),
    rule('E_MINIMUM', '/occurredAt', 0),
    rule('E_MINIMUM', '/occurredAt', -1),
    // ---- E_MAXIMUM
    rule('E_MAXIMUM', '/occurredAt', 4102444800001),
    rule('E_MAXIMUM', '/occurredAt', 1700000000000000),
    rule('E_MAXIMUM', '/value', 100000.01),
    rule('E_MAXIMUM', '/value', 250000),
    ruleRaw('E_MAXIMUM', '/value', '1e6'),
    // ---- E_EXCLUSIVE_MINIMUM
    rule('E_EXCLUSIVE_MINIMUM', '/value', 0),
    rule('E_EXCLUSIVE_MINIMUM', '/value', -5),
    ruleRaw('E_EXCLUSIVE_MINIMUM', '/value', '-0'),
    ruleRaw('E_EXCLUSIVE_MINIMUM', '/value', '0.0'),
    ruleRaw('E_EXCLUSIVE_MINIMUM', '/value', '1e-400'),

    // ---- E_UTF8
    ...BAD_UTF8.map(([label, a, bytes, z], i) =>
      raw('E_UTF8', at(['/userId', '/device/appVersion', '/referrer', '/page/title'], i % 4), ['"', 'u', a, bytes, z, '"'], `<${label}>`),
    ),
    node('E_UTF8', 'latin-1 key "r\\xE9f" (extra field)', (root) => root.entries.push({ key: 'réf', keyRaw: '', sep: '', val: { t: 'r', chunks: ['"r', B(0xe9), 'f":"x"'] } })),
    // ---- E_TOKEN
    node('E_TOKEN', 'trailing comma in top-level object', (root) => (root.trailingComma = true)),
    node('E_TOKEN', 'trailing comma in device', (root) => ((nodeAt(root, '/device') as ONode).trailingComma = true), (m, r) => campaignFlow.prepare(m, '/device', r)),
    node('E_TOKEN', 'trailing comma in experiments', (root) => ((nodeAt(root, '/experiments') as ANode).trailingComma = true), (m, r) => campaignFlow.prepare(m, '/experiments', r)),
    raw('E_TOKEN', '/consent', ['fals3']),
    raw('E_TOKEN', '/consent', ['True']),
    raw('E_TOKEN', '/consent', ['ture']),
    raw('E_TOKEN', '/consent', ['yes']),
    raw('E_TOKEN', '/value', ['NaN']),
    raw('E_TOKEN', '/value', ['Infinity']),
    raw('E_TOKEN', '/value', ['.99']),
    raw('E_TOKEN', '/occurredAt', ['+1700000000000']),
    raw('E_TOKEN', '/type', ["'click'"]),
    raw('E_TOKEN', '/userId', ['u-12345']),
    node('E_TOKEN', "single-quoted key 'userId'", (root) => (root.entries.find((e) => e.key === 'userId')!.keyRaw = "'userId'")),
    node('E_TOKEN', 'unquoted key eventId', (root) => (root.entries.find((e) => e.key === 'eventId')!.keyRaw = 'eventId')),
    node('E_TOKEN', '/* comment */ before a key', (root, r) => (anyEntry(root, r).pre = '/*sdk*/')),
    node('E_TOKEN', 'missing colon', (root, r) => (anyEntry(root, r).sep = ' ')),
    node('E_TOKEN', 'missing comma', (root, r) => (notLast(root, r).after = ' ')),
    node('E_TOKEN', 'double comma', (root, r) => (notLast(root, r).after = ',,')),
    node('E_TOKEN', 'NBSP (C2 A0) between tokens', (root, r) => (anyEntry(root, r).pre = '\u00a0')),
    node('E_TOKEN', 'BEL byte between tokens', (root, r) => (anyEntry(root, r).pre = '\u0007')),
    raw('E_TOKEN', '/experiments', ['["a",]']),
    // ---- E_NUMBER
    raw('E_NUMBER', '/occurredAt', ['01700000000000']),
    raw('E_NUMBER', '/schemaVersion', ['02']),
    raw('E_NUMBER', '/schemaVersion', ['2.']),
    raw('E_NUMBER', '/value', ['-']),
    raw('E_NUMBER', '/value', ['1.']),
    raw('E_NUMBER', '/value', ['1e']),
    raw('E_NUMBER', '/value', ['1e+']),
    raw('E_NUMBER', '/value', ['1E-']),
    raw('E_NUMBER', '/tzOffset', ['-01']),
    raw('E_NUMBER', '/value', ['9.99e']),
    // ---- E_CONTROL
    str('/userId', ['user', '\t', '42'], 'E_CONTROL'),
    str('/device/appVersion', ['5.1', '\u0000'], 'E_CONTROL'),
    str('/userId', ['\u0008', 'backspace'], 'E_CONTROL'),
    str('/referrer', ['https://example.com/', '\u001f'], 'E_CONTROL'),
    node('E_CONTROL', 'raw tab inside an extra key', (root) => root.entries.push({ key: 'x', keyRaw: '"utm\tsource"', val: { t: 's', v: 'newsletter' } })),
    // ---- E_ESCAPE
    raw('E_ESCAPE', '/userId', ['"user\\x41"']),
    raw('E_ESCAPE', '/userId', ['"u\\u12G4"']),
    raw('E_ESCAPE', '/device/appVersion', ['"5\\u2"']),
    raw('E_ESCAPE', '/referrer', ['"https:\\/\\/example.com\\?q=1"']),
    raw('E_ESCAPE', '/page/title', ['"l\\\'été"']),
    node('E_ESCAPE', 'bad escape inside an extra key', (root) => root.entries.push({ key: 'x', keyRaw: '"\\k"', val: { t: 'l', v: null } })),
    // ---- E_UNTERMINATED
    ...Array.from({ length: 6 }, (_, i) => S('E_UNTERMINATED', `E_UNTERMINATED truncated line #${i + 1}`, (m) => void (m.truncate = true))),
    raw('E_UNTERMINATED', '/consent', ['tru', CUT]),
    raw('E_UNTERMINATED', '/consent', ['fals', CUT]),
    raw('E_UNTERMINATED', '/userId', ['"u-98', CUT]),
    raw('E_UNTERMINATED', '/device', ['{"os":"ios"', CUT]),
    raw('E_UNTERMINATED', '/experiments', ['[', CUT]),
    raw('E_UNTERMINATED', '/occurredAt', [' ', CUT]),
    // ---- E_TRAILING
    S('E_TRAILING', 'E_TRAILING extra }', (m) => void (m.append = '}')),
    S('E_TRAILING', 'E_TRAILING comma', (m) => void (m.append = ',')),
    S('E_TRAILING', 'E_TRAILING second event on the same line', (m, r) => void (m.append = `{"eventId":"${r.uuid()}"}`)),
    S('E_TRAILING', 'E_TRAILING null', (m) => void (m.append = ' null')),
    S('E_TRAILING', 'E_TRAILING string', (m) => void (m.append = '\t"eof"')),
    // ---- E_DUPLICATE_KEY (declared properties)
    dup('', 'eventId'),
    dup('', 'type', { val: () => ({ t: 's', v: 'click' }) }),
    dup('', 'userId'),
    dup('', 'occurredAt'),
    dup('/device', 'os'),
    dup('', 'eventId', { keyRaw: '"\\u0065ventId"' }),
    // ---- E_DEPTH (70+ nested containers in an allowed extra field)
    raw('E_DEPTH', '/trace', [deepArrays(70)], '<70 nested arrays>'),
    raw('E_DEPTH', '/trace', [deepArrays(100)], '<100 nested arrays>'),
    raw('E_DEPTH', '/ctx', [deepObjects(70)], '<70 nested objects>'),
    raw('E_DEPTH', '/ctx', [deepMixed(80)], '<80 nested array/object>'),
    // ---- E_SIZE (> 1 MiB)
    S('E_SIZE', 'E_SIZE 1.1 MB debug dump', (m, r) => {
      let s = '';
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      for (let i = 0; i < 1_100_000; i++) s += alphabet[r.int(0, 63)];
      (m.obj as JObj).debugDump = s;
    }),
    S('E_SIZE', 'E_SIZE 1 MiB + 1 byte', (m, r) => {
      // line = MAX_SIZE + 1 bytes exactly (without the newline)
      (m.obj as JObj).padding = '';
      m.lead = '';
      m.trail = '';
      m.style.esc = 'raw';
      m.style.slash = false;
      const base = render({ ...m, overrides: new Map(m.overrides) }, new Rng(1)).length;
      (m.obj as JObj).padding = 'p'.repeat(MAX_SIZE + 1 - base);
      m.keepOrder = true;
      void r;
    }),
  ];

  const edges: Spec[] = [
    validRaw('/value', '0.01'),
    validRaw('/value', '100000'),
    validRaw('/value', '1e5'),
    validRaw('/value', '100000.0'),
    validRaw('/value', '100000.000000000001'),
    validRaw('/value', '1e-320'),
    validRaw('/value', '5e-324'),
    validRaw('/occurredAt', '1500000000000'),
    validRaw('/occurredAt', '4102444800000'),
    validRaw('/occurredAt', '1.7e12'),
    validRaw('/occurredAt', '1700000000000.0'),
    validRaw('/occurredAt', '17000000000000e-1'),
    validRaw('/occurredAt', '4102444800000.0000001'),
    validRaw('/schemaVersion', '2.0'),
    validRaw('/schemaVersion', '2e0'),
    validRaw('/schemaVersion', '20e-1'),
    validRaw('/schemaVersion', '2.000'),
    valid('userId = 3 code points (4 bytes)', (m) => void ((m.obj as JObj).userId = 'ü-1')),
    valid('userId = 3 emoji (6 UTF-16 units)', (m) => void ((m.obj as JObj).userId = '😀😀😀')),
    valid('userId = 64 code points with emoji', (m, r) => void ((m.obj as JObj).userId = cpString(r, 64))),
    valid('userId = 64 hex chars', (m, r) => void ((m.obj as JObj).userId = r.hex(64))),
    valid('appVersion = 32 code points', (m, r) => {
      campaignFlow.prepare(m, '/device', r);
      ((m.obj as JObj).device as JObj).appVersion = cpString(r, 32);
    }),
    valid('extra numbers 1e400 / -1e400 / huge int / -0.0', (m) => {
      (m.obj as JObj).big = 0;
      (m.obj as JObj).neg = 0;
      (m.obj as JObj).huge = 0;
      (m.obj as JObj).tiny = 0;
      m.overrides.set('/big', ['1e400']);
      m.overrides.set('/neg', ['-1e400']);
      m.overrides.set('/huge', ['123456789012345678901234567890']);
      m.overrides.set('/tiny', ['-0.0']);
    }),
    valid('extra field nested 40 deep', (m) => {
      (m.obj as JObj).trace = [];
      m.overrides.set('/trace', ['['.repeat(40) + '"deep"' + ']'.repeat(40)]);
    }),
    valid('extra keys with / ~ empty and unicode', (m) => {
      const o = m.obj as JObj;
      o['a/b'] = 1;
      o['x~y'] = 'tilde';
      o[''] = 'empty key';
      o['clé'] = 'valeur';
      o['emoji🎯'] = true;
    }),
    valid('unknown fields inside device', (m, r) => {
      campaignFlow.prepare(m, '/device', r);
      Object.assign((m.obj as JObj).device as JObj, { model: 'iPhone15,2', screen: { w: 1179, h: 2556 }, darkMode: true });
    }),
    valid('device with os only', (m) => void ((m.obj as JObj).device = { os: 'web' })),
    valid('extra null field and empty containers', (m) => Object.assign(m.obj as JObj, { debug: null, labels: {}, list: [] })),
    valid('lone escaped surrogate in extra string', (m) => void ((m.obj as JObj).note = 'half \ud83d emoji')),
    valid('duplicate UNDECLARED key is not E_DUPLICATE_KEY', (m) => {
      (m.obj as JObj).utm = 'a';
      m.nodeMods.push((root) => {
        const i = root.entries.findIndex((e) => e.key === 'utm');
        root.entries.splice(i + 1, 0, { key: 'utm', val: { t: 's', v: 'b' } });
      });
    }),
    valid('escaped value type heart\\u0062eat (filtered)', (m) => {
      (m.obj as JObj).type = 'heartbeat';
      m.overrides.set('/type', ['"heart\\u0062eat"']);
    }),
    valid('escaped digit in placementId value', (m) => {
      const p = (m.obj as JObj).placementId as string;
      m.overrides.set('/placementId', [`"${p.slice(0, -1)}\\u003${p.slice(-1)}"`]);
    }),
    valid('escaped key \\u0075serId', (m) => void m.keyRaw.set('/userId', '"\\u0075serId"')),
    valid('all non-ASCII escaped, upper-case hex', (m) => void (m.style = { ...m.style, esc: 'ascii', upper: true })),
    valid('spaced style with tabs and CRLF', (m) => {
      m.style.ws = 'spaced';
      m.lead = ' ';
      m.trail = '\t\r';
    }),
    // valid until the rules' if/then asked a conversion for its currency: now E_REQUIRED at /currency
    S('', 'conversion without currency', (m) => {
      const o = m.obj as JObj;
      o.type = 'conversion';
      o.value = 12.5;
      delete o.currency;
    }),
  ];
  return { faults, edges };
}

const GEO: [string, string][] = [
  ['DE', 'München'], ['DE', 'Köln'], ['AT', 'Wien'], ['CH', 'Zürich'], ['CH', 'Genève'], ['FR', 'Paris'],
  ['FR', 'Besançon'], ['BE', 'Liège'], ['GB', 'London'], ['US', 'New York'], ['CA', 'Montréal'],
];
let eventClock = Date.UTC(2025, 2, 1, 6, 0, 0);
const UA = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
];
function makeUser(r: Rng): string {
  return r.weighted([
    [() => `u-${r.int(1, 2_000_000_000).toString(36)}`, 35],
    [() => `usr_${r.hex(16)}`, 25],
    [() => r.hex(32), 15],
    [() => `anon-${r.uuid()}`, 15],
    [() => `crm:${r.int(100000, 9999999)}`, 7],
    [() => r.pick(['müller.anna', 'zoé-42', 'søren_k', 'dj\\"smith', 'ゆうき']), 3],
  ] as const)();
}
function makeEvent(r: Rng, campaigns: string[]): JObj {
  const type = r.weighted([['impression', 60], ['click', 23], ['conversion', 13], ['heartbeat', 4]] as const);
  eventClock += r.int(20, 15000);
  const occurredAt = r.chance(0.05) ? eventClock - r.int(1000, 3_600_000) : eventClock; // some late events
  const e: JObj = {
    eventId: r.uuid(),
    type,
    campaignId: r.pick(campaigns),
    placementId: plc(r.int(1, N_PLACEMENTS)),
    userId: makeUser(r),
    occurredAt,
  };
  if (type === 'conversion') {
    if (r.chance(0.95)) e.value = r.chance(0.1) ? r.int(1, 500) : r.int(99, 49999) / 100;
    if (r.chance(0.95)) e.currency = r.pick(CURRENCIES);
    if (r.chance(0.5)) e.orderId = `ord-${r.hex(10)}`;
  }
  if (type === 'heartbeat') e.intervalMs = 30000;
  else if (r.chance(0.55)) e.itemId = `cnt-${String(r.int(1, 9000)).padStart(6, '0')}`;
  if (r.chance(0.8)) {
    const os = r.weighted([['ios', 35], ['android', 40], ['web', 25]] as const);
    const d: JObj = { os };
    if (os !== 'web' && r.chance(0.85)) d.appVersion = `${r.int(3, 12)}.${r.int(0, 40)}.${r.int(0, 9)}`;
    if (os === 'web' && r.chance(0.3)) d.browser = r.pick(['Firefox 125', 'Chrome 124', 'Safari 17.4']);
    e.device = d;
  }
  if (r.chance(0.7)) e.consent = r.chance(0.85);
  if (r.chance(0.85)) e.schemaVersion = 2;
  if (r.chance(0.6)) e.sessionId = r.uuid();
  if (r.chance(0.3)) e.sdk = r.pick(['cm-js/3.4.1', 'cm-ios/5.0.2', 'cm-android/5.1.0']);
  if (r.chance(0.2)) {
    const [country, city] = r.pick(GEO);
    e.geo = r.chance(0.7) ? { country, city } : { country };
  }
  if (r.chance(0.12)) e.experiments = r.shuffle(['hero-v2', 'cta-blue', 'paywall-soft', 'reco-mmr']).slice(0, r.int(1, 3));
  if (r.chance(0.1)) e.page = { path: r.pick(['/sport/fußball', '/économie/marchés', '/news/live', '/']), title: r.pick(TITLES.de.concat(TITLES.fr)) };
  if (r.chance(0.1)) e.ua = r.pick(UA);
  if (r.chance(0.08)) e.referrer = r.pick(['https://www.google.com/', 'https://t.co/abc123', 'android-app://com.example.news/']);
  if (r.chance(0.03)) e.debug = null;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Generation driver

interface Plan {
  spec?: Spec;
  edge?: Spec;
}

function plan(r: Rng, n: number, faults: Spec[], edges: Spec[], edgeReps: number): Plan[] {
  const target = Math.max(faults.length, Math.round(n * INVALID_RATE));
  const ps: Plan[] = faults.map((spec) => ({ spec }));
  const refill = faults.filter((f) => f.code !== 'E_SIZE');
  while (ps.length < target) ps.push({ spec: r.pick(refill) });
  for (let i = 0; i < edgeReps; i++) for (const edge of edges) ps.push({ edge });
  while (ps.length < n) ps.push({});
  if (ps.length > n) throw new Error('too many planned lines');
  return r.shuffle(ps);
}

function applyPlan(m: Msg, p: Plan, r: Rng, forceFilterable: (m: Msg) => void): void {
  if (p.spec) {
    if (r.chance(0.12)) forceFilterable(m); // invalid drafts / heartbeats stay invalid
    const path = p.spec.apply(m, r);
    const isSyntax = SYNTAX_CODES.has(p.spec.code);
    if (p.spec.code === 'E_UNTERMINATED') m.trail = ''; // trailing bytes would land inside the cut value
    if (!isSyntax && typeof path !== 'string') throw new Error(`rule spec without path: ${p.spec.name}`);
    m.fault = { code: p.spec.code, path: isSyntax ? undefined : (path as string), name: p.spec.name };
    m.expect = isSyntax ? { ok: false, reason: p.spec.code } : { ok: false, reason: p.spec.code, path: path as string };
  } else if (p.edge) {
    p.edge.apply(m, r);
    m.edge = p.edge.name;
  }
}

interface Generated {
  files: Record<string, Buffer>;
  stats: Record<string, Record<string, number>>;
  usage: Record<string, Record<string, number>>; // spec name -> number of lines (for --verbose)
}
function usage(msgs: Msg[]): Record<string, number> {
  const u: Record<string, number> = {};
  for (const m of msgs) {
    const k = m.fault ? m.fault.name : m.edge;
    if (k) u[k] = (u[k] ?? 0) + 1;
  }
  return u;
}

function toNdjson(lines: (Buffer | string)[]): Buffer {
  return Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\n')]));
}

function countExpect(exps: Expect[]): Record<string, number> {
  const c: { total: number; ok: number; filtered: number; [reason: string]: number } = { total: exps.length, ok: 0, filtered: 0 };
  for (const e of exps) {
    if (e.ok) {
      if ('reason' in e) c[`filtered ${e.reason}`] = (c[`filtered ${e.reason}`] ?? 0) + 1;
      else if ('filtered' in e) c.filtered++;
      else c.ok++;
    } else c[e.reason] = (c[e.reason] ?? 0) + 1;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Re-sent lines: what the flows' state drops

/** Share of written campaign events delivered a second time (the exact bytes, later). */
const DUPLICATE_RATE = 0.03;
/** Share of written content items sent again later at an older version (or the same one). */
const STALE_RATE = 0.02;
/** A re-sent line lands up to this many lines after its original. */
const RESEND_WITHIN = 300;

interface Line {
  bytes: Buffer;
  msg: Msg;
}

/** `lines` with each of `extra` inserted after the line at its index `after` (in the order given). */
function insertAfter(lines: readonly Line[], extra: readonly { after: number; line: Line }[]): Line[] {
  const byIndex = new Map<number, Line[]>();
  for (const { after, line } of extra) byIndex.set(after, [...(byIndex.get(after) ?? []), line]);
  return lines.flatMap((line, i) => [line, ...(byIndex.get(i) ?? [])]);
}

/** Indices of the lines expected to be written (valid, not filtered, found). */
const writtenIndices = (lines: readonly Line[]) => lines.flatMap((l, i) => (l.msg.expect!.ok && !('filtered' in l.msg.expect!) ? [i] : []));

/**
 * The expected outcomes in line order with the flow's state applied: a valid line that reaches the
 * stateful stage (`stateKey` gives its key and version, undefined when it is filtered before) is
 * dropped as a duplicate (a key seen before) or stale (a version not higher than the stored one);
 * else its outcome stands and it is remembered, also when a later stage dead-letters it.
 */
function withState(lines: readonly Line[], reason: StateReason, stateKey: (o: JObj) => [string, number] | undefined): Expect[] {
  const stored = new Map<string, number>();
  return lines.map(({ msg }) => {
    const keyed = msg.fault ? undefined : stateKey(msg.obj as JObj);
    if (keyed === undefined) return msg.expect!;
    const [key, version] = keyed;
    const before = stored.get(key);
    if (before !== undefined && version <= before) return { ok: true, filtered: true, reason };
    stored.set(key, version);
    return msg.expect!;
  });
}

function generateContent(): { lines: Buffer[]; expects: Expect[]; docs: Buffer; usage: Record<string, number> } {
  const r = new Rng(0x5eed_c0de);
  const { faults, edges } = contentSpecs();
  const plans = plan(r, N_CONTENT, faults, edges, 2);
  const ctx: ContentCtx = { next: 0, issued: [], versions: new Map() };
  const msgs: Msg[] = plans.map((p) => {
    const m = newMsg(makeContent(r, ctx), r, 0.3);
    applyPlan(m, p, r, (mm) => void ((mm.obj as JObj).status = 'draft'));
    return m;
  });
  // filter, then lookup-miss selection (by content id, so repeated ids stay consistent)
  const validNotDraft = msgs.filter((m) => !m.fault && (m.obj as JObj).status !== 'draft');
  const byId = new Map<string, number>();
  for (const m of validNotDraft) byId.set((m.obj as JObj).id as string, (byId.get((m.obj as JObj).id as string) ?? 0) + 1);
  const target = Math.round(validNotDraft.length * MISS_RATE);
  const miss = new Set<string>();
  let affected = 0;
  for (const id of r.shuffle([...byId.keys()].filter((id) => byId.get(id) === 1))) {
    if (affected >= target) break;
    miss.add(id);
    affected++;
  }
  // a few drafts (filtered before lookup) and invalid items whose document is missing too
  const validIds = new Set(byId.keys());
  const others = msgs
    .filter((m) => (m.fault || (m.obj as JObj).status === 'draft') && m.obj && typeof (m.obj as JObj).id === 'string')
    .map((m) => (m.obj as JObj).id as string)
    .filter((id) => /^cnt-[0-9]{6}$/.test(id) && !validIds.has(id));
  for (const id of r.shuffle([...new Set(others)]).slice(0, 8)) miss.add(id);

  for (const m of msgs) {
    if (m.expect) continue;
    const o = m.obj as JObj;
    if (o.status === 'draft') m.expect = { ok: true, filtered: true };
    else if (miss.has(o.id as string)) m.expect = { ok: false, reason: 'E_LOOKUP_MISS' };
    else m.expect = { ok: true };
  }
  const rendered = msgs.map((m) => ({ bytes: render(m, r), msg: m }));
  // stale versions, with their own PRNG: an item sent again after a newer version of it went
  // through, at a lower version (or, at version 1, the same one)
  const rs = new Rng(0x57a1_e0ff);
  const written = writtenIndices(rendered);
  const stale = rs.shuffle(written).slice(0, Math.round(written.length * STALE_RATE)).map((i) => {
    const original = rendered[i]!;
    const version = (original.msg.obj as JObj).version as number;
    if (version === 1) return { after: Math.min(i + rs.int(1, RESEND_WITHIN), rendered.length - 1), line: original };
    const older = newMsg({ ...(original.msg.obj as JObj), version: rs.int(1, version - 1) }, rs, 0.3);
    older.edge = 'stale version';
    older.expect = original.msg.expect;
    return { after: Math.min(i + rs.int(1, RESEND_WITHIN), rendered.length - 1), line: { bytes: render(older, rs), msg: older } };
  });
  const all = insertAfter(rendered, stale);
  const expects = withState(all, 'E_STALE', (o) => (o.status === 'draft' ? undefined : [o.id as string, o.version as number]));
  const lines = all.map((l) => l.bytes);

  // content documents: every issued id (and a few ids never seen in the stream) except the misses
  const CATS = ['news', 'sport', 'culture', 'tech', 'business', 'science', 'travel', 'food', 'politics', 'weather'];
  const ids = new Set(ctx.issued);
  for (let i = 0; i < 25; i++) ids.add(`cnt-${String(ctx.next + r.int(1, 5000)).padStart(6, '0')}`);
  const docs = [...ids]
    .filter((id) => !miss.has(id))
    .sort()
    .map((id) => {
      const category = r.pick(CATS);
      return JSON.stringify({ id, category, thumbnailUrl: `https://img.example.com/${category}/${id}/thumb-640x360.jpg` });
    });
  return { lines, expects, docs: toNdjson(docs), usage: usage(all.map((l) => l.msg)) };
}

function generateCampaign(): { lines: Buffer[]; expects: Expect[]; placements: Buffer; placementsLog: Buffer; segments: Buffer; usage: Record<string, number> } {
  const r = new Rng(0xca4a_1601);
  eventClock = Date.UTC(2025, 2, 1, 6, 0, 0);
  const campaigns = Array.from({ length: 60 }, () => `cmp-${String(r.int(1, 9999)).padStart(4, '0')}`);
  const { faults, edges } = campaignSpecs();
  const plans = plan(r, N_CAMPAIGN, faults, edges, 2);
  const msgs: Msg[] = plans.map((p) => {
    const m = newMsg(makeEvent(r, campaigns), r, 0.15);
    applyPlan(m, p, r, (mm) => {
      const o = mm.obj as JObj;
      o.type = 'heartbeat';
      delete o.value;
      delete o.currency;
    });
    return m;
  });
  const movable = (m: Msg) => !m.overrides.has('/placementId') && typeof (m.obj as JObj).placementId === 'string';
  const validNotHb = msgs.filter((m) => !m.fault && (m.obj as JObj).type !== 'heartbeat');
  const target = Math.round(validNotHb.length * MISS_RATE);
  for (const m of r.shuffle(validNotHb.filter(movable)).slice(0, target)) (m.obj as JObj).placementId = r.pick(MISSING_PLACEMENTS);
  // heartbeats (filtered first) and invalid events referencing a missing placement, too
  const hb = msgs.filter((m) => !m.fault && (m.obj as JObj).type === 'heartbeat' && movable(m));
  for (const m of r.shuffle(hb).slice(0, 5)) (m.obj as JObj).placementId = r.pick(MISSING_PLACEMENTS);
  const bad = msgs.filter((m) => m.fault && !m.fault.path?.startsWith('/placementId') && movable(m) && (m.obj as JObj).placementId !== undefined);
  for (const m of r.shuffle(bad).slice(0, 8)) (m.obj as JObj).placementId = r.pick(MISSING_PLACEMENTS);
  // a message given a fault breaks no other rule: a conversion without the value or currency the
  // rules' if/then wants becomes a click (no member added: the random stream stays as it was)
  for (const m of msgs) {
    const o = m.obj as JObj;
    if (!m.fault || typeof o !== 'object' || o === null || Array.isArray(o) || o.type !== 'conversion' || m.overrides.has('/type')) continue;
    if (o.value === undefined || o.currency === undefined) o.type = 'click';
  }
  const missing = new Set(MISSING_PLACEMENTS);
  for (const m of msgs) {
    if (m.expect) continue;
    const o = m.obj as JObj;
    if (o.type === 'heartbeat') m.expect = { ok: true, filtered: true };
    // the rules' if/then: a conversion carries its value and currency
    else if (o.type === 'conversion' && (o.value === undefined || o.currency === undefined)) m.expect = { ok: false, reason: 'E_REQUIRED', path: o.value === undefined ? '/value' : '/currency' };
    else if (missing.has(o.placementId as string)) m.expect = { ok: false, reason: 'E_LOOKUP_MISS' };
    else m.expect = { ok: true };
  }
  const rendered = msgs.map((m) => ({ bytes: render(m, r), msg: m }));
  // duplicates, with their own PRNG: written events delivered again (the same bytes), later
  const rd = new Rng(0xd0b1_e5e7);
  const written = writtenIndices(rendered);
  const resent = rd.shuffle(written).slice(0, Math.round(written.length * DUPLICATE_RATE)).map((i) => ({ after: Math.min(i + rd.int(1, RESEND_WITHIN), rendered.length - 1), line: rendered[i]! }));
  const all = insertAfter(rendered, resent);
  const expects = withState(all, 'E_DUPLICATE', (o) => (o.type === 'heartbeat' ? undefined : [o.eventId as string, 0]));
  const lines = all.map((l) => l.bytes);
  const placements = Array.from({ length: N_PLACEMENTS }, (_, i) =>
    JSON.stringify({ placementId: plc(i + 1), surface: r.pick(SURFACES), slot: r.pick(SLOTS) }),
  );
  return { lines, expects, placements: toNdjson(placements), placementsLog: placementsLog(placements), segments: userSegments(msgs), usage: usage(msgs) };
}

/** Rows of the placements table's log that delete their key (as a Kafka tombstone would). */
const DELETED_FIELD = '_deleted';

/** The placements table's log, as the cm.placements topic holds it: a first version of every
 * placement (some since updated), the updates, and a placement added then deleted (a missing one,
 * so the expected outcomes are those of the final rows). Its own PRNG. */
function placementsLog(finalRows: readonly string[]): Buffer {
  const r = new Rng(0x91ac_e10c);
  const rows = finalRows.map((line) => JSON.parse(line) as Record<string, string>);
  const updated = new Set(r.shuffle(rows.map((p) => p.placementId!)).slice(0, 8));
  const first = rows.map((p) => (updated.has(p.placementId!) ? { ...p, surface: r.pick(SURFACES.filter((s) => s !== p.surface)), slot: r.pick(SLOTS) } : p));
  const added = MISSING_PLACEMENTS[0]!;
  const log = [
    ...first,
    { placementId: added, surface: r.pick(SURFACES), slot: r.pick(SLOTS) },
    ...rows.filter((p) => updated.has(p.placementId!)),
    { placementId: added, [DELETED_FIELD]: true },
  ];
  return toNdjson(log.map((row) => JSON.stringify(row)));
}

/** The recommender's user segments: most users of the events, in id order. Its own PRNG, so the
 * other sample files do not change with it. */
function userSegments(msgs: readonly Msg[]): Buffer {
  const r = new Rng(0x5e6_3e47);
  const users = new Set<string>();
  for (const m of msgs) {
    const user = !m.fault && m.obj && (m.obj as JObj).userId;
    if (typeof user === 'string') users.add(user);
  }
  const rows = [...users]
    .sort()
    .filter(() => !r.chance(UNKNOWN_USER_RATE))
    .map((userId) => JSON.stringify({ userId, segment: r.pick(SEGMENTS) }));
  return toNdjson(rows);
}

function generate(): Generated {
  const c = generateContent();
  const k = generateCampaign();
  return {
    files: {
      'content.ndjson': toNdjson(c.lines),
      'content.expected.ndjson': toNdjson(c.expects.map((e) => JSON.stringify(e))),
      'campaign.ndjson': toNdjson(k.lines),
      'campaign.expected.ndjson': toNdjson(k.expects.map((e) => JSON.stringify(e))),
      'lookup/content-documents.ndjson': c.docs,
      'lookup/placements.ndjson': k.placements,
      'placements.ndjson': k.placementsLog,
      'lookup/user-segments.ndjson': k.segments,
    },
    stats: { 'content.ndjson': countExpect(c.expects), 'campaign.ndjson': countExpect(k.expects) },
    usage: { 'content.ndjson': c.usage, 'campaign.ndjson': k.usage },
  };
}

// ---------------------------------------------------------------------------------------------
// Independent self-check (--check)

class Fail {
  constructor(public code: string) {}
}

/** Strict RFC 8259 reference tokenizer over raw bytes, reporting the contract's syntax codes.
 * 'AMBIGUOUS' marks inputs whose code the contract leaves open (the generator must avoid them). */
function refSyntax(b: Uint8Array, schema: any): string {
  if (b.length > MAX_SIZE) return 'E_SIZE';
  const n = b.length;
  let i = 0;
  const fail = (c: string): never => {
    throw new Fail(c);
  };
  const ws = () => {
    while (i < n && isWs(b[i]!)) i++;
  };
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  const dec = new TextDecoder('utf-8', { fatal: true });
  function str(): string {
    i++;
    let s = '';
    for (;;) {
      if (i >= n) fail('E_UNTERMINATED');
      const c = b[i]!;
      if (c === 0x22) {
        i++;
        return s;
      }
      if (c === 0x5c) {
        i++;
        if (i >= n) fail('AMBIGUOUS');
        const e = String.fromCharCode(b[i]!);
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) {
          s += simple[e];
          i++;
        } else if (e === 'u') {
          i++;
          let h = '';
          for (let k = 0; k < 4; k++) {
            if (i >= n) fail('AMBIGUOUS');
            if (!isHex(b[i]!)) fail('E_ESCAPE');
            h += String.fromCharCode(b[i++]!);
          }
          s += String.fromCharCode(parseInt(h, 16));
        } else fail('E_ESCAPE');
        continue;
      }
      if (c < 0x20) fail('E_CONTROL');
      if (c < 0x80) {
        s += String.fromCharCode(c);
        i++;
        continue;
      }
      let len = 0;
      let lo = 0x80;
      let hi = 0xbf;
      if (c >= 0xc2 && c <= 0xdf) len = 2;
      else if (c === 0xe0) (len = 3), (lo = 0xa0);
      else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) len = 3;
      else if (c === 0xed) (len = 3), (hi = 0x9f);
      else if (c === 0xf0) (len = 4), (lo = 0x90);
      else if (c >= 0xf1 && c <= 0xf3) len = 4;
      else if (c === 0xf4) (len = 4), (hi = 0x8f);
      else fail('E_UTF8');
      for (let k = 1; k < len; k++) {
        if (i + k >= n) fail('AMBIGUOUS');
        const d = b[i + k]!;
        if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) fail('E_UTF8');
      }
      s += dec.decode(b.subarray(i, i + len));
      i += len;
    }
  }
  function value(s: any, depth: number): void {
    ws();
    if (i >= n) fail('E_UNTERMINATED');
    const c = b[i]!;
    if (c === 0x7b) {
      if (depth + 1 > MAX_DEPTH) fail('E_DEPTH');
      i++;
      const props = s && typeof s === 'object' && s.properties ? s.properties : {};
      const seen = new Set<string>();
      ws();
      if (i >= n) fail('E_UNTERMINATED');
      if (b[i] === 0x7d) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (i >= n) fail('E_UNTERMINATED');
        if (b[i] !== 0x22) fail('E_TOKEN');
        const key = str();
        if (Object.prototype.hasOwnProperty.call(props, key)) {
          if (seen.has(key)) fail('E_DUPLICATE_KEY');
          seen.add(key);
        }
        ws();
        if (i >= n) fail('E_UNTERMINATED');
        if (b[i] !== 0x3a) fail('E_TOKEN');
        i++;
        value(Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined, depth + 1);
        ws();
        if (i >= n) fail('E_UNTERMINATED');
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x7d) {
          i++;
          return;
        }
        fail('E_TOKEN');
      }
    }
    if (c === 0x5b) {
      if (depth + 1 > MAX_DEPTH) fail('E_DEPTH');
      i++;
      const items = s && typeof s === 'object' ? s.items : undefined;
      ws();
      if (i >= n) fail('E_UNTERMINATED');
      if (b[i] === 0x5d) {
        i++;
        return;
      }
      for (;;) {
        value(items, depth + 1);
        ws();
        if (i >= n) fail('E_UNTERMINATED');
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x5d) {
          i++;
          return;
        }
        fail('E_TOKEN');
      }
    }
    if (c === 0x22) {
      str();
      return;
    }
    if (c === 0x2d || isDigit(c)) {
      if (c === 0x2d) {
        i++;
        if (i >= n) fail('AMBIGUOUS');
        if (!isDigit(b[i]!)) fail('E_NUMBER');
      }
      if (b[i] === 0x30) {
        i++;
        if (i < n && isDigit(b[i]!)) fail('E_NUMBER');
      } else while (i < n && isDigit(b[i]!)) i++;
      if (i < n && b[i] === 0x2e) {
        i++;
        if (i >= n) fail('AMBIGUOUS');
        if (!isDigit(b[i]!)) fail('E_NUMBER');
        while (i < n && isDigit(b[i]!)) i++;
      }
      if (i < n && (b[i] === 0x65 || b[i] === 0x45)) {
        i++;
        if (i < n && (b[i] === 0x2b || b[i] === 0x2d)) i++;
        if (i >= n) fail('AMBIGUOUS');
        if (!isDigit(b[i]!)) fail('E_NUMBER');
        while (i < n && isDigit(b[i]!)) i++;
      }
      return;
    }
    const lit = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : '';
    if (!lit) fail('E_TOKEN');
    for (const ch of lit) {
      if (i >= n) fail('E_UNTERMINATED');
      if (b[i] !== ch.charCodeAt(0)) fail('E_TOKEN');
      i++;
    }
  }
  try {
    ws();
    if (i >= n) return 'E_EMPTY';
    value(schema, 0);
    ws();
    if (i < n) return 'E_TRAILING';
    return 'OK';
  } catch (e) {
    if (e instanceof Fail) return e.code;
    throw e;
  }
}


function splitLines(buf: Buffer, file: string, problems: string[]): Buffer[] {
  if (buf.length === 0 || buf[buf.length - 1] !== 0x0a) problems.push(`${file}: does not end with a newline`);
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      lines.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  lines.forEach((l, i) => {
    if (l.length === 0) problems.push(`${file}:${i + 1}: empty line`);
  });
  return lines;
}

function check(): void {
  const Ajv: any = (AjvModule as any).default ?? AjvModule;
  const problems: string[] = [];
  const read = (f: string) => readFileSync(join(OUT, f));

  // determinism: a second run in memory must be byte-identical to the files on disk
  const again = generate();
  for (const [f, buf] of Object.entries(again.files)) if (!buf.equals(read(f))) problems.push(`${f}: second run differs (not deterministic)`);

  const docs = new Map<string, any>();
  for (const l of splitLines(read('lookup/content-documents.ndjson'), 'content-documents', problems)) {
    const d = JSON.parse(l.toString('utf8'));
    if (docs.has(d.id)) problems.push(`content-documents: duplicate id ${d.id}`);
    docs.set(d.id, d);
  }
  const placements = new Map<string, any>();
  for (const l of splitLines(read('lookup/placements.ndjson'), 'placements', problems)) {
    const p = JSON.parse(l.toString('utf8'));
    if (placements.has(p.placementId)) problems.push(`placements: duplicate ${p.placementId}`);
    placements.set(p.placementId, p);
  }
  // the table's log, applied in order, ends as the placements
  const table = new Map<string, string>();
  for (const l of splitLines(read('placements.ndjson'), 'placements log', problems)) {
    const p = JSON.parse(l.toString('utf8'));
    if (p[DELETED_FIELD] === true) table.delete(p.placementId);
    else table.set(p.placementId, l.toString('utf8'));
  }
  if (table.size !== placements.size || [...placements.values()].some((p) => table.get(p.placementId) !== JSON.stringify(p))) {
    problems.push('placements.ndjson: the log applied in order does not end as lookup/placements.ndjson');
  }

  const flows = [
    {
      file: 'content.ndjson',
      schema: CONTENT_SCHEMA,
      filtered: (v: any) => v.status === 'draft',
      found: (v: any) => docs.has(v.id),
      // latest: the highest version per id so far
      state: { reason: 'E_STALE', key: (v: any): [string, number] => [v.id, v.version] },
    },
    {
      file: 'campaign.ndjson',
      schema: CAMPAIGN_SCHEMA,
      filtered: (v: any) => v.type === 'heartbeat',
      found: (v: any) => placements.has(v.placementId),
      // dedupe: an eventId seen before
      state: { reason: 'E_DUPLICATE', key: (v: any): [string, number] => [v.eventId, 0] },
    },
  ];
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const lossy = new TextDecoder('utf-8');
  for (const flow of flows) {
    // a 2020-12 schema (its $schema says so) with its formats asserted, as the flows assert them
    const ajvOf = (allErrors: boolean) => (String(flow.schema.$schema ?? '').includes('2020-12') ? addFormats.default(new Ajv2020({ allErrors, strict: false })) : new Ajv({ allErrors, strict: false }));
    const ajv1 = ajvOf(false).compile(flow.schema);
    const ajvAll = ajvOf(true).compile(flow.schema);
    const lines = splitLines(read(flow.file), flow.file, problems);
    const exps = splitLines(read(flow.file.replace('.ndjson', '.expected.ndjson')), 'expected', problems).map((l) => JSON.parse(l.toString('utf8')));
    if (lines.length !== exps.length) problems.push(`${flow.file}: ${lines.length} lines but ${exps.length} expected lines`);
    const agree: Record<string, number> = {};
    const stored = new Map<string, number>();
    lines.forEach((line, idx) => {
      const where = `${flow.file}:${idx + 1}`;
      const exp = exps[idx];
      const bad = (msg: string) => problems.push(`${where}: ${msg} (expected ${JSON.stringify(exp)})`);
      const syn = refSyntax(line, flow.schema);
      const expSyntax = !exp.ok && SYNTAX_CODES.has(exp.reason);
      if (!exp.ok && SYNTAX_CODES.has(exp.reason) && 'path' in exp) bad('syntax error with a path');
      if (expSyntax) {
        if (syn !== exp.reason) return void bad(`reference tokenizer says ${syn}`);
        // exactly one fault: apart from the syntax fault, the message must be valid
        if (exp.reason === 'E_UTF8') {
          let threw = false;
          try {
            fatal.decode(line);
          } catch {
            threw = true;
          }
          if (!threw) return void bad('TextDecoder(fatal) accepted an E_UTF8 line');
        }
        const text = lossy.decode(line);
        let v: unknown;
        let parsed = true;
        try {
          v = JSON.parse(text);
        } catch {
          parsed = false;
        }
        const jsonParseAccepts = ['E_UTF8', 'E_DUPLICATE_KEY', 'E_DEPTH', 'E_SIZE'].includes(exp.reason);
        if (jsonParseAccepts) {
          if (!parsed) return void bad('JSON.parse rejected it (more than one fault?)');
          if (!ajv1(v)) return void bad(`second fault: ajv ${JSON.stringify(ajv1.errors)}`);
        } else if (parsed) return void bad('JSON.parse accepted a syntax-error line');
        agree[exp.reason] = (agree[exp.reason] ?? 0) + 1;
        return;
      }
      if (syn !== 'OK') return void bad(`reference tokenizer says ${syn}`);
      let text: string;
      try {
        text = fatal.decode(line);
      } catch {
        return void bad('invalid UTF-8');
      }
      let v: any;
      try {
        v = JSON.parse(text);
      } catch (e) {
        return void bad(`JSON.parse failed: ${(e as Error).message}`);
      }
      if (ajv1(v)) {
        let outcome: any;
        const [stateKey, version] = flow.state.key(v);
        const before = stored.get(stateKey);
        if (flow.filtered(v)) outcome = { ok: true, filtered: true };
        else if (before !== undefined && version <= before) outcome = { ok: true, filtered: true, reason: flow.state.reason };
        else {
          stored.set(stateKey, version);
          outcome = flow.found(v) ? { ok: true } : { ok: false, reason: 'E_LOOKUP_MISS' };
        }
        if (JSON.stringify(outcome) !== JSON.stringify(exp)) return void bad(`checker computes ${JSON.stringify(outcome)}`);
        const key = outcome.ok ? (outcome.filtered ? `filtered${outcome.reason ? ` ${outcome.reason}` : ''}` : 'ok') : outcome.reason;
        agree[key] = (agree[key] ?? 0) + 1;
        return;
      }
      const e = ajv1.errors[0];
      const code = AJV_KEYWORD_CODES[e.keyword] ?? `?${e.keyword}`;
      let path = e.instancePath;
      if (e.keyword === 'required') path += '/' + esc(e.params.missingProperty);
      if (e.keyword === 'additionalProperties') path += '/' + esc(e.params.additionalProperty);
      if (exp.ok || exp.reason !== code || exp.path !== path) return void bad(`ajv says ${code} at ${JSON.stringify(path)}`);
      ajvAll(v);
      // an `if` whose `then` failed is that failure, said twice
      const errors = ajvAll.errors.filter((error: { keyword: string }) => error.keyword !== 'if');
      if (errors.length !== 1) return void bad(`more than one rule error: ${JSON.stringify(errors)}`);
      agree[code] = (agree[code] ?? 0) + 1;
    });
    console.log(`${flow.file}: independently confirmed ${JSON.stringify(agree)}`);
  }
  if (problems.length) {
    console.error(`\n${problems.length} disagreement(s):`);
    for (const p of problems.slice(0, 200)) console.error('  ' + p);
    process.exitCode = 1;
  } else console.log('check passed: every line agrees with its expected outcome');
}

// ---------------------------------------------------------------------------------------------

const g = generate();
mkdirSync(join(OUT, 'lookup'), { recursive: true });
for (const [f, buf] of Object.entries(g.files)) writeFileSync(join(OUT, f), buf);
for (const [f, s] of Object.entries(g.stats)) console.log(`${f}: ${JSON.stringify(s)}`);
if (process.argv.includes('--verbose')) {
  for (const [f, u] of Object.entries(g.usage)) {
    console.log(`\n${f}: lines per fault / edge case`);
    for (const k of Object.keys(u).sort()) console.log(`  ${String(u[k]).padStart(3)}  ${k}`);
  }
}
if (process.argv.includes('--check')) check();
