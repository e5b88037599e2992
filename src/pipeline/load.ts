// A configuration file -> the flow topologies: its components checked against the registry's
// specs (config/ is handed them), then every setting resolved onto the nodes. What `sluice run`,
// `check`, the supervisor and the test driver start from.
import type { Logger } from 'pino';
import { type CheckedConfig, readConfig } from '../config/load.ts';
import * as registry from './registry.ts';
import { type FlowTopology, topologyOf } from './topology.ts';
import type { FlowResources } from './flow.ts';

export interface SluiceConfig extends Omit<CheckedConfig, 'flows'> {
  readonly flows: readonly FlowTopology[];
}

/** Loads, overlays and checks a configuration file; throws SLC_CONFIG listing every problem. */
export async function loadConfig(file: string): Promise<SluiceConfig> {
  const checked = await readConfig(file, registry);
  return { ...checked, flows: checked.flows.map((flow) => topologyOf(flow, checked.settings.services, checked.tables)) };
}

/**
 * What `buildFlows` takes from a configuration besides its topologies: where in the files a key
 * path is (for the problems a component finds when it is built), and the failure log's rate.
 */
export function resourcesOf(config: SluiceConfig, logger: Logger, more: Partial<FlowResources> = {}): FlowResources {
  return { logger, problemAt: config.problemAt, failuresPerSecond: config.settings.log['failures-per-second'], ...more };
}
