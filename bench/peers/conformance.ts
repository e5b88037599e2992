// The Kafka Streams peer against Sluice: every line of samples/campaign.ndjson goes through the
// peer on a real broker; each must be dead-lettered with Sluice's reason, or not, as
// samples/campaign.expected.ndjson says (E_LOOKUP_MISS is enrichment: the peer delivers those), and
// each output must equal, key and value, what Sluice's campaign flow without enrichment writes.
//   KAFKA_BROKERS=127.0.0.1:9192 tsx bench/peers/conformance.ts     (builds the peer first if needed)
// Prints the lines with another outcome and the syntax codes named differently; exits 1 when more
// lines differ than the known differences (README: duplicate keys, "$" before a final newline).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../../src/pipeline/load.ts';
import { createTopics } from '../../src/io/kafka/tools.ts';
import { packageRoot } from '../../src/package-root.ts';
import { runFlow } from '../../src/testing/driver.ts';
import { rawLines } from '../../scripts/support/lines.ts';

const KNOWN_DIFFERENCES = 3;
/** The broker refuses messages over 1 MB: the E_SIZE lines stay out. */
const MAX_MESSAGE = 900_000;

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9192').split(',');
const peerDir = join(packageRoot, 'bench', 'peers', 'kafka-streams');
if (spawnSync('mvn', ['-q', '-B', 'package'], { cwd: peerDir, stdio: 'inherit' }).status !== 0) throw new Error('mvn package failed');

const name = `peer-conformance-${Date.now().toString(36)}`;
await createTopics(brokers, { [`${name}.in`]: 4, [`${name}.out`]: 4, [`${name}.dlq`]: 1 }, pino({ level: 'silent' }));
const kafka = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING });
const lines = rawLines(join(packageRoot, 'samples', 'campaign.ndjson'));
const expected = readFileSync(join(packageRoot, 'samples', 'campaign.expected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; reason?: string });
const sent = lines.map((value, i) => ({ key: String(i + 1), value })).filter((m) => m.value.length < MAX_MESSAGE);
const producer = kafka.producer();
await producer.connect();
for (let i = 0; i < sent.length; i += 200) await producer.send({ topic: `${name}.in`, messages: sent.slice(i, i + 200) });
await producer.disconnect();

const peer = spawn('java', ['-jar', join(peerDir, 'target', 'campaign-peer.jar'), `bootstrap=${brokers.join(',')}`, `input=${name}.in`, `output=${name}.out`,
  `dlq=${name}.dlq`, `schema=${join(packageRoot, 'config', 'rules', 'campaign.schema.json')}`, `application-id=${name}`], { stdio: ['ignore', 'ignore', 'inherit'] });
const dead = new Map<number, string>();
const outputs = new Map<string, { key: string; value: unknown }>();
let arrived = 0;
const consumer = kafka.consumer({ groupId: `${name}-reader` });
await consumer.connect();
await consumer.subscribe({ topics: [`${name}.dlq`, `${name}.out`], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, message }) => {
    arrived++;
    if (topic.endsWith('.dlq')) dead.set(Number(message.key!.toString()), message.headers!['sluice.reason']!.toString());
    else {
      const value = JSON.parse(message.value!.toString()) as { eventId: string };
      outputs.set(value.eventId, { key: message.key!.toString(), value });
    }
  },
});
// every line arrives somewhere but the filtered ones: wait until arrivals start, then stop growing
const deadline = Date.now() + 120_000;
for (let last = -1; (arrived === 0 || arrived !== last) && Date.now() < deadline; ) {
  last = arrived;
  await new Promise((resolve) => setTimeout(resolve, 5000));
}
await consumer.disconnect();
peer.kill('SIGTERM');

let differences = 0;
const renamed = new Map<string, number>();
for (const { key } of sent) {
  const line = Number(key);
  const outcome = expected[line - 1]!;
  const deadLettered = !outcome.ok && outcome.reason !== 'E_LOOKUP_MISS';
  if (deadLettered !== dead.has(line)) {
    differences++;
    console.log(`line ${line}: Sluice ${outcome.ok ? 'ok' : outcome.reason}, the peer ${dead.get(line) ?? 'ok'}`);
  } else if (deadLettered && dead.get(line) !== outcome.reason) {
    const pair = `${outcome.reason} -> ${dead.get(line)}`;
    renamed.set(pair, (renamed.get(pair) ?? 0) + 1);
  }
}
console.log(`${sent.length} lines, ${dead.size} dead letters, ${differences} other outcomes; codes named differently:`, Object.fromEntries(renamed));

// Sluice's flow without its enrichment stage, in memory, on the same lines
const dir = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
const stages = (await loadConfig(join(packageRoot, 'config', 'local.conf'))).settings.flows.campaign!.stages.filter((s) => s.kind !== 'enrich-http');
writeFileSync(join(dir, 'plain.conf'), `include "${join(packageRoot, 'config', 'local.conf')}"\nlog.level = silent\nflows.campaign.stages = ${JSON.stringify(stages)}\n`);
const sluice = await runFlow(join(dir, 'plain.conf'), 'campaign', sent.map((m) => ({ key: m.key, value: m.value })));
rmSync(dir, { recursive: true, force: true });
let unequal = 0;
let missing = 0; // the lines the peer dead-letters and Sluice does not, counted above
for (const output of sluice.outputs) {
  const value = output.value as { eventId: string; userId: string };
  const theirs = outputs.get(value.eventId);
  if (!theirs) {
    missing++;
    continue;
  }
  if (theirs.key === value.userId && isDeepStrictEqual(theirs.value, value)) continue;
  unequal++;
  if (unequal <= 5) console.log(`output ${value.eventId}: Sluice ${JSON.stringify(value)}, the peer ${JSON.stringify(theirs)}`);
}
console.log(`${sluice.outputs.length} Sluice outputs, ${outputs.size} from the peer: ${missing} missing, ${unequal} unequal`);
process.exit(differences > KNOWN_DIFFERENCES || missing > differences || unequal > 0 ? 1 : 0);
