// Shared $defs, asserted formats and conditions in the scan, on the campaign messages. The
// campaign rules as shipped (`format: uuid`, `$ref`s to $defs, "a conversion carries value and
// currency" as if/then), the same without the if/then, and as they were before (the uuid an
// inline pattern, the $defs written in place, no if/then); and the first two with an applicator
// beside them (the tape, which every `$ref`, format and if/then took before the scan decided
// them). Medians of 7 passes over the campaign corpus on tinybench, the variants in turn
// (bench/alternate.ts), ns per message, in one run:
// `npx tsx bench/ref-scan.bench.ts`.
import { readFileSync } from 'node:fs';
import { median, runAlternating } from './alternate.ts';
import { buildCorpus } from './corpus.ts';
import { compileSchema } from '../src/core/validator.ts';

const corpus = buildCorpus('campaign', 4 << 20).messages;
const shipped = JSON.parse(readFileSync('config/rules/campaign.schema.json', 'utf8'));
const without = (rules: object, ...keywords: string[]) => Object.fromEntries(Object.entries(rules).filter(([keyword]) => !keywords.includes(keyword)));
const unconditional = without(shipped, 'if', 'then');
const $defs = shipped.$defs;
const inline = {
  ...without(unconditional, '$defs'),
  properties: {
    ...shipped.properties,
    eventId: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
    occurredAt: $defs.epochMillis,
    value: $defs.amount,
    currency: $defs.currencyCode,
  },
};
const onTape = (rules: object) => ({ ...rules, allOf: [{ not: { required: ['never-there'] } }] });
const variants: Record<string, object> = {
  'as shipped': shipped,
  'without the if/then': unconditional,
  'as before (inline, no if/then)': inline,
  'as shipped, on the tape': onTape(shipped),
  'without the if/then, on the tape': onTape(unconditional),
};
const validators = Object.entries(variants).map(([name, rules]) => [name, compileSchema(rules as never, { assertFormats: true, extract: ['/eventId', '/type'] })] as const);
const valid = new Map<string, number>();
const cases = Object.fromEntries(
  validators.map(([name, validator]) => [
    name,
    () => {
      let count = 0;
      for (let start = 0; start < corpus.length; ) {
        const n = validator.check(corpus, start);
        for (let i = 0; i < n; i++) count += validator.ok(i) ? 1 : 0;
        start += n;
      }
      valid.set(name, count);
    },
  ]),
);
const times = runAlternating(cases, { warmup: 1, rounds: 7, block: 1 });
for (const [name, { wall }] of times) console.log(`${name.padEnd(34)} ${Math.round((median(wall) * 1e6) / corpus.length)} ns/msg (${valid.get(name)} of ${corpus.length} valid)`);
