// The plain-JS validator against the core on the samples: the same ok/invalid for every line (but
// duplicate keys, which JSON.parse accepts: documented), the same code for a line that breaks one
// rule (of one breaking several, each may name another first: ajv checks if/then before
// properties), the same extracted values for valid lines; then local mode with `validator = js`
// writes what the core's run writes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, resourcesOf } from '../../src/pipeline/load.ts';
import { JsValidator } from '../../src/core/js-validator.ts';
import { AJV_KEYWORD_CODES } from '../../src/core/codes.ts';
import { compileSchema, type MessageValidator } from '../../src/core/validator.ts';
import { startLocalServices } from '../../src/io/http/local-server.ts';
import { packageRoot } from '../../src/package-root.ts';
import { decodeSpan } from '../../src/component/fields.ts';
import { buildFlows } from '../../src/pipeline/build.ts';
import { rawLines, SAMPLES } from '../io/kafka/harness.ts';

/** Every value the flows' stages read, and more: nested, array items, absent ones. */
const EXTRACT: Record<string, string[]> = {
  campaign: ['/eventId', '/type', '/campaignId', '/placementId', '/userId', '/occurredAt', '/value', '/currency', '/itemId', '/device/os', '/device', '/consent', '/schemaVersion', '/geo/country'],
  content: ['/id', '/type', '/status', '/title', '/summary', '/language', '/publishedAt', '/durationSec', '/version', '/tags', '/tags/0', '/author/id', '/author', '/rating'],
};

/** Syntax failures both name, where V8's message and the core agree on the kind. */
const SAME_SYNTAX_CODES = new Set(['E_UTF8', 'E_UNTERMINATED', 'E_TRAILING', 'E_ESCAPE', 'E_CONTROL', 'E_EMPTY', 'E_SIZE', 'E_DEPTH']);

interface Outcome {
  ok: boolean;
  code: string;
  path?: string;
  values?: unknown[];
}

/** The codes of every rule a message breaks, by ajv with allErrors (an `if` failing for its `then` is the `then`'s failure); none if it is not JSON. */
function rulesBroken(schema: object): (message: Uint8Array) => string[] {
  const validate = addFormats.default(new Ajv2020({ allErrors: true, strict: false })).compile(schema);
  return (message) => {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      return [];
    }
    validate(value);
    return (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => AJV_KEYWORD_CODES[e.keyword] ?? e.keyword);
  };
}

function outcomes(validator: MessageValidator, messages: readonly Uint8Array[]): Outcome[] {
  const out: Outcome[] = [];
  for (let start = 0; start < messages.length; ) {
    const count = validator.check(messages, start);
    const spans = validator.spans(count);
    const width = validator.extract.length * 2;
    for (let i = 0; i < count; i++) {
      const verdict = validator.verdict(i);
      if (!verdict.ok) {
        out.push({ ok: false, code: verdict.code, ...(verdict.path !== undefined ? { path: verdict.path } : {}) });
        continue;
      }
      const decoded = validator.values(i);
      const values = decoded
        ? [...decoded]
        : validator.extract.map((_, slot) => {
            const begin = spans[i * width + slot * 2]!;
            return begin < 0 ? undefined : decodeSpan(messages[start + i]!, begin, spans[i * width + slot * 2 + 1]!);
          });
      out.push({ ok: true, code: 'OK', values });
    }
    start += count;
  }
  return out;
}

for (const flow of ['campaign', 'content']) {
  test(`${flow} samples: the JS validator agrees with the core on every line`, () => {
    const schema = JSON.parse(readFileSync(join(packageRoot, 'config', 'rules', `${flow}.schema.json`), 'utf8'));
    const messages = rawLines(join(SAMPLES, `${flow}.ndjson`));
    const core = outcomes(compileSchema(schema, { extract: EXTRACT[flow] }), messages);
    const js = outcomes(new JsValidator(schema, { extract: EXTRACT[flow] }), messages);
    const broken = rulesBroken(schema);
    let invalid = 0;
    let several = 0;
    let compared = 0;
    core.forEach((expected, index) => {
      const line = `line ${index + 1}`;
      const actual = js[index]!;
      if (expected.code === 'E_DUPLICATE_KEY') {
        assert.ok(actual.ok, `${line}: JSON.parse keeps the last duplicate`);
        return;
      }
      assert.is(actual.ok, expected.ok, `${line}: ${expected.code} vs ${actual.code}`);
      if (!expected.ok) {
        invalid++;
        const rules = broken(messages[index]!);
        if (rules.length > 1 && actual.code !== expected.code) {
          several++;
          assert.ok(rules.includes(actual.code) && rules.includes(expected.code), `${line}: ${expected.code} and ${actual.code} among the rules it breaks (${rules.join(', ')})`);
        } else if (expected.path !== undefined || SAME_SYNTAX_CODES.has(expected.code)) {
          assert.is(actual.code, expected.code, `${line} code`);
          assert.is(actual.path, expected.path, `${line} path`);
        }
        return;
      }
      compared++;
      assert.equal(actual.values, expected.values, `${line} values`);
    });
    assert.ok(invalid > 0 && compared > 0, 'the samples hold both valid and invalid lines');
    assert.ok(several <= 5, `${several} lines name another of their broken rules first`);
  });
}

test('the JS validator: sizes, depth, syntax codes and offsets in bytes', () => {
  const validator = new JsValidator({ type: 'object' }, { maxDepth: 3, maxSize: 64, extract: ['/a'] });
  const verdict = (text: string) => {
    validator.check([Buffer.from(text)]);
    return validator.verdict(0);
  };
  assert.is(verdict('{"a":[[1]]}').code, 'OK');
  assert.is(verdict('{"a":[[[1]]]}').code, 'E_DEPTH');
  assert.is(verdict('{"a":"[[[[[[["}').code, 'OK', 'brackets inside strings do not nest');
  assert.is(verdict('{"a":["\\"[[[",["]"]]}').code, 'OK', 'nor do escaped quotes end a string');
  const deep = new JsValidator(true, { maxDepth: 64 });
  for (const depth of [10_000, 100_000]) {
    // the depth was once measured by a recursion over the parsed value: a stack overflow
    deep.check([Buffer.from('[{"a":'.repeat(depth / 2) + '1' + '}]'.repeat(depth / 2))]);
    assert.is(deep.verdict(0).code, 'E_DEPTH', `${depth} levels`);
  }
  assert.is(verdict(`{"a":"${'x'.repeat(64)}"}`).code, 'E_SIZE');
  assert.is(verdict('   ').code, 'E_EMPTY');
  assert.is(verdict('{"a":1').code, 'E_UNTERMINATED');
  assert.is(verdict('{"a":1} 2').code, 'E_TRAILING');
  assert.is(verdict('{"a":-}').code, 'E_NUMBER');
  assert.equal(verdict('{"é":"\\q"}'), { ok: false, code: 'E_ESCAPE', message: 'invalid escape sequence in a string', offset: 8 });
  assert.is(verdict('[1]').path, '');
  validator.check([Buffer.from('{"a":{"b":null}}')]);
  assert.equal(validator.values(0), [{ b: null }]);
});

test('the JS validator refuses what the core refuses', () => {
  assert.throws(() => new JsValidator({ type: 'object', $recursiveRef: '#' }), /\$recursiveRef/);
  assert.throws(() => new JsValidator({ type: 'object' }, { extract: ['a'] }), /JSON Pointer/);
});

test('local mode with validator = js writes what the core writes', async () => {
  // the core dead-letters duplicate keys, JSON.parse takes the last copy: those lines are left out
  const dir = mkdtempSync(join(tmpdir(), 'sluice-js-validator-'));
  try {
    const inputs: Record<string, string> = {};
    /** Per flow, the input lines that break several rules: either run may name another first. */
    const several: Record<string, Set<string>> = {};
    for (const flow of ['campaign', 'content']) {
      const schema = JSON.parse(readFileSync(join(packageRoot, 'config', 'rules', `${flow}.schema.json`), 'utf8'));
      const messages = rawLines(join(SAMPLES, `${flow}.ndjson`));
      const verdicts = compileSchema(schema).validateBatch(messages);
      const kept = messages.filter((_, i) => verdicts[i]!.code !== 'E_DUPLICATE_KEY');
      const broken = rulesBroken(schema);
      several[flow] = new Set(kept.flatMap((m, i) => (broken(m).length > 1 ? [String(i + 1)] : [])));
      assert.ok(kept.length < messages.length, `${flow}: the samples hold duplicate keys`);
      inputs[flow] = join(dir, `${flow}.in.ndjson`);
      writeFileSync(inputs[flow]!, Buffer.concat(kept.flatMap((m) => [m, Buffer.from('\n')])));
    }
    const run = async (validator: string) => {
      const overlay = join(dir, `${validator}.conf`);
      writeFileSync(
        overlay,
        `include "${join(packageRoot, 'config', 'local.conf')}"
log.level = silent
${['campaign', 'content']
  .map((flow) => `flows.${flow} {
  validator = ${validator}
  source.path = "${inputs[flow]}"
  sink.path = "${validator}.${flow}.ndjson"
  dead-letter.path = "${validator}.${flow}.dlq.ndjson"
}`)
  .join('\n')}
`,
      );
      const config = await loadConfig(overlay);
      const services = await startLocalServices(config.settings['local-services'], (name) => config.dirOf(['local-services', name, 'routes']));
      try {
        await Promise.all(buildFlows(config.flows, resourcesOf(config, pino({ level: 'silent' }), { localUrls: services.urls })).map((f) => f.run()));
      } finally {
        await services.stop();
      }
    };
    await run('wasm');
    await run('js');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l !== '');
    const letters = (flow: string, file: string) =>
      read(file).map((l) => {
        const headers = (JSON.parse(l) as { headers: Record<string, string> }).headers;
        const line = headers['sluice.source.line']!;
        const rule = headers['sluice.path'] === undefined ? 'syntax' : several[flow]!.has(line) ? 'several' : headers['sluice.reason'];
        return { line, stage: headers['sluice.stage'], rule };
      });
    for (const flow of ['campaign', 'content']) {
      const written = read(`wasm.${flow}.ndjson`);
      assert.ok(written.length > 100, `${flow}: records written`);
      assert.equal(read(`js.${flow}.ndjson`), written, `${flow}: the same records, in the same order`);
      assert.equal(letters(flow, `js.${flow}.dlq.ndjson`), letters(flow, `wasm.${flow}.dlq.ndjson`), `${flow}: the same dead letters`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
