// Formats the core asserts (`format` with assertFormats): each a check over a string's code
// points, decoded by the caller into a u32 buffer. Written from the RFCs the JSON Schema
// specification names (RFC 3339 dates and times, RFC 4122 UUIDs, RFC 2673/4291 addresses,
// RFC 1123 host names, RFC 5321 mailboxes, RFC 3986 URIs, RFC 6901 JSON Pointers).
import {
  FMT_DATE, FMT_DATE_TIME, FMT_DURATION, FMT_EMAIL, FMT_HOSTNAME, FMT_IPV4, FMT_IPV6, FMT_JSON_POINTER,
  FMT_JS, FMT_RELATIVE_JSON_POINTER, FMT_TIME, FMT_URI, FMT_URI_REFERENCE, FMT_UUID,
} from './layout';

let buf: usize = 0;
/** A host name checked by hostname() had an A-label (xn--): its IDNA validity is left to JS. */
let sawALabel: bool = false;
/** Set by formatValid: the value passed the core's part of the format, and JS must decide the rest. */
export let formatNeedsJs: bool = false;

@inline function at(i: i32): u32 {
  return load<u32>(buf + (<usize>i << 2));
}

@inline function isDigitAt(i: i32): bool {
  return at(i) - 0x30 < 10;
}

@inline function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

@inline function isAlpha(c: u32): bool {
  return (c | 0x20) - 0x61 < 26;
}

/** The value of the n ASCII digits at i, or -1. */
function digits(i: i32, n: i32): i32 {
  let v: i32 = 0;
  for (let k: i32 = 0; k < n; k++) {
    if (!isDigitAt(i + k)) return -1;
    v = v * 10 + <i32>(at(i + k) - 0x30);
  }
  return v;
}

function fullDate(i: i32, n: i32): bool {
  if (n != 10 || at(i + 4) != 0x2d || at(i + 7) != 0x2d) return false;
  const year = digits(i, 4);
  const month = digits(i + 5, 2);
  const day = digits(i + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  let days: i32 = 31;
  if (month == 4 || month == 6 || month == 9 || month == 11) days = 30;
  else if (month == 2) days = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28;
  return day <= days;
}

/** RFC 3339 full-time: HH:MM:SS[.frac](Z|±HH:MM); a leap second only at 23:59:60 UTC. */
function fullTime(i: i32, n: i32): bool {
  if (n < 9 || at(i + 2) != 0x3a || at(i + 5) != 0x3a) return false;
  const hour = digits(i, 2);
  const minute = digits(i + 3, 2);
  const second = digits(i + 6, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let p = i + 8;
  const end = i + n;
  if (p < end && at(p) == 0x2e) {
    p++;
    const fracStart = p;
    while (p < end && isDigitAt(p)) p++;
    if (p == fracStart) return false;
  }
  if (p >= end) return false;
  let offsetMinutes: i32 = 0;
  const z = at(p) | 0x20;
  if (z == 0x7a) {
    p++;
  } else if (at(p) == 0x2b || at(p) == 0x2d) {
    if (end - p != 6 || at(p + 3) != 0x3a) return false;
    const oh = digits(p + 1, 2);
    const om = digits(p + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    offsetMinutes = (oh * 60 + om) * (at(p) == 0x2d ? -1 : 1);
    p += 6;
  } else {
    return false;
  }
  if (p != end) return false;
  if (second == 60) {
    const utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

function dateTime(n: i32): bool {
  if (n < 20 || (at(10) | 0x20) != 0x74) return false;
  return fullDate(0, 10) && fullTime(11, n - 11);
}

function uuid(n: i32): bool {
  if (n != 36) return false;
  for (let i: i32 = 0; i < 36; i++) {
    const c = at(i);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != 0x2d) return false;
    } else if (!isHex(c)) {
      return false;
    }
  }
  return true;
}

/** The bytes of `v` that are hex digits, one bit each. */
@inline function hexBits(v: v128): i32 {
  const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
  const letter = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61)), i8x16.splat(6));
  return i8x16.bitmask(v128.or(digit, letter));
}

/** A UUID written as 36 plain ASCII bytes at p (how producers write one): checked without decoding. */
export function uuidBytes(p: usize): bool {
  if (ASC_FEATURE_SIMD) {
    // hyphens at 8 and 13 of the first 16 bytes, at 2 and 7 (18, 23) of the next; hex elsewhere
    const dash = i8x16.splat(0x2d);
    const head = v128.load(p);
    const middle = v128.load(p + 16);
    if (i8x16.bitmask(i8x16.eq(head, dash)) != 0x2100 || hexBits(head) != 0xdeff) return false;
    if (i8x16.bitmask(i8x16.eq(middle, dash)) != 0x0084 || hexBits(middle) != 0xff7b) return false;
    for (let i: usize = 32; i < 36; i++) if (!isHex(<u32>load<u8>(p + i))) return false;
    return true;
  }
  for (let i: usize = 0; i < 36; i++) {
    const c = <u32>load<u8>(p + i);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != 0x2d) return false;
    } else if (!isHex(c)) {
      return false;
    }
  }
  return true;
}

/** Dotted quad at [i, end): four decimal octets 0-255 without leading zeros. */
function ipv4(i: i32, end: i32): bool {
  let parts: i32 = 0;
  let p = i;
  while (true) {
    const start = p;
    let v: i32 = 0;
    while (p < end && isDigitAt(p) && p - start < 4) {
      v = v * 10 + <i32>(at(p) - 0x30);
      p++;
    }
    const len = p - start;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && at(start) == 0x30)) return false;
    parts++;
    if (p == end) break;
    if (at(p) != 0x2e || parts == 4) return false;
    p++;
  }
  return parts == 4;
}

/** RFC 4291 text form at [i, end): up to 8 groups, one `::`, an IPv4 tail in the last 32 bits. */
function ipv6(i: i32, end: i32): bool {
  let groups: i32 = 0;
  let compressed = false;
  let p = i;
  if (end - i < 2) return false;
  if (at(p) == 0x3a) {
    if (at(p + 1) != 0x3a) return false;
    compressed = true;
    p += 2;
    if (p == end) return true;
  }
  while (p < end) {
    const start = p;
    while (p < end && isHex(at(p)) && p - start < 5) p++;
    const len = p - start;
    if (p < end && at(p) == 0x2e) {
      // an IPv4 tail: from start to the end
      if (!ipv4(start, end)) return false;
      groups += 2;
      p = end;
      break;
    }
    if (len == 0 || len > 4) return false;
    groups++;
    if (p == end) break;
    if (at(p) != 0x3a) return false;
    p++;
    if (p < end && at(p) == 0x3a) {
      if (compressed) return false;
      compressed = true;
      p++;
      if (p == end) break;
    } else if (p == end) {
      return false; // a trailing single colon
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

/** RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens, 253 at most. */
function hostname(i: i32, end: i32): bool {
  const n = end - i;
  if (n < 1 || n > 253) return false;
  let p = i;
  while (true) {
    const start = p;
    while (p < end && at(p) != 0x2e) {
      const c = at(p);
      if (!(isAlpha(c) || c - 0x30 < 10 || c == 0x2d)) return false;
      p++;
    }
    const len = p - start;
    if (len < 1 || len > 63 || at(start) == 0x2d || at(p - 1) == 0x2d) return false;
    // "--" in the third and fourth places is reserved for A-labels (xn--)
    if (len >= 4 && at(start + 2) == 0x2d && at(start + 3) == 0x2d) {
      if (!((at(start) | 0x20) == 0x78 && (at(start + 1) | 0x20) == 0x6e)) return false;
      sawALabel = true;
    }
    if (p == end) return true;
    p++; // the dot
    if (p == end) return false;
  }
}

@inline function isAtext(c: u32): bool {
  return isAlpha(c) || c - 0x30 < 10 || c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b ||
    c == 0x2d || c == 0x2f || c == 0x3d || c == 0x3f || (c >= 0x5e && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/** RFC 5321 mailbox: dot-atom or quoted local part, @, a host name or an address literal. */
function email(n: i32): bool {
  let p: i32 = 0;
  if (n == 0) return false;
  if (at(0) == 0x22) {
    p = 1;
    while (p < n && at(p) != 0x22) {
      const c = at(p);
      if (c == 0x5c) {
        p++;
        if (p >= n || at(p) < 0x20 || at(p) > 0x7e) return false;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      }
      p++;
    }
    if (p >= n) return false;
    p++;
  } else {
    let last: u32 = 0x2e;
    while (p < n && at(p) != 0x40) {
      const c = at(p);
      if (c == 0x2e) {
        if (last == 0x2e) return false;
      } else if (!isAtext(c)) {
        return false;
      }
      last = c;
      p++;
    }
    if (last == 0x2e) return false;
  }
  if (p >= n || at(p) != 0x40) return false;
  p++;
  if (p < n && at(p) == 0x5b) {
    if (at(n - 1) != 0x5d) return false;
    if (n - p > 6 && at(p + 1) == 0x49 && at(p + 2) == 0x50 && at(p + 3) == 0x76 && at(p + 4) == 0x36 && at(p + 5) == 0x3a) return ipv6(p + 6, n - 1);
    return ipv4(p + 1, n - 1);
  }
  return hostname(p, n);
}

@inline function isUnreserved(c: u32): bool {
  return isAlpha(c) || c - 0x30 < 10 || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e;
}

@inline function isSubDelim(c: u32): bool {
  return c == 0x21 || c == 0x24 || (c >= 0x26 && c <= 0x2c) || c == 0x3b || c == 0x3d;
}

/** Whether [i, end) holds only pchars, "/", "?" (and "#" once, then query characters), with sound %XX. */
function uriRest(i: i32, end: i32, fragmentSeen: bool): bool {
  let fragment = fragmentSeen;
  for (let p = i; p < end; p++) {
    const c = at(p);
    if (c == 0x25) {
      if (p + 2 >= end || !isHex(at(p + 1)) || !isHex(at(p + 2))) return false;
      p += 2;
    } else if (c == 0x23) {
      if (fragment) return false;
      fragment = true;
    } else if (!(isUnreserved(c) || isSubDelim(c) || c == 0x3a || c == 0x40 || c == 0x2f || c == 0x3f)) {
      return false;
    }
  }
  return true;
}

/** The authority at [i, end) ("//" excluded): [userinfo@]host[:port], host a name, IPv4 or [IPv6]. */
function authority(i: i32, end: i32): bool {
  let p = i;
  for (let q = i; q < end; q++) {
    if (at(q) == 0x40) {
      if (p != i) return false; // one userinfo at most
      p = q + 1;
    }
  }
  if (!uriRest(i, p, true)) return false;
  if (p < end && at(p) == 0x5b) {
    let close = p;
    while (close < end && at(close) != 0x5d) close++;
    if (close == end || !ipv6(p + 1, close)) return false;
    p = close + 1;
  } else {
    while (p < end && at(p) != 0x3a) {
      const c = at(p);
      if (c == 0x25) {
        if (p + 2 >= end || !isHex(at(p + 1)) || !isHex(at(p + 2))) return false;
        p += 2;
      } else if (!(isUnreserved(c) || isSubDelim(c))) {
        return false;
      }
      p++;
    }
  }
  if (p < end) {
    if (at(p) != 0x3a) return false;
    for (let q = p + 1; q < end; q++) if (!isDigitAt(q)) return false;
  }
  return true;
}

/** RFC 3986: an absolute URI (scheme required) or, when `reference`, a relative reference too. */
function uri(n: i32, reference: bool): bool {
  let p: i32 = 0;
  let schemeEnd: i32 = -1;
  if (n > 0 && isAlpha(at(0))) {
    let q: i32 = 1;
    while (q < n && (isAlpha(at(q)) || isDigitAt(q) || at(q) == 0x2b || at(q) == 0x2d || at(q) == 0x2e)) q++;
    if (q < n && at(q) == 0x3a) schemeEnd = q;
  }
  if (schemeEnd < 0 && !reference) return false;
  if (schemeEnd >= 0) p = schemeEnd + 1;
  else {
    // a relative reference: no ":" before the first "/"
    for (let q: i32 = 0; q < n && at(q) != 0x2f && at(q) != 0x3f && at(q) != 0x23; q++) if (at(q) == 0x3a) return false;
  }
  if (p + 1 < n && at(p) == 0x2f && at(p + 1) == 0x2f) {
    let q = p + 2;
    while (q < n && at(q) != 0x2f && at(q) != 0x3f && at(q) != 0x23) q++;
    if (!authority(p + 2, q)) return false;
    p = q;
  }
  // no "[" or "]" outside the authority; the rest is path, query and fragment
  return uriRest(p, n, false);
}

function jsonPointer(i: i32, n: i32): bool {
  if (i == n) return true;
  if (at(i) != 0x2f) return false;
  for (let p = i; p < n; p++) {
    if (at(p) == 0x7e && (p + 1 >= n || (at(p + 1) != 0x30 && at(p + 1) != 0x31))) return false;
  }
  return true;
}

function relativeJsonPointer(n: i32): bool {
  let p: i32 = 0;
  while (p < n && isDigitAt(p)) p++;
  if (p == 0 || (p > 1 && at(0) == 0x30)) return false;
  if (p < n && at(p) == 0x23) return p + 1 == n;
  return jsonPointer(p, n);
}

/** RFC 3339 appendix A duration: P(nY)(nM)(nD)(T(nH)(nM)(nS)), or PnW. */
function duration(n: i32): bool {
  if (n < 2 || at(0) != 0x50) return false;
  let p: i32 = 1;
  let inTime = false;
  let order: i32 = 0; // designators seen so far, in their order: Y M D | H M S
  let any = false;
  while (p < n) {
    if (at(p) == 0x54) {
      if (inTime) return false;
      inTime = true;
      p++;
      if (p == n) return false;
      continue;
    }
    const start = p;
    while (p < n && isDigitAt(p)) p++;
    if (p == start || p == n) return false;
    const d = at(p);
    let rank: i32;
    if (!inTime) {
      if (d == 0x59) rank = 1;
      else if (d == 0x4d) rank = 2;
      else if (d == 0x44) rank = 3;
      else if (d == 0x57) {
        return start == 1 && p + 1 == n; // weeks stand alone
      } else return false;
    } else {
      if (d == 0x48) rank = 4;
      else if (d == 0x4d) rank = 5;
      else if (d == 0x53) rank = 6;
      else return false;
    }
    // each part's designators are consecutive from its first: Y[M[D]], M[D], D; H[M[S]], M[S], S
    if (rank <= order) return false;
    if (inTime ? order >= 4 && rank != order + 1 : order != 0 && rank != order + 1) return false;
    order = rank;
    any = true;
    p++;
  }
  return any && (!inTime || order >= 4);
}

/** Whether the code points at [at, at + 4n) are valid in format `kind`. */
export function formatValid(kind: u32, codePoints: usize, n: i32): bool {
  buf = codePoints;
  formatNeedsJs = false;
  switch (kind) {
    case FMT_DATE: return fullDate(0, n);
    case FMT_TIME: return fullTime(0, n);
    case FMT_DATE_TIME: return dateTime(n);
    case FMT_UUID: return uuid(n);
    case FMT_IPV4: return ipv4(0, n);
    case FMT_IPV6: return ipv6(0, n);
    case FMT_HOSTNAME: {
      sawALabel = false;
      const valid = hostname(0, n);
      formatNeedsJs = valid && sawALabel;
      return valid;
    }
    case FMT_EMAIL: return email(n);
    case FMT_URI: return uri(n, false);
    case FMT_URI_REFERENCE: return uri(n, true);
    case FMT_JSON_POINTER: return jsonPointer(0, n);
    case FMT_RELATIVE_JSON_POINTER: return relativeJsonPointer(n);
    case FMT_DURATION: return duration(n);
    case FMT_JS: {
      formatNeedsJs = true;
      return true;
    }
    default: return true;
  }
}
