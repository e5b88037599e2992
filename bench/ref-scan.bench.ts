// Shared $defs in the scan: the campaign rules as shipped (inline), with eventId and campaignId
// through `$ref`s to $defs (read as their targets: the scan runs them), and the same with an
// applicator beside them (allOf: the tape, which every `$ref` took before). Medians of 7 rounds
// over the campaign corpus, ns per message, in one run: `npx tsx bench/ref-scan.bench.ts`.
import { readFileSync } from 'node:fs';
import { buildCorpus } from './corpus.ts';
import { compileSchema } from '../src/core/validator.ts';
const corpus = buildCorpus('campaign', 4 << 20).messages;
const inline = JSON.parse(readFileSync('config/rules/campaign.schema.json', 'utf8'));
const uuid = inline.properties.eventId;
const defs = { ...inline, $defs: { uuid, code: inline.properties.campaignId }, properties: { ...inline.properties, eventId: { $ref: '#/$defs/uuid' }, campaignId: { $ref: '#/$defs/code' } } };
const tape = { ...defs, allOf: [{ required: ['eventId'] }] };
const variants: Record<string, object> = { inline, defs, 'defs+allOf (tape)': tape };
const validators = Object.fromEntries(Object.entries(variants).map(([k, s]) => [k, compileSchema(s as never, { extract: ['/eventId', '/type'] })]));
const bytes = corpus.reduce((n, m) => n + m.length, 0);
const rounds: Record<string, number[]> = {};
for (let r = 0; r < 7; r++) for (const [k, v] of Object.entries(validators)) {
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (let s = 0; s < corpus.length; ) { const n = v.check(corpus, s); for (let i = 0; i < n; i++) ok += v.ok(i) ? 1 : 0; s += n; }
  (rounds[k] ??= []).push(Number(process.hrtime.bigint() - t0) / corpus.length);
  if (r === 0) console.log(k, 'valid', ok, 'of', corpus.length);
}
for (const [k, xs] of Object.entries(rounds)) { xs.sort((a, b) => a - b); console.log(k.padEnd(20), 'median ns/msg', xs[3]!.toFixed(0), 'MB/s', (bytes / corpus.length / xs[3]! * 1000).toFixed(0)); }
