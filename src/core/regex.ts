// Compiles a JSON Schema `pattern` (a JS RegExp with the `u` flag) into the core's Pike VM program
// (assembly/regex.ts), or returns null when the pattern is outside the subset the core runs:
//
//   literals (any code point, \n \r \t \f \v \0 \xHH \uHHHH \u{H…} and escaped syntax characters),
//   .  [...]  [^...]  \d \D \w \W \s \S  \p{…} \P{…},  ^ $ (no multiline),  (...) (?:...)  |,
//   * + ? {n} {n,} {n,m} and their lazy forms.
//
// Outside it (checked in JS instead): lookaround, backreferences, named groups, \b \B, and
// programs larger than MAX_PROGRAM_WORDS after expanding counted repetition.
import { SluiceError } from '../errors.ts';

export const OP_CHAR = 1;
export const OP_ANY = 2;
export const OP_CLASS = 3;
export const OP_SPLIT = 4;
export const OP_JMP = 5;
export const OP_BOL = 6;
export const OP_EOL = 7;
export const OP_MATCH = 8;
export const RX_ANCHORED = 1;
export const RX_DFA = 2;
export const DFA_ACCEPT = 1;
export const DFA_ACCEPT_AT_END = 2;
export const DFA_DEAD = 4;

/** `auto`: a DFA when small enough, else the Pike VM; `vm`: always the VM (the reference in tests). */
export type RegexEngine = 'auto' | 'vm';

const MAX_PROGRAM_WORDS = 4096;
const MAX_DFA_STATES = 256;
const MAX_CODE_POINT = 0x10ffff;

type Range = [number, number];
type Node =
  | { t: 'char'; cp: number }
  | { t: 'any' }
  | { t: 'class'; negated: boolean; ranges: Range[] }
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number };

/** Thrown inside the parser for constructs the core does not run. */
class OutsideSubset extends Error {}

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Range[] = [
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
];

function normalize(ranges: Range[]): Range[] {
  const sorted = ranges.map((r): Range => [r[0], r[1]]).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

class Parser {
  readonly #cps: number[];
  #i = 0;

  constructor(pattern: string) {
    this.#cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  }

  parse(): Node {
    const node = this.#alternation();
    if (this.#i < this.#cps.length) throw new OutsideSubset(); // a stray ')' cannot pass RegExp anyway
    return node;
  }

  #peek(offset = 0): number | undefined {
    return this.#cps[this.#i + offset];
  }

  #eat(cp: number): boolean {
    if (this.#cps[this.#i] !== cp) return false;
    this.#i++;
    return true;
  }

  #alternation(): Node {
    const items = [this.#sequence()];
    while (this.#eat(0x7c /* | */)) items.push(this.#sequence());
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  #sequence(): Node {
    const items: Node[] = [];
    for (let cp = this.#peek(); cp !== undefined && cp !== 0x7c && cp !== 0x29; cp = this.#peek()) {
      items.push(this.#quantified(this.#atom()));
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  #quantified(node: Node): Node {
    let min: number;
    let max: number;
    const cp = this.#peek();
    if (cp === 0x2a) [min, max] = [0, Infinity];
    else if (cp === 0x2b) [min, max] = [1, Infinity];
    else if (cp === 0x3f) [min, max] = [0, 1];
    else if (cp === 0x7b) {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...this.#cps.slice(this.#i, this.#i + 24)));
      if (!match) return node;
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
      this.#i += match[0].length - 1;
    } else return node;
    this.#i++;
    this.#eat(0x3f); // lazy: the same language, and test() only asks whether there is a match
    if (node.t === 'bol' || node.t === 'eol') throw new OutsideSubset();
    return { t: 'rep', node, min, max };
  }

  #atom(): Node {
    const cp = this.#cps[this.#i++]!;
    switch (cp) {
      case 0x2e:
        return { t: 'any' };
      case 0x5e:
        return { t: 'bol' };
      case 0x24:
        return { t: 'eol' };
      case 0x28: {
        if (this.#eat(0x3f /* ? */)) {
          if (!this.#eat(0x3a /* : */)) throw new OutsideSubset(); // lookaround, named group
        }
        const inner = this.#alternation();
        if (!this.#eat(0x29)) throw new OutsideSubset();
        return inner;
      }
      case 0x5b:
        return this.#class();
      case 0x5c:
        return this.#escape(false);
      default:
        return { t: 'char', cp };
    }
  }

  #class(): Node {
    const negated = this.#eat(0x5e);
    const ranges: Range[] = [];
    while (this.#peek() !== 0x5d) {
      if (this.#peek() === undefined) throw new OutsideSubset();
      const lo = this.#classAtom();
      if (this.#peek() === 0x2d && this.#peek(1) !== 0x5d && this.#peek(1) !== undefined && !Array.isArray(lo)) {
        this.#i++;
        const hi = this.#classAtom();
        if (Array.isArray(hi)) throw new OutsideSubset();
        ranges.push([lo, hi]);
      } else if (Array.isArray(lo)) ranges.push(...lo);
      else ranges.push([lo, lo]);
    }
    this.#i++;
    return { t: 'class', negated, ranges: normalize(ranges) };
  }

  /** One class member: a code point, or the ranges of \d \w \s and their negations. */
  #classAtom(): number | Range[] {
    const cp = this.#cps[this.#i++]!;
    if (cp !== 0x5c) return cp;
    const node = this.#escape(true);
    if (node.t === 'char') return node.cp;
    if (node.t === 'class') return node.negated ? complement(node.ranges) : node.ranges;
    throw new OutsideSubset();
  }

  #escape(inClass: boolean): Node {
    const cp = this.#cps[this.#i++];
    if (cp === undefined) throw new OutsideSubset();
    const ch = String.fromCodePoint(cp);
    switch (ch) {
      case 'd': return { t: 'class', negated: false, ranges: DIGIT };
      case 'D': return { t: 'class', negated: true, ranges: DIGIT };
      case 'w': return { t: 'class', negated: false, ranges: WORD };
      case 'W': return { t: 'class', negated: true, ranges: WORD };
      case 's': return { t: 'class', negated: false, ranges: SPACE };
      case 'S': return { t: 'class', negated: true, ranges: SPACE };
      case 'n': return { t: 'char', cp: 0x0a };
      case 'r': return { t: 'char', cp: 0x0d };
      case 't': return { t: 'char', cp: 0x09 };
      case 'f': return { t: 'char', cp: 0x0c };
      case 'v': return { t: 'char', cp: 0x0b };
      case '0': return { t: 'char', cp: 0 };
      case 'x': return { t: 'char', cp: this.#hex(2) };
      case 'u': return { t: 'char', cp: this.#unicodeEscape() };
      case 'p':
      case 'P': return { t: 'class', negated: ch === 'P', ranges: propertyRanges(this.#braced()) };
      case '-':
        if (!inClass) throw new OutsideSubset();
        return { t: 'char', cp };
      default:
        if ('^$\\.*+?()[]{}|/'.includes(ch)) return { t: 'char', cp };
        throw new OutsideSubset(); // \b \B \p \k \1 \c ...
    }
  }

  /** The text of a `{…}` after an escape letter. */
  #braced(): string {
    if (!this.#eat(0x7b)) throw new OutsideSubset();
    let text = '';
    for (let cp = this.#cps[this.#i++]; cp !== 0x7d; cp = this.#cps[this.#i++]) {
      if (cp === undefined) throw new OutsideSubset();
      text += String.fromCodePoint(cp);
    }
    return text;
  }

  #hex(digits: number): number {
    const text = String.fromCodePoint(...this.#cps.slice(this.#i, this.#i + digits));
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(text)) throw new OutsideSubset();
    this.#i += digits;
    return parseInt(text, 16);
  }

  #unicodeEscape(): number {
    if (this.#peek() === 0x7b) return parseInt(this.#braced(), 16);
    const unit = this.#hex(4);
    if (unit >= 0xd800 && unit <= 0xdbff && this.#peek() === 0x5c && this.#peek(1) === 0x75) {
      const save = this.#i;
      this.#i += 2;
      try {
        const low = this.#hex(4);
        if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      } catch {
        // not a second \u escape: leave it to the next atom
      }
      this.#i = save;
    }
    return unit;
  }
}

const propertyCache = new Map<string, Range[]>();

/**
 * The code point ranges of a Unicode property (`Letter`, `Script=Greek`, ...), as this runtime's
 * RegExp knows them: its tables are the ones a pattern checked in JS would use.
 */
function propertyRanges(property: string): Range[] {
  let ranges = propertyCache.get(property);
  if (ranges === undefined) {
    const holds = new RegExp(`^\\p{${property}}$`, 'u');
    ranges = [];
    let start = -1;
    for (let cp = 0; cp <= MAX_CODE_POINT + 1; cp++) {
      const inside = cp <= MAX_CODE_POINT && holds.test(String.fromCodePoint(cp));
      if (inside && start < 0) start = cp;
      else if (!inside && start >= 0) {
        ranges.push([start, cp - 1]);
        start = -1;
      }
    }
    propertyCache.set(property, ranges);
  }
  return ranges;
}

class Emitter {
  readonly code: number[] = [];

  emit(node: Node): void {
    if (this.code.length > MAX_PROGRAM_WORDS) throw new OutsideSubset();
    const code = this.code;
    switch (node.t) {
      case 'char':
        code.push(OP_CHAR, node.cp);
        return;
      case 'any':
        code.push(OP_ANY);
        return;
      case 'class':
        code.push(OP_CLASS, node.negated ? 1 : 0, node.ranges.length);
        for (const [lo, hi] of node.ranges) code.push(lo, hi);
        return;
      case 'bol':
        code.push(OP_BOL);
        return;
      case 'eol':
        code.push(OP_EOL);
        return;
      case 'cat':
        for (const item of node.items) this.emit(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        node.items.forEach((item, index) => {
          if (index < node.items.length - 1) {
            const split = code.length;
            code.push(OP_SPLIT, split + 3, -1);
            this.emit(item);
            jumps.push(code.length + 1);
            code.push(OP_JMP, -1);
            code[split + 2] = code.length;
          } else this.emit(item);
        });
        for (const at of jumps) code[at] = code.length;
        return;
      }
      case 'rep': {
        for (let i = 0; i < node.min; i++) this.emit(node.node);
        if (node.max === Infinity) {
          const loop = code.length;
          code.push(OP_SPLIT, loop + 3, -1);
          this.emit(node.node);
          code.push(OP_JMP, loop);
          code[loop + 2] = code.length;
        } else {
          const exits: number[] = [];
          for (let i = node.min; i < node.max; i++) {
            const split = code.length;
            code.push(OP_SPLIT, split + 3, -1);
            exits.push(split + 2);
            this.emit(node.node);
          }
          for (const at of exits) code[at] = code.length;
        }
        return;
      }
    }
  }
}

function anchoredAtStart(node: Node): boolean {
  if (node.t === 'bol') return true;
  if (node.t === 'cat') return node.items.length > 0 && anchoredAtStart(node.items[0]!);
  if (node.t === 'alt') return node.items.every(anchoredAtStart);
  return false;
}

/**
 * Subset construction over the NFA: a DFA whose states are sets of NFA positions. An `$` stays
 * in a state unresolved (it holds only at the end of the input), so each state knows whether it
 * accepts now or only at the end. Returns null when the DFA would be too large.
 *
 * Layout: [flags, classCount, stateCount, start, boundaryCount, boundaries..., asciiClass[128],
 *          stateFlags[stateCount], next[stateCount * classCount]]
 */
function buildDfa(code: number[], anchored: boolean): number[] | null {
  const closure = (seeds: number[], atStart: boolean): number[] => {
    const seen = new Set<number>();
    const out: number[] = [];
    const stack = [...seeds];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const op = code[pc];
      if (op === OP_JMP) stack.push(code[pc + 1]!);
      else if (op === OP_SPLIT) stack.push(code[pc + 1]!, code[pc + 2]!);
      else if (op === OP_BOL) {
        if (atStart) stack.push(pc + 1);
      } else out.push(pc); // CHAR, ANY, CLASS, EOL (resolved per state), MATCH
    }
    return out.sort((a, b) => a - b);
  };
  const acceptsAtEnd = (state: number[]): boolean => {
    const stack = [...state];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const op = code[pc];
      if (op === OP_MATCH) return true;
      if (op === OP_EOL) stack.push(...closure([pc + 1], false));
    }
    return false;
  };
  // the alphabet: code point intervals no instruction tells apart
  const cuts = new Set<number>([0, 0x80]);
  for (let pc = 0; pc < code.length; ) {
    const op = code[pc]!;
    if (op === OP_CHAR) {
      cuts.add(code[pc + 1]!).add(code[pc + 1]! + 1);
      pc += 2;
    } else if (op === OP_CLASS) {
      const count = code[pc + 2]!;
      for (let i = 0; i < count; i++) cuts.add(code[pc + 3 + i * 2]!).add(code[pc + 4 + i * 2]! + 1);
      pc += 3 + count * 2;
    } else if (op === OP_ANY) {
      for (const t of [0x0a, 0x0d, 0x2028, 0x2029]) cuts.add(t).add(t + 1);
      pc += 1;
    } else pc += op === OP_SPLIT ? 3 : op === OP_JMP ? 2 : 1;
  }
  const boundaries = [...cuts].filter((c) => c <= MAX_CODE_POINT).sort((a, b) => a - b);
  const matches = (pc: number, cp: number): boolean => {
    const op = code[pc];
    if (op === OP_CHAR) return code[pc + 1] === cp;
    if (op === OP_ANY) return cp !== 0x0a && cp !== 0x0d && cp !== 0x2028 && cp !== 0x2029;
    if (op !== OP_CLASS) return false;
    const count = code[pc + 2]!;
    let found = false;
    for (let i = 0; i < count && !found; i++) found = cp >= code[pc + 3 + i * 2]! && cp <= code[pc + 4 + i * 2]!;
    return found !== (code[pc + 1] === 1);
  };
  const width = (pc: number) => (code[pc] === OP_CHAR ? 2 : code[pc] === OP_CLASS ? 3 + code[pc + 2]! * 2 : 1);

  const restart = anchored ? [] : closure([0], false);
  const states: number[][] = [];
  const index = new Map<string, number>();
  const intern = (state: number[]): number | null => {
    const key = state.join(',');
    let id = index.get(key);
    if (id === undefined) {
      if (states.length >= MAX_DFA_STATES) return null;
      id = states.length;
      states.push(state);
      index.set(key, id);
    }
    return id;
  };
  const start = intern(closure([0], true))!;
  const next: number[] = [];
  for (let s = 0; s < states.length; s++) {
    for (const cp of boundaries) {
      const moved = states[s]!.filter((pc) => matches(pc, cp)).map((pc) => pc + width(pc));
      const target = intern([...new Set([...closure(moved, false), ...restart])].sort((a, b) => a - b));
      if (target === null) return null;
      next.push(target);
    }
  }
  const flags = states.map((state) => {
    if (state.some((pc) => code[pc] === OP_MATCH)) return DFA_ACCEPT | DFA_ACCEPT_AT_END;
    return (acceptsAtEnd(state) ? DFA_ACCEPT_AT_END : 0) | (state.length === 0 ? DFA_DEAD : 0);
  });
  const ascii = Array.from({ length: 128 }, (_, cp) => boundaries.filter((b) => b <= cp).length - 1);
  return [RX_DFA, boundaries.length, states.length, start, boundaries.length, ...boundaries, ...ascii, ...flags, ...next];
}

/**
 * The program words for `pattern` — a DFA when small enough, else the Pike VM's
 * `[flags, code...]` — or null when the core cannot run it.
 * Throws SLC_SCHEMA when the pattern is not a valid `u`-flag RegExp (ajv would reject it too).
 */
export function compileRegex(pattern: string, where: string, engine: RegexEngine = 'auto'): Int32Array | null {
  try {
    new RegExp(pattern, 'u');
  } catch (cause) {
    throw new SluiceError('SLC_SCHEMA', `${where}: invalid pattern ${JSON.stringify(pattern)}: ${(cause as Error).message}`, { cause });
  }
  try {
    const ast = new Parser(pattern).parse();
    const emitter = new Emitter();
    emitter.emit(ast);
    emitter.code.push(OP_MATCH);
    if (emitter.code.length > MAX_PROGRAM_WORDS) return null;
    const anchored = anchoredAtStart(ast);
    const dfa = engine === 'auto' ? buildDfa(emitter.code, anchored) : null;
    return Int32Array.from(dfa ?? [anchored ? RX_ANCHORED : 0, ...emitter.code]);
  } catch (error) {
    if (error instanceof OutsideSubset) return null;
    throw error;
  }
}
