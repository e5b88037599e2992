// A flow as plain data, the only hand-off from the configuration to the runtime: named nodes with
// their kind, parents and resolved settings (the validator engine and limits on the validate node,
// the services an enrichment calls on its node, how a batch is committed on the commit node, the
// exactly-once transaction named as such; the tables its lookups read, as nodes of their own). `buildFlows` builds from it alone, a hot reload
// compares it, and `describe` prints it in a stable text form.
import { stringify } from 'safe-stable-stringify';
import type { CheckedFlow, CheckedNode, CheckedTable, NodeRole } from '../config/load.ts';
import { redactSecrets } from '../config/secrets.ts';
import type { FlowRules, JsonSchema } from '../core/rule-model.ts';
import type { ServiceConfig } from '../component/service.ts';
import type { Delivery } from '../component/types.ts';
import { changelogsOf } from './changelogs.ts';

/** `commit`: how a batch's delivery is committed to its source (see CommitKind); `table`: a table a stage reads. */
export type TopologyRole = NodeRole | 'commit' | 'table';

/** The name of a table's node: tables are global, the same in every flow reading them. */
export const tableNodeName = (table: string): string => `table.${table}`;

/**
 * acknowledge: at-least-once, the source commits a batch once its outputs and dead letters are
 * acknowledged by the sinks. transaction: exactly-once, the outputs, the dead letters and the
 * input offsets go in one Kafka transaction of the source's transactional producer (the sinks'
 * own producers are not used).
 */
export type CommitKind = 'acknowledge' | 'transaction';

export interface TopologyNode extends Omit<CheckedNode, 'role'> {
  readonly role: TopologyRole;
  /** The resolved settings of the services its config names (an enrichment's `service`), by name. */
  readonly services?: Readonly<Record<string, ServiceConfig>>;
  /** The validate node: the documents the flow's rules reference, by URI, and the URI the rules resolve against. */
  readonly ruleDocuments?: Omit<FlowRules, 'schema'>;
}

/** The validate node's settings: the engine that parses and validates, its limits, what becomes of invalid messages. */
export interface ValidateSettings {
  /** wasm: the WebAssembly core; js: JSON.parse + ajv on the same rules. */
  readonly engine: 'wasm' | 'js';
  readonly 'max-depth': number;
  readonly 'max-size': number;
  readonly 'on-invalid': 'dlq' | 'drop';
}

export interface FlowTopology {
  readonly flow: string;
  readonly enabled: boolean;
  readonly rules: JsonSchema;
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
  /** A part of a flow split at a key-by (pipeline/repartition.ts): the topic joining the parts. */
  readonly repartition?: RepartitionHop;
}

/** How the two parts of a flow split at a key-by (pipeline/repartition.ts) are joined. */
export interface RepartitionHop {
  /** The flow as configured. */
  readonly flow: string;
  /** The internal topic between the parts. */
  readonly topic: string;
  /** The flow's input topic: the internal topic has as many partitions. */
  readonly input: string;
  /** The part writing the topic and the part reading it (flow names). */
  readonly writer: string;
  readonly reader: string;
  /** The consumer group of the reading part. */
  readonly readerGroup: string;
}

/** The settings of a topology's validate node. */
export function validateSettings(topology: FlowTopology): ValidateSettings {
  return topology.nodes.find((n) => n.role === 'validate')!.config as unknown as ValidateSettings;
}

/** The flow's rules with the documents they reference, as the core compiles them. */
export function flowRules(topology: FlowTopology): FlowRules {
  return { schema: topology.rules, ...topology.nodes.find((n) => n.role === 'validate')!.ruleDocuments };
}

/** A checked flow with every setting resolved onto its nodes. */
export function topologyOf(checked: CheckedFlow, services: Readonly<Record<string, ServiceConfig>>, tables: readonly CheckedTable[] = []): FlowTopology {
  const name = checked.flow;
  // the tables its stages name (`table = …`) come first: a flow starts once they are loaded
  const tableNodes: TopologyNode[] = [];
  const tableOf = (node: CheckedNode): string | undefined => {
    const table = tables.find((t) => node.role === 'stage' && t.name === node.config.table);
    if (!table) return undefined;
    const tableName = tableNodeName(table.name);
    if (!tableNodes.some((n) => n.name === tableName)) {
      tableNodes.push({ name: tableName, role: 'table', kind: table.kind, parents: [], config: table.config, configPath: table.configPath, baseDir: table.baseDir });
    }
    return tableName;
  };
  const nodes: TopologyNode[] = checked.nodes.map((node) => {
    const table = tableOf(node);
    if (table !== undefined) return { ...node, parents: [...node.parents, table] };
    if (node.role === 'validate') {
      const validate: ValidateSettings = {
        engine: checked.validator,
        'max-depth': checked.maxDepth,
        'max-size': checked.maxSize,
        'on-invalid': checked.onInvalid,
      };
      return { ...node, config: { ...validate }, ...(checked.ruleDocuments.schemas ? { ruleDocuments: checked.ruleDocuments } : {}) };
    }
    const service = node.config.service;
    if (node.role === 'stage' && typeof service === 'string' && Object.hasOwn(services, service)) {
      return { ...node, services: { [service]: services[service]! } };
    }
    return node;
  });
  const sinks = nodes.filter((n) => n.role === 'sink' || n.role === 'dead-letter');
  const source = nodes.find((n) => n.role === 'source');
  const exactlyOnce = checked.delivery === 'exactly-once';
  nodes.push({
    name: `${name}.commit`,
    role: 'commit',
    kind: exactlyOnce ? 'transaction' : 'acknowledge',
    parents: sinks.map((n) => n.name),
    config: exactlyOnce && source ? { 'transactional-producer': source.name } : {},
    configPath: ['flows', name, 'delivery'],
    baseDir: source?.baseDir ?? '',
  });
  nodes.unshift(...tableNodes);
  return {
    flow: name,
    enabled: checked.enabled,
    rules: checked.rules,
    delivery: checked.delivery,
    deadlineMs: checked.deadlineMs,
    maxInFlight: checked.maxInFlight,
    maxStallMs: checked.maxStallMs,
    stallTimeoutMs: checked.stallTimeoutMs,
    nodes,
  };
}

/** A value as one stable line of text (keys sorted). */
const text = (value: unknown): string => stringify(value) ?? 'undefined';

/**
 * The topologies as text, one block per flow: a line per node (name, role, kind, parents), each
 * followed by its settings, secrets redacted. Stable: the same topology always gives the same text.
 */
export function describe(topologies: readonly FlowTopology[]): string {
  const lines: string[] = [];
  for (const t of topologies) {
    lines.push(`Flow ${t.flow}${t.enabled ? '' : ' (disabled)'}: ${t.delivery}, invalid messages -> ${validateSettings(t)['on-invalid']}`);
    lines.push(`    max-in-flight = ${t.maxInFlight}`);
    lines.push(`    max-stall-ms = ${t.maxStallMs}`, `    stall-timeout-ms = ${t.stallTimeoutMs}`);
    if (t.deadlineMs !== undefined) lines.push(`    deadline-ms = ${t.deadlineMs}`);
    const width = Math.max(...t.nodes.map((n) => n.name.length));
    for (const node of t.nodes) {
      const from = node.parents.length > 0 ? ` <- ${node.parents.join(', ')}` : '';
      lines.push(`  ${node.name.padEnd(width)}  ${node.role.padEnd(11)} ${node.kind}${from}`);
      for (const [key, value] of Object.entries(redactSecrets(node.config))) lines.push(`      ${key} = ${text(value)}`);
      if (node.role === 'validate') lines.push(`      rules = ${text(t.rules)}`);
      // rules describe messages, not secrets: printed as they are, like the rules
      if (node.ruleDocuments?.schemas) lines.push(`      rules-base = ${text(node.ruleDocuments.base)}`, `      schemas = ${text(node.ruleDocuments.schemas)}`);
      for (const [service, settings] of Object.entries(node.services ?? {})) lines.push(`      services.${service} = ${text(redactSecrets(settings))}`);
    }
    const hop = t.repartition;
    if (hop?.writer === t.flow) lines.push(`  repartition ${hop.topic}: written by ${hop.writer} keyed by the new key, read by ${hop.reader} (group ${hop.readerGroup}), partitioned like ${hop.input}`);
    for (const c of changelogsOf(t)) lines.push(`  changelog ${c.topic}: store ${c.store}, compacted, partitioned like ${c.input}`);
  }
  return `${lines.join('\n')}\n`;
}
