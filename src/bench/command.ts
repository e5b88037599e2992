// `sluice bench`: measures one flow of a configuration (src/bench/flow-bench.ts), prints and
// writes the result with its latency plot, and with --baseline gates it: exit 1 naming each figure
// that regressed past its tolerance (src/bench/gate.ts), re-run up to --attempts times first.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../errors.ts';
// the runtime is imported by the command when it runs: registering it costs other commands nothing
import type { FlowBenchResult } from './flow-bench.ts';
import { compare, DEFAULT_TOLERANCES, incomparable, parseTolerance, table, type Row } from './gate.ts';

const EXIT_REGRESSED = 1;

interface BenchOptions {
  config: string;
  flow: string;
  input?: string;
  rate?: number;
  seconds: number;
  warmup: number;
  transport: 'memory' | 'kafka';
  partitions: number;
  out?: string;
  baseline?: string;
  tolerance: string[];
  attempts: number;
  rounds: number;
  stubServices?: number;
  progress?: boolean;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function readBaseline(file: string): FlowBenchResult {
  if (!existsSync(file)) throw new SluiceError('SLC_USAGE', `--baseline ${file}: no such file`);
  let result: Partial<FlowBenchResult>;
  try {
    result = JSON.parse(readFileSync(file, 'utf8')) as Partial<FlowBenchResult>;
  } catch (cause) {
    throw new SluiceError('SLC_USAGE', `--baseline ${file}: not JSON (${(cause as Error).message})`, { cause });
  }
  if (result.suite !== 'flow' || typeof result.normalised?.cpuPerMessage !== 'number') {
    throw new SluiceError('SLC_USAGE', `--baseline ${file}: not a \`sluice bench\` result`);
  }
  return result as FlowBenchResult;
}

/** The SVG beside a result file: `run.json` -> `run.svg`. */
export const plotFileOf = (out: string) => (out.endsWith('.json') ? `${out.slice(0, -'.json'.length)}.svg` : `${out}.svg`);

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function describeRun(result: FlowBenchResult): string {
  const c = result.config;
  const load = c.rate === null ? 'saturation' : `open loop at ${thousands(c.rate)} msg/s`;
  const l = result.latencyMs;
  const injected = c.injectDelayNs > 0 ? `\n  INJECTED: ${c.injectDelayNs} ns of CPU per message written or dead-lettered ($SLUICE_BENCH_INJECT_DELAY_NS)` : '';
  const stub = c.stubServicesMs === null ? '' : `, services stubbed (${c.stubServicesMs} ms)`;
  const rounds = c.rounds > 1 ? ` (the median of ${c.rounds} rounds)` : '';
  return [
    `sluice bench: flow ${c.flow} of ${c.file}, ${c.transport} transport${c.partitions === undefined ? '' : ` (${c.partitions} partitions)`}, ${load}${stub}, ${c.seconds} s after ${c.warmupSeconds} s warm-up${rounds}`,
    `  ${thousands(result.throughput.perSecond)} msg/s; cpu ${result.cpuMicrosPerMessage.toFixed(2)} µs/msg; ${result.reference.name} on the same input ${result.reference.cpuMicrosPerMessage.toFixed(2)} µs/msg: ratio ${result.normalised.cpuPerMessage.toFixed(3)}`,
    `  latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms`,
    `  ${thousands(result.messages.read)} read, ${thousands(result.messages.written)} written, ${thousands(result.messages.deadLettered)} dead letters, ${thousands(result.messages.filtered)} filtered; rss peak ${Math.round(result.rssPeakBytes / 2 ** 20)} MiB${injected}`,
  ].join('\n');
}

const describeRound = (r: FlowBenchResult) =>
  `cpu/msg vs reference ${r.normalised.cpuPerMessage.toFixed(3)}${r.normalised.throughput === null ? '' : `, throughput vs reference ${r.normalised.throughput.toFixed(3)}`} (${thousands(r.throughput.perSecond)} msg/s, ${r.cpuMicrosPerMessage.toFixed(2)} µs/msg)`;

async function bench(options: BenchOptions): Promise<number> {
  const overrides: Record<string, number | null> = {};
  for (const text of options.tolerance) {
    const [figure, tolerance] = parseTolerance(text);
    overrides[figure] = tolerance;
  }
  const baseline = options.baseline === undefined ? undefined : readBaseline(options.baseline);
  const injectDelayNs = Number(process.env.SLUICE_BENCH_INJECT_DELAY_NS ?? 0);
  if (!Number.isFinite(injectDelayNs) || injectDelayNs < 0) throw new SluiceError('SLC_USAGE', `SLUICE_BENCH_INJECT_DELAY_NS=${process.env.SLUICE_BENCH_INJECT_DELAY_NS}: expected nanoseconds >= 0`);
  const problem = baseline && incomparable(baseline, { flow: options.flow, rate: options.rate ?? null, transport: options.transport });
  if (problem) throw new SluiceError('SLC_USAGE', `--baseline ${options.baseline}: ${problem}`);
  const attempts = baseline ? options.attempts : 1;
  const [{ benchFlow, medianRound }, { latencyPlot }, kafka] = await Promise.all([
    import('./flow-bench.ts'),
    import('./plot.ts'),
    options.transport === 'kafka' ? import('./kafka-bench.ts') : undefined,
  ]);
  // one broker for every round and attempt (a broker it starts goes at the end)
  const broker = kafka?.benchBrokers();
  try {
    let result: FlowBenchResult | undefined;
    let rows: Row[] = [];
    // an attempt adds its rounds to the earlier ones' and the gate takes the median of them all: more
    // evidence where the first was unclear, not a second chance for the best of several runs
    const rounds: FlowBenchResult[] = [];
    for (let attempt = 1; attempt <= attempts; attempt++) {
      for (let round = 1; round <= options.rounds; round++) {
        const run = {
          config: options.config,
          flow: options.flow,
          input: options.input,
          rate: options.rate,
          seconds: options.seconds,
          warmupSeconds: options.warmup,
          stubServicesMs: options.stubServices,
          progress: options.progress ?? process.stderr.isTTY === true,
          injectDelayNs,
        };
        rounds.push(kafka && broker ? await kafka.benchFlowOnKafka({ ...run, partitions: options.partitions, brokers: broker.list }) : await benchFlow(run));
        if (options.rounds > 1 || attempt > 1) process.stdout.write(`round ${rounds.length}${attempt > 1 ? ` (attempt ${attempt})` : ` of ${options.rounds}`}: ${describeRound(rounds.at(-1)!)}\n`);
      }
      result = medianRound(rounds);
      process.stdout.write(`${describeRun(result)}\n`);
      if (!baseline) break;
      if (baseline.config.fingerprint !== result.config.fingerprint) process.stdout.write('note: the flow differs from the baseline\'s (its configuration fingerprint changed)\n');
      rows = compare(baseline, result, overrides);
      process.stdout.write(`\ngate: baseline ${options.baseline}${attempts > 1 ? `, attempt ${attempt} of ${attempts}` : ''}\n${table(rows)}\n`);
      if (!rows.some((r) => r.verdict === 'FAIL')) break;
    }
    if (options.out) {
      writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(plotFileOf(options.out), latencyPlot(result!, baseline));
      process.stdout.write(`wrote ${options.out} and ${plotFileOf(options.out)}\n`);
    }
    if (!baseline) return 0;
    const failed = rows.filter((r) => r.verdict === 'FAIL');
    const gated = rows.filter((r) => r.verdict !== 'INFO').length;
    if (failed.length > 0) {
      process.stdout.write(`gate: FAIL: regressed past the tolerance: ${failed.map((r) => `${r.figure} ${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)} %`).join('; ')}\n`);
      return EXIT_REGRESSED;
    }
    process.stdout.write(`gate: PASS (${gated} gated figures within tolerance)\n`);
    return 0;
  } finally {
    broker?.stop?.();
  }
}

export function addBenchCommand(cli: Command): void {
  cli
    .command('bench')
    .description('Measure a flow (latency percentiles, throughput, CPU per message); with --baseline, exit 1 if it regressed')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('-f, --flow <name>', 'the flow to measure')
    .option('-i, --input <file>', 'NDJSON input, replayed in a loop (default: the flow\'s own source file)')
    .option('-r, --rate <n>', 'messages per second offered, open loop (default: saturation)', positiveInteger)
    .option('-s, --seconds <s>', 'measured seconds', positiveNumber, 10)
    .option('--warmup <s>', 'unmeasured seconds first (saturation: and at least one pass over the input)', nonNegativeNumber, 2)
    .addOption(
      new Option('--transport <kind>', 'memory: the flow\'s stages, core and sink encoder, no broker; kafka: on topics of its own of $KAFKA_BROKERS (or a broker it starts with scripts/kafka.sh)')
        .choices(['memory', 'kafka'])
        .default('memory'),
    )
    .option('--partitions <n>', 'kafka: partitions of the input and output topics', positiveInteger, 4)
    .option('-o, --out <file>', 'write the result as JSON, and its latency plot beside it (.svg)')
    .option('-b, --baseline <file>', 'an earlier --out: exit 1 naming each figure that regressed past its tolerance')
    .option('-t, --tolerance <figure=N%>', `override a figure's tolerance, or "off" (repeatable; figures: ${Object.keys(DEFAULT_TOLERANCES).join(', ')})`, (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--rounds <n>', 'measure n times in a row and keep the median round (a steadier figure to gate)', positiveInteger, 1)
    .option('--attempts <n>', 'with --baseline: when a figure fails, measure --rounds more and gate the median of all rounds, up to n times', positiveInteger, 1)
    .option('--stub-services <ms>', 'answer every enrichment call from a local stub after this delay instead of the flow\'s services', nonNegativeNumber)
    .option('--progress', 'a progress line on stderr (default: on a terminal)')
    .option('--no-progress', 'no progress line')
    .action(async (options: BenchOptions) => {
      process.exitCode = await bench(options);
    });
}
