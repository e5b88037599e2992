// The placement lookup, in memory: the campaign flow of config/local.conf (validate, filter, map)
// fed the campaign sample from memory into a memory sink, with its placement stage as shipped
// (lookup on the placements table), as it was before (enrich-http to the campaign manager, played
// by the built-in lookup server in this process, with and without its cache), or without one.
// The user-segment stage is left out of every variant so that the placement's cost shows. The
// variants run interleaved, round after round, in one process: medians of µs per message.
//   npx tsx bench/lookup.bench.ts [--messages 60000] [--rounds 5] [--uncached]
// --uncached adds enrich-http without its cache: a call per event (slow: a run takes minutes).
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startLocalServices } from '../src/io/http/local-server.ts';
import { buildFlows } from '../src/pipeline/build.ts';
import { loadConfig, resourcesOf } from '../src/pipeline/load.ts';
import { packageRoot } from '../src/package-root.ts';
import type { InputMessage, Sink, SourceBatch } from '../src/component/types.ts';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '60000' }, rounds: { type: 'string', default: '5' }, uncached: { type: 'boolean', default: false } } });
const messages = Number(args.messages);
const rounds = Number(args.rounds);

const dir = mkdtempSync(join(tmpdir(), 'sluice-lookup-bench-'));
const local = join(packageRoot, 'config', 'local.conf');
const FRONT = [
  '{ kind = filter, name = drop-heartbeats, drop-if { field = type, in = [heartbeat] } }',
  '{ kind = map, name = to-event-record, target = "sluice.recommender.v1.EventRecord", fields { event_id = eventId, event_type = type, campaign_id = campaignId, placement_id = placementId, user_id = userId, occurred_at_ms = occurredAt, value = value, currency = currency, item_id = itemId, device_os = "device.os", consent = consent } }',
];
const variants: Record<string, string | undefined> = {
  'no placement stage': undefined,
  'lookup (placements table)': '{ kind = lookup, name = placement, table = placements, key = placementId, merge { surface = surface, slot = slot }, on-missing = dlq }',
  // the same without dead letters for the ~2 % of events whose placement is missing: the stage's own cost
  'lookup, on-missing = skip-stage': '{ kind = lookup, name = placement, table = placements, key = placementId, merge { surface = surface, slot = slot }, on-missing = skip-stage }',
  'enrich-http, cached (as shipped before)': '{ kind = enrich-http, name = placement, service = campaign-manager, url = "/placements/{placementId}", merge { surface = surface, slot = slot }, on-failure = dlq, cache { ttl-ms = 60000, max-entries = 10000 } }',
  ...(args.uncached ? { 'enrich-http, no cache': '{ kind = enrich-http, name = placement, service = campaign-manager, url = "/placements/{placementId}", merge { surface = surface, slot = slot }, on-failure = dlq }' } : {}),
};

const sample = readFileSync(join(packageRoot, 'samples', 'campaign.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
const encoder = new TextEncoder();
const inputs: InputMessage[] = Array.from({ length: messages }, (_, i) => ({
  value: encoder.encode(sample[i % sample.length]!),
  key: null,
  headers: {},
  timestamp: undefined,
  origin: { kind: 'file', file: '(bench)', line: i + 1 },
  receivedAt: 0,
}));
const discard: Sink = { encoding: 'json', write: async () => undefined, close: async () => undefined };

async function runOnce(variant: string): Promise<number> {
  const stage = variants[variant];
  const file = join(dir, `${variant.replace(/[^a-z]+/g, '-')}.conf`);
  writeFileSync(file, [`include "${local}"`, 'log.level = silent', `flows.campaign.stages = [\n${[...FRONT, ...(stage ? [stage] : [])].join('\n')}\n]`].join('\n'));
  const config = await loadConfig(file);
  const topology = config.flows.find((f) => f.flow === 'campaign')!;
  const services = await startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file']));
  try {
    const source = {
      async *[Symbol.asyncIterator](): AsyncGenerator<SourceBatch> {
        for (let i = 0; i < inputs.length; i += 1024) yield { messages: inputs.slice(i, i + 1024), done: async () => undefined };
      },
      close: async () => undefined,
    };
    const [flow] = buildFlows([topology], resourcesOf(config, pino({ level: 'silent' }), { io: () => ({ source, sink: discard, deadLetters: discard }), localUrls: services.urls }));
    const started = performance.now();
    await flow!.run();
    return ((performance.now() - started) * 1000) / messages;
  } finally {
    await services.stop();
  }
}

const results = new Map<string, number[]>(Object.keys(variants).map((v) => [v, []]));
for (const variant of Object.keys(variants)) await runOnce(variant); // warm-up: JIT, caches
for (let round = 0; round < rounds; round++) for (const variant of Object.keys(variants)) results.get(variant)!.push(await runOnce(variant));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`campaign flow in memory, ${messages} messages of samples/campaign.ndjson a run, ${rounds} rounds interleaved (median µs per message, min-max)`);
for (const [variant, xs] of results) console.log(`  ${variant.padEnd(40)} ${median(xs).toFixed(2)} µs  (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`);
