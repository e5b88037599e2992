// Prints the core's verdicts on each line of stdin as JSON, one line per message (the campaign
// rules, and the same rules with $ref, if/then, oneOf, formats, run on the tape): run under Deno
// and under Node by test/deno/deno.test.ts, which requires both to print the same.
import { readFileSync } from 'node:fs';
import { compileSchema } from '../../src/core/validator.ts';

const schema = JSON.parse(readFileSync(new URL('../../config/rules/campaign.schema.json', import.meta.url), 'utf8'));
const validator = compileSchema(schema, { extract: ['/eventId', '/device/os', '/value'] });
// the same rules in tape mode: $defs and $ref, if/then, oneOf, asserted formats
const keywords = compileSchema(
  {
    // the shipped rules' own $defs too: their "#/$defs/…" references resolve against this root
    $defs: { ...schema.$defs, id: { type: 'string', format: 'uuid' }, money: { oneOf: [{ type: 'integer' }, { type: 'number', multipleOf: 0.01 }, { type: 'number' }] } },
    allOf: [schema],
    properties: { eventId: { $ref: '#/$defs/id' }, value: { $ref: '#/$defs/money' } },
    if: { properties: { type: { const: 'conversion' } }, required: ['type'] },
    then: { required: ['value', 'currency'] },
    unevaluatedProperties: { not: { type: 'object' } },
  },
  { extract: ['/eventId', '/device/os', '/value'], assertFormats: true },
);
const input = readFileSync(0);
const messages: Uint8Array[] = [];
let start = 0;
for (let i = input.indexOf(10); i >= 0; i = input.indexOf(10, start)) {
  messages.push(input.subarray(start, i));
  start = i + 1;
}
const tape = keywords.validateBatch(messages);
const lines = validator.validateBatch(messages).map((v, i) => JSON.stringify([v, tape[i]]));
process.stdout.write(`${lines.join('\n')}\n`);
