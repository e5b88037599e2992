// A flow as plain data: named nodes with their kind, parents and checked config. Built from the
// configuration before anything runs; `describe` prints it in a stable text form.
import type { JsonSchema } from '../core/compile.ts';
import type { Delivery } from './types.ts';

export type NodeRole = 'source' | 'validate' | 'stage' | 'sink' | 'dead-letter';

export interface TopologyNode {
  /** `<flow>.<name>`: stable, it keys logs and metrics. */
  readonly name: string;
  readonly role: NodeRole;
  readonly kind: string;
  readonly parents: readonly string[];
  /** The component's config with defaults applied (without kind and name). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Key path of this node in the configuration, for errors. */
  readonly configPath: readonly PropertyKey[];
  /** Directory its relative paths are resolved against: that of the file setting its `path`. */
  readonly baseDir: string;
}

export interface FlowTopology {
  readonly flow: string;
  readonly enabled: boolean;
  readonly rules: JsonSchema;
  readonly maxDepth: number;
  readonly maxSize: number;
  readonly onInvalid: 'dlq' | 'drop';
  readonly delivery: Delivery;
  /** Latency budget from receipt for stages that call out. */
  readonly deadlineMs: number | undefined;
  /** Batches being processed or delivered at once. */
  readonly maxInFlight: number;
  /** A lane with work and no progress for this long: not ready. */
  readonly maxStallMs: number;
  /** Stalled this long: the flow fails (0: never). */
  readonly stallTimeoutMs: number;
  readonly nodes: readonly TopologyNode[];
}

export function describe(topologies: readonly FlowTopology[]): string {
  const lines: string[] = [];
  for (const t of topologies) {
    lines.push(`Flow ${t.flow}${t.enabled ? '' : ' (disabled)'}: ${t.delivery}, invalid messages -> ${t.onInvalid}`);
    const width = Math.max(...t.nodes.map((n) => n.name.length));
    for (const node of t.nodes) {
      const from = node.parents.length > 0 ? ` <- ${node.parents.join(', ')}` : '';
      lines.push(`  ${node.name.padEnd(width)}  ${node.role.padEnd(11)} ${node.kind}${from}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
