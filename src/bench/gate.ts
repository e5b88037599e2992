// The gate of `sluice bench --baseline`: a run's figures against an earlier run's, each with the
// direction that is better and how far it may move the other way. By default only the CPU per
// message divided by the reference measured in the same run is gated, since absolute times move
// with whatever else a shared CI machine runs; the other figures are reported, and gated when a
// tolerance is given for them (`--tolerance "p99 ms=25%"` on a machine of one's own).
import { SluiceError } from '../errors.ts';
import type { FlowBenchResult } from './flow-bench.ts';

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly better: 'higher' | 'lower';
}

/** Per figure, the fraction it may move the bad way; null: reported, not gated. */
export const DEFAULT_TOLERANCES: Readonly<Record<string, number | null>> = {
  // against its own baseline, the median of 3 rounds of the same code moved by -11.7 % to +18.6 %
  // (19 of 20 within ±11.1 %) on a 2-core machine at a load average of 20-25: a 20 % slowdown fails
  'cpu/msg vs reference': 0.1,
  // saturation throughput moved by up to 50 % there (wall-clock time, shared): reported unless asked for
  'throughput vs reference': null,
  // the share of read messages the flow wrote: when it falls, the run measured another path than its
  // baseline did (every lookup missing, every record dead-lettered), however fast that path is
  'written share': 0.1,
  'cpu µs/msg': null,
  'msg/s': null,
  'p50 ms': null,
  'p90 ms': null,
  'p99 ms': null,
  'p99.9 ms': null,
  'max ms': null,
};

export type Verdict = 'PASS' | 'FAIL' | 'INFO';

export interface Row {
  readonly figure: string;
  readonly baseline: number;
  readonly current: number;
  /** (current - baseline) / baseline */
  readonly change: number;
  readonly tolerance: number | null;
  readonly better: Figure['better'];
  readonly verdict: Verdict;
}

export function figures(result: FlowBenchResult): Figure[] {
  const out: Figure[] = [{ name: 'cpu/msg vs reference', value: result.normalised.cpuPerMessage, better: 'lower' }];
  if (result.normalised.throughput !== null) out.push({ name: 'throughput vs reference', value: result.normalised.throughput, better: 'higher' });
  if (result.messages.read > 0) out.push({ name: 'written share', value: result.messages.written / result.messages.read, better: 'higher' });
  out.push({ name: 'cpu µs/msg', value: result.cpuMicrosPerMessage, better: 'lower' });
  out.push({ name: 'msg/s', value: result.throughput.perSecond, better: 'higher' });
  const latency = result.latencyMs;
  out.push(
    { name: 'p50 ms', value: latency.p50, better: 'lower' },
    { name: 'p90 ms', value: latency.p90, better: 'lower' },
    { name: 'p99 ms', value: latency.p99, better: 'lower' },
    { name: 'p99.9 ms', value: latency.p999, better: 'lower' },
    { name: 'max ms', value: latency.max, better: 'lower' },
  );
  return out;
}

/** `figure=35%`, `figure=0.35` or `figure=off` into an override of the defaults. */
export function parseTolerance(text: string): [string, number | null] {
  const at = text.lastIndexOf('=');
  const figure = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (at <= 0 || !(figure in DEFAULT_TOLERANCES)) {
    throw new SluiceError('SLC_USAGE', `--tolerance "${text}": expected <figure>=<N%|off>, figure one of: ${Object.keys(DEFAULT_TOLERANCES).join(', ')}`);
  }
  if (value === 'off') return [figure, null];
  const fraction = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
  if (value === '' || !Number.isFinite(fraction) || fraction < 0) throw new SluiceError('SLC_USAGE', `--tolerance "${text}": "${value}" is not a percentage (e.g. 15%) or off`);
  return [figure, fraction];
}

/** Why a baseline cannot be compared with a run of `flow` at `rate` (null: saturation), or undefined. */
export function incomparable(baseline: FlowBenchResult, run: { readonly flow: string; readonly rate: number | null; readonly transport?: FlowBenchResult['config']['transport'] }): string | undefined {
  if (baseline.config.flow !== run.flow) return `the baseline measured flow "${baseline.config.flow}", this run "${run.flow}"`;
  if (run.transport !== undefined && baseline.config.transport !== run.transport) return `the baseline ran on the ${baseline.config.transport} transport, this run on ${run.transport}`;
  if (baseline.config.rate !== run.rate) {
    const load = (rate: number | null) => (rate === null ? 'saturation' : `--rate ${rate}`);
    return `the baseline ran at ${load(baseline.config.rate)}, this run at ${load(run.rate)}`;
  }
  return undefined;
}

/** Every figure of the baseline against the current run's. */
export function compare(baseline: FlowBenchResult, current: FlowBenchResult, overrides: Readonly<Record<string, number | null>> = {}): Row[] {
  const now = new Map(figures(current).map((f) => [f.name, f.value]));
  return figures(baseline).flatMap((f) => {
    const value = now.get(f.name);
    if (value === undefined) return [];
    const tolerance = f.name in overrides ? overrides[f.name]! : (DEFAULT_TOLERANCES[f.name] ?? null);
    const change = f.value === 0 ? 0 : (value - f.value) / f.value;
    const worse = f.better === 'higher' ? -change : change;
    const verdict: Verdict = tolerance === null ? 'INFO' : worse > tolerance ? 'FAIL' : 'PASS';
    return [{ figure: f.name, baseline: f.value, current: value, change, tolerance, better: f.better, verdict }];
  });
}

const number = (n: number | undefined, digits: number) => (n === undefined ? '—' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits));
const percent = (n: number | undefined) => (n === undefined ? '—' : `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)} %`);

/** A gate's row as the table shows it (the core gate's rows may lack a current figure). */
export interface TableRow {
  readonly figure: string;
  readonly baseline: number;
  readonly current: number | undefined;
  readonly change: number | undefined;
  readonly tolerance: number | null;
  readonly better: Figure['better'];
  readonly verdict: string;
}

/** The rows as an aligned text table; `all` false keeps only the gated ones (and failures); `digits` after the point below 100. */
export function table(rows: readonly TableRow[], all = true, digits = 3): string {
  const cells = [
    ['figure', 'baseline', 'current', 'change', 'tolerance', 'result'],
    ...rows
      .filter((r) => all || r.verdict !== 'INFO')
      .map((r) => [
        r.figure,
        number(r.baseline, digits),
        number(r.current, digits),
        percent(r.change),
        r.tolerance === null ? 'not gated' : `${r.better === 'higher' ? '-' : '+'}${(r.tolerance * 100).toFixed(0)} %`,
        r.verdict,
      ]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
