// The scanner: one pass over a message's raw UTF-8 bytes that checks RFC 8259 well-formedness,
// runs the rule program on every value it meets, and records the spans of extracted fields.
// Failures set a code and return; nothing here traps on any input.
import * as E from './codes';
import {
  EK_FALSE, EK_NULL, EK_NUMBER, EK_STRING, EK_TRUE, EM_KIND, EM_NUM, EM_STR, ENUM_SIZE,
  F_CONST, F_ENUM, F_ENUM_NUMBERS, F_EXCL_MAXIMUM, F_EXCL_MINIMUM, F_FALSE, F_MAX_ITEMS,
  F_MAX_LENGTH, F_MAXIMUM, F_MIN_ITEMS, F_MIN_LENGTH, F_MINIMUM, F_NO_ADDITIONAL, F_NUMERIC,
  F_FORMAT, F_PATTERN, F_PATTERN_JS, F_STRING, N_ENUM, N_ENUM_COUNT, N_EXCL_MAXIMUM, N_EXCL_MINIMUM,
  N_FLAGS, N_ITEMS, N_MAX_ITEMS, N_MAX_LENGTH, N_MAXIMUM, N_MIN_ITEMS, N_MIN_LENGTH, N_MINIMUM,
  N_PATTERN, N_PROP_COUNT, N_PROPS, N_SEEN_WORDS, N_SLOT, N_TYPE, O_CODE, O_FLAGS, O_NODE,
  O_OFFSET, O_PATH_LEN, O_PATH_START, OF_USED_JS, OUT_FIXED, P_CHILD, P_FLAGS, P_NAME,
  P_NAME_LEN, PATH_INDEX, PATH_PROP, PF_NO_DUPLICATE_CHECK, PF_REQUIRED, PF_SYNTHETIC, PROP_SIZE, T_ARR, T_BOOL,
  I_INDEX, I_NODE, INDEX_SIZE, JS_FORMAT, JS_NUMBER, JS_PATTERN, N_INDEX_COUNT, N_INDEXES,
  T_INT, T_NULL, T_NUM, T_OBJ, T_STR,
  N_EXT, TAPE_SIZE, TF_ESCAPED, TF_INEXACT, TF_INTEGER, TP_AUX, TP_END, TP_FLAGS, TP_KIND, TP_NEXT,
  TP_NUMBER, TP_START, X_ADDITIONAL, X_ALL, X_ALL_COUNT, X_ANY, X_ANY_COUNT, X_CONTAINS, X_DEEP,
  X_DEEP_COUNT, X_DEP_REQUIRED, X_DEP_REQUIRED_COUNT, X_DEP_SCHEMA_COUNT, X_DEP_SCHEMAS, X_ELSE,
  X_FLAGS, X_IF, X_MAX_CONTAINS, X_MAX_PROPERTIES, X_MIN_CONTAINS, X_MIN_PROPERTIES, X_MULTIPLE_OF,
  X_NOT, X_ONE, X_ONE_COUNT, X_PATTERN_COUNT, X_PATTERNS, X_PREFIX, X_PREFIX_COUNT,
  X_PROPERTY_NAMES, X_THEN, XF_MAX_CONTAINS, XF_MAX_PROPERTIES, XF_MIN_PROPERTIES, XF_MULTIPLE_OF,
  XF_UNIQUE, X_FORMAT, X_UNEVALUATED_ITEMS, X_UNEVALUATED_PROPERTIES, XF_CONTAINS_EVALUATES,
  N_RESOURCE, X_DYNAMIC, X_DYNAMIC_COUNT, X_DYNAMIC_FALLBACK, FMT_UUID,
  CD_ELSE, CD_ELSE_COUNT, CD_ELSE_REQUIRED, CD_TEST_COUNT, CD_TESTS, CD_THEN, CD_THEN_COUNT,
  CD_THEN_REQUIRED, CONDITION_SIZE, CT_NODE, CT_PROPERTY, CT_REQUIRED, F_CONDITIONS, PF_PROBE_SHIFT,
  TEST_SIZE, X_CONDITION_COUNT, X_CONDITIONS,
} from './layout';
import { formatNeedsJs, formatValid, uuidBytes } from './formats';
import { regexTest } from './regex';

/**
 * Asks JS to decide a check the core cannot (see JS_* in layout.ts) on the value at [start, end);
 * answers 0 when it holds, else the E_* code that failed.
 */
@external('env', 'jsCheck')
declare function jsCheck(kind: i32, node: usize, start: usize, end: usize): i32;
/** The exact double of the number at [start, end) (JSON.parse's), for the few the core does not compute. */
@external('env', 'jsNumber')
declare function jsNumber(start: usize, end: usize): f64;
import { decodeFrom, decodePos, hex4, jsonEqualsUtf8, nextJson } from './text';

// ---- configuration (set once per validator by configure) ---------------------------------------
let rootNode: usize = 0;
let anyNode: usize = 0;
let maxDepth: i32 = 64;
let maxSize: u32 = 1 << 20;
let slotCount: u32 = 0;
let pathStack: usize = 0;
let seenBase: usize = 0;
let pathOut: usize = 0;

export function configureScanner(
  root: usize, any: usize, depthLimit: i32, sizeLimit: u32, slots: u32,
  pathStackAt: usize, seenAt: usize, pathOutAt: usize,
): void {
  rootNode = root;
  anyNode = any;
  maxDepth = depthLimit;
  maxSize = sizeLimit;
  slotCount = slots;
  pathStack = pathStackAt;
  seenBase = seenAt;
  pathOut = pathOutAt;
}

// ---- tape mode (a schema with applicators, references, ...): the scan records the document as a
// tape and runs only the extraction skeleton; the rules are evaluated on the tape afterwards ------
let taping: bool = false;
let evalRoot: usize = 0;
let evalLimit: i32 = 0;
let tapeBase: usize = 0;
let tapeTop: usize = 0;
let evalDepth: i32 = 0; // nested evaluations (applicators and references recurse without descending)
let quiet: i32 = 0; // inside anyOf, oneOf, not, if, contains: failures are answers, not errors
let failures: u32 = 0; // rule failures seen, recorded or not
let lastCount: u32 = 0; // members or elements of the container just scanned
let tapeEnd: usize = 0;
// scratch past the tape while evaluating: format code points, evaluated-member bit sets
let scratchTop: usize = 0;
// the bit set (one bit per member or element) of the instance evaluated in place, which
// unevaluatedProperties/unevaluatedItems read; 0 when nothing collects annotations
let marks: usize = 0;
// the dynamic scope: a linked list in the scratch of (resource, previous entry), innermost first
let scope: usize = 0;

export function configureTape(root: usize, limit: i32): void {
  evalRoot = root;
  taping = root != 0;
  evalLimit = limit;
}

/** Where the tape goes: after the messages, sized by src/core/ for the largest of the batch. */
export function setTapeBase(at: usize, capacity: usize): void {
  tapeBase = at;
  tapeEnd = at + capacity;
}

export function outStride(): u32 {
  return (OUT_FIXED + (slotCount << 1)) << 2;
}

// ---- per-message state --------------------------------------------------------------------------
let msg: usize = 0; // first byte of the message
let pos: usize = 0;
let end: usize = 0;
let depth: i32 = 0; // open containers around the current value
let seenTop: usize = 0;
let out: usize = 0; // this message's verdict record
let pathTop: i32 = 0; // next free error-path entry (shared by the batch)

let err: i32 = 0;
let errAt: usize = 0;
let rule: i32 = 0;
let ruleAt: usize = 0;
let ruleNode: usize = 0;
let rulePathStart: i32 = 0;
let rulePathLen: i32 = 0;
let usedJs: bool = false;

// results of scanString / scanNumber
let strCodePoints: u32 = 0;
let strEscaped: bool = false;
let numValue: f64 = 0;
let numExact: bool = false; // numValue is the exact double JSON.parse would give
let numInteger: i32 = 0; // 1 integer, 0 not, -1 unknown (inexact)

@inline function fail(code: i32, at: usize): void {
  if (err == 0) {
    err = code;
    errAt = at;
  }
}

/** Records the first rule failure with a copy of the current path (plus one extra entry if a != 0 or b != 0 is given via extra). */
function ruleFail(code: i32, at: usize, node: usize, pathLen: i32, extraA: i32, extraB: i32, hasExtra: bool): void {
  failures++;
  if (rule != 0 || quiet != 0) return;
  rule = code;
  ruleAt = at;
  ruleNode = node;
  rulePathStart = pathTop;
  memory.copy(pathOut + (<usize>pathTop << 3), pathStack, <usize>pathLen << 3);
  pathTop += pathLen;
  if (hasExtra) {
    const entry = pathOut + (<usize>pathTop << 3);
    store<i32>(entry, extraA);
    store<i32>(entry, extraB, 4);
    pathTop++;
  }
  rulePathLen = pathTop - rulePathStart;
}

@inline function valueFail(code: i32, at: usize, node: usize): void {
  ruleFail(code, at, node, depth, 0, 0, false);
}

@inline function skipWhitespace(): void {
  pos = skipSpace(pos);
}

/** The first position at or after p that is not JSON whitespace (or end). */
@inline function skipSpace(p: usize): usize {
  // minified JSON has none: one compare, no call
  if (p < end && <u32>load<u8>(p) > 0x20) return p;
  return skipSpaceRun(p);
}

function skipSpaceRun(p: usize): usize {
  if (ASC_FEATURE_SIMD) {
    // pretty-printed JSON indents: 16 bytes at a time. The four whitespace bytes have distinct low
    // nibbles, so a byte is whitespace when it equals the table entry its low nibble selects.
    const table = i8x16(0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0a, 0, 0, 0x0d, 0, 0);
    const nibble = i8x16.splat(0x0f);
    while (p + 16 <= end) {
      const v = v128.load(p);
      const space = i8x16.eq(i8x16.swizzle(table, v128.and(v, nibble)), v);
      const other = ~i8x16.bitmask(space) & 0xffff;
      if (other != 0) return p + ctz(other);
      p += 16;
    }
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) p++;
    else break;
  }
  return p;
}

// ---- strings ------------------------------------------------------------------------------------

/** One UTF-8 sequence starting with lead byte c at p (c >= 0x80); returns the position after it. */
function scanUtf8(p: usize, c: u32): usize {
  let need: usize;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (c < 0xc2) {
    fail(E.E_UTF8, p); // stray continuation byte or overlong 2-byte lead
    return p;
  } else if (c < 0xe0) {
    need = 1;
  } else if (c < 0xf0) {
    need = 2;
    if (c == 0xe0) lo = 0xa0; // overlong
    else if (c == 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (c < 0xf5) {
    need = 3;
    if (c == 0xf0) lo = 0x90; // overlong
    else if (c == 0xf4) hi = 0x8f; // above U+10FFFF
  } else {
    fail(E.E_UTF8, p);
    return p;
  }
  if (p + need >= end) {
    fail(E.E_UTF8, p); // truncated by the end of input (a string needs its closing quote anyway)
    return p;
  }
  const b1 = <u32>load<u8>(p + 1);
  if (b1 < lo || b1 > hi) {
    fail(E.E_UTF8, p);
    return p;
  }
  for (let i: usize = 2; i <= need; i++) {
    const b = <u32>load<u8>(p + i);
    if ((b & 0xc0) != 0x80) {
      fail(E.E_UTF8, p);
      return p;
    }
  }
  return p + need + 1;
}

/** An escape at p (the backslash); returns the position after it. A \u surrogate pair counts as one code point. */
function scanEscape(p: usize): usize {
  if (p + 1 >= end) {
    fail(E.E_UNTERMINATED, p);
    return p;
  }
  const e = load<u8>(p + 1);
  if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
    return p + 2;
  }
  if (e != 0x75) {
    fail(E.E_ESCAPE, p);
    return p;
  }
  if (p + 6 > end) {
    // fewer than four bytes left: bad if any present one is not hex, else cut short
    for (let q = p + 2; q < end; q++) {
      const c = load<u8>(q);
      const isHex = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
      if (!isHex) {
        fail(E.E_ESCAPE, p);
        return p;
      }
    }
    fail(E.E_UNTERMINATED, p);
    return p;
  }
  const u = hex4(p + 2);
  if (u < 0) {
    fail(E.E_ESCAPE, p);
    return p;
  }
  if (u >= 0xd800 && u <= 0xdbff && p + 12 <= end && load<u8>(p + 6) == 0x5c && load<u8>(p + 7) == 0x75) {
    const low = hex4(p + 8);
    if (low >= 0xdc00 && low <= 0xdfff) return p + 12;
  }
  return p + 6;
}

/** A string starting at pos (the opening quote); leaves pos after the closing quote. */
function scanString(): void {
  let p = pos + 1;
  let cps: u32 = 0;
  let escaped = false;
  while (true) {
    if (ASC_FEATURE_SIMD) {
      // 16 bytes at a time while none is a quote, a backslash, a control byte or non-ASCII
      const quote = i8x16.splat(0x22);
      const backslash = i8x16.splat(0x5c);
      const space = i8x16.splat(0x20);
      const zero = i8x16.splat(0);
      while (p + 16 <= end) {
        const v = v128.load(p);
        const special = v128.or(
          v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)),
          v128.or(i8x16.lt_u(v, space), i8x16.lt_s(v, zero)),
        );
        const mask = i8x16.bitmask(special);
        if (mask == 0) {
          p += 16;
          cps += 16;
          continue;
        }
        const skip = ctz(mask);
        p += skip;
        cps += skip;
        break;
      }
    }
    if (p >= end) {
      fail(E.E_UNTERMINATED, p);
      return;
    }
    const c = <u32>load<u8>(p);
    if (c == 0x22) break;
    if (c == 0x5c) {
      escaped = true;
      p = scanEscape(p);
      if (err != 0) return;
    } else if (c < 0x20) {
      fail(E.E_CONTROL, p);
      return;
    } else if (c < 0x80) {
      p++;
    } else {
      p = scanUtf8(p, c);
      if (err != 0) return;
    }
    cps++;
  }
  pos = p + 1;
  strCodePoints = cps;
  strEscaped = escaped;
}

// ---- numbers ------------------------------------------------------------------------------------

// @ts-ignore: decorator
@lazy const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/**
 * A number at pos. Its double is computed exactly when it has at most 15 significant digits and
 * a decimal exponent within ±22 (one correctly rounded multiply or divide of exact values);
 * anything else is left to JS when a rule needs the value.
 */
function scanNumber(): void {
  let p = pos;
  let negative = false;
  if (load<u8>(p) == 0x2d) {
    negative = true;
    p++;
  }
  if (p >= end) {
    fail(E.E_NUMBER, p);
    return;
  }
  let mantissa: u64 = 0;
  let digits: i32 = 0; // significant digits kept in mantissa
  let dropped: bool = false; // significant digits beyond 19
  let exp10: i32 = 0;
  let integer = true;
  let c = <u32>load<u8>(p);
  if (c == 0x30) {
    p++;
    if (p < end && isDigit(<u32>load<u8>(p))) {
      fail(E.E_NUMBER, p); // leading zero
      return;
    }
  } else if (isDigit(c)) {
    while (p < end) {
      c = <u32>load<u8>(p);
      if (!isDigit(c)) break;
      if (digits < 19) {
        mantissa = mantissa * 10 + <u64>(c - 0x30);
        digits++;
      } else {
        dropped = true;
        exp10++;
      }
      p++;
    }
  } else {
    fail(E.E_NUMBER, p);
    return;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    integer = false;
    p++;
    const fracStart = p;
    while (p < end) {
      c = <u32>load<u8>(p);
      if (!isDigit(c)) break;
      if (mantissa == 0 && c == 0x30) {
        exp10--; // leading zeros of a fraction are not significant
      } else if (digits < 19) {
        mantissa = mantissa * 10 + <u64>(c - 0x30);
        digits++;
        exp10--;
      } else if (c != 0x30) {
        dropped = true;
      }
      p++;
    }
    if (p == fracStart) {
      fail(E.E_NUMBER, p);
      return;
    }
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    integer = false;
    p++;
    let expNegative = false;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) {
      expNegative = load<u8>(p) == 0x2d;
      p++;
    }
    const expStart = p;
    let e: i32 = 0;
    while (p < end) {
      c = <u32>load<u8>(p);
      if (!isDigit(c)) break;
      if (e < 100000) e = e * 10 + <i32>(c - 0x30);
      p++;
    }
    if (p == expStart) {
      fail(E.E_NUMBER, p);
      return;
    }
    exp10 += expNegative ? -e : e;
  }
  pos = p;
  if (mantissa == 0) {
    numValue = negative ? -0.0 : 0.0;
    numExact = true;
  } else {
    // trailing zeros of the mantissa do not count as significant digits
    while (digits > 15 && mantissa % 10 == 0) {
      mantissa /= 10;
      digits--;
      exp10++;
    }
    numExact = !dropped && digits <= 15 && exp10 >= -22 && exp10 <= 22;
    if (numExact) {
      const m = <f64>mantissa;
      const v = exp10 >= 0 ? m * unchecked(POW10[exp10]) : m / unchecked(POW10[-exp10]);
      numValue = negative ? -v : v;
    }
  }
  if (integer) numInteger = 1;
  else if (numExact) numInteger = Math.floor(numValue) == numValue ? 1 : 0;
  else numInteger = -1;
}

// ---- rules on scalar values -------------------------------------------------------------------

/** Whether the value just scanned (a literal of kind `kind`, or the current number) is an enum member. */
function enumHasScalar(node: usize, kind: u32): bool {
  const count = load<u32>(node + N_ENUM_COUNT);
  const table = <usize>load<u32>(node + N_ENUM);
  for (let i: u32 = 0; i < count; i++) {
    const member = table + <usize>i * ENUM_SIZE;
    const k = load<u32>(member + EM_KIND);
    if (k != kind) continue;
    if (kind != EK_NUMBER || load<f64>(member + EM_NUM) == numValue) return true;
  }
  return false;
}

function enumHasString(node: usize, s: usize, e: usize): bool {
  const count = load<u32>(node + N_ENUM_COUNT);
  const table = <usize>load<u32>(node + N_ENUM);
  const len = <u32>(e - s);
  for (let i: u32 = 0; i < count; i++) {
    const member = table + <usize>i * ENUM_SIZE;
    if (load<u32>(member + EM_KIND) != EK_STRING) continue;
    const name = <usize>load<u32>(member + EM_STR);
    const nameLen = load<u32>(member + EM_NUM);
    if (strEscaped) {
      if (jsonEqualsUtf8(s, e, name, nameLen)) return true;
    } else if (nameLen == len && memory.compare(s, name, len) == 0) {
      return true;
    }
  }
  return false;
}

@inline function enumCode(flags: u32): i32 {
  return (flags & F_CONST) != 0 ? E.E_CONST : E.E_ENUM;
}

function checkString(node: usize, flags: u32, start: usize): void {
  const s = start + 1;
  const e = pos - 1;
  if ((flags & F_MIN_LENGTH) != 0 && strCodePoints < load<u32>(node + N_MIN_LENGTH)) valueFail(E.E_MIN_LENGTH, start, node);
  if ((flags & F_MAX_LENGTH) != 0 && strCodePoints > load<u32>(node + N_MAX_LENGTH)) valueFail(E.E_MAX_LENGTH, start, node);
  if ((flags & F_PATTERN) != 0 && !regexTest(<usize>load<u32>(node + N_PATTERN), s, e)) valueFail(E.E_PATTERN, start, node);
  if ((flags & F_PATTERN_JS) != 0) {
    usedJs = true;
    const failed = jsCheck(JS_PATTERN, node, s, e);
    if (failed != 0) valueFail(failed, start, node);
  }
  if ((flags & (F_ENUM | F_CONST)) != 0 && !enumHasString(node, s, e)) valueFail(enumCode(flags), start, node);
  if ((flags & F_FORMAT) != 0) {
    if (!checkFormat(load<u32>(<usize>load<u32>(node + N_EXT) + X_FORMAT), s, e)) valueFail(E.E_FORMAT, start, node);
    else if (formatNeedsJs) {
      usedJs = true;
      const failed = jsCheck(JS_FORMAT, node, s, e);
      if (failed != 0) valueFail(failed, start, node);
    }
  }
}

function checkNumber(node: usize, types: u32, flags: u32, start: usize): void {
  const intOnly = (types & T_NUM) == 0 && (types & T_INT) != 0;
  if (!numExact && ((intOnly && numInteger < 0) || (flags & (F_NUMERIC | F_ENUM_NUMBERS)) != 0)) {
    // the exact double needs JS: it decides every numeric check of this value, in the same order
    usedJs = true;
    if ((types & (T_NUM | T_INT)) == 0) valueFail(E.E_TYPE, start, node);
    const failed = jsCheck(JS_NUMBER, node, start, pos);
    if (failed != 0) valueFail(failed, start, node);
    return;
  }
  if ((types & T_NUM) == 0 && ((types & T_INT) == 0 || numInteger == 0)) valueFail(E.E_TYPE, start, node);
  if ((flags & F_NUMERIC) != 0) {
    const v = numValue;
    if ((flags & F_MINIMUM) != 0 && v < load<f64>(node + N_MINIMUM)) valueFail(E.E_MINIMUM, start, node);
    if ((flags & F_MAXIMUM) != 0 && v > load<f64>(node + N_MAXIMUM)) valueFail(E.E_MAXIMUM, start, node);
    if ((flags & F_EXCL_MINIMUM) != 0 && v <= load<f64>(node + N_EXCL_MINIMUM)) valueFail(E.E_EXCLUSIVE_MINIMUM, start, node);
    if ((flags & F_EXCL_MAXIMUM) != 0 && v >= load<f64>(node + N_EXCL_MAXIMUM)) valueFail(E.E_EXCLUSIVE_MAXIMUM, start, node);
  }
  if ((flags & (F_ENUM | F_CONST)) != 0 && !enumHasScalar(node, EK_NUMBER)) valueFail(enumCode(flags), start, node);
}

/** Expects the ASCII literal packed little-endian in `word` (length n) at pos. */
function scanLiteral(word: u32, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    if (pos + i >= end) {
      fail(E.E_UNTERMINATED, pos + i);
      return;
    }
    if (<u32>load<u8>(pos + i) != ((word >> (<u32>i << 3)) & 0xff)) {
      fail(E.E_TOKEN, pos + i);
      return;
    }
  }
  pos += n;
}

// ---- containers ---------------------------------------------------------------------------------

/**
 * Index of the property entry whose name equals the key [s, e), or -1. A key as written (no
 * escapes) is looked up in the table's hash index, which follows its `count` entries: the shift
 * and mask of its 2^bits slots, a u64 with bit n set when a name is n bytes long (63: 63 or more),
 * then the slots (entry index + 1, 0 for none; linear probing; laid out by src/core/compile.ts). An escaped key is compared with every name, starting after `hint`
 * (the previous key's entry): producers tend to write keys in one order.
 */
function findProperty(table: usize, count: u32, s: usize, e: usize, escaped: bool, hint: u32): i32 {
  const len = <u32>(e - s);
  if (!escaped) {
    // the key's first (up to) 8 bytes as one word: names of one length nearly always differ there
    const index = table + <usize>count * PROP_SIZE;
    // no name of the key's length: most keys, in a node that names a few properties
    if (((load<u64>(index, 8) >> <u64>(len < 63 ? len : 63)) & 1) == 0) return -1;
    const head = headWord(s, len);
    const mask = load<u32>(index, 4);
    let slot = propertySlot(head, len, load<u32>(index));
    while (true) {
      const i = load<u32>(index + 16 + (<usize>slot << 2));
      if (i == 0) return -1;
      const entry = table + <usize>(i - 1) * PROP_SIZE;
      const name = <usize>load<u32>(entry + P_NAME);
      if (load<u32>(entry + P_NAME_LEN) == len && headWord(name, len) == head && (len <= 8 || bytesEqual(s + 8, name + 8, len - 8))) {
        return <i32>(i - 1);
      }
      slot = (slot + 1) & mask;
    }
  }
  let i = hint < count ? hint : 0;
  for (let tried: u32 = 0; tried < count; tried++) {
    const entry = table + <usize>i * PROP_SIZE;
    if (jsonEqualsUtf8(s, e, <usize>load<u32>(entry + P_NAME), load<u32>(entry + P_NAME_LEN))) return <i32>i;
    i++;
    if (i == count) i = 0;
  }
  return -1;
}

/** A name's slot in a hash index: Fibonacci hashing of its first 8 bytes and length (src/core/compile.ts propertySlot). */
@inline function propertySlot(head: u64, len: u32, shift: u32): u32 {
  return <u32>(((head + <u64>len) * 0x9e3779b97f4a7c15) >> <u64>shift);
}

/**
 * The first min(len, 8) bytes at p as a word, the rest zero. Reads 8 bytes: a key lies in a
 * message (the input region has slack after its last byte), a name in the rule program (the
 * arena follows it).
 */
@inline function headWord(p: usize, len: u32): u64 {
  const word = load<u64>(p);
  return len >= 8 ? word : word & ((<u64>1 << (<u64>len << 3)) - 1);
}

/** Whether the `len` bytes at a and b are equal, a word at a time (reads as headWord does). */
function bytesEqual(a: usize, b: usize, len: u32): bool {
  while (len >= 8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8;
    b += 8;
    len -= 8;
  }
  return headWord(a, len) == headWord(b, len);
}

function scanObject(node: usize, flags: u32): void {
  const start = pos;
  depth++;
  if (depth > maxDepth) {
    fail(E.E_DEPTH, pos);
    return;
  }
  pos++;
  const propCount = load<u32>(node + N_PROP_COUNT);
  const props = <usize>load<u32>(node + N_PROPS);
  const seen = seenTop;
  const seenWords = load<u32>(node + N_SEEN_WORDS);
  if (seenWords != 0) {
    memory.fill(seen, 0, <usize>seenWords << 2);
    seenTop += <usize>seenWords << 2;
  }
  const entryPath = pathStack + (<usize>(depth - 1) << 3);
  let hint: u32 = 0;
  let members: u32 = 0;
  skipWhitespace();
  if (pos < end && load<u8>(pos) == 0x7d) {
    pos++;
  } else {
    while (true) {
      if (pos >= end) {
        fail(E.E_UNTERMINATED, pos);
        return;
      }
      if (load<u8>(pos) != 0x22) {
        fail(E.E_TOKEN, pos);
        return;
      }
      const keyQuote = pos;
      let keyEntry: usize = 0;
      if (taping) {
        keyEntry = tapeTop;
        tapeTop += TAPE_SIZE;
      }
      scanString();
      if (err != 0) return;
      if (taping) tapeString(keyEntry, keyQuote);
      members++;
      const keyStart = keyQuote + 1;
      const keyEnd = pos - 1;
      store<i32>(entryPath, <i32>(keyStart - msg));
      store<i32>(entryPath, <i32>(keyEnd - keyStart), 4);
      skipWhitespace();
      if (pos >= end) {
        fail(E.E_UNTERMINATED, pos);
        return;
      }
      if (load<u8>(pos) != 0x3a) {
        fail(E.E_TOKEN, pos);
        return;
      }
      pos++;
      skipWhitespace();
      let child = anyNode;
      let probe: u32 = 0;
      const index = propCount != 0 ? findProperty(props, propCount, keyStart, keyEnd, strEscaped, hint) : -1;
      if (index >= 0) {
        hint = <u32>index + 1;
        const word = seen + (<usize>(<u32>index >> 5) << 2);
        const bit: u32 = 1 << (<u32>index & 31);
        const bits = load<u32>(word);
        const entry = props + <usize>index * PROP_SIZE;
        const propertyFlags = load<u32>(entry + P_FLAGS);
        if ((bits & bit) != 0 && (propertyFlags & PF_NO_DUPLICATE_CHECK) == 0) {
          fail(E.E_DUPLICATE_KEY, keyQuote);
          return;
        }
        store<u32>(word, bits | bit);
        child = <usize>load<u32>(entry + P_CHILD);
        probe = propertyFlags >> PF_PROBE_SHIFT;
        if ((propertyFlags & PF_SYNTHETIC) != 0 && (flags & F_NO_ADDITIONAL) != 0) {
          ruleFail(E.E_ADDITIONAL, keyQuote, node, depth, 0, 0, false);
        }
      } else if ((flags & F_NO_ADDITIONAL) != 0) {
        ruleFail(E.E_ADDITIONAL, keyQuote, node, depth, 0, 0, false);
      }
      const valueStart = pos;
      scanValue(child);
      if (err != 0) return;
      if (probe != 0) {
        // an `if` tests this member at the object's end: where its value is (the last, for a repeat)
        const span = spansOf(seen, propCount) + (<usize>(probe - 1) << 3);
        store<u32>(span, <u32>valueStart);
        store<u32>(span, <u32>pos, 4);
      }
      skipWhitespace();
      if (pos >= end) {
        fail(E.E_UNTERMINATED, pos);
        return;
      }
      const c = load<u8>(pos);
      pos++;
      if (c == 0x2c) {
        skipWhitespace();
        continue;
      }
      if (c == 0x7d) break;
      fail(E.E_TOKEN, pos - 1);
      return;
    }
  }
  if (propCount != 0 && rule == 0) {
    for (let i: u32 = 0; i < propCount; i++) {
      const entry = props + <usize>i * PROP_SIZE;
      if ((load<u32>(entry + P_FLAGS) & PF_REQUIRED) == 0) continue;
      if ((load<u32>(seen + (<usize>(i >> 5) << 2)) & (<u32>1 << (i & 31))) == 0) {
        ruleFail(E.E_REQUIRED, start, node, depth - 1, PATH_PROP, <i32>entry, true);
        break;
      }
    }
  }
  if ((flags & F_CONDITIONS) != 0 && rule == 0) decideConditions(node, props, propCount, seen, start);
  seenTop = seen;
  depth--;
  lastCount = members;
}

/** Where an object's member spans (F_CONDITIONS) follow its seen bits. */
@inline function spansOf(seen: usize, propCount: u32): usize {
  return seen + (<usize>((propCount + 31) >> 5) << 2);
}

@inline function seenBit(seen: usize, index: u32): bool {
  return (load<u32>(seen + (<usize>(index >> 5) << 2)) & (<u32>1 << (index & 31))) != 0;
}

/**
 * The if/then/else of an object node the scan decides at the object's end (F_CONDITIONS): each
 * `if` tests members' values, as they were read, against literals; the `then` or `else` that
 * applies requires members.
 */
function decideConditions(node: usize, props: usize, propCount: u32, seen: usize, start: usize): void {
  const ext = <usize>load<u32>(node + N_EXT);
  const spans = spansOf(seen, propCount);
  const count = load<u32>(ext + X_CONDITION_COUNT);
  const conditions = <usize>load<u32>(ext + X_CONDITIONS);
  for (let k: u32 = 0; k < count; k++) {
    const condition = conditions + <usize>k * CONDITION_SIZE;
    const tests = <usize>load<u32>(condition + CD_TESTS);
    const testCount = load<u32>(condition + CD_TEST_COUNT);
    let holds = true;
    for (let t: u32 = 0; t < testCount && holds; t++) {
      const test = tests + <usize>t * TEST_SIZE;
      const index = load<u32>(test + CT_PROPERTY);
      if (!seenBit(seen, index)) {
        holds = load<u32>(test + CT_REQUIRED) == 0;
      } else {
        const probe = load<u32>(props + <usize>index * PROP_SIZE + P_FLAGS) >> PF_PROBE_SHIFT;
        const span = spans + (<usize>(probe - 1) << 3);
        holds = literalHolds(<usize>load<u32>(test + CT_NODE), <usize>load<u32>(span), <usize>load<u32>(span, 4));
      }
    }
    const branch = <usize>load<u32>(condition + (holds ? CD_THEN : CD_ELSE));
    if (branch == 0) continue;
    const required = <usize>load<u32>(condition + (holds ? CD_THEN_REQUIRED : CD_ELSE_REQUIRED));
    const requiredCount = load<u32>(condition + (holds ? CD_THEN_COUNT : CD_ELSE_COUNT));
    for (let r: u32 = 0; r < requiredCount; r++) {
      const index = load<u32>(required + (<usize>r << 2));
      if (!seenBit(seen, index)) {
        ruleFail(E.E_REQUIRED, start, branch, depth - 1, PATH_PROP, <i32>(props + <usize>index * PROP_SIZE), true);
        return;
      }
    }
  }
}

/** Whether the value at [s, e) has one of `node`'s types and, with enum/const, is one of its string, boolean or null members. */
function literalHolds(node: usize, s: usize, e: usize): bool {
  const c = <u32>load<u8>(s);
  const types = load<u32>(node + N_TYPE);
  const kind: u32 = c == 0x22 ? T_STR : c == 0x74 || c == 0x66 ? T_BOOL : c == 0x6e ? T_NULL : c == 0x7b ? T_OBJ : c == 0x5b ? T_ARR : T_NUM;
  // an integer is a number: the compiler leaves `integer` without `number` to the tape
  if ((types & kind) == 0) return false;
  if ((load<u32>(node + N_FLAGS) & (F_ENUM | F_CONST)) == 0) return true;
  if (kind == T_STR) {
    // the decoding comparison holds for any string, escaped or not (the scan's flag is gone by now)
    strEscaped = true;
    return enumHasString(node, s + 1, e - 1);
  }
  if (kind == T_BOOL) return enumHasScalar(node, c == 0x74 ? EK_TRUE : EK_FALSE);
  if (kind == T_NULL) return enumHasScalar(node, EK_NULL);
  return false; // numbers, objects, arrays: the members are strings, booleans or null
}

function scanArray(node: usize, flags: u32): void {
  const start = pos;
  depth++;
  if (depth > maxDepth) {
    fail(E.E_DEPTH, pos);
    return;
  }
  pos++;
  let items = <usize>load<u32>(node + N_ITEMS);
  if (items == 0) items = anyNode;
  const indexCount = load<u32>(node + N_INDEX_COUNT);
  const indexes = <usize>load<u32>(node + N_INDEXES);
  const entryPath = pathStack + (<usize>(depth - 1) << 3);
  let count: u32 = 0;
  skipWhitespace();
  if (pos < end && load<u8>(pos) == 0x5d) {
    pos++;
  } else {
    while (true) {
      store<i32>(entryPath, PATH_INDEX);
      store<i32>(entryPath, <i32>count, 4);
      let element = items;
      for (let i: u32 = 0; i < indexCount; i++) {
        const entry = indexes + <usize>i * INDEX_SIZE;
        if (load<u32>(entry + I_INDEX) == count) element = <usize>load<u32>(entry + I_NODE);
      }
      scanValue(element);
      if (err != 0) return;
      count++;
      skipWhitespace();
      if (pos >= end) {
        fail(E.E_UNTERMINATED, pos);
        return;
      }
      const c = load<u8>(pos);
      pos++;
      if (c == 0x2c) {
        skipWhitespace();
        continue;
      }
      if (c == 0x5d) break;
      fail(E.E_TOKEN, pos - 1);
      return;
    }
  }
  depth--;
  lastCount = count;
  if ((flags & F_MIN_ITEMS) != 0 && count < load<u32>(node + N_MIN_ITEMS)) valueFail(E.E_MIN_ITEMS, start, node);
  if ((flags & F_MAX_ITEMS) != 0 && count > load<u32>(node + N_MAX_ITEMS)) valueFail(E.E_MAX_ITEMS, start, node);
}

// ---- values the schema leaves free ------------------------------------------------------------
// A value checked against the schema `true` (anyNode) with nothing to extract or tape below it
// needs only its well-formedness: these check it in loops of their own, the position in a local,
// without the rule program's per-value work. They fail with the codes and offsets scanValue
// would; the rare cases (escapes, non-ASCII, broken literals) go to the scanner's own functions.

function skipValue(p: usize): usize {
  if (p >= end) {
    fail(E.E_UNTERMINATED, p);
    return p;
  }
  const c = <u32>load<u8>(p);
  if (c == 0x22) return skipString(p);
  if (c == 0x7b) return skipObject(p);
  if (c == 0x5b) return skipArray(p);
  if (c == 0x2d || isDigit(c)) return skipNumber(p);
  if (c == 0x74 || c == 0x6e) {
    const word: u32 = c == 0x74 ? 0x65757274 : 0x6c6c756e; // "true", "null"
    if (p + 4 <= end && load<u32>(p) == word) return p + 4;
    pos = p;
    scanLiteral(word, 4);
    return pos;
  }
  if (c == 0x66) {
    if (p + 5 <= end && load<u32>(p) == 0x736c6166 && load<u8>(p + 4) == 0x65) return p + 5; // "false"
    pos = p;
    scanLiteral(0x736c6166, 4);
    if (err == 0) scanLiteral(0x65, 1);
    return pos;
  }
  fail(E.E_TOKEN, p);
  return p;
}

/** A string at p (its opening quote): the position after its closing quote. */
function skipString(p: usize): usize {
  let q = p + 1;
  if (ASC_FEATURE_SIMD) {
    const quote = i8x16.splat(0x22);
    const backslash = i8x16.splat(0x5c);
    const space = i8x16.splat(0x20);
    while (q + 16 <= end) {
      const v = v128.load(q);
      // a quote, a backslash, a control byte or non-ASCII (negative as a signed byte)
      const special = v128.or(
        v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)),
        v128.or(i8x16.lt_u(v, space), i8x16.lt_s(v, i8x16.splat(0))),
      );
      const mask = i8x16.bitmask(special);
      if (mask == 0) {
        q += 16;
        continue;
      }
      q += ctz(mask);
      if (load<u8>(q) == 0x22) return q + 1;
      return slowString(p);
    }
  }
  while (q < end) {
    const c = <u32>load<u8>(q);
    if (c == 0x22) return q + 1;
    if (c == 0x5c || c < 0x20 || c >= 0x80) break;
    q++;
  }
  return slowString(p);
}

/** Escapes, non-ASCII, control bytes or the end of input: the scanner's string function decides. */
function slowString(p: usize): usize {
  pos = p;
  scanString();
  return pos;
}

/** A number at p: its grammar only (RFC 8259), failing where scanNumber would. */
function skipNumber(p: usize): usize {
  if (load<u8>(p) == 0x2d) {
    p++;
    if (p >= end) {
      fail(E.E_NUMBER, p);
      return p;
    }
  }
  let c = <u32>load<u8>(p);
  if (c == 0x30) {
    p++;
    if (p < end && isDigit(<u32>load<u8>(p))) {
      fail(E.E_NUMBER, p); // leading zero
      return p;
    }
  } else if (isDigit(c)) {
    p++;
    while (p < end && isDigit(<u32>load<u8>(p))) p++;
  } else {
    fail(E.E_NUMBER, p);
    return p;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    const digits = p;
    while (p < end && isDigit(<u32>load<u8>(p))) p++;
    if (p == digits) {
      fail(E.E_NUMBER, p);
      return p;
    }
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    const digits = p;
    while (p < end && isDigit(<u32>load<u8>(p))) p++;
    if (p == digits) {
      fail(E.E_NUMBER, p);
      return p;
    }
  }
  return p;
}

function skipObject(p: usize): usize {
  depth++;
  if (depth > maxDepth) {
    fail(E.E_DEPTH, p);
    return p;
  }
  p = skipSpace(p + 1);
  if (p < end && load<u8>(p) == 0x7d) {
    depth--;
    return p + 1;
  }
  while (true) {
    if (p >= end) {
      fail(E.E_UNTERMINATED, p);
      return p;
    }
    if (load<u8>(p) != 0x22) {
      fail(E.E_TOKEN, p);
      return p;
    }
    p = skipSpace(skipString(p));
    if (err != 0) return p;
    if (p >= end) {
      fail(E.E_UNTERMINATED, p);
      return p;
    }
    if (load<u8>(p) != 0x3a) {
      fail(E.E_TOKEN, p);
      return p;
    }
    p = skipSpace(skipValue(skipSpace(p + 1)));
    if (err != 0) return p;
    if (p >= end) {
      fail(E.E_UNTERMINATED, p);
      return p;
    }
    const c = load<u8>(p);
    p++;
    if (c == 0x2c) {
      p = skipSpace(p);
      continue;
    }
    if (c == 0x7d) break;
    fail(E.E_TOKEN, p - 1);
    return p;
  }
  depth--;
  return p;
}

function skipArray(p: usize): usize {
  depth++;
  if (depth > maxDepth) {
    fail(E.E_DEPTH, p);
    return p;
  }
  p = skipSpace(p + 1);
  if (p < end && load<u8>(p) == 0x5d) {
    depth--;
    return p + 1;
  }
  while (true) {
    p = skipSpace(skipValue(p));
    if (err != 0) return p;
    if (p >= end) {
      fail(E.E_UNTERMINATED, p);
      return p;
    }
    const c = load<u8>(p);
    p++;
    if (c == 0x2c) {
      p = skipSpace(p);
      continue;
    }
    if (c == 0x5d) break;
    fail(E.E_TOKEN, p - 1);
    return p;
  }
  depth--;
  return p;
}

/** Any value at pos, checked against `node`. */
function scanValue(node: usize): void {
  if (node == anyNode && !taping) {
    pos = skipValue(pos);
    return;
  }
  if (pos >= end) {
    fail(E.E_UNTERMINATED, pos);
    return;
  }
  const start = pos;
  const c = <u32>load<u8>(pos);
  const types = load<u32>(node + N_TYPE);
  const flags = load<u32>(node + N_FLAGS);
  let entry: usize = 0;
  if (taping) {
    entry = tapeTop;
    tapeTop += TAPE_SIZE;
  }
  if ((flags & F_FALSE) != 0) valueFail(E.E_FALSE_SCHEMA, start, node);
  if (c == 0x22) {
    if ((types & T_STR) == 0) valueFail(E.E_TYPE, start, node);
    scanString();
    if (err != 0) return;
    if ((flags & F_STRING) != 0) checkString(node, flags, start);
  } else if (c == 0x7b) {
    if ((types & T_OBJ) == 0) valueFail(E.E_TYPE, start, node);
    scanObject(node, flags);
    if (err != 0) return;
    if ((flags & (F_ENUM | F_CONST)) != 0) valueFail(enumCode(flags), start, node);
  } else if (c == 0x5b) {
    if ((types & T_ARR) == 0) valueFail(E.E_TYPE, start, node);
    scanArray(node, flags);
    if (err != 0) return;
    if ((flags & (F_ENUM | F_CONST)) != 0) valueFail(enumCode(flags), start, node);
  } else if (c == 0x2d || isDigit(c)) {
    scanNumber();
    if (err != 0) return;
    checkNumber(node, types, flags, start);
  } else if (c == 0x74 || c == 0x66) {
    const isTrue = c == 0x74;
    if (isTrue) scanLiteral(0x65757274, 4); // "true"
    else scanLiteral(0x736c6166, 4); // "fals" ...
    if (err != 0) return;
    if (!isTrue) scanLiteral(0x65, 1); // ... "e"
    if (err != 0) return;
    if ((types & T_BOOL) == 0) valueFail(E.E_TYPE, start, node);
    if ((flags & (F_ENUM | F_CONST)) != 0 && !enumHasScalar(node, isTrue ? EK_TRUE : EK_FALSE)) {
      valueFail(enumCode(flags), start, node);
    }
  } else if (c == 0x6e) {
    scanLiteral(0x6c6c756e, 4); // "null"
    if (err != 0) return;
    if ((types & T_NULL) == 0) valueFail(E.E_TYPE, start, node);
    if ((flags & (F_ENUM | F_CONST)) != 0 && !enumHasScalar(node, EK_NULL)) valueFail(enumCode(flags), start, node);
  } else {
    fail(E.E_TOKEN, pos);
    return;
  }
  if (taping) tapeValue(entry, c, start);
  const slot = load<i32>(node + N_SLOT);
  if (slot >= 0) {
    const span = out + ((<usize>OUT_FIXED + (<usize>slot << 1)) << 2);
    store<i32>(span, <i32>(start - msg));
    store<i32>(span, <i32>(pos - msg), 4);
  }
}

// ---- the tape ---------------------------------------------------------------------------------------

function tapeString(entry: usize, start: usize): void {
  store<u32>(entry + TP_KIND, T_STR);
  store<u32>(entry + TP_START, <u32>start);
  store<u32>(entry + TP_END, <u32>pos);
  store<u32>(entry + TP_AUX, strCodePoints);
  store<u32>(entry + TP_NEXT, <u32>(entry + TAPE_SIZE));
  store<u32>(entry + TP_FLAGS, strEscaped ? TF_ESCAPED : 0);
}

/** Fills the entry of the value just scanned, which started with byte c at start. */
function tapeValue(entry: usize, c: u32, start: usize): void {
  if (c == 0x22) {
    tapeString(entry, start);
    return;
  }
  let kind: u32;
  let aux: u32 = 0;
  let tf: u32 = 0;
  if (c == 0x7b) {
    kind = T_OBJ;
    aux = lastCount;
  } else if (c == 0x5b) {
    kind = T_ARR;
    aux = lastCount;
  } else if (c == 0x74 || c == 0x66) {
    kind = T_BOOL;
    aux = c == 0x74 ? 1 : 0;
  } else if (c == 0x6e) {
    kind = T_NULL;
  } else {
    kind = T_NUM;
    if (numInteger == 1) tf |= TF_INTEGER;
    if (!numExact) tf |= TF_INEXACT;
    else store<f64>(entry + TP_NUMBER, numValue);
  }
  store<u32>(entry + TP_KIND, kind);
  store<u32>(entry + TP_START, <u32>start);
  store<u32>(entry + TP_END, <u32>pos);
  store<u32>(entry + TP_AUX, aux);
  store<u32>(entry + TP_NEXT, <u32>tapeTop);
  store<u32>(entry + TP_FLAGS, tf);
}

/** The exact double of a number entry (asking JS once for the few the scan did not compute). */
function tapeNumber(t: usize): f64 {
  const tf = load<u32>(t + TP_FLAGS);
  if ((tf & TF_INEXACT) != 0) {
    usedJs = true;
    const v = jsNumber(<usize>load<u32>(t + TP_START), <usize>load<u32>(t + TP_END));
    store<f64>(t + TP_NUMBER, v);
    store<u32>(t + TP_FLAGS, (tf & ~TF_INEXACT) | (Math.floor(v) == v ? TF_INTEGER : 0));
    return v;
  }
  return load<f64>(t + TP_NUMBER);
}

/** Whether two JSON strings (entries spanning their quotes) hold the same code points. */
function tapeStringsEqual(a: usize, b: usize): bool {
  const sa = <usize>load<u32>(a + TP_START) + 1;
  const ea = <usize>load<u32>(a + TP_END) - 1;
  const sb = <usize>load<u32>(b + TP_START) + 1;
  const eb = <usize>load<u32>(b + TP_END) - 1;
  if (((load<u32>(a + TP_FLAGS) | load<u32>(b + TP_FLAGS)) & TF_ESCAPED) == 0) {
    return ea - sa == eb - sb && memory.compare(sa, sb, ea - sa) == 0;
  }
  let p = sa;
  let q = sb;
  while (p < ea && q < eb) {
    decodeFrom(p);
    const x = nextJson();
    p = decodePos();
    decodeFrom(q);
    const y = nextJson();
    q = decodePos();
    if (x != y) return false;
  }
  return p >= ea && q >= eb;
}

/** JSON equality of two tape values (numbers by value: 1 equals 1.0; objects in any key order). */
function tapeEqual(a: usize, b: usize): bool {
  const kind = load<u32>(a + TP_KIND);
  if (kind != load<u32>(b + TP_KIND)) return false;
  if (kind == T_NUM) return tapeNumber(a) == tapeNumber(b);
  if (kind == T_STR) return tapeStringsEqual(a, b);
  if (kind == T_NULL) return true;
  const count = load<u32>(a + TP_AUX);
  if (count != load<u32>(b + TP_AUX)) return false;
  if (kind == T_BOOL) return true;
  let x = a + TAPE_SIZE;
  if (kind == T_ARR) {
    let y = b + TAPE_SIZE;
    for (let i: u32 = 0; i < count; i++) {
      if (!tapeEqual(x, y)) return false;
      x = <usize>load<u32>(x + TP_NEXT);
      y = <usize>load<u32>(y + TP_NEXT);
    }
    return true;
  }
  for (let i: u32 = 0; i < count; i++) {
    const xv = x + TAPE_SIZE;
    let y = b + TAPE_SIZE;
    let found = false;
    for (let j: u32 = 0; j < count; j++) {
      const yv = y + TAPE_SIZE;
      if (tapeStringsEqual(x, y)) {
        if (!tapeEqual(xv, yv)) return false;
        found = true;
        break;
      }
      y = <usize>load<u32>(yv + TP_NEXT);
    }
    if (!found) return false;
    x = <usize>load<u32>(xv + TP_NEXT);
  }
  return true;
}

/** The value entry of the member named by the UTF-8 bytes [name, name + len) of object t, or 0. */
function tapeMember(t: usize, name: usize, len: u32): usize {
  const count = load<u32>(t + TP_AUX);
  let k = t + TAPE_SIZE;
  for (let i: u32 = 0; i < count; i++) {
    const v = k + TAPE_SIZE;
    const s = <usize>load<u32>(k + TP_START) + 1;
    const e = <usize>load<u32>(k + TP_END) - 1;
    if ((load<u32>(k + TP_FLAGS) & TF_ESCAPED) != 0) {
      if (jsonEqualsUtf8(s, e, name, len)) return v;
    } else if (<u32>(e - s) == len && memory.compare(s, name, len) == 0) {
      return v;
    }
    k = <usize>load<u32>(v + TP_NEXT);
  }
  return 0;
}

// ---- rules on the tape ----------------------------------------------------------------------------

/** Whether tape value t holds under node; the first failure is recorded unless quiet. */
function evalNode(node: usize, t: usize): bool {
  if (err != 0) return false;
  if (evalDepth >= evalLimit) {
    fail(E.E_DEPTH, <usize>load<u32>(t + TP_START));
    return false;
  }
  const resource = load<u32>(node + N_RESOURCE);
  if (resource != 0 && (scope == 0 || load<u32>(scope) != resource)) {
    // entering another schema resource: it joins the dynamic scope while this evaluation lasts
    const saved = scope;
    const top = scratchTop;
    if (top + 8 > tapeEnd) {
      fail(E.E_DEPTH, <usize>load<u32>(t + TP_START));
      return false;
    }
    store<u32>(top, resource);
    store<u32>(top, <u32>saved, 4);
    scope = top;
    scratchTop = top + 8;
    evalDepth++;
    const ok = evalValue(node, t);
    evalDepth--;
    scope = saved;
    scratchTop = top;
    return ok && err == 0;
  }
  evalDepth++;
  const ok = evalValue(node, t);
  evalDepth--;
  return ok && err == 0;
}

/** The target of a dynamic reference: the node of the outermost resource in the dynamic scope with the anchor, else the static one. */
function dynamicTarget(ext: usize): usize {
  const count = load<u32>(ext + X_DYNAMIC_COUNT);
  const table = <usize>load<u32>(ext + X_DYNAMIC);
  let found: usize = 0;
  for (let entry = scope; entry != 0; entry = <usize>load<u32>(entry, 4)) {
    const resource = load<u32>(entry);
    for (let i: u32 = 0; i < count; i++) {
      if (load<u32>(table + (<usize>i << 3)) == resource) found = <usize>load<u32>(table + (<usize>i << 3), 4);
    }
  }
  return found != 0 ? found : <usize>load<u32>(ext + X_DYNAMIC_FALLBACK);
}

function evalQuiet(node: usize, t: usize): bool {
  quiet++;
  const ok = evalNode(node, t);
  quiet--;
  return ok;
}

/** A member or element: its own instance, whose annotations are not its parent's. */
function evalChild(node: usize, t: usize): bool {
  const saved = marks;
  marks = 0;
  const ok = evalNode(node, t);
  marks = saved;
  return ok;
}

function evalChildQuiet(node: usize, t: usize): bool {
  quiet++;
  const ok = evalChild(node, t);
  quiet--;
  return ok;
}

@inline function bitWords(t: usize): usize {
  const kind = load<u32>(t + TP_KIND);
  return kind == T_OBJ || kind == T_ARR ? (<usize>load<u32>(t + TP_AUX) + 31) >> 5 : 1;
}

/** A zeroed bit set of `words` words from the scratch; 0 (and E_DEPTH) when the scratch is exhausted. */
function allocBits(words: usize): usize {
  const at = scratchTop;
  if (at + (words << 2) > tapeEnd) {
    fail(E.E_DEPTH, msg);
    return 0;
  }
  memory.fill(at, 0, words << 2);
  scratchTop = at + (words << 2);
  return at;
}

@inline function markBit(i: u32): void {
  if (marks != 0) {
    const word = marks + (<usize>(i >> 5) << 2);
    store<u32>(word, load<u32>(word) | (<u32>1 << (i & 31)));
  }
}

/** Adds the members marked in `from` to the bit set `into` (`words` u32 words each). */
@inline function mergeBits(into: usize, from: usize, words: usize): void {
  for (let w: usize = 0; w < words; w++) store<u32>(into + (w << 2), load<u32>(into + (w << 2)) | load<u32>(from + (w << 2)));
}

/**
 * A subschema applied in place whose annotations count only if it holds (anyOf, oneOf, if):
 * evaluated into a bit set of its own, merged into the collecting one when it holds.
 */
function evalBranch(node: usize, t: usize): bool {
  if (marks == 0) return evalQuiet(node, t);
  const saved = marks;
  const top = scratchTop;
  const words = bitWords(t);
  const own = allocBits(words);
  if (own == 0) return false;
  marks = own;
  const ok = evalQuiet(node, t);
  marks = saved;
  if (ok) mergeBits(saved, own, words);
  scratchTop = top;
  return ok;
}

function evalValue(node: usize, t: usize): bool {
  const ext = <usize>load<u32>(node + N_EXT);
  const kind = load<u32>(t + TP_KIND);
  const unevaluated: usize = ext == 0 || (kind != T_OBJ && kind != T_ARR) ? <usize>0 : <usize>load<u32>(ext + (kind == T_OBJ ? X_UNEVALUATED_PROPERTIES : X_UNEVALUATED_ITEMS));
  if (unevaluated == 0) return evalKeywords(node, t);
  // unevaluatedProperties/Items: what this node's keywords (and the applicators in place) evaluated, then the rest
  const saved = marks;
  const top = scratchTop;
  const words = bitWords(t);
  const own = allocBits(words);
  if (own == 0) return false;
  marks = own;
  let ok = evalKeywords(node, t);
  marks = saved;
  if (ok) ok = evalUnevaluated(node, unevaluated, t, kind, own);
  if (ok && saved != 0) mergeBits(saved, own, words);
  scratchTop = top;
  return ok;
}

function evalUnevaluated(node: usize, unevaluated: usize, t: usize, kind: u32, own: usize): bool {
  const count = load<u32>(t + TP_AUX);
  const entryPath = pathStack + (<usize>depth << 3);
  const refuse = (load<u32>(unevaluated + N_FLAGS) & F_FALSE) != 0;
  let e = t + TAPE_SIZE;
  for (let i: u32 = 0; i < count; i++) {
    let v = e;
    let at = <usize>load<u32>(e + TP_START);
    if (kind == T_OBJ) {
      v = e + TAPE_SIZE;
      const keyStart = at + 1;
      store<i32>(entryPath, <i32>(keyStart - msg));
      store<i32>(entryPath, <i32>(<usize>load<u32>(e + TP_END) - 1 - keyStart), 4);
    } else {
      store<i32>(entryPath, PATH_INDEX);
      store<i32>(entryPath, <i32>i, 4);
    }
    if ((load<u32>(own + (<usize>(i >> 5) << 2)) & (<u32>1 << (i & 31))) == 0) {
      depth++;
      let held = true;
      if (refuse) {
        // (a property is named in the path, as for additionalProperties; an item's path is its array, as ajv has it)
        ruleFail(E.E_UNEVALUATED, at, node, kind == T_OBJ ? depth : depth - 1, 0, 0, false);
        held = false;
      } else {
        held = evalChild(unevaluated, v);
      }
      depth--;
      if (!held) return false;
      store<u32>(own + (<usize>(i >> 5) << 2), load<u32>(own + (<usize>(i >> 5) << 2)) | (<u32>1 << (i & 31)));
    }
    e = <usize>load<u32>(v + TP_NEXT);
  }
  return true;
}

function evalKeywords(node: usize, t: usize): bool {
  const types = load<u32>(node + N_TYPE);
  const flags = load<u32>(node + N_FLAGS);
  const kind = load<u32>(t + TP_KIND);
  const start = <usize>load<u32>(t + TP_START);
  const ext = <usize>load<u32>(node + N_EXT);
  if ((flags & F_FALSE) != 0) {
    valueFail(E.E_FALSE_SCHEMA, start, node);
    return false;
  }
  const before = failures;
  if (kind == T_NUM) {
    const tf = load<u32>(t + TP_FLAGS);
    numExact = (tf & TF_INEXACT) == 0;
    numValue = numExact ? load<f64>(t + TP_NUMBER) : 0;
    numInteger = (tf & TF_INTEGER) != 0 ? 1 : numExact ? 0 : -1;
    pos = <usize>load<u32>(t + TP_END);
    checkNumber(node, types, flags, start);
    if (failures != before) return false;
  } else if ((types & kind) == 0) {
    valueFail(E.E_TYPE, start, node);
    return false;
  } else if (kind == T_STR) {
    pos = <usize>load<u32>(t + TP_END);
    strCodePoints = load<u32>(t + TP_AUX);
    strEscaped = (load<u32>(t + TP_FLAGS) & TF_ESCAPED) != 0;
    if ((flags & F_STRING) != 0) checkString(node, flags, start);
    if (failures != before) return false;
  } else if (kind == T_OBJ) {
    if (!evalObject(node, flags, ext, t)) return false;
  } else if (kind == T_ARR) {
    if (!evalArray(node, flags, ext, t)) return false;
  }
  // (failures counts the scalar checks above only: a container's members may fail quietly inside anyOf, ...)
  if (err != 0) return false;
  if ((flags & (F_ENUM | F_CONST)) != 0) {
    let member: bool;
    if (kind == T_BOOL) member = enumHasScalar(node, load<u32>(t + TP_AUX) != 0 ? EK_TRUE : EK_FALSE);
    else if (kind == T_NULL) member = enumHasScalar(node, EK_NULL);
    else if (kind == T_OBJ || kind == T_ARR) member = deepMember(ext, t);
    else member = true; // strings and numbers: checked above
    if (!member) {
      valueFail(enumCode(flags), start, node);
      return false;
    }
  }
  if (ext == 0) return true;
  return evalApplicators(node, ext, t, kind, start);
}

/** Decodes the string contents [s, e) as code points into the scratch and checks the format. */
function checkFormat(kind: u32, s: usize, e: usize): bool {
  // valid as bytes is valid as code points; anything else (escapes too) takes the decoding path
  if (kind == FMT_UUID && e - s == 36 && uuidBytes(s)) return true;
  const buffer = (scratchTop + 3) & ~(<usize>3);
  if (buffer + ((e - s) << 2) > tapeEnd) {
    fail(E.E_DEPTH, s);
    return false;
  }
  let n: i32 = 0;
  let p = s;
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (c < 0x80 && c != 0x5c) {
      store<u32>(buffer + (<usize>n << 2), c); // ASCII, the common case of every format
      p++;
    } else {
      decodeFrom(p);
      store<u32>(buffer + (<usize>n << 2), <u32>nextJson());
      p = decodePos();
    }
    n++;
  }
  return formatValid(kind, buffer, n);
}

function deepMember(ext: usize, t: usize): bool {
  if (ext == 0) return false;
  const count = load<u32>(ext + X_DEEP_COUNT);
  const list = <usize>load<u32>(ext + X_DEEP);
  for (let i: u32 = 0; i < count; i++) {
    if (tapeEqual(<usize>load<u32>(list + (<usize>i << 2)), t)) return true;
  }
  return false;
}

function evalApplicators(node: usize, ext: usize, t: usize, kind: u32, start: usize): bool {
  const xf = load<u32>(ext + X_FLAGS);
  if (kind == T_NUM && (xf & XF_MULTIPLE_OF) != 0) {
    const q = tapeNumber(t) / load<f64>(ext + X_MULTIPLE_OF);
    if (!isFinite(q) || Math.floor(q) != q) {
      valueFail(E.E_MULTIPLE_OF, start, node);
      return false;
    }
  }
  if (load<u32>(ext + X_DYNAMIC_FALLBACK) != 0 && !evalNode(dynamicTarget(ext), t)) return false;
  let count = load<u32>(ext + X_ALL_COUNT);
  let list = <usize>load<u32>(ext + X_ALL);
  for (let i: u32 = 0; i < count; i++) {
    if (!evalNode(<usize>load<u32>(list + (<usize>i << 2)), t)) return false;
  }
  count = load<u32>(ext + X_ANY_COUNT);
  if (count != 0) {
    list = <usize>load<u32>(ext + X_ANY);
    let any = false;
    // (every branch when annotations are collected: each passing one counts)
    for (let i: u32 = 0; i < count && (!any || marks != 0); i++) {
      if (evalBranch(<usize>load<u32>(list + (<usize>i << 2)), t)) any = true;
    }
    if (err != 0) return false;
    if (!any) {
      valueFail(E.E_ANY_OF, start, node);
      return false;
    }
  }
  count = load<u32>(ext + X_ONE_COUNT);
  if (count != 0) {
    list = <usize>load<u32>(ext + X_ONE);
    let passed: u32 = 0;
    for (let i: u32 = 0; i < count && passed < 2; i++) {
      if (evalBranch(<usize>load<u32>(list + (<usize>i << 2)), t)) passed++;
    }
    if (err != 0) return false;
    if (passed != 1) {
      valueFail(E.E_ONE_OF, start, node);
      return false;
    }
  }
  const not = <usize>load<u32>(ext + X_NOT);
  if (not != 0) {
    const saved = marks;
    marks = 0;
    const held = evalQuiet(not, t);
    marks = saved;
    if (err != 0) return false;
    if (held) {
      valueFail(E.E_NOT, start, node);
      return false;
    }
  }
  const ifNode = <usize>load<u32>(ext + X_IF);
  if (ifNode != 0) {
    const held = evalBranch(ifNode, t);
    if (err != 0) return false;
    const branch = <usize>load<u32>(ext + (held ? X_THEN : X_ELSE));
    if (branch != 0 && !evalNode(branch, t)) return false;
  }
  return true;
}

function evalObject(node: usize, flags: u32, ext: usize, t: usize): bool {
  const start = <usize>load<u32>(t + TP_START);
  const count = load<u32>(t + TP_AUX);
  const propCount = load<u32>(node + N_PROP_COUNT);
  const props = <usize>load<u32>(node + N_PROPS);
  const seenWords = load<u32>(node + N_SEEN_WORDS);
  const seen = seenTop;
  if (seenWords != 0) {
    memory.fill(seen, 0, <usize>seenWords << 2);
    seenTop += <usize>seenWords << 2;
  }
  const ok = evalMembers(node, flags, ext, t, count, propCount, props, seen) && evalObjectWhole(node, ext, t, start, count, propCount, props, seen);
  seenTop = seen;
  return ok;
}

function evalMembers(node: usize, flags: u32, ext: usize, t: usize, count: u32, propCount: u32, props: usize, seen: usize): bool {
  const patternCount = ext != 0 ? load<u32>(ext + X_PATTERN_COUNT) : 0;
  const patterns = ext != 0 ? <usize>load<u32>(ext + X_PATTERNS) : 0;
  const additional = ext != 0 ? <usize>load<u32>(ext + X_ADDITIONAL) : 0;
  const names = ext != 0 ? <usize>load<u32>(ext + X_PROPERTY_NAMES) : 0;
  const entryPath = pathStack + (<usize>depth << 3);
  let hint: u32 = 0;
  let k = t + TAPE_SIZE;
  for (let i: u32 = 0; i < count; i++) {
    const v = k + TAPE_SIZE;
    const keyStart = <usize>load<u32>(k + TP_START) + 1;
    const keyEnd = <usize>load<u32>(k + TP_END) - 1;
    store<i32>(entryPath, <i32>(keyStart - msg));
    store<i32>(entryPath, <i32>(keyEnd - keyStart), 4);
    if (names != 0 && !evalChild(names, k)) return false;
    let matched = false;
    depth++;
    const index = propCount != 0 ? findProperty(props, propCount, keyStart, keyEnd, (load<u32>(k + TP_FLAGS) & TF_ESCAPED) != 0, hint) : -1;
    if (index >= 0) {
      hint = <u32>index + 1;
      const word = seen + (<usize>(<u32>index >> 5) << 2);
      const bit: u32 = 1 << (<u32>index & 31);
      const bits = load<u32>(word);
      const entry = props + <usize>index * PROP_SIZE;
      const propFlags = load<u32>(entry + P_FLAGS);
      if ((bits & bit) != 0 && (propFlags & PF_NO_DUPLICATE_CHECK) == 0) {
        fail(E.E_DUPLICATE_KEY, keyStart - 1);
        depth--;
        return false;
      }
      store<u32>(word, bits | bit);
      if ((propFlags & PF_SYNTHETIC) == 0) {
        matched = true;
        if (!evalChild(<usize>load<u32>(entry + P_CHILD), v)) {
          depth--;
          return false;
        }
      }
    }
    for (let p: u32 = 0; p < patternCount; p++) {
      const pattern = patterns + (<usize>p << 3);
      if (regexTest(<usize>load<u32>(pattern), keyStart, keyEnd)) {
        matched = true;
        if (!evalChild(<usize>load<u32>(pattern, 4), v)) {
          depth--;
          return false;
        }
      }
    }
    if (!matched) {
      if ((flags & F_NO_ADDITIONAL) != 0) {
        ruleFail(E.E_ADDITIONAL, keyStart - 1, node, depth, 0, 0, false);
        depth--;
        return false;
      }
      if (additional != 0) {
        if (!evalChild(additional, v)) {
          depth--;
          return false;
        }
        matched = true;
      }
    }
    if (matched) markBit(i);
    depth--;
    k = <usize>load<u32>(v + TP_NEXT);
  }
  return true;
}

function evalObjectWhole(node: usize, ext: usize, t: usize, start: usize, count: u32, propCount: u32, props: usize, seen: usize): bool {
  for (let i: u32 = 0; i < propCount; i++) {
    const entry = props + <usize>i * PROP_SIZE;
    if ((load<u32>(entry + P_FLAGS) & PF_REQUIRED) == 0) continue;
    if ((load<u32>(seen + (<usize>(i >> 5) << 2)) & (<u32>1 << (i & 31))) == 0) {
      ruleFail(E.E_REQUIRED, start, node, depth, PATH_PROP, <i32>entry, true);
      return false;
    }
  }
  if (ext == 0) return true;
  const xf = load<u32>(ext + X_FLAGS);
  if ((xf & XF_MIN_PROPERTIES) != 0 && count < load<u32>(ext + X_MIN_PROPERTIES)) {
    valueFail(E.E_MIN_PROPERTIES, start, node);
    return false;
  }
  if ((xf & XF_MAX_PROPERTIES) != 0 && count > load<u32>(ext + X_MAX_PROPERTIES)) {
    valueFail(E.E_MAX_PROPERTIES, start, node);
    return false;
  }
  let n = load<u32>(ext + X_DEP_REQUIRED_COUNT);
  let table = <usize>load<u32>(ext + X_DEP_REQUIRED);
  for (let i: u32 = 0; i < n; i++) {
    const entry = table + (<usize>i << 4);
    if (tapeMember(t, <usize>load<u32>(entry), load<u32>(entry, 4)) == 0) continue;
    const required = load<u32>(entry, 8);
    const names = <usize>load<u32>(entry, 12);
    for (let j: u32 = 0; j < required; j++) {
      if (tapeMember(t, <usize>load<u32>(names + (<usize>j << 3)), load<u32>(names + (<usize>j << 3), 4)) == 0) {
        valueFail(E.E_DEPENDENT_REQUIRED, start, node);
        return false;
      }
    }
  }
  n = load<u32>(ext + X_DEP_SCHEMA_COUNT);
  table = <usize>load<u32>(ext + X_DEP_SCHEMAS);
  for (let i: u32 = 0; i < n; i++) {
    const entry = table + <usize>i * 12;
    if (tapeMember(t, <usize>load<u32>(entry), load<u32>(entry, 4)) == 0) continue;
    if (!evalNode(<usize>load<u32>(entry, 8), t)) return false;
  }
  return true;
}

function evalArray(node: usize, flags: u32, ext: usize, t: usize): bool {
  const start = <usize>load<u32>(t + TP_START);
  const count = load<u32>(t + TP_AUX);
  const items = <usize>load<u32>(node + N_ITEMS);
  const prefixCount = ext != 0 ? load<u32>(ext + X_PREFIX_COUNT) : 0;
  const prefix = ext != 0 ? <usize>load<u32>(ext + X_PREFIX) : 0;
  const contains = ext != 0 ? <usize>load<u32>(ext + X_CONTAINS) : 0;
  const containsEvaluates = ext != 0 && (load<u32>(ext + X_FLAGS) & XF_CONTAINS_EVALUATES) != 0;
  const entryPath = pathStack + (<usize>depth << 3);
  let matches: u32 = 0;
  let e = t + TAPE_SIZE;
  for (let i: u32 = 0; i < count; i++) {
    store<i32>(entryPath, PATH_INDEX);
    store<i32>(entryPath, <i32>i, 4);
    const child = i < prefixCount ? <usize>load<u32>(prefix + (<usize>i << 2)) : items;
    depth++;
    const held = child == 0 || evalChild(child, e);
    if (child != 0) markBit(i);
    if (held && contains != 0 && evalChildQuiet(contains, e)) {
      matches++;
      if (containsEvaluates) markBit(i);
    }
    depth--;
    if (!held || err != 0) return false;
    e = <usize>load<u32>(e + TP_NEXT);
  }
  if ((flags & F_MIN_ITEMS) != 0 && count < load<u32>(node + N_MIN_ITEMS)) {
    valueFail(E.E_MIN_ITEMS, start, node);
    return false;
  }
  if ((flags & F_MAX_ITEMS) != 0 && count > load<u32>(node + N_MAX_ITEMS)) {
    valueFail(E.E_MAX_ITEMS, start, node);
    return false;
  }
  if (ext == 0) return true;
  const xf = load<u32>(ext + X_FLAGS);
  if (contains != 0) {
    if (matches < load<u32>(ext + X_MIN_CONTAINS) || ((xf & XF_MAX_CONTAINS) != 0 && matches > load<u32>(ext + X_MAX_CONTAINS))) {
      valueFail(E.E_CONTAINS, start, node);
      return false;
    }
  }
  if ((xf & XF_UNIQUE) != 0 && count > 1) {
    let a = t + TAPE_SIZE;
    for (let i: u32 = 0; i < count; i++) {
      let b = <usize>load<u32>(a + TP_NEXT);
      for (let j = i + 1; j < count; j++) {
        if (tapeEqual(a, b)) {
          valueFail(E.E_UNIQUE_ITEMS, start, node);
          return false;
        }
        b = <usize>load<u32>(b + TP_NEXT);
      }
      a = <usize>load<u32>(a + TP_NEXT);
    }
  }
  return true;
}

// ---- a message ----------------------------------------------------------------------------------

/** Validates the message at [at, at + len) and writes its verdict record at `record`. */
export function scanMessage(at: usize, len: u32, record: usize, pathStart: i32): i32 {
  msg = at;
  pos = at;
  end = at + len;
  out = record;
  depth = 0;
  seenTop = seenBase;
  pathTop = pathStart;
  err = 0;
  rule = 0;
  usedJs = false;
  tapeTop = tapeBase;
  for (let i: u32 = 0; i < slotCount; i++) {
    const span = record + ((OUT_FIXED + (i << 1)) << 2);
    store<i32>(span, -1);
    store<i32>(span, -1, 4);
  }
  if (len > maxSize || at == 0) {
    fail(E.E_SIZE, at + <usize>maxSize);
  } else {
    skipWhitespace();
    if (pos >= end) {
      fail(E.E_EMPTY, pos);
    } else {
      // a format's code points (the scan runs the rules): past the messages, where a tape would go
      scratchTop = (tapeBase + 3) & ~(<usize>3);
      scanValue(rootNode);
      if (err == 0) {
        skipWhitespace();
        if (pos < end) fail(E.E_TRAILING, pos);
      }
      if (taping && err == 0) {
        depth = 0;
        seenTop = seenBase;
        evalDepth = 0;
        quiet = 0;
        marks = 0;
        scope = 0;
        scratchTop = (tapeTop + 3) & ~(<usize>3);
        evalNode(evalRoot, tapeBase);
      }
    }
  }
  return writeRecord(record, pathStart);
}

/** Writes the verdict of the evaluation just run to `record`; returns the next free error-path entry. */
function writeRecord(record: usize, pathStart: i32): i32 {
  store<u32>(record + O_FLAGS, 0);
  if (err != 0) {
    store<i32>(record + O_CODE, err);
    store<i32>(record + O_OFFSET, <i32>(errAt - msg));
    store<i32>(record + O_PATH_START, pathStart);
    store<i32>(record + O_PATH_LEN, 0);
    store<u32>(record + O_NODE, 0);
    return pathStart;
  }
  if (usedJs) store<u32>(record + O_FLAGS, OF_USED_JS);
  store<i32>(record + O_CODE, rule);
  if (rule != 0) {
    store<i32>(record + O_OFFSET, <i32>(ruleAt - msg));
    store<i32>(record + O_PATH_START, rulePathStart);
    store<i32>(record + O_PATH_LEN, rulePathLen);
    store<u32>(record + O_NODE, <u32>ruleNode);
    return pathTop;
  }
  store<i32>(record + O_OFFSET, 0);
  store<i32>(record + O_PATH_START, pathStart);
  store<i32>(record + O_PATH_LEN, 0);
  store<u32>(record + O_NODE, 0);
  return pathStart;
}

/**
 * Why a branch of a failed anyOf/oneOf failed: re-scans the message (rebuilding its tape), then
 * evaluates `branch` alone on the value at byte `offset`, writing its first failure to `record`
 * with a path relative to that value. Runs for failed messages only, on request.
 */
export function explainBranch(at: usize, len: u32, record: usize, pathStart: i32, branch: usize, offset: u32): void {
  scanMessage(at, len, record, pathStart);
  if (!taping || err != 0) return;
  const target = at + <usize>offset;
  let t = tapeBase;
  while (t < tapeTop && <usize>load<u32>(t + TP_START) != target) t += TAPE_SIZE;
  if (t >= tapeTop) return;
  err = 0;
  rule = 0;
  usedJs = false;
  depth = 0;
  seenTop = seenBase;
  pathTop = pathStart;
  evalDepth = 0;
  quiet = 0;
  marks = 0;
  scope = 0;
  scratchTop = (tapeTop + 3) & ~(<usize>3);
  evalNode(branch, t);
  writeRecord(record, pathStart);
}
