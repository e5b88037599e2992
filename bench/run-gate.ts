// npm run bench:gate -- --baseline FILE [--current FILE | --quick --attempts N [--require-simdjson]] [--tolerance "kind=N%"]...
// Compares a run against a baseline (bench/gate.ts) and exits 1 with the table when a gated figure
// regressed past its tolerance, 2 when the input is wrong, 0 otherwise. Without --current it runs
// the core suite now (--quick: a few seconds, as CI does), again when a figure fails, up to
// --attempts runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { packageRoot } from '../src/package-root.ts';
import { compare, parseTolerance, table, type Row, type SuiteResult, type Tolerance } from './gate.ts';

function usage(message: string): never {
  console.error(`bench:gate: ${message}`);
  console.error('usage: npm run bench:gate -- --baseline FILE [--current FILE | --quick --attempts N [--require-simdjson]] [--tolerance "kind=N%|off"]... [--all]');
  process.exit(2);
}

function readResult(file: string, what: string): SuiteResult {
  if (!existsSync(file)) usage(`${what} ${file}: no such file`);
  try {
    const result = JSON.parse(readFileSync(file, 'utf8')) as { suite?: unknown };
    if (result.suite !== 'core' && result.suite !== 'e2e') usage(`${what} ${file}: "suite" is ${JSON.stringify(result.suite)}, expected "core" or "e2e"`);
    return result as SuiteResult;
  } catch (error) {
    usage(`${what} ${file}: not a result file (${(error as Error).message})`);
  }
}

const options = {
  baseline: { type: 'string' },
  current: { type: 'string' },
  quick: { type: 'boolean', default: false },
  /** The run fails when the simdjson-wasm rows cannot run (their toolchain is missing), rather than skipping them. */
  'require-simdjson': { type: 'boolean', default: false },
  /** Runs the suite again when a figure fails, up to N runs in all: noise rarely repeats, a regression does. */
  attempts: { type: 'string', default: '1' },
  tolerance: { type: 'string', multiple: true, default: [] as string[] },
  /** Also list the figures that are reported but not gated. */
  all: { type: 'boolean', default: false },
} satisfies ParseArgsConfig['options'];

function cli() {
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    usage((error as Error).message);
  }
}

const parsed = cli();
if (!parsed.baseline) usage('--baseline FILE is required');
const overrides: Record<string, Tolerance> = {};
for (const text of parsed.tolerance!) {
  try {
    const [kind, rule] = parseTolerance(text);
    overrides[kind] = rule;
  } catch (error) {
    usage((error as Error).message);
  }
}
const baseline = readResult(parsed.baseline, '--baseline');

function runSuite(): SuiteResult {
  if (baseline.suite !== 'core') usage('only the core suite runs here; for e2e, run `npm run bench:e2e -- --out FILE` and pass --current FILE');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gate-'));
  try {
    const out = join(dir, 'core.json');
    const args = [join(packageRoot, 'bench', 'core.bench.ts'), ...(parsed.quick ? ['--quick'] : []), ...(parsed['require-simdjson'] ? ['--require-simdjson'] : []), '--out', out];
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ...args], { cwd: packageRoot, stdio: 'inherit' });
    if (run.status !== 0) {
      console.error('bench:gate: the core suite failed (see above)');
      process.exit(1);
    }
    return readResult(out, 'the run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const attempts = parsed.current ? 1 : Number(parsed.attempts);
if (!Number.isInteger(attempts) || attempts < 1) usage(`--attempts ${parsed.attempts}: expected a whole number >= 1`);
let rows: Row[] = [];
for (let attempt = 1; attempt <= attempts; attempt++) {
  const current = parsed.current ? readResult(parsed.current, '--current') : runSuite();
  rows = compare(baseline, current, overrides);
  const quick = (result: SuiteResult) => Boolean((result as { config?: { quick?: boolean } }).config?.quick);
  if (baseline.suite === 'core' && quick(baseline) !== quick(current)) {
    console.log(`note: the baseline ran ${quick(baseline) ? 'with' : 'without'} --quick and the current run ${quick(current) ? 'with' : 'without'}: the corpus sizes differ, and so may the ratios`);
  }
  const source = parsed.current ? `current ${parsed.current}` : `current: this run${attempts > 1 ? ` (attempt ${attempt} of ${attempts})` : ''}`;
  console.log(`\nbench:gate: ${baseline.suite} suite, baseline ${parsed.baseline}, ${source}`);
  console.log(table(rows, parsed.all));
  if (!rows.some((r) => r.verdict === 'FAIL')) break;
}
const failed = rows.filter((r) => r.verdict === 'FAIL');
const gated = rows.filter((r) => r.verdict === 'PASS' || r.verdict === 'FAIL').length;
if (failed.length > 0) {
  console.log(`bench:gate: FAIL: ${failed.length} of ${gated} gated figures regressed past their tolerance or are missing: ${failed.map((r) => r.figure).join('; ')}`);
  process.exit(1);
}
console.log(`bench:gate: PASS (${gated} gated figures within tolerance)`);
