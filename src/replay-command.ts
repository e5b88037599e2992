// `sluice replay`: the flow's dead-letter topic back to its input topic (io/kafka/replay.ts does
// the Kafka side); here the flow's topology gives the topics and the connection, and the summary
// is printed, by reason.
import type { ConnectionConfig } from './component/settings.ts';
import { SluiceError } from './errors.ts';
import { connectionOptions } from './io/kafka/connection.ts';
import { replayDeadLetters } from './io/kafka/replay.ts';
import { loadConfig } from './pipeline/load.ts';

export interface ReplayCommandOptions {
  config: string;
  flow: string;
  reason?: string[];
  since?: string;
  until?: string;
  dryRun?: boolean;
  maxReplays: number;
  group?: string;
}

function time(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SluiceError('SLC_USAGE', `${option} ${value}: not a time (ISO 8601, e.g. 2026-12-05T14:00:00Z)`);
  return ms;
}

/** Replays the dead letters of `--flow` and prints what it did; the exit code. */
export async function replayCommand(options: ReplayCommandOptions, write: (text: string) => void): Promise<number> {
  const config = await loadConfig(options.config);
  const flow = config.flows.find((f) => f.flow === options.flow);
  if (!flow) throw new SluiceError('SLC_USAGE', `${options.config} has no flow ${options.flow} (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
  // a flow split at a key-by: its dead letters go back to its input, the first part's source
  const entry = config.flows.find((f) => f.flow === flow.repartition?.writer) ?? flow;
  const source = entry.nodes.find((n) => n.role === 'source');
  const deadLetters = flow.nodes.find((n) => n.role === 'dead-letter');
  if (source?.kind !== 'kafka' || deadLetters?.kind !== 'kafka') {
    throw new SluiceError('SLC_USAGE', `flow ${options.flow}: replay needs a kafka source and a kafka dead-letter sink (it has ${source?.kind ?? 'no'} source and ${deadLetters?.kind ?? 'no'} dead-letter sink)`);
  }
  const letters = deadLetters.config as unknown as ConnectionConfig & { topic: string };
  const input = source.config as unknown as { topic: string; 'group-id': string };
  const summary = await replayDeadLetters({
    connection: connectionOptions(letters, deadLetters.baseDir),
    deadLetterTopic: letters.topic,
    inputTopic: input.topic,
    groupId: options.group ?? `${input['group-id']}-replay`,
    reasons: options.reason ?? [],
    since: time('--since', options.since),
    until: time('--until', options.until),
    maxReplays: options.maxReplays,
    dryRun: options.dryRun ?? false,
  });
  const total = (map: Map<string, number>) => [...map.values()].reduce((sum, n) => sum + n, 0);
  const verb = options.dryRun ? 'would replay' : 'replayed';
  write(`${verb} ${total(summary.replayed)} dead letters of ${letters.topic} to ${input.topic}; left ${total(summary.left)}\n`);
  for (const [reason, n] of [...summary.replayed].sort()) write(`  ${verb}\t${reason}\t${n}\n`);
  for (const [why, n] of [...summary.left].sort()) write(`  left\t${why}\t${n}\n`);
  return 0;
}
