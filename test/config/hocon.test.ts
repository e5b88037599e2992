// Reading HOCON files (src/config/hocon.ts), what a mistake in one looks like: a syntax error names
// the file, line and column and what was expected, in words (never the parser's internals); bytes
// that are not UTF-8 name their offset; a missing optional include is a warning, a missing
// required one an error; the problems of every file come in one error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/pipeline/load.ts';
import { loadHocon } from '../../src/config/hocon.ts';
import { type ConfigProblem, SluiceError } from '../../src/errors.ts';
import { packageRoot } from '../../src/package-root.ts';

const localConf = join(packageRoot, 'config', 'local.conf');
/** What the parser's own messages are made of: none may reach a user. */
const INTERNALS = /Node\.\d|@[0-9a-f]{5}|Source:|Token:|\bcol:/;

let dir: string;
let counter = 0;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-hocon-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes files (name -> text or bytes) into a fresh directory; returns the path of the first. */
function files(entries: Record<string, string | Uint8Array>): string {
  const caseDir = join(dir, `case-${++counter}`);
  for (const [name, content] of Object.entries(entries)) {
    mkdirSync(resolve(caseDir, name, '..'), { recursive: true });
    writeFileSync(join(caseDir, name), content);
  }
  return join(caseDir, Object.keys(entries)[0]!);
}

async function loadError(file: string): Promise<SluiceError> {
  try {
    await loadHocon(file);
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_CONFIG');
    return error as SluiceError;
  }
  throw new assert.Assertion({ message: `${file} loaded, but it should not`, operator: 'throws', expects: 'SLC_CONFIG', actual: 'loaded' });
}

const show = (problems: readonly ConfigProblem[]) => problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n');

test('a syntax error names the file, line and column and what was expected, never the parser internals', async () => {
  const cases: [string, string, RegExp][] = [
    ['a {\n  b = 1\n  c = = 2\n}\n', 'line 3, column 7', /unexpected "=": expected a value/],
    ['flows {\n  content {\n    source { kind = file, path = "x"\n', 'line 2, column 3', /not closed: expected "}"/],
    ['a = 1\n  = 2\n', 'line 2, column 3', /unexpected "=": expected a key or "}"/],
    ['a = 1\nb = "unterminated\nc = 3\n', 'line 2, column 18', /quoted string is not closed/],
    ['a = """abc\n', 'line 1, column 7', /multi-line string is not closed: expected '"""'/],
    ['a = ${b\n', 'line 1, column 8', /unexpected end of line: expected "}" closing the substitution/],
    ['a b\n', 'line 1, column 1', /no value for the key "a"/],
    ['a = "x\\q"\n', 'line 1, column 7', /invalid escape sequence/],
    ['a. = 1\n', 'line 1, column 1', /a key cannot start or end with a dot/],
  ];
  for (const [text, where, what] of cases) {
    const file = files({ 'broken.conf': text });
    const error = await loadError(file);
    assert.is(error.problems.length, 1, show(error.problems));
    const [problem] = error.problems;
    assert.is(resolve(problem!.file!), file);
    assert.is(problem!.path, where, `${JSON.stringify(text)}: ${show(error.problems)}`);
    assert.match(problem!.message, what, JSON.stringify(text));
    assert.not.match(error.message, INTERNALS, error.message);
    assert.ok(error.message.includes(`broken.conf: ${where}: `), error.message);
  }
});

test('invalid UTF-8 names the file, its byte offset, line and column', async () => {
  const text = Buffer.concat([Buffer.from('# é is fine\na = 1\nb = "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]);
  const file = files({ 'latin1.conf': text });
  const error = await loadError(file);
  assert.equal(
    error.problems.map((p) => [resolve(p.file!), p.path, p.message]),
    [[file, 'line 3, column 9', `invalid UTF-8 at byte ${text.indexOf(0xe9)} (a configuration file is UTF-8 text)`]],
  );
  // a byte order mark is UTF-8, and not part of the first key
  const withBom = files({ 'bom.conf': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a = 1\n')]) });
  const loaded = await loadHocon(withBom);
  assert.equal(loaded.tree, { a: 1 });
  assert.is(loaded.fileOf(['a']), withBom);
});

test('the problems of every file in one run: bad bytes in one, bad syntax in another, a missing required include', async () => {
  const top = files({
    'top.conf': 'include "a.conf"\ninclude "b.conf"\ninclude required("gone.conf")\ntop = 1\n',
    'a.conf': Buffer.concat([Buffer.from('a = "'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]),
    'b.conf': 'b {\n  c = [1, 2\n  d = 3\n}\n',
  });
  const error = await loadError(top);
  const byFile = new Map(error.problems.map((p) => [resolve(p.file!).slice(resolve(top, '..').length + 1), `${p.path}: ${p.message}`]));
  assert.is(error.problems.length, 3, show(error.problems));
  assert.match(byFile.get('top.conf')!, /^line 3: include required\("gone.conf"\): no such file$/);
  assert.match(byFile.get('a.conf')!, /^line 1, column 6: invalid UTF-8 at byte 5/);
  assert.match(byFile.get('b.conf')!, /^line 3, column 5: unexpected "=": expected a value/);
  assert.not.match(error.message, INTERNALS);
});

test('an optional include of a missing file is a warning naming the file and line; the rest loads', async () => {
  const top = files({ 'top.conf': `include "${localConf}"\ninclude "overlay-not-there.conf"\nprogress = off\n` });
  const config = await loadConfig(top);
  const warning = config.warnings.find((w) => w.message.includes('overlay-not-there.conf'));
  assert.ok(warning, JSON.stringify(config.warnings));
  assert.is(resolve(warning.file!), top);
  assert.is(warning.path, 'line 2');
  assert.match(warning.message, /^include "overlay-not-there.conf": no such file \(an optional include: skipped/);
  assert.is(config.settings.progress, 'off');
});

test('an empty instance-id says "empty"', async () => {
  const top = files({
    'top.conf': `include "${localConf}"\nflows.campaign.source = null\nflows.campaign.source { kind = kafka, brokers = "127.0.0.1:9092", topic = t, group-id = g, instance-id = "" }\n`,
  });
  try {
    await loadConfig(top);
    assert.unreachable('an empty instance-id loaded');
  } catch (error) {
    assert.instance(error, SluiceError);
    const problems = (error as SluiceError).problems.filter((p) => p.path === 'flows.campaign.source.instance-id');
    assert.is(problems.length, 1, show((error as SluiceError).problems));
    assert.match(problems[0]!.message, /^empty: /);
  }
});

test.run();
