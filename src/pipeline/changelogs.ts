// The changelog topics of a configuration's flows: one per store of a stateful stage of a flow on
// a Kafka source, named after the source's group (<group>-<store>-changelog), compacted and
// partitioned like the source's topic (a flow split at a key-by: like the flow's input). `sluice topics create` creates them, `check --describe`
// lists them.
import type { StoreDeclaration } from '../component/state.ts';
import { changelogTopic } from '../state/changelog.ts';
import * as registry from './registry.ts';

/** What of a topology names its changelogs (topology.ts describes them with this: no import cycle). */
interface StatefulTopology {
  readonly flow: string;
  readonly nodes: readonly { readonly role: string; readonly kind: string; readonly config: Readonly<Record<string, unknown>> }[];
  /** A part of a flow split at a key-by: its input is partitioned like the flow's. */
  readonly repartition?: { readonly input: string };
}

export interface FlowChangelog {
  readonly flow: string;
  readonly group: string;
  readonly store: string;
  readonly topic: string;
  /** The source's topic: the changelog has as many partitions. */
  readonly input: string;
}

/** The stores the flow's stages declare (their codecs with them). */
export function declaredStores(topology: StatefulTopology): StoreDeclaration[] {
  return topology.nodes.filter((n) => n.role === 'stage').flatMap((n) => registry.stages[n.kind]?.stores?.(n.config) ?? []);
}

export function changelogsOf(topology: StatefulTopology): FlowChangelog[] {
  const source = topology.nodes.find((n) => n.role === 'source');
  if (source?.kind !== 'kafka') return [];
  const group = String(source.config['group-id']);
  const input = topology.repartition?.input ?? String(source.config.topic);
  return declaredStores(topology).map(({ name }) => ({ flow: topology.flow, group, store: name, topic: changelogTopic(group, name), input }));
}
