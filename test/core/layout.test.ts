// The rule program's layout is written twice, once per language: assembly/layout.ts (the core
// reads it) and src/core/layout.ts and regex.ts (the compiler writes it). This checks the copies
// are equal, name by name, so a change to one side without the other fails here and not as
// wrong verdicts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/package-root.ts';

const read = (file: string) => readFileSync(join(packageRoot, file), 'utf8');

/** Every `NAME = <integer literal>` (with or without an AssemblyScript type) of a source text. */
function constants(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const [, name, value] of text.matchAll(/\b([A-Z][A-Z0-9_]*)\s*(?::\s*[iu]32\s*)?=\s*(0x[0-9a-fA-F]+|-?\d+)\s*[,;]/g)) found.set(name!, Number(value));
  return found;
}

const PREFIXES = /^(NODE_SIZE|N_|T_|F_|PROP_SIZE|P_|PF_|INDEX_SIZE|I_|ENUM_SIZE|EM_|EK_|OP_|RX_|DFA_|X_|XF_|CONDITION_SIZE|CD_|TEST_SIZE|CT_)/;

test('every layout constant of the compiler has the value the core reads', () => {
  const core = constants(read('assembly/layout.ts'));
  const compiler = new Map([...constants(read('src/core/layout.ts')), ...constants(read('src/core/regex.ts'))].filter(([name]) => PREFIXES.test(name)));
  assert.ok(compiler.size >= 40, `only ${compiler.size} layout constants found in src/core: the pattern no longer reads them`);
  for (const [name, value] of compiler) {
    assert.ok(core.has(name), `${name} (src/core) is not declared in assembly/layout.ts`);
    assert.is(value, core.get(name), `${name}: src/core says ${value}, assembly/layout.ts ${core.get(name)}`);
  }
});

test("the compiler's type bits are the core's T_* bits", () => {
  const core = constants(read('assembly/layout.ts'));
  const bits = /TYPE_BITS = \{ ([^}]*) \}/.exec(read('src/core/layout.ts'))?.[1];
  assert.ok(bits, 'TYPE_BITS not found in src/core/layout.ts');
  const names: Record<string, string> = { null: 'T_NULL', boolean: 'T_BOOL', integer: 'T_INT', number: 'T_NUM', string: 'T_STR', array: 'T_ARR', object: 'T_OBJ' };
  const pairs = [...bits.matchAll(/(\w+): (\d+)/g)];
  assert.is(pairs.length, 7);
  for (const [, type, value] of pairs) assert.is(Number(value), core.get(names[type!]!), `${type}: ${value}`);
});

test.run();
