// The core's regex engines against JS RegExp (`u` flag, test()): random patterns from the
// subset, random strings over an alphabet that hits their edges; the DFA, the Pike VM and JS must
// agree on every string. Strings go in as JSON, sometimes with escapes, so decoding is covered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSchema } from '../../src/index.ts';
import { compileRegex, RX_DFA } from '../../src/core/regex.ts';
import { prng as random } from '../../scripts/support/random.ts';


const ATOMS = ['a', 'b', 'c', '.', '\\d', '\\w', '\\s', '\\D', '\\S', '[a-c]', '[^ab]', '[0-9_]', 'é', '😀', '\\.', '-', '[\\d\\s]', '\\u00e9', '\\n'];
const ALPHABET = ['a', 'b', 'c', 'd', '1', '9', '_', ' ', '\t', '\n', '\r', 'é', '😀', '.', '-', '\u2028', '\u00a0', 'Z'];

function randomPattern(next: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const parts: string[] = [];
  const length = 1 + Math.floor(next() * 4);
  for (let i = 0; i < length; i++) {
    let atom = depth < 2 && next() < 0.2 ? `(${randomPattern(next, depth + 1)}${next() < 0.5 ? `|${randomPattern(next, depth + 1)}` : ''})` : pick(ATOMS);
    const q = next();
    if (q < 0.1) atom += '*';
    else if (q < 0.2) atom += '+';
    else if (q < 0.3) atom += '?';
    else if (q < 0.37) atom += `{${Math.floor(next() * 3)},${2 + Math.floor(next() * 3)}}`;
    else if (q < 0.4) atom += `{${1 + Math.floor(next() * 3)}}`;
    parts.push(atom);
  }
  let pattern = parts.join('');
  if (depth === 0 && next() < 0.4) pattern = `^${pattern}`;
  if (depth === 0 && next() < 0.4) pattern = `${pattern}$`;
  return pattern;
}

function randomString(next: () => number): string {
  let s = '';
  const length = Math.floor(next() * 8);
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

/** JSON text for s, with some characters written as \u escapes. */
function jsonString(s: string, next: () => number): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (next() < 0.2) {
      for (const unit of ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [code]) out += `\\u${unit.toString(16).padStart(4, '0')}`;
    } else out += JSON.stringify(ch).slice(1, -1);
  }
  return `${out}"`;
}

test('small subset patterns compile to a DFA, others stay on the VM', () => {
  assert.is(compileRegex('^cnt-[0-9]{6}$', 'test')![0]! & RX_DFA, RX_DFA);
  assert.is(compileRegex('^[0-9a-f]{8}-[0-9a-f]{4}$', 'test')![0]! & RX_DFA, RX_DFA);
  assert.is(compileRegex('^cnt-[0-9]{6}$', 'test', 'vm')![0]! & RX_DFA, 0);
  assert.is(compileRegex('(?=a)', 'test'), null);
});

test('DFA, Pike VM and JS RegExp agree on random patterns and strings', () => {
  const next = random(20261125);
  const encoder = new TextEncoder();
  let checked = 0;
  for (let p = 0; p < 400; p++) {
    const pattern = randomPattern(next);
    const reference = new RegExp(pattern, 'u');
    const dfa = compileSchema({ type: 'string', pattern });
    const vm = compileSchema({ type: 'string', pattern }, { regexEngine: 'vm' });
    for (let s = 0; s < 60; s++) {
      const value = randomString(next);
      const bytes = encoder.encode(jsonString(value, next));
      const expected = reference.test(value);
      const viaDfa = dfa.validate(bytes);
      const viaVm = vm.validate(bytes);
      assert.is(viaDfa.ok, expected, `DFA: /${pattern}/u.test(${JSON.stringify(value)}) should be ${expected}`);
      assert.is(viaVm.ok, expected, `VM: /${pattern}/u.test(${JSON.stringify(value)}) should be ${expected}`);
      checked++;
    }
  }
  assert.ok(checked >= 20_000);
});

test.run();
