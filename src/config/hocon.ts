// Reads a HOCON configuration (includes, ${?ENV} substitutions, overlays) into a plain tree, and
// remembers which file each key came from so that errors can name it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import parseHocon from '@pushcorn/hocon-parser';
import { SluiceError } from '../errors.ts';

export type ConfigTree = Record<string, unknown>;

export interface LoadedHocon {
  readonly tree: ConfigTree;
  /** The file given and every file it includes, highest precedence first. */
  readonly files: readonly string[];
  /** The file (absolute) that sets `path` (keys and array indexes), or the top file when none does. */
  fileOf(path: readonly PropertyKey[]): string;
}

const INCLUDE = /^\s*include\s+(?:required\s*\(\s*)?(?:file\s*\(\s*)?"([^"]+)"/gm;

/** The files a HOCON file includes (directly and through its includes), in reading order. */
function includedFiles(file: string, seen: Set<string>): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const out: string[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(INCLUDE)) {
    const target = resolve(dirname(file), match[1]!);
    const withExtension = existsSync(target) ? target : `${target}.conf`;
    out.push(withExtension, ...includedFiles(withExtension, seen));
  }
  return out;
}

async function parseOwnKeys(file: string): Promise<unknown> {
  return parseHocon({ text: readFileSync(file, 'utf8').replace(INCLUDE, ''), strict: true });
}

function hasPath(tree: unknown, path: readonly PropertyKey[]): boolean {
  let node = tree;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(String(key) in node)) return false;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return true;
}

/** Whether HOCON text sets `key` somewhere (as `key =`, `key:`, `key {` or `a.key =`). */
function writesKey(text: string, key: string): boolean {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s.{"])${escaped}"?\\s*[:={]`, 'm').test(text);
}

export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export async function loadHocon(path: string): Promise<LoadedHocon> {
  const top = resolve(path);
  if (!existsSync(top)) {
    throw new SluiceError('SLC_CONFIG', `${displayPath(top)}: no such configuration file`, {
      problems: [{ file: displayPath(top), path: '(file)', message: 'no such file' }],
    });
  }
  const files = [top, ...includedFiles(top, new Set())].filter((f) => existsSync(f));
  let tree: unknown;
  try {
    tree = await parseHocon({ url: top, strict: true });
  } catch (cause) {
    const unresolved = /Unable to resolve '([^']+)'/.exec((cause as Error).message);
    // name the file that writes the unresolved substitution, or the one that does not parse alone
    let culprit = unresolved ? (files.find((f) => readFileSync(f, 'utf8').includes(`\${${unresolved[1]}}`)) ?? top) : top;
    for (const file of unresolved ? [] : files.slice().reverse()) {
      try {
        await parseOwnKeys(file);
      } catch (error) {
        if (!/substitution|resolve/i.test((error as Error).message)) {
          culprit = file;
          break;
        }
      }
    }
    const message = unresolved
      ? `\${${unresolved[1]}} is neither a configuration key nor a set environment variable`
      : (cause as Error).message;
    throw new SluiceError('SLC_CONFIG', `${displayPath(culprit)}: ${message}`, {
      cause,
      problems: [{ file: displayPath(culprit), path: '(syntax)', message }],
    });
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new SluiceError('SLC_CONFIG', `${displayPath(top)}: the configuration must be an object`);
  }
  // each file's own keys, parsed alone, to attribute errors; a file whose substitutions need
  // another file's keys cannot be parsed alone: for it, a key written in its text is enough
  const own: { file: string; tree?: unknown; text: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    try {
      own.push({ file, tree: await parseOwnKeys(file), text });
    } catch {
      own.push({ file, text });
    }
  }
  return {
    tree: tree as ConfigTree,
    files: files.map(displayPath),
    fileOf(keyPath) {
      // files in precedence order: the first that sets the longest prefix of the path
      for (let length = keyPath.length; length > 0; length--) {
        const prefix = keyPath.slice(0, length);
        const key = prefix[prefix.length - 1];
        const owner = own.find((f) => (f.tree !== undefined ? hasPath(f.tree, prefix) : typeof key === 'string' && writesKey(f.text, key)));
        if (owner) return owner.file;
      }
      return top;
    },
  };
}
