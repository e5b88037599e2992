// The repartition hop, as Kafka Streams makes it for a groupBy: a flow on a Kafka source whose
// stateful stage follows a key-by is split, when its topology is made, into two flows of plain
// topology data joined by an internal topic, <group>-<flow>-<key-by>-repartition, with as many
// partitions as the input:
//   <flow>.repartition: the input -> validate -> the stages up to the key-by -> the topic, keyed
//                       by the new key (so partitioned by it, as the Java client's partitioner does);
//   <flow>:             the topic -> validate -> the stages after the key-by -> the flow's sink.
// Each part is an ordinary flow with its own consumer group (the second's is <group>-<flow>-<key-by>,
// so the parts rebalance apart), its own dead letters into the flow's dead-letter sink, and its own
// commit: exactly-once, each part's writes and input offsets are one transaction of its source,
// the second reads read-committed; at-least-once, a part commits its input once its writes are
// acknowledged. The second part's source deletes the records its group committed (io/kafka/purge.ts).
// The records cross the topic as they came (value bytes, headers, timestamp), so a
// stage that builds or enriches the output record may not come before the key-by. Local mode (a
// file source) has one partition: no hop, the key-by only re-keys.
import { connectionFields } from '../component/settings.ts';
import type { ConfigProblem } from '../errors.ts';
import * as registry from './registry.ts';
import type { FlowTopology, RepartitionHop, TopologyNode } from './topology.ts';

/** The internal topic of a flow's hop at a key-by stage. */
export const repartitionTopic = (group: string, flow: string, stage: string): string => `${group}-${flow}-${stage}-repartition`;

const shortName = (flow: string, node: TopologyNode) => node.name.slice(flow.length + 1);

/**
 * The flow as one topology, or as its two parts when a key-by precedes a stateful stage on a
 * Kafka source; or the problem that keeps it from being split.
 */
export function splitAtRepartition(topology: FlowTopology, problemAt: (path: readonly PropertyKey[], message: string) => ConfigProblem): { parts: FlowTopology[]; problems: ConfigProblem[] } {
  const flow = topology.flow;
  const source = topology.nodes.find((n) => n.role === 'source');
  const stages = topology.nodes.filter((n) => n.role === 'stage');
  const spec = (node: TopologyNode) => registry.stages[node.kind];
  const stateful = stages.findIndex((n, i) => spec(n)?.stateful === true && stages.slice(0, i).some((k) => spec(k)?.rekeys === true));
  if (source?.kind !== 'kafka' || stateful < 0) return { parts: [topology], problems: [] };
  const at = stages.slice(0, stateful).findLastIndex((n) => spec(n)?.rekeys === true);
  const keyBy = stages[at]!;
  const before = stages.slice(0, at + 1);
  const after = stages.slice(at + 1);
  const problems: ConfigProblem[] = [];
  for (const node of before) {
    if (spec(node)?.buildsOutput === true) {
      problems.push(problemAt(node.configPath, `flow ${flow}: stage ${shortName(flow, node)} (${node.kind}) builds the output record before key-by ${shortName(flow, keyBy)}, whose repartition topic carries the message as it came: move it after the stateful stage that needs the hop`));
    }
  }
  const second = after.findIndex((n, i) => spec(n)?.stateful === true && after.slice(0, i).some((k) => spec(k)?.rekeys === true));
  if (second >= 0) {
    problems.push(problemAt(after[second]!.configPath, `flow ${flow}: a second repartition (key-by then stateful stage ${shortName(flow, after[second]!)} after the hop at ${shortName(flow, keyBy)}) is not supported: split the flow in two`));
  }
  if (problems.length > 0) return { parts: [], problems };

  const group = String(source.config['group-id']);
  const input = String(source.config.topic);
  const stageName = shortName(flow, keyBy);
  const writer = `${flow}.repartition`;
  const hop: RepartitionHop = { flow, topic: repartitionTopic(group, flow, stageName), input, writer, reader: flow, readerGroup: `${group}-${flow}-${stageName}` };
  const connection = Object.fromEntries(Object.keys(connectionFields).filter((k) => source.config[k] !== undefined).map((k) => [k, source.config[k]]));
  const validate = topology.nodes.find((n) => n.role === 'validate')!;
  const deadLetter = topology.nodes.find((n) => n.role === 'dead-letter');
  const commit = topology.nodes.find((n) => n.role === 'commit')!;
  const tableNodes = new Set(topology.nodes.filter((n) => n.role === 'table').map((n) => n.name));

  /** A part's nodes: its tables, source -> validate -> stages -> sink, dead letters from validate and the stages, the commit after both. */
  const part = (rename: (node: TopologyNode) => string, partSource: TopologyNode, partStages: readonly TopologyNode[], sink: TopologyNode): TopologyNode[] => {
    const tables = (node: TopologyNode) => node.parents.filter((p) => tableNodes.has(p));
    const chain: TopologyNode[] = [];
    for (const node of [partSource, validate, ...partStages, sink]) {
      const previous = chain.at(-1);
      chain.push({ ...node, name: rename(node), parents: previous ? [previous.name, ...tables(node)] : [] });
    }
    const ends = [chain.at(-1)!.name];
    if (deadLetter) {
      ends.push(rename(deadLetter));
      chain.push({ ...deadLetter, name: rename(deadLetter), parents: [rename(validate), ...partStages.map(rename)] });
    }
    chain.push({ ...commit, name: rename(commit), parents: ends, config: commit.kind === 'transaction' ? { 'transactional-producer': rename(partSource) } : {} });
    const used = new Set(partStages.flatMap(tables));
    return [...topology.nodes.filter((n) => n.role === 'table' && used.has(n.name)), ...chain];
  };
  const asWriter = (node: TopologyNode) => `${writer}.${shortName(flow, node)}`;
  const toTopic: TopologyNode = {
    name: `${flow}.sink`,
    role: 'sink',
    kind: 'kafka',
    parents: [],
    config: { ...connection, topic: hop.topic, encoding: 'json', compression: 'none', acks: -1, idempotent: true },
    configPath: keyBy.configPath,
    baseDir: source.baseDir,
  };
  const fromTopic: TopologyNode = {
    ...source,
    config: { ...source.config, topic: hop.topic, 'group-id': hop.readerGroup, 'from-beginning': true, 'read-committed': true },
  };
  const sink = topology.nodes.find((n) => n.role === 'sink')!;
  return {
    parts: [
      { ...topology, flow: writer, nodes: part(asWriter, source, before, toTopic), repartition: hop },
      { ...topology, nodes: part((n) => n.name, fromTopic, after, sink), repartition: hop },
    ],
    problems: [],
  };
}
