// The CPU one enrichment call costs the processor: enrich-http (template, service policies,
// request, JSON answer, merge) beside a bare undici request loop (request, body text, JSON.parse)
// to the same server, in the same run, rounds alternating; and, against a server that answers after
// a delay, enrich-http with and without its batch block (calls per message, CPU per message).
// The server is Sluice's lookup server in a process of its own (bench/lookup-server.ts).
//   npm run bench:enrich-call -- [--calls 20000] [--rounds 5] [--concurrency 64] [--delay-ms 5] [--max-keys 64]
// Prints a table and writes bench/results/enrich-call.json (medians over the rounds).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Agent } from 'undici';
import { recordTypes } from '../schemas/index.ts';
import { systemClock } from '../src/component/clock.ts';
import { FieldTable } from '../src/component/fields.ts';
import { serviceConfig } from '../src/component/service.ts';
import type { StageContext } from '../src/component/spec.ts';
import type { FlowRecord, Stage } from '../src/component/types.ts';
import { HttpService } from '../src/io/http/service.ts';
import { Metrics } from '../src/observe/metrics.ts';
import { packageRoot } from '../src/package-root.ts';
import { enrichHttpStage } from '../src/stages/enrich-http.ts';
import { resultHeader } from './meta.ts';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    'delay-ms': { type: 'string', default: '5' },
    'max-keys': { type: 'string', default: '64' },
  },
});
const calls = Number(args.calls);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const delayMs = Number(args['delay-ms']);
const maxKeys = Number(args['max-keys']);

const documentsFile = join(packageRoot, 'samples', 'lookup', 'content-documents.ndjson');
const ids = readFileSync(documentsFile, 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => (JSON.parse(l) as { id: string }).id);
const routes = JSON.stringify({ '/documents/{id}': { file: documentsFile, key: 'id' } });

async function startServer(delay: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', 'lookup-server.ts'), '0', String(delay), routes], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const port = await new Promise<string>((ready, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) ready(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`lookup server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Runs `call(i)` for i < n, `concurrency` at a time; the process's CPU microseconds per call. */
async function cpuPerCall(n: number, call: (i: number) => unknown): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await call(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

function bareLoop(url: string): (i: number) => Promise<unknown> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  return async (i) => {
    const response = await agent.request({ origin: url, path: `/documents/${ids[i % ids.length]}`, method: 'GET', headers: { accept: 'application/json' } });
    return JSON.parse(await response.body.text()) as unknown;
  };
}

/** enrich-http as a flow builds it (no cache: every record calls), on records carrying only `id`. */
function enrichStage(url: string, batch: boolean, counted: { calls: number }): { stage: Stage; records: FlowRecord[] } {
  const metrics = new Metrics();
  const config = serviceConfig.parse({ 'base-url': url, 'timeout-ms': 1000, 'max-concurrency': concurrency, 'batch-lookups': batch });
  const serviceMetrics = metrics.service('documents');
  const service = new HttpService('documents', config, pino({ level: 'silent' }), {
    call: (outcome) => (counted.calls++, serviceMetrics.call(outcome)),
    duration: serviceMetrics.duration,
    retries: serviceMetrics.retries,
    breaker: (state) => serviceMetrics.breaker(state),
  });
  const fields = new FieldTable();
  const context: StageContext = {
    flow: 'bench',
    baseDir: packageRoot,
    logger: pino({ level: 'silent' }),
    delivery: 'at-least-once',
    metrics,
    clock: systemClock,
    rules: { schema: { type: 'object', properties: { id: { type: 'string' } } } },
    fields,
    recordTypes,
    outputType: 'sluice.recommender.v1.ItemRecord',
    service: () => service,
    deadlineMs: undefined,
    store: () => {
      throw new Error('no store');
    },
    table: () => undefined,
  };
  const options = {
    service: 'documents',
    url: '/documents/{id}',
    merge: { category: 'category', thumbnail_url: 'thumbnailUrl' },
    ...(batch ? { batch: { 'max-keys': maxKeys, url: '/documents/_batch', 'response-key': 'id' } } : {}),
  };
  const stage = enrichHttpStage.create(enrichHttpStage.config.parse(options), context);
  const records = ids.map((id, line): FlowRecord => ({
    value: new Uint8Array(0),
    key: null,
    headers: {},
    timestamp: undefined,
    origin: { kind: 'file', file: 'bench', line },
    receivedAt: 0,
    spans: new Int32Array(2).fill(-1),
    spanAt: 0,
    values: [id],
    output: {} as FlowRecord['output'],
  }));
  return { stage, records };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round1 = (n: number) => Math.round(n * 10) / 10;

// -------------------------------------------------------------- per call: stage vs bare undici
const fast = await startServer(0);
const bare = bareLoop(fast.url);
const single = enrichStage(fast.url, false, { calls: 0 });
const stageCall = (i: number) => single.stage.process(single.records[i % single.records.length]!);
await cpuPerCall(2000, bare); // warm-up: JIT and connections
await cpuPerCall(2000, stageCall);
const perCall = { bare: [] as number[], stage: [] as number[] };
for (let r = 0; r < rounds; r++) {
  // alternate which goes first, so neither always runs on a warmer (or a busier) machine
  const order = r % 2 === 0 ? (['bare', 'stage'] as const) : (['stage', 'bare'] as const);
  for (const which of order) perCall[which].push(await cpuPerCall(calls, which === 'bare' ? bare : stageCall));
}
fast.child.kill('SIGKILL');
console.log(`CPU µs per call, median of ${rounds} rounds: bare undici ${round1(median(perCall.bare))}, enrich-http ${round1(median(perCall.stage))}`);

// -------------------------------------------------------------- per message: batch or not, delayed service
const slow = await startServer(delayMs);
const perMessage: Record<'single' | 'batch', { cpuUs: number[]; callsPerMessage: number[] }> = { single: { cpuUs: [], callsPerMessage: [] }, batch: { cpuUs: [], callsPerMessage: [] } };
const batchRounds = Math.max(1, Math.ceil(rounds / 2));
for (let r = 0; r < batchRounds; r++) {
  for (const mode of r % 2 === 0 ? (['single', 'batch'] as const) : (['batch', 'single'] as const)) {
    const counted = { calls: 0 };
    const { stage, records } = enrichStage(slow.url, mode === 'batch', counted);
    // a flow hands a batch's records to the stage all at once: 1,024 records per round trip here
    const n = Math.min(calls, 10_240);
    const load = Array.from({ length: n }, (_, i) => records[i % records.length]!);
    const cpu = process.cpuUsage();
    for (let start = 0; start < n; start += 1024) await Promise.all(load.slice(start, start + 1024).map((record) => stage.process(record)));
    const used = process.cpuUsage(cpu);
    perMessage[mode].cpuUs.push((used.user + used.system) / n);
    perMessage[mode].callsPerMessage.push(counted.calls / n);
  }
}
slow.child.kill('SIGKILL');

const result = {
  ...resultHeader('enrich-call', { calls, rounds, concurrency, delayMs, maxKeys }),
  perCallCpuUs: { bareUndici: round1(median(perCall.bare)), enrichHttp: round1(median(perCall.stage)), ratio: Math.round((median(perCall.stage) / median(perCall.bare)) * 100) / 100, rounds: perCall },
  perMessageAtDelay: Object.fromEntries(
    Object.entries(perMessage).map(([mode, m]) => [mode, { cpuUs: round1(median(m.cpuUs)), callsPerMessage: Math.round(median(m.callsPerMessage) * 1000) / 1000 }]),
  ),
};
console.table({
  'bare undici': { 'CPU µs/call': result.perCallCpuUs.bareUndici },
  'enrich-http': { 'CPU µs/call': result.perCallCpuUs.enrichHttp, 'x bare': result.perCallCpuUs.ratio },
});
console.table(result.perMessageAtDelay);
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(join(packageRoot, 'bench', 'results', 'enrich-call.json'), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
