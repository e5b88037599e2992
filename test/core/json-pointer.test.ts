// JSON Pointer tokens (RFC 6901): `~` before `/` when escaping, `~1` before `~0` when unescaping,
// so that `~01` stays the name `~1`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeToken, unescapeToken } from '../../src/core/json-pointer.ts';

test('escapes and unescapes, round trip', () => {
  const names = ['plain', 'm~n', 'a/b', '~1', '/~/', '', 'é/日本'];
  assert.equal(names.map(escapeToken), ['plain', 'm~0n', 'a~1b', '~01', '~1~0~1', '', 'é~1日本']);
  for (const name of names) assert.is(unescapeToken(escapeToken(name)), name);
});

test.run();
