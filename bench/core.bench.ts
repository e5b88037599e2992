// Core micro benchmark: the same corpus, the same process, every case side by side.
//   npm run bench:core [-- --mb 8 --rounds 15]
// One iteration = one pass over a flow's whole corpus; figures are medians over the rounds after
// warm-up. A correctness gate runs first: the core's verdict must equal ajv(JSON.parse(x)) on
// every message (with a strict UTF-8 decode; what the core rejects on purpose and JSON.parse + ajv
// cannot see — duplicate declared keys, the depth and size limits — excluded).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { Bench } from 'tinybench';
import { compileSchema } from '../src/index.ts';
import { packageRoot } from '../src/package-root.ts';
import { buildCorpus, type Corpus } from './corpus.ts';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: join(packageRoot, 'bench', 'results', 'core.json') },
  },
});

interface CaseResult {
  flow: string;
  case: string;
  medianMs: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  nanosecondsPerMessage: number;
}

const ON_PURPOSE = new Set(['E_DUPLICATE_KEY', 'E_DEPTH', 'E_SIZE']);

function gate(corpus: Corpus): void {
  const validator = compileSchema(corpus.schema, { extract: corpus.extract });
  const ajv = new Ajv({ strict: false }).compile(corpus.schema);
  const strict = new TextDecoder('utf-8', { fatal: true });
  const verdicts = validator.validateBatch(corpus.messages);
  let mismatches = 0;
  corpus.messages.forEach((message, i) => {
    let reference: boolean;
    try {
      reference = ajv(JSON.parse(strict.decode(message))) as boolean;
    } catch {
      reference = false;
    }
    const verdict = verdicts[i]!;
    if (verdict.ok !== reference && !ON_PURPOSE.has(verdict.code)) {
      mismatches++;
      if (mismatches <= 5) console.error(`mismatch: core ${JSON.stringify(verdict)} vs ajv ${reference}: ${strict.decode(message).slice(0, 200)}`);
    }
  });
  if (mismatches > 0) throw new Error(`${corpus.flow}: ${mismatches} verdicts differ from ajv: no figures for an incorrect validator`);
  const invalid = verdicts.filter((v) => !v.ok).length;
  console.log(`${corpus.flow}: ${corpus.messages.length} messages, ${(corpus.bytes / 1e6).toFixed(1)} MB, ${((100 * invalid) / corpus.messages.length).toFixed(1)} % invalid; gate passed`);
}

async function measure(corpus: Corpus): Promise<CaseResult[]> {
  const { messages, schema } = corpus;
  const decoder = new TextDecoder();
  const ajv = new Ajv({ strict: false }).compile(schema);
  const validator = compileSchema(schema, { extract: corpus.extract });
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
    'JSON.parse + ajv': () => {
      for (const m of messages) {
        try {
          sink += ajv(JSON.parse(decoder.decode(m))) ? 1 : 0;
        } catch {
          sink += 2;
        }
      }
    },
    'core copy-only floor': () => {
      for (let start = 0; start < messages.length; start += 1024) sink += validator.copyOnly(messages.slice(start, start + 1024));
    },
    'core validate + extract': () => {
      for (let start = 0; start < messages.length; ) {
        const count = validator.check(messages, start);
        for (let i = 0; i < count; i++) sink += validator.ok(i) ? validator.spanStart(i, 0) : 0;
        start += count;
      }
    },
  };
  const bench = new Bench({ iterations: Number(args.rounds), time: 0, warmupIterations: Number(args.warmup), warmupTime: 0 });
  for (const [name, fn] of Object.entries(cases)) bench.add(`${corpus.flow}: ${name}`, fn);
  await bench.run();
  if (sink === -1) console.log('unreachable');
  return bench.tasks.map((task) => {
    const result = task.result as { latency?: { p50: number } } | undefined;
    const medianMs = result?.latency?.p50 ?? NaN;
    return {
      flow: corpus.flow,
      case: task.name.slice(corpus.flow.length + 2),
      medianMs,
      messagesPerSecond: messages.length / (medianMs / 1000),
      megabytesPerSecond: corpus.bytes / 1e6 / (medianMs / 1000),
      nanosecondsPerMessage: (medianMs * 1e6) / messages.length,
    };
  });
}

const results: CaseResult[] = [];
for (const flow of ['content', 'campaign']) {
  const corpus = buildCorpus(flow, Number(args.mb) * (1 << 20));
  gate(corpus);
  results.push(...(await measure(corpus)));
}

const rows = results.map((r) => {
  const reference = results.find((x) => x.flow === r.flow && x.case === 'JSON.parse + ajv')!;
  return {
    flow: r.flow,
    case: r.case,
    'msg/s': Math.round(r.messagesPerSecond).toLocaleString('en-US'),
    'MB/s': r.megabytesPerSecond.toFixed(0),
    'ns/msg': r.nanosecondsPerMessage.toFixed(0),
    'vs JSON.parse + ajv': `${(reference.medianMs / r.medianMs).toFixed(2)}x`,
  };
});
console.table(rows);
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(
  args.out,
  `${JSON.stringify(
    {
      suite: 'core',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      runtime: { node: process.versions.node, v8: process.versions.v8 },
      settings: { mb: Number(args.mb), rounds: Number(args.rounds), warmup: Number(args.warmup) },
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`results written to ${args.out}`);
