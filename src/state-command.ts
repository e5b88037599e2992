// `sluice state`: a flow's state store read from its files under the state dir, for debugging
// when the flow is not running (a running one answers the same on its ops endpoint,
// GET /state/<flow>/<store>[/<key>]). The lmdb files are opened read-only; what it prints is the
// ops route's JSON: the store's keys and bytes per partition, or a key's value and partition.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { QueryableState } from './component/state.ts';
import { isSluiceError, SluiceError } from './errors.ts';
import { answerStateQuery } from './observe/state-route.ts';
import { declaredStores } from './pipeline/changelogs.ts';
import { loadConfig } from './pipeline/load.ts';
import type { FlowTopology } from './pipeline/topology.ts';
import { leftOpenOnAnotherBoot } from './state/checkpoint.ts';
import { LmdbStore } from './state/lmdb.ts';
import { DEFAULT_STATE_DIR } from './state/local.ts';

export interface StateCommandOptions {
  config: string;
  flow: string;
  store: string;
  key?: string;
  partition?: number;
  /** A windowed store's range (epoch ms or RFC 3339). */
  from?: string;
  to?: string;
  /** Replaces the state dir the configuration gives (default: .sluice-state under the working directory). */
  stateDir?: string;
}

const EXIT_NOT_FOUND = 1;

const usage = (message: string) => new SluiceError('SLC_USAGE', message);

/**
 * Where a store's files are: a Kafka source keeps one directory per input partition
 * (<state-dir>/<flow>/<store>/<partition>/data), local mode one (<state-dir>/<flow>/<store>).
 */
function storeFiles(flow: FlowTopology, store: string, stateDirOption: string | undefined): { dir: string; partitions: { partition: number; dir: string }[] } {
  const source = flow.nodes.find((n) => n.role === 'source');
  const configured = source?.kind === 'kafka' && typeof source.config['state-dir'] === 'string' ? resolve(source.baseDir, source.config['state-dir']) : undefined;
  const stateDir = stateDirOption === undefined ? (configured ?? resolve(DEFAULT_STATE_DIR)) : resolve(stateDirOption);
  const dir = join(stateDir, flow.flow, store);
  if (source?.kind !== 'kafka') return { dir, partitions: existsSync(join(dir, 'data.mdb')) ? [{ partition: 0, dir }] : [] };
  const partitions = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^[0-9]+$/.test(name) && existsSync(join(dir, name, 'data', 'data.mdb')))
        .map((name) => ({ partition: Number(name), dir: join(dir, name, 'data') }))
        .sort((a, b) => a.partition - b.partition)
    : [];
  return { dir, partitions };
}

/** Prints the store's size or a key's value; the exit code (1: the key is in no partition read). */
export async function stateCommand(options: StateCommandOptions, write: (text: string) => void, warn: (text: string) => void): Promise<number> {
  const config = await loadConfig(options.config);
  const flow = config.flows.find((f) => f.flow === options.flow);
  if (!flow) throw usage(`${options.config} has no flow ${options.flow} (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
  const stores = declaredStores(flow);
  const declaration = stores.find((s) => s.name === options.store);
  if (!declaration) throw usage(`flow ${flow.flow} has no store ${options.store} (its stores: ${stores.map((s) => s.name).join(', ') || 'none: no stateful stage'})`);
  const route = `GET /state/${flow.flow}/${declaration.name}${options.key === undefined ? '' : `/${encodeURIComponent(options.key)}`} on the ops endpoint of the running process`;
  if (declaration.backend === 'memory') throw usage(`store ${declaration.name} of flow ${flow.flow} is kept in memory: only the running process holds it: ask it, ${route}`);
  const files = storeFiles(flow, declaration.name, options.stateDir);
  const wanted = options.partition === undefined ? files.partitions : files.partitions.filter((p) => p.partition === options.partition);
  if (wanted.length === 0) {
    const which = options.partition === undefined ? '' : ` of partition ${options.partition}`;
    throw usage(`no files of store ${declaration.name}${which} under ${files.dir}: the flow has not run with this state dir (give --state-dir), or its partitions are kept by another instance (ask it, ${route})`);
  }
  const open: { partition: number; store: LmdbStore }[] = [];
  try {
    for (const { partition, dir } of wanted) {
      if (leftOpenOnAnotherBoot(dirname(dir))) throw usage(`store ${declaration.name} partition ${partition} at ${dir} was left open when the machine went down, and may be torn: not read (the flow rebuilds it from its changelog when it starts)`);
      try {
        open.push({ partition, store: new LmdbStore(dir, { readOnly: true }) });
      } catch (error) {
        if (isSluiceError(error, 'SLC_STORE_CORRUPT')) throw usage(`store ${declaration.name} partition ${partition}: ${error.message} (a running flow rebuilds it from its changelog)`);
        throw usage(`cannot open store ${declaration.name} partition ${partition} at ${dir} (${(error as Error).message}): if a running process holds it, ask it, ${route}`);
      }
    }
    const state: QueryableState = { flow: flow.flow, stores: [declaration], partitions: () => open };
    const answer = answerStateQuery({ flows: () => [state] }, { flow: flow.flow, store: declaration.name, key: options.key, from: options.from, to: options.to });
    if (answer.status === 400) throw usage(String(answer.body.error));
    if (answer.status === 404) {
      warn(`sluice: key ${JSON.stringify(options.key)} is in no partition of store ${declaration.name} read here (${open.map((p) => p.partition).join(', ')} under ${files.dir})\n`);
      return EXIT_NOT_FOUND;
    }
    write(`${JSON.stringify(answer.body, null, 2)}\n`);
    return 0;
  } finally {
    await Promise.all(open.map((p) => p.store.close()));
  }
}
