// Shared $defs, asserted formats and conditions in the scan. The campaign rules as shipped
// (inline regexes); with eventId and campaignId through `$ref`s to $defs (read as their targets:
// the scan runs them); with eventId a `format: uuid` through a $ref instead of the regex (asserted:
// checked as the string is read); with that and "a conversion carries value and currency" (if/then,
// decided at the object's end); and each of the last three with an applicator beside them (the
// tape, which every `$ref`, format and if/then took before). Medians of 7 rounds over the campaign
// corpus, ns per message, in one run: `npx tsx bench/ref-scan.bench.ts`.
import { readFileSync } from 'node:fs';
import { buildCorpus } from './corpus.ts';
import { compileSchema } from '../src/core/validator.ts';

const corpus = buildCorpus('campaign', 4 << 20).messages;
const inline = JSON.parse(readFileSync('config/rules/campaign.schema.json', 'utf8'));
const defs = { ...inline, $defs: { uuid: inline.properties.eventId, code: inline.properties.campaignId }, properties: { ...inline.properties, eventId: { $ref: '#/$defs/uuid' }, campaignId: { $ref: '#/$defs/code' } } };
const format = { ...defs, $defs: { ...defs.$defs, uuid: { type: 'string', format: 'uuid' } } };
const conversion = { ...format, if: { properties: { type: { const: 'conversion' } }, required: ['type'] }, then: { required: ['value', 'currency'] } };
const onTape = (rules: object) => ({ ...rules, allOf: [{ not: { required: ['never-there'] } }] });
const variants: Record<string, object> = {
  inline,
  $defs: defs,
  'format uuid': format,
  'format uuid, if/then': conversion,
  '$defs on the tape': onTape(defs),
  'format uuid on the tape': onTape(format),
  'format uuid, if/then on the tape': onTape(conversion),
};
const validators = Object.entries(variants).map(([name, rules]) => [name, compileSchema(rules as never, { assertFormats: true, extract: ['/eventId', '/type'] })] as const);
const ns = new Map<string, number[]>();
for (let round = 0; round < 7; round++) {
  for (const [name, validator] of validators) {
    const started = process.hrtime.bigint();
    let valid = 0;
    for (let start = 0; start < corpus.length; ) {
      const n = validator.check(corpus, start);
      for (let i = 0; i < n; i++) valid += validator.ok(i) ? 1 : 0;
      start += n;
    }
    if (!ns.has(name)) console.log(`${name}: ${valid} of ${corpus.length} valid`);
    ns.set(name, [...(ns.get(name) ?? []), Number(process.hrtime.bigint() - started) / corpus.length]);
  }
}
for (const [name, rounds] of ns) console.log(`${name.padEnd(34)} ${Math.round(rounds.sort((a, b) => a - b)[3]!)} ns/msg`);
