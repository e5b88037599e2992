// A flow in memory (no broker, no files but the stores'), side by side in one run: validation and
// a pass-through, then the same with a dedupe stage (memory and lmdb stores), µs per message.
// Half the messages are duplicates of an earlier one (within the next few batches, as a retrying
// producer makes them). Figures are medians over the rounds.
//   npm run bench:state:flow [-- --messages 200000 --rounds 5]
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

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-flow-'));
const encoder = new TextEncoder();
// every other message repeats the one 300 before it
const messages: InputMessage[] = Array.from({ length: count }, (_, i) => {
  const n = i % 2 === 1 && i > 300 ? i - 300 - ((i - 300) % 2) : i;
  return {
    value: encoder.encode(JSON.stringify({ eventId: `evt-${n.toString(16).padStart(8, '0')}-4000-8000-000000000000`, userId: `usr-${n % 5000}`, value: n })),
    key: null,
    headers: {},
    timestamp: undefined,
    origin: { kind: 'file', file: '(bench)', line: i + 1 },
    receivedAt: 0,
  };
});

async function configFile(stages: string): Promise<string> {
  const file = join(dir, `flow-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(
    file,
    [
      'flows.bench {',
      '  on-invalid = drop',
      '  rules { type = object, required = [eventId], properties { eventId { type = string }, userId { type = string }, value { type = integer } } }',
      `  stages = [ ${stages} ]`,
      '  source { kind = file, path = "unused.ndjson" }',
      '  sink { kind = file, path = "unused-out.ndjson" }',
      '}',
    ].join('\n') + '\n',
  );
  return file;
}

/** One run of the flow over every message: µs per message, and how many were written. */
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
  ['pass-through', ''],
  ['dedupe, memory store', '{ kind = dedupe, key = eventId, backend = memory }'],
  ['dedupe, lmdb store', '{ kind = dedupe, key = eventId, backend = lmdb }'],
] as const;

try {
  const files = await Promise.all(cases.map(([, stages]) => configFile(stages)));
  const results = cases.map(() => [] as number[]);
  const writtenBy: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // interleaved: every case sees the same machine load
    for (const [i] of cases.entries()) {
      const stateDir = mkdtempSync(join(dir, 'state-'));
      const { us, written } = await runOnce(files[i]!, stateDir);
      results[i]!.push(us);
      writtenBy[i] = written;
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  console.log(`${count} messages (half duplicates), batches of ${BATCH}, median of ${rounds} rounds`);
  for (const [i, [name]] of cases.entries()) console.log(`  ${name.padEnd(22)} ${median(results[i]!).toFixed(3)} µs/message  (${writtenBy[i]} written)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
