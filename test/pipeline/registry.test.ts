// Every component in the registry: its kind matches its table key, every example in its spec
// passes its own config schema (as Benthos lints every example), and the generated docs list it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { componentDocs } from '../../src/pipeline/docs.ts';
import * as registry from '../../src/pipeline/registry.ts';

const tables = { sources: registry.sources, stages: registry.stages, sinks: registry.sinks, tables: registry.tables };

for (const [table, specs] of Object.entries(tables)) {
  for (const [kind, spec] of Object.entries(specs)) {
    test(`${table}.${kind}: kind, summary and examples`, () => {
      assert.is(spec.kind, kind);
      assert.ok(spec.summary.length > 10);
      assert.ok(spec.examples.length > 0, 'at least one example');
      for (const example of spec.examples) {
        const parsed = spec.config.safeParse(example);
        assert.ok(parsed.success, `${kind} example ${JSON.stringify(example)}: ${parsed.error?.message}`);
      }
      assert.not.ok(spec.config.safeParse({ 'no-such-key': 1, ...spec.examples[0] }).success, 'unknown keys are rejected');
    });
  }
}

test('the component reference names every kind', () => {
  const docs = componentDocs();
  for (const specs of Object.values(tables)) for (const kind of Object.keys(specs)) assert.ok(docs.includes(`### ${kind}\n`), kind);
});

test.run();
