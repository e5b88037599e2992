// `sluice test`: declarative test files shipped beside a configuration — inputs for one flow and
// what must come out — run with the test driver.
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadHocon } from '../config/hocon.ts';
import { configError } from '../config/load.ts';
import { formatKeyPath } from '../errors.ts';
import { runFlow } from './driver.ts';

const input = z.strictObject({
  value: z.string().describe('The message, as text'),
  key: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const tables = z
  .record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown())))
  .optional()
  .describe('Tables by name, each key -> row, in place of the configured tables of those names');

const clockStep = z.strictObject({
  'advance-ms': z.number().int().min(0).describe("Moves the flow's clock on by this many ms, once the inputs before it are processed"),
});

const testCase = z.strictObject({
  name: z.string(),
  tables,
  input: z.array(z.union([input, clockStep])).min(1).describe('Messages, and clock steps among them (the clock stands still otherwise)'),
  expect: z.strictObject({
    outputs: z.array(z.record(z.string(), z.unknown())).optional().describe('One entry per output, in order; each lists fields the output must have'),
    'dead-letters': z
      .array(z.strictObject({ reason: z.string(), path: z.string().optional(), stage: z.string().optional() }))
      .optional()
      .describe('One entry per dead letter, in input order'),
    filtered: z.number().int().min(0).optional(),
  }),
});

const testFile = z.strictObject({
  config: z.string().describe('The configuration under test (relative to this file)'),
  flow: z.string(),
  tables: tables.describe('Tables for every case (a case\'s own tables replace those of the same names)'),
  cases: z.array(testCase).min(1),
});

export interface CaseResult {
  name: string;
  problems: string[];
}

/** Whether `actual` has every field of `expected` with an equal value (objects compared the same way). */
function contains(actual: unknown, expected: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, v]) => contains((actual as Record<string, unknown>)[k], v));
  }
  return JSON.stringify(actual) === JSON.stringify(expected);
}

export async function runTestFile(file: string): Promise<CaseResult[]> {
  const hocon = await loadHocon(file);
  const parsed = testFile.safeParse(hocon.tree);
  if (!parsed.success) {
    throw configError(parsed.error.issues.map((i) => ({ file, path: formatKeyPath(i.path), message: i.message })));
  }
  const { config, flow, cases, tables: fileTables } = parsed.data;
  const results: CaseResult[] = [];
  for (const c of cases) {
    const run = await runFlow(resolve(dirname(file), config), flow, c.input.map((i) => ('advance-ms' in i ? { advanceMs: i['advance-ms'] } : i)), { tables: { ...fileTables, ...c.tables } });
    const problems: string[] = [];
    const { outputs, 'dead-letters': letters, filtered } = c.expect;
    if (outputs) {
      if (run.outputs.length !== outputs.length) problems.push(`${run.outputs.length} outputs, expected ${outputs.length}`);
      outputs.forEach((expected, i) => {
        const actual = run.outputs[i]?.value;
        if (actual !== undefined && !contains(actual, expected)) problems.push(`output ${i}: ${JSON.stringify(actual)} lacks ${JSON.stringify(expected)}`);
      });
    }
    if (letters) {
      if (run.deadLetters.length !== letters.length) {
        problems.push(`${run.deadLetters.length} dead letters (${run.deadLetters.map((d) => d.reason).join(', ')}), expected ${letters.length}`);
      }
      letters.forEach((expected, i) => {
        const actual = run.deadLetters[i];
        if (actual && !contains(actual, expected)) problems.push(`dead letter ${i}: ${JSON.stringify({ reason: actual.reason, path: actual.path, stage: actual.stage })} is not ${JSON.stringify(expected)}`);
      });
    }
    if (filtered !== undefined && run.summary.filtered !== filtered) problems.push(`${run.summary.filtered} filtered, expected ${filtered}`);
    results.push({ name: c.name, problems });
  }
  return results;
}
