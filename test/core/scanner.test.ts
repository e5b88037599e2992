// Well-formedness tests for the core scanner (strict RFC 8259 over raw UTF-8 bytes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSchema, SluiceError } from '../../src/index.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { statSync } from 'node:fs';
import { JsValidator } from '../../src/core/js-validator.ts';
import { MAX_DEPTH_LIMIT } from '../../src/core/limits.ts';
import type { MessageValidator } from '../../src/core/validator.ts';
import {
  Rng, SEED, bytesOf as b, enc, hex, oracleParse, depthOf, SYNTAX_CODES, RULE_CODES, randomBytes, randomValue,
  serialize, mutate, parseEntries,
} from './gen.ts';

const vTrue = compileSchema(true);
const vEmpty = compileSchema({});
// The core ships a SIMD and a scalar build; `kernel` is an implementation option beyond the
// contract (ignored if absent). Fuzzing runs against both and requires identical verdicts.
const KERNELS = ['simd', 'scalar'] as const;
const vKernel = Object.fromEntries(KERNELS.map((k) => [k, compileSchema(true, { kernel: k } as any)])) as Record<string, any>;

function show(bytes: Uint8Array): string {
  return `hex=${hex(bytes, 256)} text=${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 256)))}`;
}

function describeVerdict(v: any): string {
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------
// accept table

const ACCEPT: [string, Uint8Array][] = [
  // every value type at top level
  ['null', b('null')],
  ['true', b('true')],
  ['false', b('false')],
  ['zero', b('0')],
  ['string', b('"abc"')],
  ['empty string', b('""')],
  ['empty array', b('[]')],
  ['empty object', b('{}')],
  ['array of every type', b('[1,"a",null,true,false,{},[],-2.5e-3]')],
  ['nested', b('{"a":{"b":[{"c":null},[[]],{"d":{"e":"f"}}]},"g":[1,[2,[3]]]}')],
  ['object with many members', b('{"a":1,"b":"x","c":[],"d":{},"e":true,"f":false,"g":null}')],
  ['undeclared duplicate keys are fine', b('{"a":1,"a":2}')],
  // numbers
  ['-0', b('-0')],
  ['0.0', b('0.0')],
  ['-0.0', b('-0.0')],
  ['1E+2', b('1E+2')],
  ['1e-7', b('1e-7')],
  ['1E2', b('1E2')],
  ['1e+0', b('1e+0')],
  ['0e0', b('0e0')],
  ['0E-0', b('0E-0')],
  ['-0e+00', b('-0e+00')],
  ['1e007', b('1e007')],
  ['huge integer', b('123456789012345678901234567890')],
  ['long fraction', b('-123.4567890123456789012345678901234567890e-20')],
  ['1e400 (Infinity to JS)', b('1e400')],
  ['-1e400', b('-1e400')],
  ['2e-400 (underflow)', b('2e-400')],
  ['max double', b('1.7976931348623157e308')],
  ['min subnormal', b('5e-324')],
  ['negative int', b('-9007199254740993')],
  ['numbers in array', b('[0,-0,1.5,-1.5e10,0.000001,10E-1]')],
  // escapes
  ['all short escapes', b('"\\"\\\\\\/\\b\\f\\n\\r\\t"')],
  ['\\u0000', b('"\\u0000"')],
  ['\\u00e9 lower', b('"\\u00e9"')],
  ['\\u00E9 upper', b('"\\u00E9"')],
  ['\\uFFFF', b('"\\uFFFF"')],
  ['surrogate pair escaped', b('"\\uD83D\\uDE00"')],
  ['surrogate pair escaped lower', b('"\\ud83d\\ude00"')],
  ['max surrogate pair', b('"\\uDBFF\\uDFFF"')],
  ['escaped lone high surrogate', b('"\\ud800"')],
  ['escaped lone low surrogate', b('"\\udfff"')],
  ['escaped reversed surrogates', b('"\\udc00\\ud800"')],
  ['escaped high surrogate then text', b('"\\ud800abc"')],
  ['escaped high surrogate then non-surrogate escape', b('"\\ud800\\u0041"')],
  ['escapes in keys', b('{"\\u0061\\n\\"":1,"\\ud83d\\ude00":2}')],
  // raw UTF-8
  ['2-byte U+0080', b('"', [0xc2, 0x80], '"')],
  ['2-byte é', b('"é"')],
  ['2-byte U+07FF', b('"', [0xdf, 0xbf], '"')],
  ['3-byte U+0800', b('"', [0xe0, 0xa0, 0x80], '"')],
  ['3-byte €', b('"€"')],
  ['3-byte U+D7FF', b('"', [0xed, 0x9f, 0xbf], '"')],
  ['3-byte U+E000', b('"', [0xee, 0x80, 0x80], '"')],
  ['3-byte U+FFFF', b('"', [0xef, 0xbf, 0xbf], '"')],
  ['BOM inside a string', b('"', [0xef, 0xbb, 0xbf], '"')],
  ['4-byte U+10000', b('"', [0xf0, 0x90, 0x80, 0x80], '"')],
  ['4-byte emoji', b('"😀"')],
  ['4-byte U+10FFFF', b('"', [0xf4, 0x8f, 0xbf, 0xbf], '"')],
  ['mixed UTF-8 in key and value', b('{"ключ😀":"值€é"}')],
  ['DEL 0x7F raw in string', b('"a', 0x7f, 'b"')],
  ['U+2028/U+2029 raw in string', b('"\u2028\u2029"')],
  // whitespace
  ['leading/trailing whitespace', b(' \t\n\r1\r\n\t ')],
  ['whitespace everywhere', b(' { "a" : [ 1 , 2 , { } , [ ] ] , "b" : "c" } ')],
  ['whitespace tabs/newlines', b('\n{\n\t"a"\n:\n[\n]\r\n}\n')],
  ['CRLF-only padding', b('\r\n\r\ntrue\r\n')],
];

// nesting exactly at the default limit (64)
ACCEPT.push(['64 nested arrays (default limit)', b('['.repeat(64) + ']'.repeat(64))]);
ACCEPT.push(['64 nested objects (default limit)', b('{"a":'.repeat(63) + '{}' + '}'.repeat(63))]);
ACCEPT.push(['64 nested mixed with scalar leaf', b('[{"k":'.repeat(32) + '1' + '}]'.repeat(32))]);

test('accept table: compileSchema(true) and compileSchema({}) accept every well-formed document', () => {
  for (const [name, bytes] of ACCEPT) {
    // sanity of the table itself
    assert.ok(oracleParse(bytes).ok, `test table bug: ${name} is not valid per JSON.parse`);
    for (const v of [vTrue, vEmpty]) {
      const r = v.validate(bytes);
      assert.is(r.ok, true, `${name}: expected OK, got ${describeVerdict(r)} for ${show(bytes)}`);
      assert.is(r.code, 'OK', `${name}: code`);
      assert.is(r.path, undefined, `${name}: no path on OK`);
    }
  }
});

// ---------------------------------------------------------------------------
// reject table: [name, bytes, acceptable codes, acceptable offsets (undefined = not checked)]
// Where the contract pins the offset ("the byte where the problem is detected") one value is given;
// where two readings are defensible (start of the bad token/sequence vs the byte that proves it bad)
// both are accepted.

type Reject = [string, Uint8Array, string | string[], (number | [number, number])?];

const REJECT: Reject[] = [
  // E_EMPTY
  ['empty input', b(''), 'E_EMPTY'],
  ['single space', b(' '), 'E_EMPTY'],
  ['whitespace only', b(' \t\n\r '), 'E_EMPTY'],
  ['newlines only', b('\n\n\n'), 'E_EMPTY'],

  // E_TOKEN
  ['trailing comma in array', b('[1,]'), 'E_TOKEN', 3],
  ['trailing comma in nested array', b('{"a":[1,2,]}'), 'E_TOKEN', 10],
  ['trailing comma in object', b('{"a":1,}'), 'E_TOKEN', 7],
  ['trailing comma in object with ws', b('{"a":1 , }'), 'E_TOKEN', 9],
  ['leading comma in array', b('[,1]'), 'E_TOKEN', 1],
  ['double comma', b('[1,,2]'), 'E_TOKEN', 3],
  ['comma-only object', b('{,}'), 'E_TOKEN', 1],
  ['NaN', b('NaN'), 'E_TOKEN', 0],
  ['NaN in array', b('[NaN]'), 'E_TOKEN', 1],
  ['Infinity', b('Infinity'), 'E_TOKEN', 0],
  ['Infinity as value', b('{"a":Infinity}'), 'E_TOKEN', 5],
  ['line comment before value', b('// c\n1'), 'E_TOKEN', 0],
  ['block comment before value', b('/* c */ 1'), 'E_TOKEN', 0],
  ['block comment in array', b('[1,/*c*/2]'), 'E_TOKEN', 3],
  ['line comment in object', b('{"a":1 // c\n}'), 'E_TOKEN', 7],
  ['block comment after member', b('{"a":1/*c*/}'), 'E_TOKEN', 6],
  ['single-quoted string', b("'a'"), 'E_TOKEN', 0],
  ['single-quoted key', b("{'a':1}"), 'E_TOKEN', 1],
  ['single-quoted element', b(`["a",'b']`), 'E_TOKEN', 5],
  ['fals3', b('fals3'), 'E_TOKEN', [0, 4]],
  ['[fals3]', b('[fals3]'), 'E_TOKEN', [1, 5]],
  ['[nul]', b('[nul]'), 'E_TOKEN', [1, 4]],
  ['tRue', b('tRue'), 'E_TOKEN', [0, 1]],
  ['True', b('True'), 'E_TOKEN', 0],
  ['nULL', b('[nULL]'), 'E_TOKEN', [1, 2]],
  ['undefined', b('undefined'), 'E_TOKEN', 0],
  ['bare word', b('{"a":abc}'), 'E_TOKEN', 5],
  ['+1', b('+1'), 'E_TOKEN', 0],
  ['[+1]', b('[+1]'), 'E_TOKEN', 1],
  ['.5', b('.5'), 'E_TOKEN', 0],
  ['[.5]', b('[.5]'), 'E_TOKEN', 1],
  ['BOM at start', b([0xef, 0xbb, 0xbf], '{}'), 'E_TOKEN', 0],
  ['BOM after whitespace', b(' ', [0xef, 0xbb, 0xbf], '1'), 'E_TOKEN', 1],
  ['raw 0xFF at top level', b([0xff]), 'E_TOKEN', 0],
  ['raw 0xFF in array', b('[', [0xff], ']'), 'E_TOKEN', 1],
  ['non-ASCII letter outside string', b('[1,é]'), 'E_TOKEN', 3],
  ['NBSP as whitespace', b([0xc2, 0xa0], '1'), 'E_TOKEN', 0],
  ['form feed as whitespace', b('\f1'), 'E_TOKEN', 0],
  ['vertical tab in array', b('[1\v]'), 'E_TOKEN', 2],
  ['missing colon', b('{"a" 1}'), 'E_TOKEN', 5],
  ['double colon', b('{"a"::1}'), 'E_TOKEN', 5],
  ['missing value', b('{"a":}'), 'E_TOKEN', 5],
  ['key without value', b('{"a"}'), 'E_TOKEN', 4],
  ['missing comma in array', b('[1 2]'), 'E_TOKEN', 3],
  ['missing comma in object', b('{"a":1 "b":2}'), 'E_TOKEN', 7],
  ['number as key', b('{1:1}'), 'E_TOKEN', 1],
  ['array mismatched close', b('[1}'), 'E_TOKEN', 2],
  ['object mismatched close', b('{"a":1]'), 'E_TOKEN', 6],
  ['[}', b('[}'), 'E_TOKEN', 1],
  ['{]', b('{]'), 'E_TOKEN', 1],
  ['lone ]', b(']'), 'E_TOKEN', 0],
  ['lone }', b('}'), 'E_TOKEN', 0],
  ['lone :', b(':'), 'E_TOKEN', 0],
  ['lone ,', b(','), 'E_TOKEN', 0],
  ['NUL byte outside string', b('[', 0, ']'), 'E_TOKEN', 1],

  // E_NUMBER
  ['leading zero 01', b('01'), 'E_NUMBER', [0, 1]],
  ['leading zero 00', b('00'), 'E_NUMBER', [0, 1]],
  ['leading zero in array', b('[01]'), 'E_NUMBER', [1, 2]],
  ['-01', b('-01'), 'E_NUMBER', [0, 2]],
  ['[-012.5]', b('[-012.5]'), 'E_NUMBER', [1, 3]],
  ['lone minus', b('-'), 'E_NUMBER', [0, 1]],
  ['lone minus in array', b('[-]'), 'E_NUMBER', [1, 2]],
  ['--1', b('--1'), 'E_NUMBER', [0, 1]],
  ['-Infinity', b('-Infinity'), 'E_NUMBER', [0, 1]],
  ['minus then space', b('[- 1]'), 'E_NUMBER', [1, 2]],
  ['1.', b('1.'), 'E_NUMBER', [0, 2]],
  ['[1.]', b('[1.]'), 'E_NUMBER', [1, 3]],
  ['1.e5', b('1.e5'), 'E_NUMBER', [0, 2]],
  ['-.5', b('-.5'), 'E_NUMBER', [0, 1]],
  ['1e', b('1e'), 'E_NUMBER', [0, 2]],
  ['[1e]', b('[1e]'), 'E_NUMBER', [1, 3]],
  ['1e+', b('1e+'), 'E_NUMBER', [0, 3]],
  ['[1E-]', b('[1E-]'), 'E_NUMBER', [1, 4]],
  ['1e+-1', b('1e+-1'), 'E_NUMBER', [0, 3]],
  ['1.e', b('{"a":1.e}'), 'E_NUMBER', [5, 7]],

  // E_CONTROL (every raw byte < 0x20 inside a string), also in keys
  ...Array.from({ length: 32 }, (_, c): Reject => [`raw 0x${c.toString(16).padStart(2, '0')} in string`, b('"a', c, 'b"'), 'E_CONTROL', 2]),
  ['raw newline in key', b('{"a\nb":1}'), 'E_CONTROL', 3],
  ['raw tab in string value', b('{"a":"x\ty"}'), 'E_CONTROL', 7],

  // E_ESCAPE
  ['\\x', b('"\\x41"'), 'E_ESCAPE', [1, 2]],
  ['\\a', b('"\\a"'), 'E_ESCAPE', [1, 2]],
  ["\\'", b(`"\\'"`), 'E_ESCAPE', [1, 2]],
  ['\\0', b('"\\0"'), 'E_ESCAPE', [1, 2]],
  ['\\U0041', b('"\\U0041"'), 'E_ESCAPE', [1, 2]],
  ['\\ space', b('"\\ "'), 'E_ESCAPE', [1, 2]],
  ['\\ non-ASCII', b('"\\é"'), 'E_ESCAPE', [1, 2]],
  ['\\u12G4', b('"\\u12G4"'), 'E_ESCAPE', [1, 5]],
  ['\\uZZZZ', b('"\\uZZZZ"'), 'E_ESCAPE', [1, 3]],
  ['\\u truncated by quote', b('"\\u12"'), 'E_ESCAPE', [1, 5]],
  ['\\u empty', b('"\\u"'), 'E_ESCAPE', [1, 3]],
  ['\\u with 3 hex then text', b('"\\u004x"'), 'E_ESCAPE', [1, 6]],
  ['bad escape in key', b('{"\\q":1}'), 'E_ESCAPE', [2, 3]],
  ['\\u truncated at end of input', b('"\\u12'), ['E_ESCAPE', 'E_UNTERMINATED'], [1, 5]],

  // E_UTF8 inside strings
  ['overlong C0 80', b('"', [0xc0, 0x80], '"'), 'E_UTF8', 1],
  ['overlong C1 BF', b('"', [0xc1, 0xbf], '"'), 'E_UTF8', 1],
  ['overlong E0 80 80', b('"', [0xe0, 0x80, 0x80], '"'), 'E_UTF8', [1, 2]],
  ['overlong E0 9F BF', b('"', [0xe0, 0x9f, 0xbf], '"'), 'E_UTF8', [1, 2]],
  ['overlong F0 80 80 80', b('"', [0xf0, 0x80, 0x80, 0x80], '"'), 'E_UTF8', [1, 2]],
  ['overlong F0 8F BF BF', b('"', [0xf0, 0x8f, 0xbf, 0xbf], '"'), 'E_UTF8', [1, 2]],
  ['UTF-8 encoded surrogate ED A0 80', b('"', [0xed, 0xa0, 0x80], '"'), 'E_UTF8', [1, 2]],
  ['UTF-8 encoded surrogate ED BF BF', b('"', [0xed, 0xbf, 0xbf], '"'), 'E_UTF8', [1, 2]],
  ['UTF-8 encoded surrogate pair', b('"', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '"'), 'E_UTF8', [1, 2]],
  ['F4 90 80 80 (> U+10FFFF)', b('"', [0xf4, 0x90, 0x80, 0x80], '"'), 'E_UTF8', [1, 2]],
  ['F5 lead byte', b('"', [0xf5, 0x80, 0x80, 0x80], '"'), 'E_UTF8', 1],
  ['F8 5-byte lead', b('"', [0xf8, 0x88, 0x80, 0x80, 0x80], '"'), 'E_UTF8', 1],
  ['raw 0xFF in string', b('"', [0xff], '"'), 'E_UTF8', 1],
  ['raw 0xFE in string', b('"a', [0xfe], '"'), 'E_UTF8', 2],
  ['stray continuation 80', b('"', [0x80], '"'), 'E_UTF8', 1],
  ['stray continuation BF mid-string', b('"a', [0xbf], 'b"'), 'E_UTF8', 2],
  ['extra continuation after é', b('"', [0xc3, 0xa9, 0xa9], '"'), 'E_UTF8', 3],
  ['2-byte truncated at end of string', b('"', [0xc3], '"'), 'E_UTF8', [1, 2]],
  ['3-byte truncated at end of string', b('"', [0xe2, 0x82], '"'), 'E_UTF8', [1, 3]],
  ['4-byte truncated at end of string', b('"', [0xf0, 0x9f, 0x98], '"'), 'E_UTF8', [1, 4]],
  ['3-byte truncated by ASCII', b('"', [0xe2, 0x82], 'a"'), 'E_UTF8', [1, 3]],
  ['lead followed by lead', b('"', [0xc3, 0xc3, 0xa9], '"'), 'E_UTF8', [1, 2]],
  ['invalid UTF-8 in key', b('{"', [0xff], '":1}'), 'E_UTF8', 2],
  ['2-byte truncated at end of input', b('"', [0xc3]), ['E_UTF8', 'E_UNTERMINATED'], [1, 2]],
  ['4-byte truncated at end of input', b('"', [0xf0, 0x9f, 0x98]), ['E_UTF8', 'E_UNTERMINATED'], [1, 4]],

  // E_UNTERMINATED (offset = end of input, where the problem is detected)
  ['unclosed string', b('"abc'), 'E_UNTERMINATED', 4],
  ['lone quote', b('"'), 'E_UNTERMINATED', 1],
  ['string ending in escaped quote', b('"\\"'), 'E_UNTERMINATED', 3],
  ['string ending in backslash', b('"\\'), ['E_UNTERMINATED', 'E_ESCAPE'], [1, 2]],
  ['unclosed array', b('['), 'E_UNTERMINATED', 1],
  ['unclosed array with ws', b('[ '), 'E_UNTERMINATED', 2],
  ['unclosed array after value', b('[1'), 'E_UNTERMINATED', 2],
  ['unclosed array after comma', b('[1,'), 'E_UNTERMINATED', 3],
  ['unclosed nested arrays', b('[[[]]'), 'E_UNTERMINATED', 5],
  ['unclosed object', b('{'), 'E_UNTERMINATED', 1],
  ['unclosed object after key', b('{"a"'), 'E_UNTERMINATED', 4],
  ['{"a": at end', b('{"a":'), 'E_UNTERMINATED', 5],
  ['unclosed object after value', b('{"a":1'), 'E_UNTERMINATED', 6],
  ['unclosed object after comma', b('{"a":1,'), 'E_UNTERMINATED', 7],
  ['unclosed deep string', b('{"a":[1,{"b":"c'), 'E_UNTERMINATED', '{"a":[1,{"b":"c'.length],
  ['tru at end', b('tru'), 'E_UNTERMINATED', [0, 3]],
  ['nul at end', b('nul'), 'E_UNTERMINATED', [0, 3]],
  ['f at end', b('f'), 'E_UNTERMINATED', [0, 1]],
  ['[tru at end', b('[tru'), 'E_UNTERMINATED', [1, 4]],

  // E_TRAILING
  ['two numbers', b('1 2'), 'E_TRAILING', 2],
  ['two objects', b('{} {}'), 'E_TRAILING', 3],
  ['extra ]', b('[]]'), 'E_TRAILING', 2],
  ['extra }', b('{}}'), 'E_TRAILING', 2],
  ['two strings', b('"a""b"'), 'E_TRAILING', 3],
  ['comma after value', b('null,'), 'E_TRAILING', 4],
  ['true false', b('true false'), 'E_TRAILING', 5],
  ['garbage word', b('1 x'), 'E_TRAILING', 2],
  ['NUL after value', b('[] ', 0), 'E_TRAILING', 3],
  ['BOM after value', b('{}', [0xef, 0xbb, 0xbf]), 'E_TRAILING', 2],
  ['comment after value', b('1 // c'), 'E_TRAILING', 2],
  ['block comment after value', b('{"a":1} /* c */'), 'E_TRAILING', 8],
  ['0xFF after value', b('"a" ', [0xff]), 'E_TRAILING', 4],
];

test('reject table: every syntax code with offsets', () => {
  for (const [name, bytes, codes, offsets] of REJECT) {
    assert.is(oracleParse(bytes).ok, false, `test table bug: ${name} is accepted by JSON.parse`);
    const codeList = Array.isArray(codes) ? codes : [codes];
    for (const v of [vTrue, vEmpty]) {
      const r = v.validate(bytes);
      assert.is(r.ok, false, `${name}: expected ${codeList.join('|')}, got OK for ${show(bytes)}`);
      assert.ok(codeList.includes(r.code), `${name}: expected ${codeList.join('|')}, got ${describeVerdict(r)} for ${show(bytes)}`);
      assert.is(r.path, undefined, `${name}: syntax errors carry no path: ${describeVerdict(r)}`);
      if (offsets !== undefined) {
        // a number is an exact offset, a pair [lo, hi] an inclusive range of acceptable offsets
        const ok = Array.isArray(offsets) ? r.offset! >= offsets[0] && r.offset! <= offsets[1] : r.offset === offsets;
        assert.ok(
          typeof r.offset === 'number' && ok,
          `${name}: expected offset ${Array.isArray(offsets) ? `in [${offsets.join(', ')}]` : offsets}, got ${describeVerdict(r)} for ${show(bytes)}`,
        );
      }
    }
  }
});

test('E_DEPTH: default limit 64, 65 levels rejected at the 65th opener', () => {
  let r = vTrue.validate(b('['.repeat(65) + ']'.repeat(65)));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 64, describeVerdict(r));
  r = vTrue.validate(b('{"a":'.repeat(64) + '{}' + '}'.repeat(64)));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 5 * 64, describeVerdict(r));
  // depth exceeded before the input turns out to be unterminated: detected first
  r = vTrue.validate(b('['.repeat(65)));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  // very deep input must not overflow anything
  r = vTrue.validate(b('['.repeat(100000) + ']'.repeat(100000)));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 64, describeVerdict(r));
});

test('E_DEPTH: custom maxDepth', () => {
  const v3 = compileSchema(true, { maxDepth: 3 });
  assert.is(v3.validate(b('[[[1]]]')).code, 'OK');
  assert.is(v3.validate(b('{"a":{"b":[]}}')).code, 'OK');
  assert.is(v3.validate(b('[{"a":[]},[[]],{"b":{"c":"d"}}]')).code, 'OK');
  let r = v3.validate(b('[[[[1]]]]'));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 3, describeVerdict(r));
  const d = '{"a":{"b":{"c":{}}}}';
  r = v3.validate(b(d));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, d.indexOf('{"c"') + 5, describeVerdict(r));
  r = v3.validate(b('[1,[2,[3,[]]]]'));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 9, describeVerdict(r));
  const v1 = compileSchema({}, { maxDepth: 1 });
  assert.is(v1.validate(b('[1,2,3]')).code, 'OK');
  assert.is(v1.validate(b('{"a":1}')).code, 'OK');
  assert.is(v1.validate(b('"scalar"')).code, 'OK');
  r = v1.validate(b('{"a":[]}'));
  assert.is(r.code, 'E_DEPTH', describeVerdict(r));
  assert.is(r.offset, 5, describeVerdict(r));
  const v100 = compileSchema(true, { maxDepth: 100 });
  assert.is(v100.validate(b('['.repeat(100) + ']'.repeat(100))).code, 'OK');
  assert.is(v100.validate(b('['.repeat(101) + ']'.repeat(101))).code, 'E_DEPTH');
});

test('E_DEPTH at the largest limit a configuration may set: a verdict, never a stack overflow (both kernels, optimized, and the JS validator)', () => {
  const shapes: Record<string, (depth: number) => string> = {
    arrays: (depth) => '['.repeat(depth) + ']'.repeat(depth),
    objects: (depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
    mixed: (depth) => '{"k":"v","a":[1,'.repeat(depth / 2) + 'null' + ']}'.repeat(depth / 2),
  };
  // rules on the first levels, then any value: the frames of both paths are on the stack
  let rules: Record<string, unknown> = { type: ['object', 'array', 'integer', 'null'] };
  for (let i = 0; i < 8; i++) rules = { type: ['object', 'array', 'integer', 'null'], properties: { a: rules, k: { type: 'string' } }, items: rules };
  const validators: [string, MessageValidator][] = [
    ...KERNELS.map((kernel): [string, MessageValidator] => [kernel, compileSchema(rules as any, { kernel, maxDepth: MAX_DEPTH_LIMIT } as any)]),
    ['js', new JsValidator(rules as any, { maxDepth: MAX_DEPTH_LIMIT })],
  ];
  for (const [name, v] of validators) {
    // V8's optimized scanner takes more stack per level than its baseline: measure that one
    const shallow = [b(shapes.mixed!(20))];
    for (let i = 0; i < 100_000; i++) v.check(shallow);
    for (const [shape, make] of Object.entries(shapes)) {
      v.check([b(make(MAX_DEPTH_LIMIT))]);
      assert.is(v.verdict(0).code, 'OK', `${name} ${shape} at ${MAX_DEPTH_LIMIT}: ${describeVerdict(v.verdict(0))}`);
      v.check([b(make(MAX_DEPTH_LIMIT + 2))]);
      assert.is(v.verdict(0).code, 'E_DEPTH', `${name} ${shape} at ${MAX_DEPTH_LIMIT + 2}: ${describeVerdict(v.verdict(0))}`);
    }
  }
  assert.throws(() => compileSchema(true, { maxDepth: MAX_DEPTH_LIMIT + 1 }), (e: Error) => e instanceof SluiceError && e.code === 'SLC_SCHEMA' && e.message.includes(`from 1 to ${MAX_DEPTH_LIMIT}`));
});

test('E_SIZE: maxSize boundary', () => {
  const v = compileSchema(true, { maxSize: 16 });
  const doc16 = b('"' + 'a'.repeat(14) + '"');
  assert.is(doc16.length, 16);
  assert.is(v.validate(doc16).code, 'OK');
  const doc17 = b('"' + 'a'.repeat(15) + '"');
  let r = v.validate(doc17);
  assert.is(r.code, 'E_SIZE', describeVerdict(r));
  r = v.validate(b('1' + ' '.repeat(16)));
  assert.is(r.code, 'E_SIZE', 'whitespace counts towards size: ' + describeVerdict(r));
  r = v.validate(b('1' + ' '.repeat(15)));
  assert.is(r.code, 'OK', describeVerdict(r));
  // E_SIZE wins even when the oversized input is also malformed, and applies per message in a batch
  r = v.validate(b('[' + ','.repeat(20)));
  assert.is(r.code, 'E_SIZE', describeVerdict(r));
  assert.equal(v.validateBatch([doc16, doc17, b('[1]'), doc17, doc16]).map((x: any) => x.code), ['OK', 'E_SIZE', 'OK', 'E_SIZE', 'OK']);
});

test('E_DUPLICATE_KEY is a syntax-class error: no path, offset at the repeated key', () => {
  const v = compileSchema(true, { extract: ['/id', '/a/b'] });
  const cases: [string, string][] = [
    ['{"id":1,"id":2}', '"id"'],
    ['{"id":1, "x":[{"id":0,"id":0}], "id":2}', '"id"'],
    ['{"a":{"b":1,"c":2,"b":3}}', '"b"'],
    ['{"\\u0069d":1,"id":2}', '"id"'],
  ];
  for (const [doc, key] of cases) {
    // the repeated key's first byte .. its closing quote
    const lo = doc.lastIndexOf(key);
    const hi = lo + key.length - 1;
    const r = vTrue.validate(b(doc));
    assert.is(r.code, 'OK', `undeclared duplicates are fine: ${doc}`);
    const d = v.validate(b(doc));
    assert.is(d.code, 'E_DUPLICATE_KEY', `${doc}: ${describeVerdict(d)}`);
    assert.is(d.path, undefined);
    assert.ok(typeof d.offset === 'number' && d.offset >= lo && d.offset <= hi, `${doc}: offset in [${lo}, ${hi}]: ${describeVerdict(d)}`);
  }
});

// ---------------------------------------------------------------------------
// "never traps" fuzz with the JSON.parse oracle

const MAX_DEFAULT_DEPTH = 64;

/** oracle check on both kernels + identical verdicts between them */
function checkKernels(bytes: Uint8Array, label: string) {
  const simd = checkAgainstOracle(vKernel.simd, bytes, `${label} [simd]`);
  const scalar = checkAgainstOracle(vKernel.scalar, bytes, `${label} [scalar]`);
  if (JSON.stringify(simd) !== JSON.stringify(scalar))
    assert.unreachable(`${label}: simd and scalar kernels disagree (seed ${SEED})\n  hex=${hex(bytes)}\n  simd=${describeVerdict(simd)}\n  scalar=${describeVerdict(scalar)}`);
  return simd;
}

function checkAgainstOracle(v: any, bytes: Uint8Array, label: string) {
  let r: any;
  try {
    r = v.validate(bytes);
  } catch (e) {
    assert.unreachable(`${label}: validate threw ${(e as Error)?.stack ?? e} for hex=${hex(bytes)} (seed ${SEED})`);
  }
  assert.type(r, 'object', `${label}: no verdict for hex=${hex(bytes)}`);
  const o = oracleParse(bytes);
  let expectOk = o.ok;
  if (o.ok && depthOf(o.value) > MAX_DEFAULT_DEPTH) expectOk = false;
  if (r.ok !== expectOk) {
    assert.unreachable(
      `${label}: verdict.ok=${r.ok} but oracle says ${expectOk} (seed ${SEED})\n  input hex=${hex(bytes)}\n  text=${JSON.stringify(new TextDecoder().decode(bytes))}\n  verdict=${describeVerdict(r)}`,
    );
  }
  if (r.ok) {
    assert.is(r.code, 'OK', `${label}: ok verdict must have code OK: ${describeVerdict(r)} hex=${hex(bytes)}`);
  } else {
    assert.ok(SYNTAX_CODES.has(r.code), `${label}: schema true can only fail with a syntax code, got ${describeVerdict(r)} hex=${hex(bytes)}`);
    assert.ok(!RULE_CODES.has(r.code));
    assert.ok(
      typeof r.offset === 'number' && r.offset >= 0 && r.offset <= bytes.length,
      `${label}: syntax error offset must be within [0, ${bytes.length}]: ${describeVerdict(r)} hex=${hex(bytes)}`,
    );
  }
  return r;
}

test('fuzz: 20,000 random byte strings never trap and agree with JSON.parse', () => {
  const rng = new Rng(SEED ^ 0x1111);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = randomBytes(rng);
    checkKernels(bytes, `random #${i}`);
    if (oracleParse(bytes).ok) accepted++;
  }
  // the generator must also produce some valid documents, otherwise the oracle check is vacuous
  assert.ok(accepted > 50, `only ${accepted} random inputs were valid JSON`);
});

function validDoc(rng: Rng): Uint8Array {
  const v = randomValue(rng, 0, 5);
  const text = serialize(v, rng, { escapeP: rng.bool(0.3) ? 0.2 : 0, wsP: rng.bool(0.3) ? 0.3 : 0, altNumP: 0.2 });
  return enc.encode(text);
}

test('fuzz: valid generated documents are accepted (generator sanity + core)', () => {
  const rng = new Rng(SEED ^ 0x2222);
  for (let i = 0; i < 3000; i++) {
    const bytes = validDoc(rng);
    assert.ok(oracleParse(bytes).ok, `generator produced invalid JSON: ${hex(bytes)}`);
    checkKernels(bytes, `valid #${i}`);
  }
});

test('fuzz: 20,000 mutations of valid documents never trap and agree with JSON.parse', () => {
  const rng = new Rng(SEED ^ 0x3333);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = mutate(rng, validDoc(rng));
    checkKernels(bytes, `mutation #${i}`);
    if (oracleParse(bytes).ok) accepted++;
  }
  assert.ok(accepted > 500, `only ${accepted} mutations were still valid`);
});

test('fuzz: mutations also agree with the oracle under compileSchema({}) and a permissive object schema', () => {
  const rng = new Rng(SEED ^ 0x4444);
  // a schema whose keywords only apply to types that never fail: still must be a pure well-formedness check
  const permissive = compileSchema({ type: ['null', 'boolean', 'number', 'string', 'array', 'object'], properties: {}, items: true });
  for (let i = 0; i < 4000; i++) {
    const bytes = mutate(rng, validDoc(rng));
    checkAgainstOracle(vEmpty, bytes, `mutation/{} #${i}`);
    checkAgainstOracle(permissive, bytes, `mutation/permissive #${i}`);
  }
});

// tape mode (applicators, references, ...): the same well-formedness, and ajv's rule verdicts

/** Whether any object of the document repeats a key (JSON.parse keeps the last copy; the core may say E_DUPLICATE_KEY). */
function hasDuplicateKey(bytes: Uint8Array): boolean {
  const walk = (t: ReturnType<typeof parseEntries>): boolean => {
    if (t === null) return false;
    if ('a' in t) return t.a.some(walk);
    const keys = t.o.map(([k]) => k);
    return new Set(keys).size !== keys.length || t.o.some(([, v]) => walk(v));
  };
  return walk(parseEntries(bytes));
}

const TAPE_PERMISSIVE = { $defs: { any: { anyOf: [true, { $ref: '#/$defs/any' }] } }, allOf: [{ $ref: '#/$defs/any' }], not: false };
const TAPE_RICH = {
  $defs: {
    node: {
      anyOf: [
        { type: ['null', 'boolean', 'string'], not: { const: 'x' } },
        // (bounded: from a quotient of 1e21 on ajv says "not a multiple" of integers, see rules.test.ts)
        { type: 'number', minimum: -1e15, maximum: 1e15, multipleOf: 0.5 },
        { type: 'array', items: { $ref: '#/$defs/node' }, uniqueItems: true, contains: { type: 'number' }, minContains: 0 },
        { type: 'object', patternProperties: { '^a': { $ref: '#/$defs/node' } }, additionalProperties: { oneOf: [{ type: 'string' }, { type: 'array' }, true] }, propertyNames: { maxLength: 8 } },
      ],
    },
  },
  if: { type: 'object', required: ['a'] },
  then: { dependentRequired: { a: ['b'] } },
  else: { $ref: '#/$defs/node' },
  enum: [{ a: 1, b: [1, 'x'] }, [1, 2], 'y', 1, null, true, { a: [], b: {} }, [], {}, [[]], 0.5, 'z', false, [null], ['y'], { b: 'z' }].concat([]),
};

// annotations, dynamic references and formats: never a trap, the kernels equal, nothing ill-formed accepted
const TAPE_ANNOTATED = {
  $id: 'https://example.org/fuzz.json',
  $dynamicAnchor: 'node',
  anyOf: [
    { type: 'object', properties: { a: { $dynamicRef: '#node' } }, patternProperties: { '^x': { format: 'date-time' } }, unevaluatedProperties: { anyOf: [{ type: 'integer' }, { $dynamicRef: '#node' }] } },
    { type: 'array', prefixItems: [{ format: 'uuid' }], contains: { type: 'string', format: 'email' }, minContains: 0, unevaluatedItems: { $dynamicRef: '#node' } },
    { type: ['string', 'number', 'boolean', 'null'], format: 'ipv6' },
  ],
};

test('fuzz: tape mode with annotations, dynamic references and formats never traps and agrees across kernels', () => {
  const validators = KERNELS.map((k) => compileSchema(TAPE_ANNOTATED as never, { kernel: k, assertFormats: true } as never));
  const rng = new Rng(SEED ^ 0x5eed);
  let accepted = 0;
  for (let i = 0; i < 8000; i++) {
    const bytes = i % 3 === 0 ? randomBytes(rng) : i % 3 === 1 ? mutate(rng, validDoc(rng)) : validDoc(rng);
    const [simd, scalar] = validators.map((v) => v.validate(bytes));
    if (JSON.stringify(simd) !== JSON.stringify(scalar)) assert.unreachable(`annotated #${i}: kernels disagree hex=${hex(bytes)}\n  ${JSON.stringify(simd)}\n  ${JSON.stringify(scalar)}`);
    if (simd!.ok) {
      accepted++;
      if (!oracleParse(bytes).ok) assert.unreachable(`annotated #${i}: accepted what JSON.parse refuses hex=${hex(bytes)}`);
    }
  }
  assert.ok(accepted > 200, `only ${accepted} accepted`);
});

test('fuzz: tape mode never traps, checks well-formedness like JSON.parse on both kernels, and gives ajv verdicts', () => {
  const permissive = KERNELS.map((k) => compileSchema(TAPE_PERMISSIVE as never, { kernel: k } as never));
  const rich = KERNELS.map((k) => compileSchema(TAPE_RICH as never, { kernel: k } as never));
  const richNoEnum = KERNELS.map((k) => compileSchema({ ...TAPE_RICH, enum: undefined } as never, { kernel: k } as never));
  const ajv = new Ajv2020({ strict: false });
  const ajvRich = ajv.compile(TAPE_RICH);
  const ajvRichNoEnum = ajv.compile({ ...TAPE_RICH, enum: undefined });
  const rng = new Rng(SEED ^ 0x7a9e);
  let compared = 0;
  let valid = 0;
  for (let i = 0; i < 12000; i++) {
    const bytes = i % 3 === 0 ? randomBytes(rng) : i % 3 === 1 ? mutate(rng, validDoc(rng)) : validDoc(rng);
    for (const v of permissive) checkAgainstOracle(v, bytes, `tape permissive #${i}`);
    for (const [validators, reference] of [[rich, ajvRich], [richNoEnum, ajvRichNoEnum]] as const) {
      const [simd, scalar] = validators.map((v) => v.validate(bytes));
      if (JSON.stringify(simd) !== JSON.stringify(scalar)) assert.unreachable(`tape #${i}: kernels disagree hex=${hex(bytes)}\n  ${JSON.stringify(simd)}\n  ${JSON.stringify(scalar)}`);
      const o = oracleParse(bytes);
      if (!o.ok || depthOf(o.value) > MAX_DEFAULT_DEPTH || hasDuplicateKey(bytes)) {
        if (simd!.ok) assert.unreachable(`tape #${i}: accepted what JSON.parse refuses hex=${hex(bytes)}`);
        continue;
      }
      compared++;
      const expected = reference(o.value) as boolean;
      if (expected) valid++;
      if (simd!.ok !== expected) assert.unreachable(`tape #${i}: core ${JSON.stringify(simd)} / ajv ${expected} doc=${new TextDecoder().decode(bytes)} ${JSON.stringify(reference.errors)}`);
    }
  }
  assert.ok(compared > 5000 && valid > 500 && valid < compared - 500, `compared ${compared}, valid ${valid}`);
});

test('size budget: each core build stays within 32 KiB (today ~26 KB)', () => {
  for (const file of ['sluice-core.wasm', 'sluice-core-scalar.wasm']) {
    const size = statSync(new URL(`../../build/${file}`, import.meta.url)).size;
    assert.ok(size <= 32 * 1024, `build/${file} is ${size} bytes, over the 32 KiB budget`);
  }
});

test('SIMD block boundaries: a special byte at every position of strings and whitespace runs', () => {
  const specials: [string, number[], string | null][] = [
    ['quote', [0x22], null],
    ['escape \\n', [0x5c, 0x6e], null],
    ['escape \\u00e9', [0x5c, 0x75, 0x30, 0x30, 0x65, 0x39], null],
    ['bad escape', [0x5c, 0x78], null],
    ['control 0x01', [0x01], 'E_CONTROL'],
    ['control 0x1f', [0x1f], 'E_CONTROL'],
    ['DEL', [0x7f], null],
    ['2-byte', [0xc3, 0xa9], null],
    ['3-byte', [0xe2, 0x82, 0xac], null],
    ['4-byte', [0xf0, 0x9f, 0x98, 0x80], null],
    ['0xFF', [0xff], 'E_UTF8'],
    ['stray 0x80', [0x80], 'E_UTF8'],
    ['overlong C0', [0xc0, 0x80], 'E_UTF8'],
    ['surrogate ED A0 80', [0xed, 0xa0, 0x80], null],
    ['truncated E2 82', [0xe2, 0x82], null],
  ];
  let n = 0;
  for (const pre of [0, 1, 7, 15]) {
    for (let len = 0; len <= 70; len++) {
      for (let pos = 0; pos <= len; pos++) {
        for (const [name, sp, exactCode] of specials) {
          const bytes = b(' '.repeat(pre), '"', 'a'.repeat(pos), sp, 'a'.repeat(len - pos), '"');
          const r = checkKernels(bytes, `string pre=${pre} len=${len} pos=${pos} ${name}`);
          if (exactCode) {
            assert.is(r.code, exactCode, `${name} at ${pre + 1 + pos}: ${describeVerdict(r)} hex=${hex(bytes)}`);
            assert.is(r.offset, pre + 1 + pos, `${name} offset: ${describeVerdict(r)} hex=${hex(bytes)}`);
          }
          n++;
        }
      }
    }
  }
  // whitespace runs of every length with an illegal byte inside, and strings ending at the very end
  for (let len = 0; len <= 70; len++) {
    for (let pos = 0; pos <= len; pos++) {
      for (const bad of [0x0c, 0x0b, 0x00, 0xa0, 0xff, 0x2f]) {
        const bytes = b('[', ' \t\n\r'.repeat(20).slice(0, pos), bad, ' '.repeat(len - pos), '1]');
        const r = checkKernels(bytes, `ws len=${len} pos=${pos} bad=${bad}`);
        assert.is(r.code, 'E_TOKEN', describeVerdict(r));
        assert.is(r.offset, 1 + pos, `ws offset: ${describeVerdict(r)} hex=${hex(bytes)}`);
      }
      const ws = b('[', ' '.repeat(pos), '1', '\n'.repeat(len - pos), ']');
      assert.is(checkKernels(ws, `ws ok ${len}/${pos}`).code, 'OK');
    }
    assert.is(checkKernels(b('"', 'x'.repeat(len)), `unterminated ${len}`).code, 'E_UNTERMINATED');
    assert.is(checkKernels(b('"', 'x'.repeat(len), '\\'), `unterminated escape ${len}`).ok, false);
    assert.is(checkKernels(b('"', 'é'.repeat(len), [0xe2]), `truncated tail ${len}`).ok, false);
  }
  assert.ok(n > 10000);
});

test('a message of exactly the arena/maxSize that ends inside a string or number', () => {
  for (const kernel of KERNELS) {
    const v = compileSchema(true, { kernel } as any);
    const s = new Uint8Array(1048576).fill(0x61);
    s[0] = 0x22;
    let r = v.validate(s);
    assert.is(r.code, 'E_UNTERMINATED', `${kernel}: ${describeVerdict(r)}`);
    assert.is(r.offset, 1048576, `${kernel}: ${describeVerdict(r)}`);
    const num = new Uint8Array(1048576).fill(0x31);
    r = v.validate(num);
    assert.is(r.code, 'OK', `${kernel}: a 1 MiB integer is a valid number: ${describeVerdict(r)}`);
    const ws = new Uint8Array(1048576).fill(0x20);
    r = v.validate(ws);
    assert.is(r.code, 'E_EMPTY', `${kernel}: ${describeVerdict(r)}`);
    const arr = new Uint8Array(1048576).fill(0x5b);
    r = v.validate(arr);
    assert.is(r.code, 'E_DEPTH', `${kernel}: ${describeVerdict(r)}`);
    s[1048575] = 0xc3; // truncated 2-byte sequence as the very last byte
    r = v.validate(s);
    assert.ok(r.code === 'E_UTF8' || r.code === 'E_UNTERMINATED', `${kernel}: ${describeVerdict(r)}`);
    const batch = v.validateBatch([s, num, ws, s.subarray(0, 100), num.subarray(0, 5)]);
    assert.equal(batch.map((x: any) => x.code), [r.code, 'OK', 'E_EMPTY', 'E_UNTERMINATED', 'OK']);
  }
});

// ---------------------------------------------------------------------------
// batch vs one-by-one; large messages; maxSize

function norm(v: unknown) {
  return JSON.parse(JSON.stringify(v));
}

function bigDoc(rng: Rng, size: number): Uint8Array {
  // a well-formed object of exactly `size` bytes with varied content, padded inside a string
  const parts: string[] = [];
  let len = 0;
  const target = size - 64;
  let i = 0;
  while (len < target) {
    const s = serialize({ i, s: 'é€😀\\"' + 'x'.repeat(rng.int(40)), n: rng.float() * 1e6, a: [true, null, -0.5] }, rng, { escapeP: 0.05 });
    if (len + s.length + 1 > target) break;
    parts.push(s);
    len += enc.encode(s).length + 1;
    i++;
  }
  let head = '{"id":"big","items":[' + parts.join(',') + '],"pad":"';
  const headLen = enc.encode(head).length;
  const pad = size - headLen - 2;
  if (pad < 0) throw new Error('bigDoc: size too small');
  const out = enc.encode(head + 'p'.repeat(pad) + '"}');
  if (out.length !== size) throw new Error(`bigDoc: ${out.length} != ${size}`);
  return out;
}

test('validateBatch == validate one by one on a mixed batch incl. large messages', () => {
  const rng = new Rng(SEED ^ 0x5555);
  const schema = {
    type: 'object',
    properties: {
      id: { type: 'string', minLength: 1 },
      n: { type: 'number', maximum: 1000 },
      tags: { type: 'array', items: { type: 'string', maxLength: 5 } },
    },
    required: ['id'],
  };
  const v = compileSchema(schema, { extract: ['/id', '/n', '/tags/0', '/items'] });
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const k = rng.int(6);
    if (k === 0) msgs.push(randomBytes(rng));
    else if (k === 1) msgs.push(mutate(rng, validDoc(rng)));
    else if (k === 2) msgs.push(validDoc(rng));
    else {
      const doc: Record<string, unknown> = { id: rng.bool(0.9) ? 'id' + i : '', n: rng.bool() ? rng.int(2000) : 'x' };
      if (rng.bool()) doc.tags = Array.from({ length: rng.int(5) }, () => 'ab😀cdé'.slice(0, rng.int(7)));
      if (rng.bool(0.1)) delete doc.id;
      const bytes = enc.encode(serialize(doc, rng, { escapeP: 0.05, wsP: 0.1 }));
      msgs.push(k === 3 && rng.bool(0.3) ? mutate(rng, bytes) : bytes);
    }
  }
  // large ones, growing, to force arena growth in the middle of a batch
  const large: [Uint8Array, Uint8Array, Uint8Array] = [bigDoc(rng, 300 * 1024), bigDoc(rng, 700 * 1024), bigDoc(rng, 1048576)];
  msgs.splice(100, 0, large[0]);
  msgs.splice(1500, 0, large[1]);
  msgs.splice(2500, 0, large[2]);
  const tooBig = new Uint8Array(1048577).fill(0x20);
  tooBig[0] = 0x31;
  msgs.splice(2600, 0, tooBig);
  msgs.push(new Uint8Array(0));

  const batch = v.validateBatch(msgs);
  assert.is(batch.length, msgs.length);
  for (let i = 0; i < msgs.length; i++) {
    const single = v.validate(msgs[i]!);
    assert.equal(norm(batch[i]), norm(single), `message #${i} hex=${hex(msgs[i]!, 200)}: batch ${describeVerdict(batch[i])} vs single ${describeVerdict(single)}`);
  }
  const at = (m: Uint8Array) => batch[msgs.indexOf(m)]!;
  assert.is(at(large[0]).code, 'OK', describeVerdict(at(large[0])));
  assert.is(at(large[1]).code, 'OK');
  assert.is(at(large[2]).code, 'OK');
  assert.is(at(tooBig).code, 'E_SIZE');
  assert.is(batch[msgs.length - 1]!.code, 'E_EMPTY');
  // the span of /items in the 300 KB doc covers the whole array
  const f = at(large[0]).fields!;
  const items = f[3]!;
  assert.ok(items && large[0][items.start] === 0x5b && large[0][items.end - 1] === 0x5d);

  // run the batch again (arena already grown) and in reverse order: same answers
  const again = v.validateBatch(msgs.slice().reverse()).reverse();
  for (let i = 0; i < msgs.length; i++) assert.equal(norm(again[i]), norm(batch[i]), `second batch, message #${i}`);
  assert.equal(v.validateBatch([]), []);
});

test('messages up to maxSize work (default 1 MiB, and a raised maxSize)', () => {
  const rng = new Rng(SEED ^ 0x6666);
  const doc = bigDoc(rng, 1048576);
  assert.ok(oracleParse(doc).ok);
  let r = vTrue.validate(doc);
  assert.is(r.code, 'OK', describeVerdict(r));
  const over = new Uint8Array(1048577);
  over.set(doc);
  over[1048576] = 0x20;
  r = vTrue.validate(over);
  assert.is(r.code, 'E_SIZE', describeVerdict(r));
  // a 1 MiB document broken at its very end
  const broken = doc.slice();
  broken[broken.length - 1] = 0x5d; // "}" -> "]"
  r = vTrue.validate(broken);
  assert.is(r.code, 'E_TOKEN', describeVerdict(r));
  assert.is(r.offset, broken.length - 1, describeVerdict(r));
  // small message after the large ones still works
  assert.is(vTrue.validate(b('{"a":1}')).code, 'OK');

  const v4 = compileSchema({ type: 'object', required: ['id'] }, { maxSize: 4 * 1048576, extract: ['/pad'] });
  const doc4 = bigDoc(rng, 4 * 1048576);
  r = v4.validate(doc4);
  assert.is(r.code, 'OK', describeVerdict(r));
  const pad = r.fields![0]!;
  assert.is(pad.end, doc4.length - 1);
  assert.is(doc4[pad.start], 0x22);
  const over4 = new Uint8Array(4 * 1048576 + 1).fill(0x20);
  over4.set(doc4);
  assert.is(v4.validate(over4).code, 'E_SIZE');
  assert.equal(v4.validateBatch([doc4, b('{}'), doc4]).map((x: any) => x.code), ['OK', 'E_REQUIRED', 'OK']);
});

test('odd inputs: Uint8Array views with non-zero byteOffset are read correctly', () => {
  const backing = enc.encode('xxxx[1,2,3]yyyy');
  const view = backing.subarray(4, 11);
  assert.is(vTrue.validate(view).code, 'OK');
  const bad = backing.subarray(4, 12);
  const r = vTrue.validate(bad);
  assert.is(r.code, 'E_TRAILING', describeVerdict(r));
  assert.is(r.offset, 7);
});

test.run();
