// What every result file records besides its figures: the machine, the versions, the run's time.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem, arch } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
}

export interface Versions {
  node: string;
  v8: string;
  sluice: string;
  /** The git commit measured, with "-dirty" when the tree had uncommitted changes. */
  commit: string;
  dependencies: Record<string, string>;
}

const KEY_DEPENDENCIES = ['assemblyscript', 'ajv', 'kafkajs', 'hdr-histogram-js', '@nozbe/simdjson'];

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
  };
}

function git(...args: string[]): string | undefined {
  const result = spawnSync('git', args, { cwd: packageRoot, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function installedVersion(name: string): string | undefined {
  const manifest = join(packageRoot, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
}

export function versions(): Versions {
  const commit = git('rev-parse', '--short=12', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no');
  const dependencies: Record<string, string> = {};
  for (const name of KEY_DEPENDENCIES) {
    const version = installedVersion(name);
    if (version) dependencies[name] = version;
  }
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    sluice: (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version,
    commit: commit === undefined ? 'unknown' : `${commit}${dirty ? '-dirty' : ''}`,
    dependencies,
  };
}

/** The header of every result file: `{ suite, date, machine, versions, config }`. */
export function resultHeader(suite: string, config: Record<string, unknown>) {
  return { suite, date: new Date().toISOString(), machine: machine(), versions: versions(), config };
}

/**
 * The Node.js flags Sluice runs with, as `npm start` gives them (the Dockerfile's entrypoint has
 * the same, a test checks): the benches run the processor as users do.
 */
export function sluiceNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const words = start.split(/\s+/);
  return words.slice(1, words.indexOf('dist/src/cli.js'));
}
