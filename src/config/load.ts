// Configuration -> checked plain data: the settings, and per flow its nodes with their config
// checked against the component specs it is given (pipeline/ passes its registry's; config/ knows
// no runtime). Every problem is collected (file, key path, what was expected) before failing, so
// `sluice check` lists them all at once.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { FlowRules, JsonSchema } from '../core/rule-model.ts';
import { type ConfigProblem, formatKeyPath, isSluiceError, SluiceError } from '../errors.ts';
import type { Delivery } from '../component/types.ts';
import { displayPath, loadHocon, type LoadedHocon, UNSET } from './hocon.ts';
import { type ComponentConfig, flow as flowSchema, type FlowConfig, flowName, logLevel, root, type RootConfig } from './schema.ts';
import { loadRuleDocuments } from './rules.ts';
import { literalSecrets, redactSecrets, urlPasswords } from './secrets.ts';
import { parseJson } from '../core/json-text.ts';

export type NodeRole = 'source' | 'validate' | 'stage' | 'sink' | 'dead-letter';

/** A node of a flow as configured: its component's config checked against its spec, defaults applied. */
export interface CheckedNode {
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

/** A flow as configured and checked: pipeline/topology.ts resolves it into a topology. */
export interface CheckedFlow {
  readonly flow: string;
  readonly enabled: boolean;
  readonly rules: JsonSchema;
  /** The documents the rules reference (`schemas`) and the URI the rules resolve against (`base`); empty when they reference none. */
  readonly ruleDocuments: Omit<FlowRules, 'schema'>;
  readonly maxDepth: number;
  readonly maxSize: number;
  readonly onInvalid: 'dlq' | 'drop';
  /** The engine that parses and validates: the WebAssembly core, or plain JavaScript. */
  readonly validator: 'wasm' | 'js';
  readonly delivery: Delivery;
  /** Latency budget from receipt for stages that call out. */
  readonly deadlineMs: number | undefined;
  /** Batches being processed or delivered at once. */
  readonly maxInFlight: number;
  /** A lane with work and no progress for this long: not ready. */
  readonly maxStallMs: number;
  /** Stalled this long: the flow fails (0: never). */
  readonly stallTimeoutMs: number;
  readonly nodes: readonly CheckedNode[];
}

type Specs = Readonly<Record<string, { readonly config: z.ZodType }>>;

/** The config schemas of every source, stage, sink and table kind, by kind (the registry's specs). */
export interface ComponentKinds {
  readonly sources: Specs;
  readonly stages: Specs;
  readonly sinks: Specs;
  readonly tables: Specs;
}

/** A table as configured (top-level `tables`) and checked against its kind's spec. */
export interface CheckedTable {
  readonly name: string;
  readonly kind: string;
  /** The table's config with defaults applied (without kind). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly configPath: readonly PropertyKey[];
  /** Directory its relative paths are resolved against: that of the file setting its `path`. */
  readonly baseDir: string;
}

export interface CheckedConfig {
  readonly settings: RootConfig;
  readonly flows: readonly CheckedFlow[];
  readonly tables: readonly CheckedTable[];
  /** Directory of the log file setting (relative log files are resolved against it). */
  readonly logDir: string;
  readonly files: readonly string[];
  /** The whole configuration with every default applied and secrets redacted, as `sluice check --print` shows it. */
  readonly resolved: Record<string, unknown>;
  /** What is not wrong but unsafe (secrets written in a file): `sluice check` prints them, `run` logs them. */
  readonly warnings: readonly ConfigProblem[];
  /** Names a key path's file, for errors raised later (when components are built). */
  problemAt(path: readonly PropertyKey[], message: string): ConfigProblem;
  /** Directory relative paths at a key path are resolved against. */
  dirOf(path: readonly PropertyKey[]): string;
}

class Problems {
  readonly list: ConfigProblem[] = [];
  readonly #hocon: LoadedHocon;

  constructor(hocon: LoadedHocon) {
    this.#hocon = hocon;
  }

  at(path: readonly PropertyKey[], message: string): ConfigProblem {
    return { file: displayPath(this.#hocon.fileOf(path)), path: formatKeyPath(path), message };
  }

  /** Relative paths are resolved against the directory of the file that sets them. */
  dirOf(path: readonly PropertyKey[]): string {
    return dirname(this.#hocon.fileOf(path));
  }

  /** The file that sets a key. */
  fileOf(path: readonly PropertyKey[]): string {
    return this.#hocon.fileOf(path);
  }

  add(path: readonly PropertyKey[], message: string): void {
    // a value standing in for an unset variable: the variable is the problem, reported already
    if (this.#standsIn(path)) return;
    this.list.push(this.at(path, message));
  }

  #standsIn(path: readonly PropertyKey[]): boolean {
    if (this.#hocon.unresolved.length === 0) return false;
    let node: unknown = this.#hocon.tree;
    for (const key of path) {
      // a path into a value that a transform made of the placeholder (brokers[0] of brokers)
      if (typeof node === 'string') break;
      if (typeof node !== 'object' || node === null) return false;
      node = (node as Record<string, unknown>)[String(key)];
    }
    return typeof node === 'string' && node.includes(UNSET);
  }

  addIssues(base: readonly PropertyKey[], issues: readonly z.core.$ZodIssue[]): void {
    for (const issue of issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.add([...base, ...issue.path, key], 'unknown key');
      } else if (issue.code === 'invalid_key') {
        this.add([...base, ...issue.path], `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`);
      } else this.add([...base, ...issue.path], issue.message);
    }
  }
}

function parseComponent(
  specs: Specs,
  what: string,
  entry: ComponentConfig,
  path: readonly PropertyKey[],
  problems: Problems,
): Record<string, unknown> | undefined {
  const spec = specs[entry.kind];
  if (!spec) {
    problems.add([...path, 'kind'], `unknown ${what} kind "${entry.kind}" (known: ${Object.keys(specs).join(', ')})`);
    return undefined;
  }
  const { kind: _kind, name: _name, ...rest } = entry;
  const parsed = spec.config.safeParse(rest);
  if (!parsed.success) {
    problems.addIssues(path, parsed.error.issues);
    return undefined;
  }
  return parsed.data as Record<string, unknown>;
}

function loadRules(flow: FlowConfig, path: readonly PropertyKey[], problems: Problems): FlowRules | undefined {
  if ((flow.rules === undefined) === (flow['rules-file'] === undefined)) {
    problems.add(path, 'give exactly one of: rules (an inline JSON Schema), rules-file (a .json file)');
    return undefined;
  }
  let rules: JsonSchema;
  let file: string;
  if (flow.rules !== undefined) {
    rules = flow.rules as JsonSchema;
    file = problems.fileOf([...path, 'rules']);
  } else {
    file = resolve(problems.dirOf([...path, 'rules-file']), flow['rules-file']!);
    try {
      rules = parseJson(readFileSync(file, 'utf8')) as JsonSchema;
    } catch (error) {
      problems.add([...path, 'rules-file'], `cannot read a JSON Schema from ${file}: ${(error as Error).message}`);
      return undefined;
    }
  }
  const listed = flow.schemas.map((schema, i) => resolve(problems.dirOf([...path, 'schemas', i]), schema));
  try {
    return loadRuleDocuments(rules, file, listed);
  } catch (error) {
    if (!isSluiceError(error, 'SLC_SCHEMA')) throw error;
    problems.add([...path, flow.rules !== undefined ? 'rules' : 'rules-file'], error.message);
    return undefined;
  }
}

function checkFlow(name: string, flow: FlowConfig, kinds: ComponentKinds, problems: Problems): CheckedFlow | undefined {
  const path = ['flows', name];
  const before = problems.list.length;
  const rules = loadRules(flow, path, problems);
  const nodes: CheckedNode[] = [];
  const names = new Set<string>();
  let incomplete = false;
  const node = (role: NodeRole, specs: Specs, what: string, entry: ComponentConfig, at: PropertyKey[], defaultName: string, parents: string[]) => {
    const config = parseComponent(specs, what, entry, at, problems);
    const full = `${name}.${entry.name ?? defaultName}`;
    if (names.has(full)) problems.add([...at, 'name'], `the name "${entry.name ?? defaultName}" is used twice in flow ${name}`);
    names.add(full);
    if (config) nodes.push({ name: full, role, kind: entry.kind, parents, config, configPath: at, baseDir: problems.dirOf([...at, 'path']) });
    else incomplete = true; // also when its problem is an unset variable's, reported as such
    return full;
  };
  const source = node('source', kinds.sources, 'source', flow.source, [...path, 'source'], 'source', []);
  const validate = `${name}.validate`;
  nodes.push({ name: validate, role: 'validate', kind: 'core', parents: [source], config: {}, configPath: [...path, 'rules'], baseDir: problems.dirOf(path) });
  names.add(validate);
  let previous = validate;
  const failing = [validate];
  flow.stages.forEach((stage, index) => {
    previous = node('stage', kinds.stages, 'stage', stage, [...path, 'stages', index], `${stage.kind}-${index}`, [previous]);
    failing.push(previous);
  });
  node('sink', kinds.sinks, 'sink', flow.sink, [...path, 'sink'], 'sink', [previous]);
  if (flow['dead-letter']) {
    node('dead-letter', kinds.sinks, 'sink', flow['dead-letter'], [...path, 'dead-letter'], 'dead-letter', failing);
  } else if (flow['on-invalid'] === 'dlq') {
    problems.add([...path, 'on-invalid'], 'on-invalid = dlq needs a dead-letter sink (or set on-invalid = drop)');
  }
  if (flow.delivery === 'exactly-once') {
    const notKafka = nodes.filter((n) => n.role !== 'validate' && n.role !== 'stage' && n.kind !== 'kafka').map((n) => n.role);
    if (notKafka.length > 0) problems.add([...path, 'delivery'], `exactly-once needs a kafka source and kafka sinks (${notKafka.join(', ')} is not)`);
    if (nodes.some((n) => n.role === 'source' && n.config['read-committed'] === false)) {
      problems.add([...path, 'source', 'read-committed'], 'exactly-once reads committed data only: read-committed must be true');
    }
  }
  if (problems.list.length > before || rules === undefined || incomplete) return undefined;
  return {
    flow: name,
    enabled: flow.enabled,
    rules: rules.schema,
    ruleDocuments: { base: rules.base, schemas: rules.schemas },
    maxDepth: flow.limits['max-depth'],
    maxSize: flow.limits['max-size'],
    onInvalid: flow['on-invalid'],
    validator: flow.validator,
    delivery: flow.delivery,
    deadlineMs: flow['deadline-ms'],
    maxInFlight: flow['max-in-flight'],
    maxStallMs: flow['max-stall-ms'],
    stallTimeoutMs: flow['stall-timeout-ms'],
    nodes,
  };
}

function resolvedView(settings: RootConfig, flows: readonly CheckedFlow[], tables: readonly CheckedTable[]): Record<string, unknown> {
  const flowsView: Record<string, unknown> = {};
  for (const t of flows) {
    const view = (n: CheckedNode) => ({ kind: n.kind, name: n.name.slice(t.flow.length + 1), ...n.config });
    flowsView[t.flow] = {
      enabled: t.enabled,
      limits: { 'max-depth': t.maxDepth, 'max-size': t.maxSize },
      'on-invalid': t.onInvalid,
      validator: t.validator,
      delivery: t.delivery,
      'max-in-flight': t.maxInFlight,
      'max-stall-ms': t.maxStallMs,
      'stall-timeout-ms': t.stallTimeoutMs,
      ...(t.deadlineMs !== undefined ? { 'deadline-ms': t.deadlineMs } : {}),
      rules: t.rules,
      source: view(t.nodes.find((n) => n.role === 'source')!),
      stages: t.nodes.filter((n) => n.role === 'stage').map(view),
      sink: view(t.nodes.find((n) => n.role === 'sink')!),
      ...(t.nodes.some((n) => n.role === 'dead-letter') ? { 'dead-letter': view(t.nodes.find((n) => n.role === 'dead-letter')!) } : {}),
    };
  }
  const view = redactSecrets({
    log: settings.log,
    progress: settings.progress,
    'shutdown-timeout-ms': settings['shutdown-timeout-ms'],
    observe: settings.observe,
    ...(settings.kafka ? { kafka: settings.kafka } : {}),
    services: settings.services,
    'local-services': settings['local-services'],
    tables: Object.fromEntries(tables.map((t) => [t.name, { kind: t.kind, ...t.config }])),
    flows: flowsView,
  });
  // rules describe messages, not secrets: a property named "token" stays as it is
  for (const t of flows) (view.flows[t.flow] as { rules: unknown }).rules = t.rules;
  return view;
}

/**
 * Loads, overlays and checks a configuration file, its components against `kinds`; throws
 * SLC_CONFIG listing every problem.
 */
export async function readConfig(file: string, kinds: ComponentKinds): Promise<CheckedConfig> {
  const { config, problems } = await inspectConfig(file, kinds);
  if (problems.length > 0 || config === undefined) throw configError(problems);
  return config;
}

/**
 * Every problem of a configuration file, and as much of it as is right: the top level when it
 * parses, with the flows that have no problem (`sluice check` builds those to find the rest).
 * Throws SLC_CONFIG only when the files cannot be read or parsed.
 */
export async function inspectConfig(file: string, kinds: ComponentKinds): Promise<{ config?: CheckedConfig; problems: readonly ConfigProblem[] }> {
  const hocon = await loadHocon(file);
  const problems = new Problems(hocon);
  problems.list.push(...hocon.unresolved);
  // the top level first, each flow on its own: a mistake in one place hides none elsewhere
  const rootSchema = root.extend({ flows: z.record(flowName, z.unknown()) });
  const first = rootSchema.safeParse(hocon.tree);
  if (!first.success) problems.addIssues([], first.error.issues);
  // the settings without their wrong values, for the flows to be checked and built against
  const parsed = first.success ? first : rootSchema.safeParse(withoutIssues(hocon.tree, first.error.issues));
  const flows: CheckedFlow[] = [];
  const flowConfigs: Record<string, FlowConfig> = {};
  const rawFlows = hocon.tree.flows;
  const entries = typeof rawFlows === 'object' && rawFlows !== null ? Object.entries(rawFlows) : [];
  for (const [name, raw] of entries) {
    if (!flowName.safeParse(name).success) continue; // reported with the top level
    const flow = flowSchema.safeParse(raw);
    if (!flow.success) {
      problems.addIssues(['flows', name], flow.error.issues);
      // its components are still checked, the wrong keys left out (to their defaults): one run
      // of `sluice check` lists every mistake, not those of the flow's settings first
      const rest = flowSchema.safeParse(withoutIssues(raw, flow.error.issues));
      if (rest.success) checkFlow(name, rest.data, kinds, problems);
      continue;
    }
    flowConfigs[name] = flow.data;
    const checked = checkFlow(name, flow.data, kinds, problems);
    if (checked) flows.push(checked);
  }
  if (parsed.success && Object.keys(parsed.data.flows).length === 0) problems.add(['flows'], 'no flows are configured');
  const tables: CheckedTable[] = [];
  for (const [name, entry] of Object.entries(parsed.data?.tables ?? {})) {
    const configPath = ['tables', name];
    const config = parseComponent(kinds.tables, 'table', { ...entry, name: undefined }, configPath, problems);
    if (config) tables.push({ name, kind: entry.kind, config, configPath, baseDir: problems.dirOf([...configPath, 'path']) });
  }
  for (const [name, service] of Object.entries(parsed.data?.services ?? {})) {
    const local = service['local-service'];
    if (local !== undefined && !(local in (parsed.data?.['local-services'] ?? {}))) {
      problems.add(['services', name, 'local-service'], `no local-services entry "${local}"`);
    }
  }
  // the environment has the last word on the log level, whatever the files say
  const envLevel = process.env.SLUICE_LOG_LEVEL;
  const level = envLevel ? logLevel.safeParse(envLevel) : undefined;
  if (level && !level.success) {
    problems.list.push({ file: '(environment)', path: 'SLUICE_LOG_LEVEL', message: `expected one of ${logLevel.options.join(', ')}, got "${envLevel}"` });
  }
  if (!parsed.success) return { problems: problems.list };
  const settings: RootConfig = { ...parsed.data, flows: flowConfigs };
  if (level?.success) settings.log = { ...settings.log, level: level.data };
  const config: CheckedConfig = {
    settings,
    flows,
    tables,
    logDir: problems.dirOf(['log', 'destination']),
    files: hocon.files,
    resolved: resolvedView(settings, flows, tables),
    warnings: [
      ...hocon.warnings,
      ...literalSecrets(hocon.files),
      ...urlPasswords(hocon.tree).map((path) =>
        problems.at(path, 'a password inside a URL: logs and --print show it redacted, but give it apart where the service allows (an Authorization header, sasl)'),
      ),
    ],
    problemAt: (path, message) => problems.at(path, message),
    dirOf: (path) => problems.dirOf(path),
  };
  return { config, problems: problems.list };
}

/**
 * A copy of a configuration tree without the values its issues name (an unknown key, a wrong
 * value): parsed again, what is right of it (defaults where the wrong values were) can still be
 * checked further in the same run.
 */
function withoutIssues(tree: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(tree);
  const remove = (path: readonly PropertyKey[]) => {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[String(key)] : undefined;
    if (typeof node === 'object' && node !== null && path.length > 0) delete (node as Record<string, unknown>)[String(path[path.length - 1])];
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) remove([...issue.path, key]);
    else remove(issue.path);
  }
  return copy;
}

export function configError(problems: readonly ConfigProblem[]): SluiceError {
  const text = problems.map((p) => `${p.file ? `${p.file}: ` : ''}${p.path}: ${p.message}`).join('\n');
  return new SluiceError('SLC_CONFIG', `invalid configuration:\n${text}`, { problems: [...problems] });
}
