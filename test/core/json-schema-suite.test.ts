// The official JSON-Schema-Test-Suite (test/fixtures/json-schema-test-suite, its README names the
// commit): every test's schema through compileSchema, every test's data through validate, on the
// core and on the plain-JS engine (`validator = js`), beside ajv 8 as the reference a user knows.
// Prints a table per draft and a tally per file; fails when the count the core gets right drops
// below the stored baseline (json-schema-suite.baseline.json, raised as keywords land) or when
// the core answers wrongly on a schema it accepted (refusing a schema is honest; a wrong verdict
// is not). SLUICE_SUITE_FILES=1 prints the per-file tally of every file, not only imperfect ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileSchema } from '../../src/index.ts';
import { JsValidator } from '../../src/core/js-validator.ts';

const root = new URL('../fixtures/json-schema-test-suite/', import.meta.url);
const baselineFile = new URL('./json-schema-suite.baseline.json', import.meta.url);
const enc = new TextEncoder();

interface SuiteTest { description: string; data: unknown; valid: boolean }
interface SuiteCase { description: string; schema: unknown; tests: SuiteTest[] }
interface Tally { tests: number; core: number; js: number; ajv: number; schemas: number; refused: number }
interface Baseline { [group: string]: { core: number; wrong: number } }

const DRAFTS = [
  { name: 'draft7', label: 'draft-07', meta: 'http://json-schema.org/draft-07/schema#' },
  { name: 'draft2019-09', label: '2019-09', meta: 'https://json-schema.org/draft/2019-09/schema' },
  { name: 'draft2020-12', label: '2020-12', meta: 'https://json-schema.org/draft/2020-12/schema' },
] as const;

/** Files set aside: none (refRemote's remotes are handed over as `schemas`, by their URLs). */
const ASIDE = new Set<string>();

/** The suite's remotes/ as its HTTP server would serve them: URL -> schema. */
function remotes(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (dir: URL, path: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(new URL(`${entry.name}/`, dir), `${path}${entry.name}/`);
      else if (entry.name.endsWith('.json')) out[`http://localhost:1234/${path}${entry.name}`] = JSON.parse(readFileSync(new URL(entry.name, dir), 'utf8'));
    }
  };
  walk(new URL('remotes/', root), '');
  return out;
}
const REMOTES = remotes();

/** ajv 8 for the draft; asserting formats with ajv-formats (its "full" mode) for optional/format. */
function ajvFor(draft: (typeof DRAFTS)[number]['name'], assertFormats: boolean): Ajv {
  const options = { strict: false, allErrors: false, validateFormats: assertFormats, logger: false } as const;
  const ajv = draft === 'draft7' ? new Ajv(options) : draft === 'draft2019-09' ? new Ajv2019(options) : new Ajv2020(options);
  if (assertFormats) addFormats.default(ajv);
  return ajv;
}

/** The suite's draft-07 schemas name no `$schema`: say it, as a user of that draft would. */
function withDraft(schema: unknown, meta: string): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || '$schema' in schema) return schema;
  return { $schema: meta, ...schema };
}

const empty = (): Tally => ({ tests: 0, core: 0, js: 0, ajv: 0, schemas: 0, refused: 0 });
const pct = (n: number, of: number) => `${n} (${of === 0 ? 0 : Math.round((100 * n) / of)} %)`;

test('JSON-Schema-Test-Suite: per-draft tally against the stored baseline', () => {
  const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')) as Baseline;
  const rows: string[] = [];
  const perFile: string[] = [];
  const wrongs: string[] = [];
  const problems: string[] = [];
  // the js engine is ajv: where ajv is wrong (JS object property names, ...) it differs from the core
  const disagreements: string[] = [];
  const measured: Baseline = {};
  for (const draft of DRAFTS) {
    for (const group of ['required', 'format'] as const) {
      const dir = new URL(`tests/${draft.name}/${group === 'format' ? 'optional/format/' : ''}`, root);
      const files = readdirSync(dir).filter((f) => f.endsWith('.json') && !ASIDE.has(f)).sort();
      const tally = empty();
      let wrong = 0;
      for (const file of files) {
        const cases = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as SuiteCase[];
        const fileTally = empty();
        for (const suiteCase of cases) {
          const schema = withDraft(suiteCase.schema, draft.meta);
          const where = `${draft.name}/${group === 'format' ? 'optional/format/' : ''}${file}: ${suiteCase.description}`;
          const options = { schemas: REMOTES, ...(group === 'format' ? { assertFormats: true } : {}) };
          let core: ReturnType<typeof compileSchema> | undefined;
          let js: JsValidator | undefined;
          try {
            core = compileSchema(schema as never, options as never);
          } catch {
            fileTally.refused++;
          }
          try {
            js = new JsValidator(schema as never, options as never);
          } catch {
            // refused like the core (it compiles the same program first)
          }
          let ajvValidate: ReturnType<Ajv['compile']> | undefined;
          try {
            const ajv = ajvFor(draft.name, group === 'format');
            if (file === 'refRemote.json') {
              for (const [uri, remote] of Object.entries(REMOTES)) {
                try {
                  ajv.addSchema(remote as AnySchema, uri);
                } catch {
                  // a remote of another draft's meta-schema, or an $id taken twice
                }
              }
            }
            ajvValidate = ajv.compile(schema as AnySchema);
          } catch {
            // ajv cannot compile it: every test of the case counts as wrong for ajv
          }
          fileTally.schemas++;
          for (const t of suiteCase.tests) {
            fileTally.tests++;
            const bytes = enc.encode(JSON.stringify(t.data));
            if (core) {
              const verdict = core.validate(bytes);
              if (verdict.ok === t.valid) fileTally.core++;
              else {
                wrong++;
                wrongs.push(`${where} / ${t.description}: expected ${t.valid ? 'valid' : 'invalid'}, core ${verdict.code}`);
              }
            }
            if (js) {
              js.check([bytes]);
              if (js.ok(0) === t.valid) fileTally.js++;
              if (core && js.ok(0) !== core.validate(bytes).ok) disagreements.push(`${where} / ${t.description}`);
            }
            if (ajvValidate) {
              try {
                if (ajvValidate(t.data) === t.valid) fileTally.ajv++;
              } catch {
                // a throw is a wrong answer
              }
            }
          }
        }
        for (const key of Object.keys(tally) as (keyof Tally)[]) tally[key] += fileTally[key];
        if (process.env.SLUICE_SUITE_FILES || fileTally.core < fileTally.tests) {
          perFile.push(`  ${draft.name.padEnd(13)} ${(group === 'format' ? 'format/' : '') + file.padEnd(32)} ${String(fileTally.core).padStart(4)} / ${String(fileTally.tests).padEnd(4)} core right, ajv ${fileTally.ajv}, refused ${fileTally.refused} of ${fileTally.schemas} schemas`);
        }
      }
      const key = `${draft.name}${group === 'format' ? '/format' : ''}`;
      measured[key] = { core: tally.core, wrong };
      rows.push(`| ${draft.label}${group === 'format' ? ' format (asserted)' : ''} | ${tally.tests} | ${pct(tally.core, tally.tests)} | ${pct(tally.js, tally.tests)} | ${pct(tally.ajv, tally.tests)} | ${tally.refused} of ${tally.schemas} |`);
      const floor = baseline[key];
      if (!floor) problems.push(`${key}: no baseline stored`);
      else {
        if (tally.core < floor.core) problems.push(`${key}: the core gets ${tally.core} right, below the baseline ${floor.core}`);
        if (wrong > floor.wrong) problems.push(`${key}: ${wrong} wrong verdicts on accepted schemas, above the baseline ${floor.wrong}`);
      }
    }
  }
  console.log('\n  JSON-Schema-Test-Suite (refRemote with the remotes as schemas), compileSchema then validate:\n');
  console.log('  | draft | tests | Sluice right | js engine right | ajv 8 right | schemas Sluice refuses |');
  console.log('  |---|---|---|---|---|---|');
  for (const row of rows) console.log(`  ${row}`);
  console.log(`\n  files with tests the core does not get right:\n${perFile.join('\n')}`);
  console.log(`\n  measured: ${JSON.stringify(measured)}`);
  if (disagreements.length > 0) console.log(`\n  the js engine (ajv) differs from the core on ${disagreements.length} tests:\n  ${disagreements.slice(0, 20).join('\n  ')}`);
  if (wrongs.length > 0) console.log(`\n  wrong verdicts on accepted schemas (${wrongs.length}):\n  ${wrongs.slice(0, 400).join('\n  ')}`);
  assert.ok(problems.length === 0, problems.slice(0, 40).join('\n'));
});

test.run();
