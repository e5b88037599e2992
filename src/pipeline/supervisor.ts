// The running flows of `sluice run`, and hot reload: on SIGHUP or a changed configuration file the
// configuration is loaded and checked again; if it is valid, only the flows whose resolved
// configuration changed are swapped, each drained and committed (as SIGTERM does) before its
// successor starts in the same consumer group, so it resumes from the committed offsets. Unchanged
// flows run on untouched (no rebalance); a table whose settings did not change is kept for the
// flows rebuilt to read it (see pipeline/tables.ts). An invalid configuration is logged with every problem,
// as `sluice check` lists them, and the running flows carry on.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'safe-stable-stringify';
import { loadHttpClient } from '../io/http/service.ts';
import { loadConfig, resourcesOf, type SluiceConfig } from './load.ts';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import type { StateQueries } from '../component/state.ts';
import { type FlowStats, loadHistograms } from '../observe/stats.ts';
import type { Metrics } from '../observe/metrics.ts';
import { type Flow } from './flow.ts';
import { buildFlows } from './build.ts';
import { declaredStores } from './changelogs.ts';
import * as registry from './registry.ts';
import { loadStoreLibraries } from '../state/manager.ts';
import { TableSet } from './tables.ts';
import type { FlowTopology } from './topology.ts';

export type ReloadTrigger = 'signal' | 'file-change' | 'request';

/**
 * The libraries the flows reach for at their first records, imported now: the HTTP client when
 * services are configured, the stores' library when a stage keeps state, the latency histograms.
 * `sluice run` calls it while its local services start (their worker boots on the other core), so
 * neither a record nor the run's throughput waits for an import; `check`, which runs no flow,
 * imports none of them.
 */
export async function loadRunLibraries(config: SluiceConfig): Promise<void> {
  loadHistograms();
  loadStoreLibraries(config.flows.filter((flow) => flow.enabled).flatMap(declaredStores));
  if (Object.keys(config.settings.services).length > 0) await loadHttpClient();
}

/** What a reload did; `rejected` left every flow as it was, `skipped` came while stopping or after the run. */
export interface ReloadOutcome {
  readonly trigger: ReloadTrigger;
  readonly outcome: 'applied' | 'unchanged' | 'rejected' | 'skipped';
  readonly started: readonly string[];
  readonly stopped: readonly string[];
  readonly restarted: readonly string[];
  readonly unchanged: readonly string[];
  /** Why a reload was rejected: each with file and key path where known. */
  readonly problems: readonly ConfigProblem[];
  readonly durationMs: number;
}

export type ReloadCounts = Record<ReloadOutcome['outcome'], number>;

interface Member {
  readonly flow: Flow;
  readonly fingerprint: string;
  /** Settles when the flow's run ends (a failure is recorded, not thrown); unset until it starts. */
  done: Promise<void> | undefined;
  ended: boolean;
  /** Its drain, once asked for (a reload and a SIGTERM ask once between them). */
  halted?: Promise<void>;
}

/**
 * What a flow is made of, as a string: its topology, every node with its resolved settings (rules
 * as loaded, the validator, stages with the services they call, source and sinks with every
 * default, how batches are committed). Equal strings: the flow keeps running.
 */
export function flowFingerprint(topology: FlowTopology): string {
  return stringify({
    ...topology,
    nodes: topology.nodes.map(({ configPath: _whereInTheFiles, ...node }) => node),
  }) as string; // an object always has a JSON text
}

/**
 * What of a flow its state stores depend on: its source's partitions (kind, topic, group, state
 * dir) and its stateful stages with their settings. Equal strings across a reload: the restarted
 * flow takes over the open stores of the one it replaces (no reopening, no restore).
 */
export function stateFingerprint(topology: FlowTopology): string {
  const source = topology.nodes.find((n) => n.role === 'source');
  return stringify({
    source: source && { kind: source.kind, topic: source.config.topic, group: source.config['group-id'], stateDir: source.config['state-dir'], baseDir: source.baseDir },
    stages: topology.nodes.filter((n) => n.role === 'stage' && registry.stages[n.kind]?.stateful === true).map(({ kind, config }) => ({ kind, config })), // not their names: generated ones follow the stages' positions
  }) as string; // an object always has a JSON text
}

/** Settings a running process keeps until its next start (the logger and local services are made once). */
const startOnlySettings = ['log', 'progress', 'local-services', 'shutdown-timeout-ms'] as const;

/** Owns the flows of a run: starts them, swaps them on reload, stops them. */
export class FlowSupervisor {
  /** Every flow's counters, in order of first start; a flow restarted (or removed and added again) continues its own. */
  readonly stats: FlowStats[] = [];
  readonly reloads: ReloadCounts = { applied: 0, unchanged: 0, rejected: 0, skipped: 0 };
  readonly #configFile: string;
  readonly #logger: Logger;
  readonly #localUrls: Readonly<Record<string, string>>;
  /** One registry for the process: a rebuilt flow counts on in the same series. */
  readonly #metrics: Metrics | undefined;
  readonly #members = new Map<string, Member>();
  /** Shared by the flows across reloads: a rebuilt flow keeps reading an unchanged table. */
  readonly #tables: TableSet;
  readonly #listeners = new Set<(outcome: ReloadOutcome) => void>();
  #config: SluiceConfig;
  /** Bumped whenever a flow starts: `run` waits for the new ones too. */
  #generation = 0;
  #reloading: Promise<unknown> = Promise.resolve();
  #running = false;
  #stopping = false;
  #finished = false;
  #failure: { error: unknown } | undefined;

  /** Builds the enabled flows of `config` (loaded from `configFile`); throws SLC_CONFIG listing every problem. */
  constructor(configFile: string, config: SluiceConfig, logger: Logger, options: { localUrls?: Readonly<Record<string, string>>; metrics?: Metrics } = {}) {
    this.#configFile = configFile;
    this.#config = config;
    this.#logger = logger;
    this.#localUrls = options.localUrls ?? {};
    this.#metrics = options.metrics;
    this.#tables = new TableSet(logger);
    for (const flow of buildFlows(config.flows.filter((t) => t.enabled), resourcesOf(config, logger, { localUrls: this.#localUrls, metrics: this.#metrics, tables: this.#tables }))) {
      this.#add(flow, flowFingerprint(config.flows.find((t) => t.flow === flow.name)!));
    }
  }

  /** The flows of the current configuration (running once `run` is called). */
  get flowNames(): string[] {
    return [...this.#members.keys()];
  }

  /** The stores of the current flows, for the ops endpoint's `/state` route. */
  readonly queries: StateQueries = {
    flows: () => [...this.#members.values()].flatMap((m) => (m.flow.state ? [m.flow.state] : [])),
  };

  /** The files a change of which reloads: the configuration and its includes, the rules files. */
  get watchedFiles(): string[] {
    const rulesFiles = Object.entries(this.#config.settings.flows).flatMap(([name, flow]) =>
      flow['rules-file'] === undefined ? [] : [resolve(this.#config.dirOf(['flows', name, 'rules-file']), flow['rules-file'])],
    );
    return [...new Set([...this.#config.files.map((f) => resolve(f)), ...rulesFiles])];
  }

  /** Called after every reload with its outcome (for metrics). */
  onReload(listener: (outcome: ReloadOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs the flows until every one has ended; one failing stops the others and rejects. */
  async run(): Promise<void> {
    // (done already when `sluice run` started the flows: then this costs nothing)
    await loadRunLibraries(this.#config);
    this.#running = !this.#stopping;
    if (this.#running) for (const member of this.#members.values()) this.#start(member);
    for (;;) {
      const generation = this.#generation;
      await Promise.all([...this.#members.values()].map((m) => m.done));
      await this.#reloading; // a swap under way starts flows to wait for
      if (this.#failure) throw this.#failure.error;
      if (generation === this.#generation) break;
    }
    this.#finished = true;
  }

  /** Drains every flow (the batches in flight are delivered and committed); no reload after this. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.allSettled([...this.#members.values()].filter((m) => m.done && !m.ended).map((m) => (m.halted ??= m.flow.stop())));
  }

  /** What the flows were handed and have not delivered yet, in words. */
  undelivered(): string[] {
    return [...this.#members.values()].flatMap((m) => m.flow.undelivered());
  }

  /** Loads the configuration again and swaps what changed; reloads run one at a time. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = this.#reloading.then(() => this.#reload(trigger));
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  /** Makes a flow one of the set; it starts now if the set runs, else with `run`. */
  #add(flow: Flow, fingerprint: string): void {
    const member: Member = { flow, fingerprint, done: undefined, ended: false };
    this.#members.set(flow.name, member);
    if (!this.stats.includes(flow.stats)) this.stats.push(flow.stats);
    if (this.#running) this.#start(member);
  }

  #start(member: Member): void {
    const { flow } = member;
    member.done = flow.run().then(
      () => {
        member.ended = true;
      },
      // one flow failing stops the others: a process that is half running hides the failure
      async (error: unknown) => {
        member.ended = true;
        this.#logger.error({ flow: flow.name, error: (error as Error).message }, 'flow failed: stopping');
        this.#failure ??= { error };
        await this.stop();
      },
    );
    this.#generation++;
    this.#logger.info({ flow: flow.name }, 'flow started');
  }

  /** Drains one flow (if it was started) and forgets it. */
  async #retire(name: string): Promise<void> {
    const member = this.#members.get(name)!;
    this.#members.delete(name);
    if (!member.done) return;
    if (!member.ended) await (member.halted ??= member.flow.stop());
    await member.done;
    this.#logger.info({ flow: name }, 'flow stopped: drained and committed');
  }

  /**
   * A restarted flow whose stateful stages and source partitions did not change takes over its
   * predecessor's open stores; otherwise the predecessor closes them (checkpointed) and the new
   * flow opens its stores as at a start: from their files and changelogs.
   */
  #keepStores(previous: Flow, next: Flow, before: FlowTopology | undefined, after: FlowTopology): void {
    if (!previous.state || !next.state) return;
    if (before && stateFingerprint(before) === stateFingerprint(after)) {
      previous.state.handOverTo(next.state);
      return;
    }
    this.#logger.info(
      { flow: next.name },
      'reload: the flow\'s stateful stages or its source changed: its stores are closed, and the restarted flow opens them as at a start (a store of the same name from its files and changelog, a new one empty)',
    );
  }

  async #reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const startedAt = performance.now();
    const outcome = (kind: ReloadOutcome['outcome'], parts: Partial<ReloadOutcome> = {}): ReloadOutcome => {
      const result: ReloadOutcome = {
        trigger,
        outcome: kind,
        started: [],
        stopped: [],
        restarted: [],
        unchanged: [],
        problems: [],
        ...parts,
        durationMs: Math.round(performance.now() - startedAt),
      };
      this.reloads[kind]++;
      const { problems, ...fields } = result;
      if (kind === 'rejected') this.#logger.error({ reload: fields, problems }, 'reload rejected: the configuration is invalid, the flows run on unchanged');
      else this.#logger.info({ reload: fields }, `reload ${kind}`);
      for (const listener of this.#listeners) {
        try {
          listener(result);
        } catch (error) {
          this.#logger.warn({ error: (error as Error).message }, 'a reload listener failed');
        }
      }
      return result;
    };
    if (this.#stopping || this.#finished) return outcome('skipped');
    this.#logger.info({ trigger, config: this.#configFile }, 'reloading the configuration');
    let config: SluiceConfig;
    const wanted = new Map<string, string>();
    let built: Flow[];
    const current = new Map(this.#members);
    try {
      config = await loadConfig(this.#configFile);
      for (const topology of config.flows) if (topology.enabled) wanted.set(topology.flow, flowFingerprint(topology));
      const toBuild = config.flows.filter((t) => wanted.has(t.flow) && current.get(t.flow)?.fingerprint !== wanted.get(t.flow));
      const resources = resourcesOf(config, this.#logger, { localUrls: this.#localUrls, metrics: this.#metrics, tables: this.#tables, stats: (name) => this.stats.find((s) => s.flow === name) });
      built = toBuild.length === 0 ? [] : buildFlows(toBuild, resources);
    } catch (error) {
      // whatever went wrong, the running flows are left alone
      if (!(error instanceof SluiceError)) this.#logger.error({ error: (error as Error).stack ?? String(error) }, 'reload failed: internal fault');
      const problems = error instanceof SluiceError && error.problems.length > 0 ? error.problems : [{ path: '(root)', message: (error as Error).message }];
      return outcome('rejected', { problems });
    }
    const unchanged = [...wanted.keys()].filter((name) => current.get(name)?.fingerprint === wanted.get(name));
    const restarted = built.filter((f) => current.has(f.name)).map((f) => f.name);
    const started = built.filter((f) => !current.has(f.name)).map((f) => f.name);
    const stopped = [...current.keys()].filter((name) => !wanted.has(name));
    const ignored = startOnlySettings.filter((key) => stringify(config.settings[key]) !== stringify(this.#config.settings[key]));
    if (ignored.length > 0) this.#logger.warn({ settings: ignored }, 'reload: these settings take effect at the next start');
    if (built.length === 0 && stopped.length === 0) {
      this.#config = config;
      return outcome('unchanged', { unchanged });
    }
    for (const flow of built) if (current.has(flow.name)) this.#keepStores(current.get(flow.name)!.flow, flow, this.#config.flows.find((t) => t.flow === flow.name), config.flows.find((t) => t.flow === flow.name)!);
    await Promise.all([...stopped, ...restarted].map((name) => this.#retire(name)));
    if (this.#stopping) {
      await Promise.all(built.map((flow) => flow.state?.close())); // stores handed over to a flow that never starts
      return outcome('skipped', { stopped: [...stopped, ...restarted] });
    }
    for (const flow of built) this.#add(flow, wanted.get(flow.name)!);
    this.#config = config;
    return outcome('applied', { started, stopped, restarted, unchanged });
  }
}

/**
 * Reloads `supervisor` on SIGHUP and when a file it was configured from changes. File events are
 * debounced (editors write twice, or write a new file and rename it over the old one: the
 * directories are watched, not the files). Returns the function that stops watching.
 */
export function reloadOnChange(supervisor: FlowSupervisor, logger: Logger, options: { debounceMs?: number } = {}): () => void {
  const debounceMs = options.debounceMs ?? 300;
  let watchers: FSWatcher[] = [];
  let watching = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Watches the supervisor's files, again when they changed (an include added or dropped). */
  const arm = () => {
    const files = closed ? [] : supervisor.watchedFiles.sort();
    if (files.join('\n') === watching) return;
    watching = files.join('\n');
    for (const w of watchers) w.close();
    watchers = [];
    const byDirectory = new Map<string, Set<string>>();
    for (const file of files) {
      const names = byDirectory.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      byDirectory.set(dirname(file), names);
    }
    for (const [directory, names] of byDirectory) {
      try {
        const watcher = watch(directory, (_event, name) => {
          if (name === null || names.has(basename(String(name)))) schedule();
        });
        watcher.on('error', (error) => logger.warn({ directory, error: error.message }, 'cannot watch configuration files: reload with SIGHUP'));
        watcher.unref();
        watchers.push(watcher);
      } catch (error) {
        logger.warn({ directory, error: (error as Error).message }, 'cannot watch configuration files: reload with SIGHUP');
      }
    }
  };
  const reload = (trigger: ReloadTrigger) => void supervisor.reload(trigger).then(arm);
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => reload('file-change'), debounceMs);
  };
  const onSignal = () => reload('signal');
  process.on('SIGHUP', onSignal);
  arm();
  return () => {
    closed = true;
    clearTimeout(timer);
    process.off('SIGHUP', onSignal);
    arm();
  };
}
