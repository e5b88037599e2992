// Core micro benchmark: the same corpus, the same process, every case side by side: per flow its
// shipped corpus and a well-formed-only one; JSON.parse with ajv and with the other JS validators
// (bench/js-validators.ts; not in --quick runs), the core's bare scan (schema true), the core.
//   npm run bench:core [-- --mb 8 --rounds 15 --warmup 5 | --quick] [--require-simdjson] [--out FILE]
// One iteration = one pass over a flow's whole corpus, timed by tinybench. The cases take turns in
// blocks of five passes (bench/alternate.ts: a burst of load from elsewhere on a shared machine
// then hits every case alike, so the ratios between them hold); figures are medians over the
// passes after warm-up. A correctness gate runs first:
// the core's verdict must equal ajv(JSON.parse(x)) on every message (with a strict UTF-8 decode;
// what the core rejects on purpose and JSON.parse + ajv cannot see — duplicate declared keys, the
// depth and size limits — excluded), and simdjson's must equal JSON.parse's (what simdjson
// rejects on purpose excluded).
// SLUICE_BENCH_INJECT_DELAY_NS=N slows the core case by N ns of CPU a message (a busy loop in this
// harness, not in the core): it proves the regression gate fails (bench/gate.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileSchema } from '../src/index.ts';
import { packageRoot } from '../src/package-root.ts';
import { buildCorpus, type Corpus, WELL_FORMED } from './corpus.ts';
import { CFWORKER_CASE, HYPERJUMP_CASE, loadJsValidators, type JsValidators } from './js-validators.ts';
import { median, runAlternating } from './alternate.ts';
import { resultHeader } from './meta.ts';
import { loadSimdjson, type SimdjsonPeer } from './simdjson/peer.ts';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    /** A few seconds in all: the CI gate's run. */
    quick: { type: 'boolean', default: false },
    /** Fail (exit 1) instead of skipping the simdjson rows when the peer cannot be built: CI has the toolchain. */
    'require-simdjson': { type: 'boolean', default: false },
    out: { type: 'string', default: join(packageRoot, 'bench', 'results', 'core.json') },
  },
});
const settings = args.quick ? { mb: 2, rounds: 25, warmup: 5 } : { mb: 8, rounds: 15, warmup: 5 };
const config = {
  mb: Number(args.mb ?? settings.mb),
  rounds: Number(args.rounds ?? settings.rounds),
  warmup: Number(args.warmup ?? settings.warmup),
  quick: args.quick,
  injectDelayNs: Number(process.env.SLUICE_BENCH_INJECT_DELAY_NS ?? 0),
};

export const CORE_CASE = 'core validate + extract';
export const AJV_CASE = 'JSON.parse + ajv';
export const SIMDJSON_PARSE_CASE = 'simdjson-wasm parse';
export const SIMDJSON_EXTRACT_CASE = 'simdjson-wasm parse + extract';
/** The core's well-formedness scan alone (the schema `true`, nothing extracted): its bare scan rate. */
export const SCAN_CASE = 'core scan only (schema true)';

interface CaseResult {
  flow: string;
  case: string;
  medianMs: number;
  minMs: number;
  /** Median CPU time of the process (all its threads) for one pass. */
  cpuMedianMs: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  nanosecondsPerMessage: number;
  cpuNanosecondsPerMessage: number;
}

interface Ratio {
  flow: string;
  peer: string;
  /** How many times faster the core's validate + extract ran than `peer`: the median over rounds of the peer's CPU time ÷ the core's. */
  speedup: number;
}

const ON_PURPOSE = new Set(['E_DUPLICATE_KEY', 'E_DEPTH', 'E_SIZE']);
const strict = new TextDecoder('utf-8', { fatal: true });
const UNPAIRED_SURROGATE_ESCAPE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F]/;

function hasInfinity(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  return value !== null && typeof value === 'object' && Object.values(value).some(hasInfinity);
}

/**
 * JSON.parse's verdict, with what simdjson rejects on purpose and JSON.parse (and the core) accept
 * counted as rejected: a \u escape of a surrogate (simdjson wants them paired) and a number beyond
 * the double range (JSON.parse makes it Infinity).
 */
function simdjsonReference(message: Uint8Array): boolean {
  try {
    const text = strict.decode(message);
    return !hasInfinity(JSON.parse(text)) && !UNPAIRED_SURROGATE_ESCAPE.test(text);
  } catch {
    return false;
  }
}

/** The flow's rules as a team would run them on ajv: draft-07 class, or 2020-12 with ajv-formats when they name it. */
function compileAjv(schema: Record<string, unknown>) {
  if (schema.$schema === undefined) return new Ajv({ strict: false }).compile(schema);
  return addFormats.default(new Ajv2020({ strict: false })).compile(schema);
}

/** The core as a flow runs it (formats asserted). */
function compileCore(corpus: Corpus) {
  return compileSchema(corpus.schema, { extract: corpus.extract, assertFormats: true });
}

function gate(corpus: Corpus, simdjson: SimdjsonPeer | undefined, peers: JsValidators): void {
  const validator = compileCore(corpus);
  const ajv = compileAjv(corpus.schema);
  const verdicts = validator.validateBatch(corpus.messages);
  let mismatches = 0;
  const peerDisagreements = new Map(Object.keys(peers.check).map((name) => [name, 0]));
  peers.activate();
  corpus.messages.forEach((message, i) => {
    let reference: boolean;
    let parsed: unknown;
    try {
      parsed = JSON.parse(strict.decode(message));
      reference = ajv(parsed) as boolean;
    } catch {
      reference = false;
    }
    if (parsed !== undefined) {
      for (const [name, check] of Object.entries(peers.check)) if (check(parsed) !== reference) peerDisagreements.set(name, peerDisagreements.get(name)! + 1);
    }
    const verdict = verdicts[i]!;
    if (verdict.ok !== reference && !ON_PURPOSE.has(verdict.code)) {
      mismatches++;
      if (mismatches <= 5) console.error(`mismatch: core ${JSON.stringify(verdict)} vs ajv ${reference}: ${strict.decode(message).slice(0, 200)}`);
    }
  });
  if (mismatches > 0) throw new Error(`${corpus.flow}: ${mismatches} verdicts differ from ajv: no figures for an incorrect validator`);
  if (simdjson) {
    for (let start = 0; start < corpus.messages.length; ) {
      const count = simdjson.parse(corpus.messages, start);
      for (let i = 0; i < count; i++) {
        const message = corpus.messages[start + i]!;
        if (simdjson.ok(i) !== simdjsonReference(message)) {
          mismatches++;
          if (mismatches <= 5) console.error(`mismatch: simdjson ${simdjson.ok(i)} vs JSON.parse: ${new TextDecoder().decode(message).slice(0, 200)}`);
        }
      }
      start += count;
    }
    if (mismatches > 0) throw new Error(`${corpus.flow}: ${mismatches} simdjson verdicts differ from JSON.parse: no figures for an incorrect parser`);
  }
  // the other validators' rows are figures of their own verdicts: a disagreement with ajv is reported, not fatal
  for (const [name, count] of peerDisagreements) if (count > 0) console.log(`${corpus.flow}: ${name} disagrees with ajv on ${count} of ${corpus.messages.length} messages`);
  const invalid = verdicts.filter((v) => !v.ok).length;
  // the JS fallbacks: checks of the rules the core hands to JS (as `sluice check` lists them), and the messages that used one
  const inJs = verdicts.filter((v) => v.fallback === true).length;
  const fallbacks = `${validator.fallbacks.length} JS fallback${validator.fallbacks.length === 1 ? '' : 's'} in the rules, used by ${inJs} messages`;
  console.log(`${corpus.flow}: ${corpus.messages.length} messages, ${(corpus.bytes / 1e6).toFixed(1)} MB, ${((100 * invalid) / corpus.messages.length).toFixed(1)} % invalid, ${fallbacks}; gate passed`);
}

// with node --expose-gc (the npm scripts pass it)
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** Burns `ns` nanoseconds of CPU time (not wall time, which a busy machine stretches): the injected slowdown. */
function spin(ns: number): void {
  const started = process.cpuUsage();
  for (let used = process.cpuUsage(started); used.user + used.system < ns / 1000; used = process.cpuUsage(started));
}

function measure(corpus: Corpus, simdjson: SimdjsonPeer | undefined, peers: JsValidators): { results: CaseResult[]; ratios: Ratio[] } {
  const { messages, schema } = corpus;
  const decoder = new TextDecoder();
  const ajv = compileAjv(schema);
  const validator = compileCore(corpus);
  const scan = compileSchema(true);
  let sink = 0; // keeps results alive so nothing is optimised away
  const cases: Record<string, () => void> = {
    'TextDecoder only': () => {
      for (const m of messages) sink += decoder.decode(m).length;
    },
    'JSON.parse': () => {
      for (const m of messages) {
        try {
          sink += JSON.parse(decoder.decode(m)) === null ? 0 : 1;
        } catch {
          sink += 2;
        }
      }
    },
    [AJV_CASE]: () => {
      for (const m of messages) {
        try {
          sink += ajv(JSON.parse(decoder.decode(m))) ? 1 : 0;
        } catch {
          sink += 2;
        }
      }
    },
    [SCAN_CASE]: () => {
      for (let start = 0; start < messages.length; ) {
        const count = scan.check(messages, start);
        for (let i = 0; i < count; i++) sink += scan.ok(i) ? 1 : 0;
        start += count;
      }
    },
    'core copy-only floor': () => {
      for (let start = 0; start < messages.length; start += 1024) sink += validator.copyOnly(messages.slice(start, start + 1024));
    },
    [CORE_CASE]: () => {
      for (let start = 0; start < messages.length; ) {
        const count = validator.check(messages, start);
        for (let i = 0; i < count; i++) sink += validator.ok(i) ? validator.spanStart(i, 0) : 0;
        if (config.injectDelayNs > 0) spin(count * config.injectDelayNs);
        start += count;
      }
    },
  };
  for (const [name, check] of Object.entries(peers.check)) {
    cases[name] = () => {
      peers.activate();
      for (const m of messages) {
        try {
          sink += check(JSON.parse(decoder.decode(m))) ? 1 : 0;
        } catch {
          sink += 2;
        }
      }
    };
  }
  if (simdjson) {
    cases[SIMDJSON_PARSE_CASE] = () => {
      for (let start = 0; start < messages.length; ) {
        const count = simdjson.parse(messages, start);
        for (let i = 0; i < count; i++) sink += simdjson.ok(i) ? 1 : 0;
        start += count;
      }
    };
    cases[SIMDJSON_EXTRACT_CASE] = () => {
      for (let start = 0; start < messages.length; ) {
        const [count, checksum] = simdjson.extract(messages, start);
        for (let i = 0; i < count; i++) sink += simdjson.ok(i) ? 1 : 0;
        sink += checksum;
        start += count;
      }
    };
  }
  // warm-up iterations untimed, then the cases in turn, five passes each (bench/alternate.ts)
  const times = runAlternating(cases, { warmup: config.warmup, rounds: config.rounds, beforeEach: collectGarbage });
  if (sink === -1) console.log('unreachable');
  const results = [...times].map(([name, { wall, cpu }]) => {
    const medianMs = median(wall);
    const cpuMedianMs = median(cpu);
    return {
      flow: corpus.flow,
      case: name,
      medianMs,
      minMs: wall[0]!,
      cpuMedianMs,
      messagesPerSecond: messages.length / (medianMs / 1000),
      megabytesPerSecond: corpus.bytes / 1e6 / (medianMs / 1000),
      nanosecondsPerMessage: (medianMs * 1e6) / messages.length,
      cpuNanosecondsPerMessage: (cpuMedianMs * 1e6) / messages.length,
    };
  });
  // Ratios from CPU time, which a busy machine's other processes do not inflate as they do wall
  // time: one per pair of passes run in the same block, then the median.
  const core = times.get(CORE_CASE)!.cpu;
  const ratios = [AJV_CASE, CFWORKER_CASE, HYPERJUMP_CASE, SIMDJSON_PARSE_CASE, SIMDJSON_EXTRACT_CASE]
    .filter((peer) => times.has(peer))
    .map((peer) => ({ flow: corpus.flow, peer, speedup: median(times.get(peer)!.cpu.map((ms, i) => ms / core[i]!)) }));
  return { results, ratios };
}

const results: CaseResult[] = [];
const ratios: Ratio[] = [];
const skipped: { case: string; reason: string }[] = [];
let simdjsonImplementation: string | undefined;
// each flow's corpus, then its well-formed-only one (no syntax errors, the same share of rule failures)
for (const flow of ['content', 'campaign', 'campaign-keywords'].flatMap((f) => [f, `${f}${WELL_FORMED}`])) {
  const corpus = buildCorpus(flow, config.mb * (1 << 20));
  const peer = loadSimdjson(corpus.extract, corpus.messages.reduce((max, m) => Math.max(max, m.length), 0));
  const simdjson = 'skipped' in peer ? undefined : peer;
  if ('skipped' in peer && args['require-simdjson']) {
    console.error(`bench:core: the simdjson-wasm rows are required (--require-simdjson) but cannot run: ${peer.skipped}`);
    process.exit(1);
  }
  if ('skipped' in peer && skipped.length === 0) {
    for (const name of [SIMDJSON_PARSE_CASE, SIMDJSON_EXTRACT_CASE]) skipped.push({ case: name, reason: peer.skipped });
    console.log(`simdjson-wasm rows skipped: ${peer.skipped}`);
  }
  simdjsonImplementation ??= simdjson?.implementation;
  // (not in a --quick run: the gate checks the core's ratios, and these rows are the slowest)
  const peers: JsValidators = config.quick ? { check: {}, activate: () => {} } : await loadJsValidators(corpus.schema);
  gate(corpus, simdjson, peers);
  const measured = measure(corpus, simdjson, peers);
  results.push(...measured.results);
  ratios.push(...measured.ratios);
}

console.table(
  results.map((r) => {
    const reference = results.find((x) => x.flow === r.flow && x.case === AJV_CASE)!;
    return {
      flow: r.flow,
      case: r.case,
      'msg/s': Math.round(r.messagesPerSecond).toLocaleString('en-US'),
      'MB/s': r.megabytesPerSecond.toFixed(0),
      'ns/msg': r.nanosecondsPerMessage.toFixed(0),
      'cpu ns/msg': r.cpuNanosecondsPerMessage.toFixed(0),
      'vs JSON.parse + ajv': `${(reference.medianMs / r.medianMs).toFixed(2)}x`,
    };
  }),
);
for (const r of ratios) console.log(`${r.flow}: ${CORE_CASE} is ${r.speedup.toFixed(2)}x ${r.peer}`);
// the CPU-time rate beside the wall-clock one: on a shared machine the other processes stretch wall time
for (const r of results.filter((x) => x.case === SCAN_CASE)) {
  const bytesPerMessage = (r.megabytesPerSecond * 1e6) / r.messagesPerSecond;
  console.log(`${r.flow}: the core's bare scan runs ${r.megabytesPerSecond.toFixed(0)} MB/s wall, ${((bytesPerMessage * 1e3) / r.cpuNanosecondsPerMessage).toFixed(0)} MB/s of CPU time (${r.nanosecondsPerMessage.toFixed(0)} ns a message)`);
}
if (config.injectDelayNs > 0) console.log(`note: ${config.injectDelayNs} ns a message injected into "${CORE_CASE}" (SLUICE_BENCH_INJECT_DELAY_NS)`);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(
  args.out,
  `${JSON.stringify({ ...resultHeader('core', { ...config, simdjsonImplementation }), results, ratios, skipped }, null, 2)}\n`,
);
console.log(`results written to ${args.out}`);
