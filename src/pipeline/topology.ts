// A flow as plain data: named nodes with their kind, parents and checked config. Built from the
// configuration before anything runs; `describe` prints it in a stable text form.
import type { CheckedFlow, CheckedNode } from '../config/load.ts';

export type { NodeRole } from '../config/load.ts';
export type TopologyNode = CheckedNode;
export type FlowTopology = CheckedFlow;

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
