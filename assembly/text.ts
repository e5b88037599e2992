// Code point decoding over bytes the scanner has already validated: JSON string contents (with
// escapes) and plain UTF-8 (names and enum strings in the rule program). No bounds or validity
// checks here: callers decode only what scanString accepted.

let cursor: usize = 0;

/** Position the decoder at `p`. */
export function decodeFrom(p: usize): void {
  cursor = p;
}

/** Where the next code point starts. */
export function decodePos(): usize {
  return cursor;
}

/** Value of four hex digits at p, or -1 if any is not a hex digit. Reads exactly 4 bytes. */
export function hex4(p: usize): i32 {
  let v: i32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i);
    let d: i32;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}

/** Next code point of plain UTF-8. */
export function nextUtf8(): i32 {
  const c = <i32>load<u8>(cursor);
  if (c < 0x80) {
    cursor += 1;
    return c;
  }
  if (c < 0xe0) {
    const v = ((c & 0x1f) << 6) | (<i32>load<u8>(cursor + 1) & 0x3f);
    cursor += 2;
    return v;
  }
  if (c < 0xf0) {
    const v = ((c & 0x0f) << 12) | ((<i32>load<u8>(cursor + 1) & 0x3f) << 6) | (<i32>load<u8>(cursor + 2) & 0x3f);
    cursor += 3;
    return v;
  }
  const v =
    ((c & 0x07) << 18) |
    ((<i32>load<u8>(cursor + 1) & 0x3f) << 12) |
    ((<i32>load<u8>(cursor + 2) & 0x3f) << 6) |
    (<i32>load<u8>(cursor + 3) & 0x3f);
  cursor += 4;
  return v;
}

/** Next code point of JSON string contents: escapes decoded, a \u surrogate pair joined into one. */
export function nextJson(): i32 {
  const c = <i32>load<u8>(cursor);
  if (c != 0x5c) return nextUtf8();
  const e = <i32>load<u8>(cursor + 1);
  if (e != 0x75) {
    cursor += 2;
    if (e == 0x6e) return 0x0a;
    if (e == 0x74) return 0x09;
    if (e == 0x72) return 0x0d;
    if (e == 0x62) return 0x08;
    if (e == 0x66) return 0x0c;
    return e; // " \ /
  }
  const u = hex4(cursor + 2);
  cursor += 6;
  if (u >= 0xd800 && u <= 0xdbff && load<u8>(cursor) == 0x5c && load<u8>(cursor + 1) == 0x75) {
    const low = hex4(cursor + 2);
    if (low >= 0xdc00 && low <= 0xdfff) {
      cursor += 6;
      return 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
    }
  }
  return u;
}

/** Whether JSON string contents [s, e) decode to the same code points as UTF-8 bytes [n, n + len). */
export function jsonEqualsUtf8(s: usize, e: usize, n: usize, len: u32): bool {
  const nEnd = n + len;
  let p = s;
  let q = n;
  while (p < e && q < nEnd) {
    cursor = p;
    const a = nextJson();
    p = cursor;
    cursor = q;
    const b = nextUtf8();
    q = cursor;
    if (a != b) return false;
  }
  return p >= e && q >= nEnd;
}
