// The core's regex engines (programs compiled by src/core/regex.ts), with the semantics of
// RegExp.prototype.test under the `u` flag: an unanchored search over code points. Small patterns
// run as a DFA (one table lookup per code point); larger ones on a Pike VM. Both run in time
// linear in the string, whatever the pattern: hostile input cannot make them backtrack.
import {
  DFA_ACCEPT, DFA_ACCEPT_AT_END, DFA_DEAD, OP_ANY, OP_BOL, OP_CHAR, OP_CLASS, OP_EOL, OP_JMP,
  OP_MATCH, OP_SPLIT, RX_ANCHORED, RX_DFA,
} from './layout';
import { decodeFrom, decodePos, nextJson } from './text';

// Scratch: marks | current list | next list | closure stack, each `capacity` i32 words.
let marks: usize = 0;
let listA: usize = 0;
let listB: usize = 0;
let stack: usize = 0;
let generation: u32 = 0;

export function configureRegex(scratch: usize, capacity: u32): void {
  const bytes = <usize>capacity << 2;
  marks = scratch;
  listA = scratch + bytes;
  listB = listA + bytes;
  stack = listB + bytes;
  memory.fill(marks, 0, bytes);
  generation = 0;
}

@inline function word(code: usize, pc: i32): i32 {
  return load<i32>(code + (<usize>pc << 2));
}

/** Adds pc and everything reachable from it without input to `list` (of length n); returns n. */
function addThread(code: usize, list: usize, n: i32, start: i32, atStart: bool, atEnd: bool): i32 {
  let sp: i32 = 0;
  store<i32>(stack, start);
  sp = 1;
  while (sp > 0) {
    sp--;
    const pc = load<i32>(stack + (<usize>sp << 2));
    const mark = marks + (<usize>pc << 2);
    if (load<u32>(mark) == generation) continue;
    store<u32>(mark, generation);
    const op = word(code, pc);
    if (op == OP_JMP) {
      store<i32>(stack + (<usize>sp << 2), word(code, pc + 1));
      sp++;
    } else if (op == OP_SPLIT) {
      store<i32>(stack + (<usize>sp << 2), word(code, pc + 2));
      store<i32>(stack + (<usize>(sp + 1) << 2), word(code, pc + 1));
      sp += 2;
    } else if (op == OP_BOL) {
      if (atStart) {
        store<i32>(stack + (<usize>sp << 2), pc + 1);
        sp++;
      }
    } else if (op == OP_EOL) {
      if (atEnd) {
        store<i32>(stack + (<usize>sp << 2), pc + 1);
        sp++;
      }
    } else {
      store<i32>(list + (<usize>n << 2), pc);
      n++;
    }
  }
  return n;
}

function inClass(code: usize, pc: i32, cp: i32): bool {
  const negated = word(code, pc + 1) != 0;
  const count = word(code, pc + 2);
  let found = false;
  for (let i = 0; i < count; i++) {
    const lo = word(code, pc + 3 + i * 2);
    if (cp < lo) break; // ranges are sorted
    if (cp <= word(code, pc + 4 + i * 2)) {
      found = true;
      break;
    }
  }
  return found != negated;
}

/** Whether the DFA at `prog` matches somewhere in JSON string contents [s, e). */
function dfaTest(prog: usize, s: usize, e: usize): bool {
  const classes = load<i32>(prog, 4);
  const stateCount = load<i32>(prog, 8);
  let state = load<i32>(prog, 12);
  const boundaryCount = load<i32>(prog, 16);
  const boundaries = prog + 20;
  const ascii = boundaries + (<usize>boundaryCount << 2);
  const flags = ascii + (128 << 2);
  const next = flags + (<usize>stateCount << 2);
  if ((load<i32>(flags + (<usize>state << 2)) & DFA_ACCEPT) != 0) return true;
  let p = s;
  while (p < e) {
    let cp = <i32>load<u8>(p);
    if (cp < 0x80 && cp != 0x5c) {
      p++; // plain ASCII: the common case, no decoder call
    } else {
      decodeFrom(p);
      cp = nextJson();
      p = decodePos();
    }
    let cls: i32;
    if (cp < 128) cls = load<i32>(ascii + (<usize>cp << 2));
    else {
      cls = boundaryCount - 1;
      while (load<i32>(boundaries + (<usize>cls << 2)) > cp) cls--;
    }
    state = load<i32>(next + (<usize>(state * classes + cls) << 2));
    const f = load<i32>(flags + (<usize>state << 2));
    if ((f & DFA_ACCEPT) != 0) return true;
    if ((f & DFA_DEAD) != 0) return false;
  }
  return (load<i32>(flags + (<usize>state << 2)) & DFA_ACCEPT_AT_END) != 0;
}

/** Whether the regex program at `prog` matches somewhere in JSON string contents [s, e). */
export function regexTest(prog: usize, s: usize, e: usize): bool {
  if ((load<u32>(prog) & RX_DFA) != 0) return dfaTest(prog, s, e);
  const anchored = (load<u32>(prog) & RX_ANCHORED) != 0;
  const code = prog + 4;
  let cur = listA;
  let next = listB;
  generation++;
  let n = addThread(code, cur, 0, 0, true, s >= e);
  decodeFrom(s);
  while (true) {
    for (let i = 0; i < n; i++) {
      if (word(code, load<i32>(cur + (<usize>i << 2))) == OP_MATCH) return true;
    }
    if (decodePos() >= e) return false;
    if (n == 0 && anchored) return false;
    const cp = nextJson();
    const atEnd = decodePos() >= e;
    generation++;
    let m: i32 = 0;
    for (let i = 0; i < n; i++) {
      const pc = load<i32>(cur + (<usize>i << 2));
      const op = word(code, pc);
      if (op == OP_CHAR) {
        if (word(code, pc + 1) == cp) m = addThread(code, next, m, pc + 2, false, atEnd);
      } else if (op == OP_ANY) {
        if (cp != 0x0a && cp != 0x0d && cp != 0x2028 && cp != 0x2029) {
          m = addThread(code, next, m, pc + 1, false, atEnd);
        }
      } else if (op == OP_CLASS) {
        if (inClass(code, pc, cp)) m = addThread(code, next, m, pc + 3 + word(code, pc + 2) * 2, false, atEnd);
      }
    }
    if (!anchored) m = addThread(code, next, m, 0, false, atEnd);
    const t = cur;
    cur = next;
    next = t;
    n = m;
  }
  return false;
}
