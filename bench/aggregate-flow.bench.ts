// The aggregate in a flow in memory (no broker, no files but the stores'), side by side in one
// run: key-by alone (every record written as it came), then key-by + aggregate (a 1-minute count
// and sum per item with 10 s grace, memory and lmdb stores; 1-minute windows every 20 s), µs per
// message. Events of 1,000 items, 20 ms apart in event time, up to 5 s out of order. Figures are
// medians over the rounds, the cases interleaved.
//   npx tsx bench/aggregate-flow.bench.ts [--messages 200000 --rounds 5]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { InputMessage, OutboundMessage, Sink } from '../src/component/types.ts';
import { buildFlows } from '../src/pipeline/build.ts';
import { loadConfig, resourcesOf } from '../src/pipeline/load.ts';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const count = Number(args.messages);
const rounds = Number(args.rounds);
const BATCH = 1024;

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-aggregate-'));
const encoder = new TextEncoder();
let seed = 17;
const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const messages: InputMessage[] = Array.from({ length: count }, (_, i) => ({
  value: encoder.encode(
    JSON.stringify({ itemId: `cnt-${String(Math.floor(next() * 1000)).padStart(6, '0')}`, type: next() < 0.8 ? 'impression' : 'click', occurredAt: 1_740_000_000_000 + i * 20 - Math.floor(next() * 5_000), value: Math.round(next() * 1000) / 100 }),
  ),
  key: null,
  headers: {},
  timestamp: undefined,
  origin: { kind: 'file', file: '(bench)', line: i + 1 },
  receivedAt: 0,
}));

const KEY_BY = '{ kind = key-by, name = by-item, field = itemId }';
const aggregate = (window: string, backend: string) =>
  `{ kind = aggregate, name = per-minute, time = occurredAt, window { ${window} }, backend = ${backend}, aggregations { clicks { op = count, where { type = click } }, total { op = sum, field = value } }, output { target = "sluice.recommender.v1.ItemEngagement", fields { item_id = key, window_start = window.start, clicks = clicks, conversion_value = total } } }`;

function configFile(stages: string): string {
  const file = join(dir, `flow-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(
    file,
    [
      'flows.bench {',
      '  on-invalid = drop',
      '  rules { type = object, properties { itemId { type = string }, type { type = string }, occurredAt { type = integer }, value { type = number } } }',
      `  stages = [ ${stages} ]`,
      '  source { kind = file, path = "unused.ndjson" }',
      '  sink { kind = file, path = "unused-out.ndjson" }',
      '}',
    ].join('\n') + '\n',
  );
  return file;
}

/** One run of the flow over every message (the end of the input closes the open windows): µs per message, records written. */
async function runOnce(file: string, stateDir: string): Promise<{ us: number; written: number }> {
  const config = await loadConfig(file);
  let written = 0;
  const sink: Sink = { encoding: 'json', write: async (batch: readonly OutboundMessage[]) => void (written += batch.length), close: async () => undefined };
  const source = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < messages.length; i += BATCH) yield { messages: messages.slice(i, i + BATCH), done: async () => undefined };
    },
    close: async () => undefined,
  };
  const [flow] = buildFlows(config.flows, resourcesOf(config, pino({ level: 'silent' }), { io: () => ({ source, sink, deadLetters: undefined }), stateDir }));
  const started = performance.now();
  await flow!.run();
  return { us: ((performance.now() - started) * 1000) / count, written };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const cases = [
  ['key-by alone', KEY_BY],
  ['aggregate, memory', `${KEY_BY}, ${aggregate('size = 1m, grace = 10s', 'memory')}`],
  ['aggregate, lmdb', `${KEY_BY}, ${aggregate('size = 1m, grace = 10s', 'lmdb')}`],
  ['hopping 1m/20s, memory', `${KEY_BY}, ${aggregate('size = 1m, advance = 20s, grace = 10s', 'memory')}`],
] as const;

try {
  const files = cases.map(([, stages]) => configFile(stages));
  const results = cases.map(() => [] as number[]);
  const writtenBy: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i] of cases.entries()) {
      const stateDir = mkdtempSync(join(dir, 'state-'));
      const { us, written } = await runOnce(files[i]!, stateDir);
      results[i]!.push(us);
      writtenBy[i] = written;
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  console.log(`${count} messages of 1000 items, batches of ${BATCH}, median of ${rounds} rounds`);
  for (const [i, [name]] of cases.entries()) console.log(`  ${name.padEnd(24)} ${median(results[i]!).toFixed(3)} µs/message  (${writtenBy[i]} written)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
