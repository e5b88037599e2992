// A configuration file -> the flow topologies, its components checked against the registry's
// specs. What `sluice run`, `check`, the supervisor and the test driver start from.
import { type CheckedConfig, readConfig } from '../config/load.ts';
import * as registry from './registry.ts';
import type { FlowTopology } from './topology.ts';

export interface SluiceConfig extends CheckedConfig {
  readonly flows: readonly FlowTopology[];
}

/** Loads, overlays and checks a configuration file; throws SLC_CONFIG listing every problem. */
export async function loadConfig(file: string): Promise<SluiceConfig> {
  return readConfig(file, registry);
}
