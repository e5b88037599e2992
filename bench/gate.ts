// The regression gate: the figures of a result file (bench/results/<suite>.json), each with the
// direction that is better and how far it may move the other way before a run fails.
// Absolute times are noisy on a shared machine, so what fails a run by default are ratios measured
// in the same run (the core against JSON.parse + ajv and against simdjson; end to end, Sluice
// against each peer of a --compare run); absolute figures are reported, and gated only when a
// tolerance is given for them (`--tolerance "ns/msg=50%"`).

import { table as gateTable } from '../src/bench/gate.ts';

export interface Figure {
  /** `<scope>: <kind>`, e.g. `content: core speedup vs JSON.parse + ajv`. */
  name: string;
  kind: string;
  value: number;
  better: 'higher' | 'lower';
}

export interface Tolerance {
  /** How far (a fraction) the figure may move the bad way; null: reported, not gated. */
  tolerance: number | null;
  /** A gated figure the current run may lack without failing (the simdjson rows need clang). */
  optional?: boolean;
}

/** Per figure kind; `--tolerance kind=N%` overrides one (`kind=off` stops gating it). */
export const TOLERANCES: Record<string, Tolerance> = {
  'core speedup vs JSON.parse + ajv': { tolerance: 0.35 },
  'core speedup vs simdjson-wasm parse': { tolerance: 0.35, optional: true },
  'core speedup vs simdjson-wasm parse + extract': { tolerance: 0.35, optional: true },
  'ns/msg': { tolerance: null },
  'msg/s': { tolerance: null },
  'p50 ms': { tolerance: null },
  'p90 ms': { tolerance: null },
  'p99 ms': { tolerance: null },
  'p99.9 ms': { tolerance: null },
  // end to end, Sluice (wasm core) / peer, above 1 when Sluice is ahead; single runs of the same
  // code moved them by up to 27 % (throughput) and 45 % (p99, which is left ungated)
  'throughput ratio': { tolerance: 0.35 },
  'cpu/msg ratio': { tolerance: 0.35 },
  'p99 ratio': { tolerance: null },
};

export type Verdict = 'PASS' | 'FAIL' | 'INFO' | 'SKIP';

export interface Row {
  figure: string;
  baseline: number;
  current: number | undefined;
  /** (current - baseline) / baseline */
  change: number | undefined;
  tolerance: number | null;
  better: Figure['better'];
  verdict: Verdict;
}

interface CoreResult {
  suite: 'core';
  results: { flow: string; case: string; nanosecondsPerMessage: number }[];
  ratios: { flow: string; peer: string; speedup: number }[];
}

interface E2eResult {
  suite: 'e2e';
  results: { mode: string; implementation?: string; client?: string; enrichment?: boolean; messagesPerSecond: number; latencyMs: Record<string, number> }[];
  /** bench:peers: Sluice against each other contender of the same load (see bench/e2e.bench.ts). */
  comparison?: { load: string; enrichment: boolean; versus: string; throughput: number; p99: number; cpuPerMessage: number }[];
}

/** A run's processor as bench:e2e labels it (files from single-processor runs before the label have none). */
const processorOf = (r: E2eResult['results'][number]) =>
  r.implementation ? `${r.implementation}${r.client ? ` [${r.client}]` : ''}${r.enrichment ? ' +enrich' : ''} ` : '';

export type SuiteResult = CoreResult | E2eResult;

const LATENCY_KINDS: Record<string, string> = { p50: 'p50 ms', p90: 'p90 ms', p99: 'p99 ms', p999: 'p99.9 ms' };

/** The figures of one result file. */
export function figures(result: SuiteResult): Figure[] {
  const out: Figure[] = [];
  const add = (scope: string, kind: string, value: number, better: Figure['better']) => out.push({ name: `${scope}: ${kind}`, kind, value, better });
  if (result.suite === 'core') {
    for (const r of result.ratios ?? []) add(r.flow, `core speedup vs ${r.peer}`, r.speedup, 'higher');
    for (const r of result.results) add(`${r.flow} ${r.case}`, 'ns/msg', r.nanosecondsPerMessage, 'lower');
  } else {
    for (const r of result.results) {
      const scope = `${processorOf(r)}${r.mode}`;
      add(scope, 'msg/s', r.messagesPerSecond, 'higher');
      for (const [key, kind] of Object.entries(LATENCY_KINDS)) if (r.latencyMs[key] !== undefined) add(scope, kind, r.latencyMs[key]!, 'lower');
    }
    for (const c of result.comparison ?? []) {
      const scope = `sluice-wasm vs ${c.versus}, ${c.load}${c.enrichment ? ' +enrich' : ''}`;
      // open loop, both keep up with the offered rate: throughput is the rate, not a comparison
      if (c.load.endsWith('saturation')) add(scope, 'throughput ratio', c.throughput, 'higher');
      add(scope, 'p99 ratio', c.p99, 'higher');
      add(scope, 'cpu/msg ratio', c.cpuPerMessage, 'higher');
    }
  }
  return out;
}

/** `kind=35%`, `kind=0.35` or `kind=off` into an override of the table above. */
export function parseTolerance(text: string): [string, Tolerance] {
  const at = text.lastIndexOf('=');
  const kind = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (at <= 0 || !(kind in TOLERANCES)) throw new Error(`--tolerance "${text}": expected <kind>=<N%|off>, kind one of: ${Object.keys(TOLERANCES).join(', ')}`);
  if (value === 'off') return [kind, { ...TOLERANCES[kind], tolerance: null }];
  const fraction = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
  if (!Number.isFinite(fraction) || fraction < 0) throw new Error(`--tolerance "${text}": "${value}" is not a percentage (e.g. 35%) or off`);
  return [kind, { ...TOLERANCES[kind], tolerance: fraction }];
}

/** Every figure of the baseline against the current run's. */
export function compare(baseline: SuiteResult, current: SuiteResult, overrides: Record<string, Tolerance> = {}): Row[] {
  if (baseline.suite !== current.suite) throw new Error(`the baseline is a ${baseline.suite} result, the current run a ${current.suite} one`);
  const now = new Map(figures(current).map((f) => [f.name, f]));
  return figures(baseline).map((f) => {
    const rule = overrides[f.kind] ?? TOLERANCES[f.kind] ?? { tolerance: null };
    const value = now.get(f.name)?.value;
    const row = { figure: f.name, baseline: f.value, current: value, tolerance: rule.tolerance, better: f.better };
    if (value === undefined) return { ...row, change: undefined, verdict: rule.tolerance === null || rule.optional ? 'SKIP' : 'FAIL' };
    const change = (value - f.value) / f.value;
    if (rule.tolerance === null) return { ...row, change, verdict: 'INFO' };
    const worse = f.better === 'higher' ? -change : change;
    return { ...row, change, verdict: worse > rule.tolerance ? 'FAIL' : 'PASS' };
  });
}

/** The rows as an aligned text table (the flow gate's renderer); `all` false keeps only the gated ones (and failures). */
export const table = (rows: Row[], all = true): string => gateTable(rows, all, 2);
