// Prints the core's verdict on each line of stdin as JSON, one per line: run under Deno and
// under Node by test/deno/deno.test.ts, which requires both to print the same.
import { readFileSync } from 'node:fs';
import { compileSchema } from '../../src/core/validator.ts';

const schema = JSON.parse(readFileSync(new URL('../../config/rules/campaign.schema.json', import.meta.url), 'utf8'));
const validator = compileSchema(schema, { extract: ['/eventId', '/device/os', '/value'] });
const input = readFileSync(0);
const messages: Uint8Array[] = [];
let start = 0;
for (let i = input.indexOf(10); i >= 0; i = input.indexOf(10, start)) {
  messages.push(input.subarray(start, i));
  start = i + 1;
}
const lines = validator.validateBatch(messages).map((v) => JSON.stringify(v));
process.stdout.write(`${lines.join('\n')}\n`);
