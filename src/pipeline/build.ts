// Builds flows from their topologies: every component through the registry, the stores and
// tables they hold, the services they share; a configuration's problems all at once.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { recordTypes } from '../../schemas/index.ts';
import { configError } from '../config/load.ts';
import { JsValidator } from '../core/js-validator.ts';
import { compileSchema, type MessageValidator } from '../core/validator.ts';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import { Metrics } from '../observe/metrics.ts';
import { FlowStats } from '../observe/stats.ts';
import { type Clock, systemClock } from '../component/clock.ts';
import type { StageContext } from '../component/spec.ts';
import type { StateStore, StoreBackendName, StoreDeclaration } from '../component/state.ts';
import { FlowState } from '../state/flow-state.ts';
import { DEFAULT_STATE_DIR } from '../state/local.ts';
import type { Table } from '../component/table.ts';
import { FieldTable } from '../component/fields.ts';
import * as registry from './registry.ts';
import { schemaAt } from '../component/rules.ts';
import { HttpService } from '../io/http/service.ts';
import { TableSet } from './tables.ts';
import { flowRules, type FlowTopology, tableNodeName, type TopologyNode, validateSettings } from './topology.ts';
import type { ComponentContext, Sink, Source } from '../component/types.ts';
import { Flow, type NamedStage } from './flow.ts';

/** Names the file and key path of a problem found in the configuration. */
export type ProblemAt = (path: readonly PropertyKey[], message: string) => ConfigProblem;

/** A component's error as configuration problems, at the component's key path. */
function problemsOf(error: unknown, base: readonly PropertyKey[], problemAt: ProblemAt): ConfigProblem[] {
  if (!(error instanceof SluiceError)) throw error;
  const relative = error.problems.length > 0 ? error.problems : [{ path: '', message: error.message }];
  return relative.map((p) => problemAt([...base, ...(p.path ? p.path.split('.') : [])], p.message));
}

/** Replaces a flow's configured source and sinks (the test driver runs flows in memory). */
export type IoOverride = (topology: FlowTopology) => { source: Source; sink: Sink; deadLetters: Sink | undefined };

/** What flows are built with besides their topologies: the process's parts, never its configuration. */
export interface FlowResources {
  readonly logger: Logger;
  /** Where in the files a key path is: the problems a component finds when it is built name it. */
  readonly problemAt: ProblemAt;
  /** Failed messages logged per second, per stage and reason (log.failures-per-second). */
  readonly failuresPerSecond: number;
  /** One registry for the process (default: a new one). */
  readonly metrics?: Metrics;
  /** Addresses of the running local services, by name. */
  readonly localUrls?: Readonly<Record<string, string>>;
  readonly io?: IoOverride;
  /** Counters a flow continues, by flow name. */
  readonly stats?: (flow: string) => FlowStats | undefined;
  /** Where stateful stages keep their on-disk stores (default: .sluice-state under the working directory). */
  readonly stateDir?: string;
  /** The state dir is thrown away after the run (a bench's): local stores are never flushed to disk, as on Kafka they are flushed only at checkpoints. */
  readonly scratchState?: boolean;
  /** The components' wall clock (default: the system clock; the test driver's is advanced by its inputs). */
  readonly clock?: Clock;
  /** The process's tables, kept across the flows built from it (default: a set of these flows' own). */
  readonly tables?: TableSet;
}

/** Builds every given flow's components from its topology; throws SLC_CONFIG listing every problem found. */
export function buildFlows(topologies: readonly FlowTopology[], resources: FlowResources): Flow[] {
  const { logger, problemAt } = resources;
  const metrics = resources.metrics ?? new Metrics();
  const clock = resources.clock ?? systemClock;
  const problems: ConfigProblem[] = [];
  const flows: Flow[] = [];
  const tableSet = resources.tables ?? new TableSet(logger);
  /** Every table held by a flow built here: let go of if the build fails. */
  const held: Table[] = [];
  // one HttpService per configured service, shared by every stage (of every flow) naming it
  const services = new Map<string, HttpService>();
  const serviceOf = (node: TopologyNode) => (name: string) => {
    const settings = node.services?.[name];
    if (settings && !services.has(name)) {
      const local = settings['local-service'];
      // building without the local services running (sluice check): an address that is never called
      const localUrl = local === undefined ? undefined : (resources.localUrls?.[local] ?? 'http://127.0.0.1:0');
      services.set(name, new HttpService(name, settings, logger, metrics.service(name), localUrl));
    }
    return services.get(name);
  };
  for (const topology of topologies) {
    const declared: StoreDeclaration[] = [];
    // a file source reads its file from the first line every run: its flow's state starts empty too
    const freshLocal = resources.scratchState === true || topology.nodes.some((n) => n.role === 'source' && n.kind === 'file');
    const flowState = new FlowState({ flow: topology.flow, stores: declared, stateDir: resources.stateDir ?? join(process.cwd(), DEFAULT_STATE_DIR), freshLocal, log: logger, metrics });
    const context = (node: TopologyNode): ComponentContext => ({
      flow: topology.flow,
      baseDir: node.baseDir,
      logger,
      delivery: topology.delivery,
      metrics,
      clock,
      ...(node.role === 'source' && declared.length > 0 ? { state: flowState } : {}),
      ...(node.role === 'source' && topology.repartition?.reader === topology.flow ? { readsInternalTopic: true } : {}),
    });
    const fields = new FieldTable();
    const rules = flowRules(topology);
    const stages: NamedStage[] = [];
    let outputType: string | undefined;
    let failed = false;
    const tables = new Map<string, Table>();
    for (const node of topology.nodes.filter((n) => n.role === 'table')) {
      try {
        tables.set(node.name, tableSet.hold(node, metrics));
      } catch (error) {
        problems.push(...problemsOf(error, node.configPath, problemAt));
        failed = true;
      }
    }
    held.push(...tables.values());
    const table = (name: string) => tables.get(tableNodeName(name));
    const stageNodes = topology.nodes.filter((n) => n.role === 'stage');
    for (const node of stageNodes) {
      const spec = registry.stages[node.kind]!;
      if (spec.emits && node !== stageNodes.at(-1)) {
        problems.push(problemAt(node.configPath, `a ${node.kind} stage emits the flow's results: it must be the flow's last stage`));
        failed = true;
      }
      const store = (name: string, backend: StoreBackendName): StateStore => {
        if (declared.some((d) => d.name === name)) {
          throw new SluiceError('SLC_CONFIG', `store "${name}" is another stage's: give this one its own (store = ...)`, { problems: [{ path: 'store', message: `store "${name}" is another stage's of flow ${topology.flow}: give this one its own name` }] });
        }
        const codec = spec.stores?.(node.config).find((d) => d.name === name)?.codec;
        const slot = declared.push(codec ? { name, backend, codec } : { name, backend }) - 1;
        return { of: (record) => record.state!.view(slot) };
      };
      const stageContext: StageContext = { ...context(node), rules, fields, recordTypes, outputType, service: serviceOf(node), deadlineMs: topology.deadlineMs, store, table };
      // a map stage that fails to build still names its output type for the stages after it
      outputType = spec.outputType?.(node.config) ?? outputType;
      try {
        stages.push({ name: node.name, stage: spec.create(node.config, stageContext) });
      } catch (error) {
        problems.push(...problemsOf(error, node.configPath, problemAt));
        failed = true;
      }
    }
    let keySlot = -1;
    const sinkNode = topology.nodes.find((n) => n.role === 'sink');
    const keyField = sinkNode ? registry.sinks[sinkNode.kind]!.keyField?.(sinkNode.config) : undefined;
    if (sinkNode && keyField !== undefined) {
      if (schemaAt(rules, keyField) === undefined) {
        problems.push(problemAt([...sinkNode.configPath, 'key'], `field "${keyField}" is not defined by the flow's rules`));
        failed = true;
      } else keySlot = fields.slot(keyField);
    }
    let validator: MessageValidator | undefined;
    try {
      const settings = validateSettings(topology);
      const options = { maxDepth: settings['max-depth'], maxSize: settings['max-size'], extract: fields.pointers, assertFormats: true, base: rules.base, schemas: rules.schemas };
      validator = settings.engine === 'js' ? new JsValidator(rules.schema, options) : compileSchema(rules.schema, options);
    } catch (error) {
      problems.push(...problemsOf(error, ['flows', topology.flow, 'rules'], problemAt));
    }
    const build = <T>(role: string, create: (node: TopologyNode) => T): T | undefined => {
      const node = topology.nodes.find((n) => n.role === role);
      if (!node) return undefined;
      try {
        return create(node);
      } catch (error) {
        problems.push(...problemsOf(error, node.configPath, problemAt));
        failed = true;
        return undefined;
      }
    };
    const io = resources.io?.(topology);
    const source = io?.source ?? build('source', (n) => registry.sources[n.kind]!.create(n.config, context(n)));
    const sink = io?.sink ?? build('sink', (n) => registry.sinks[n.kind]!.create(n.config, context(n), 'output'));
    const deadLetters = io ? io.deadLetters : build('dead-letter', (n) => registry.sinks[n.kind]!.create(n.config, context(n), 'dead-letter'));
    if (failed || !validator || !source || !sink) continue;
    const state = declared.length > 0 ? flowState : undefined;
    flows.push(new Flow({ topology, validator, stages, source, sink, deadLetters, logger, failuresPerSecond: resources.failuresPerSecond, registry: recordTypes, keySlot, metrics, stats: resources.stats?.(topology.flow), state, tables: tableSet.forFlow([...tables.values()]) }));
  }
  if (problems.length > 0) {
    for (const table of held) void tableSet.release(table);
    throw configError(problems);
  }
  return flows;
}
