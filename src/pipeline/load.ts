// A configuration file -> the flow topologies: its components checked against the registry's
// specs (config/ is handed them), then every setting resolved onto the nodes. What `sluice run`,
// `check`, the supervisor and the test driver start from.
import type { Logger } from 'pino';
import { type CheckedConfig, configError, inspectConfig } from '../config/load.ts';
import type { ConfigProblem } from '../errors.ts';
import * as registry from './registry.ts';
import { splitAtRepartition } from './repartition.ts';
import { type FlowTopology, type TopologyNode, topologyOf } from './topology.ts';
import type { FlowResources } from './build.ts';

export interface SluiceConfig extends Omit<CheckedConfig, 'flows'> {
  readonly flows: readonly FlowTopology[];
}

/**
 * Loads, overlays and checks a configuration file; throws SLC_CONFIG listing every problem. The
 * libraries its components need (a Kafka client) are imported now, and only those.
 */
export async function loadConfig(file: string): Promise<SluiceConfig> {
  const { config, problems } = await inspectConfiguration(file);
  if (problems.length > 0 || config === undefined) throw configError(problems);
  return config;
}

/**
 * Every problem of a configuration file, with as much of it as is right (the flows without a
 * problem): what `sluice check` builds further, so that one run lists every mistake.
 */
export async function inspectConfiguration(file: string): Promise<{ config?: SluiceConfig; problems: readonly ConfigProblem[] }> {
  const { config: checked, problems } = await inspectConfig(file, registry);
  if (checked === undefined) return { problems };
  // a key-by before a stateful stage on Kafka: two flows joined by a repartition topic
  const split = checked.flows.map((flow) => splitAtRepartition(topologyOf(flow, checked.settings.services, checked.tables), checked.problemAt));
  const flows = split.flatMap((s) => s.parts);
  const splitProblems = split.flatMap((s) => s.problems);
  await Promise.all([
    ...flows.flatMap((flow) => flow.nodes.map((node) => specOf(node)?.load?.(node.config))),
    ...checked.tables.map((table) => registry.tables[table.kind]?.load?.(table.config)),
  ]);
  return { config: { ...checked, flows }, problems: [...problems, ...splitProblems] };
}

function specOf(node: TopologyNode): { load?(config: unknown): Promise<void> } | undefined {
  if (node.role === 'source') return registry.sources[node.kind];
  if (node.role === 'stage') return registry.stages[node.kind];
  if (node.role === 'sink' || node.role === 'dead-letter') return registry.sinks[node.kind];
  return undefined;
}

/**
 * What `buildFlows` takes from a configuration besides its topologies: where in the files a key
 * path is (for the problems a component finds when it is built), and the failure log's rate.
 */
export function resourcesOf(config: SluiceConfig, logger: Logger, more: Partial<FlowResources> = {}): FlowResources {
  return { logger, problemAt: config.problemAt, failuresPerSecond: config.settings.log['failures-per-second'], ...more };
}
