// Reads a HOCON configuration (includes, ${?ENV} substitutions, overlays) into a plain tree, and
// remembers which file each key came from so that errors can name it. Before the parser sees a
// file, its bytes must be UTF-8 and its syntax right on its own: every such problem of every file
// is reported at once, by file, line and column, in words rather than the parser's internals.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import parseHocon from '@pushcorn/hocon-parser';
import { type ConfigProblem, SluiceError } from '../errors.ts';

export type ConfigTree = Record<string, unknown>;

export interface LoadedHocon {
  readonly tree: ConfigTree;
  /** The file given and every file it includes, highest precedence first. */
  readonly files: readonly string[];
  /** What is not wrong but likely a mistake: an optional include of a file that does not exist. */
  readonly warnings: readonly ConfigProblem[];
  /**
   * Substitutions nothing resolves (an unset environment variable): the tree holds a string
   * starting with UNSET in their place, so that the rest can still be checked.
   */
  readonly unresolved: readonly ConfigProblem[];
  /** The file (absolute) that sets `path` (keys and array indexes), or the top file when none does. */
  fileOf(path: readonly PropertyKey[]): string;
}

const INCLUDE = /^\s*include\s+(required\s*\(\s*)?(?:file\s*\(\s*)?"([^"]+)"(?:\s*\))*/gm;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** `line L, column C` of a byte offset (columns count bytes). */
function lineAndColumn(bytes: Uint8Array, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = bytes.indexOf(10); at >= 0 && at < offset; at = bytes.indexOf(10, at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** Where the first invalid UTF-8 sequence of `bytes` starts, or -1 when they are UTF-8. */
function invalidUtf8At(bytes: Uint8Array): number {
  try {
    strictUtf8.decode(bytes);
    return -1;
  } catch {
    // the lenient decoding puts U+FFFD for the first bad sequence: count the bytes before it
    let at = 0;
    for (const char of lenientUtf8.decode(bytes)) {
      const code = char.codePointAt(0)!;
      if (code === 0xfffd && !(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) return at;
      at += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    }
    return at;
  }
}

/** What the parser's node expected where it met an unexpected token. */
const EXPECTED_BY_NODE: Record<string, string> = {
  Value: 'a value',
  Object: 'a key or "}"',
  Array: 'a value, "," or "]"',
  Field: '"=", ":" or "{" after the key',
  Key: 'a key',
  Substitution: '"}" closing the substitution',
};

/**
 * The parser's error in words: `line L, column C` and what was wrong or expected, without its
 * internals (`(Source: ObjectNode.2@46cb1, Token: { value: "=", line: 3, col: 7 })`).
 */
function describeHoconError(message: string): { where?: string; what: string } {
  const location = /line: (\d+), col: (\d+)/.exec(message);
  const where = location ? `line ${location[1]}, column ${location[2]}` : undefined;
  const node = /Source: (\w+?)Node\./.exec(message)?.[1];
  const value = /value: "((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  const token = value === undefined ? 'a token' : value === '<LF>' ? 'end of line' : value === '<EOF>' ? 'end of file' : `"${value}"`;
  const head = message.split(/ \((?:Source|text|line):| Token:/)[0]!.trim();
  let what: string;
  switch (head) {
    case 'Unexpected token.':
      what = `unexpected ${token}: expected ${(node && EXPECTED_BY_NODE[node]) ?? 'something else'}`;
      break;
    case 'The object is not closed.':
      what = `an object (from ${token} on) is not closed: expected "}"`;
      break;
    case 'The array is not closed.':
      what = `an array is not closed: expected "]"`;
      break;
    case 'The substitution is not closed.':
      what = 'a substitution is not closed: expected "}"';
      break;
    case 'Quoted string not closed!':
      what = 'a quoted string is not closed: expected \'"\' before the end of the line';
      break;
    case 'Multi-line string is not closed!':
      what = 'a multi-line string is not closed: expected \'"""\'';
      break;
    case 'No value specified for the field.':
      what = `no value for the key ${token}: expected "=", ":" or "{" and a value`;
      break;
    default:
      what = `${head.charAt(0).toLowerCase()}${head.slice(1).replace(/[.!]$/, '')}${value === undefined ? '' : ` (at ${token})`}`;
  }
  return { where, what };
}

interface Include {
  /** The file written in the include, resolved (a missing extension is .conf). */
  readonly target: string;
  readonly from: string;
  readonly required: boolean;
  readonly line: number;
  /** The include as written (`include "base.conf"`). */
  readonly written: string;
}

/** The includes of a HOCON file (directly and through its includes), in reading order. */
function includesOf(file: string, seen: Set<string>): Include[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const text = lenientUtf8.decode(readFileSync(file));
  const out: Include[] = [];
  for (const match of text.matchAll(INCLUDE)) {
    const target = resolve(dirname(file), match[2]!);
    const withExtension = existsSync(target) ? target : `${target}.conf`;
    const line = text.slice(0, match.index + match[0].indexOf('include')).split('\n').length;
    out.push({ target: withExtension, from: file, required: match[1] !== undefined, line, written: match[0].trim() });
    out.push(...includesOf(withExtension, seen));
  }
  return out;
}

/** A file's own keys, its includes left out: parsed alone, to find its syntax errors and to attribute keys. */
async function parseOwnKeys(text: string): Promise<unknown> {
  // a byte order mark is not part of the first key (the parser reading a file drops it too)
  return parseHocon({ text: text.replace(/^\uFEFF/, '').replace(INCLUDE, ''), strict: true });
}

/** A substitution or an include that only the whole configuration (or the environment) can resolve. */
const needsTheRest = (error: unknown) => /Unable to (resolve|include) /.test((error as Error).message);

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
  const includes = includesOf(top, new Set());
  const files = [top, ...includes.map((i) => i.target)].filter((f, i, all) => existsSync(f) && all.indexOf(f) === i);
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  for (const include of includes) {
    if (existsSync(include.target)) continue;
    const problem = { file: displayPath(include.from), path: `line ${include.line}`, message: `${include.written}: no such file` };
    if (include.required) problems.push(problem);
    else warnings.push({ ...problem, message: `${problem.message} (an optional include: skipped; include required("…") makes it an error)` });
  }
  // each file on its own: its bytes, its syntax, and its own keys (to attribute errors); a file
  // whose substitutions need another file's keys cannot be parsed alone: for it, a key written in
  // its text is enough
  const own: { file: string; tree?: unknown; text: string }[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const text = lenientUtf8.decode(bytes);
    own.push({ file, text });
    const invalid = invalidUtf8At(bytes);
    if (invalid >= 0) {
      problems.push({ file: displayPath(file), path: lineAndColumn(bytes, invalid), message: `invalid UTF-8 at byte ${invalid} (a configuration file is UTF-8 text)` });
      continue;
    }
    try {
      own[own.length - 1]!.tree = await parseOwnKeys(text);
    } catch (error) {
      if (needsTheRest(error)) continue;
      const { where, what } = describeHoconError((error as Error).message);
      problems.push({ file: displayPath(file), path: where ?? '(syntax)', message: what });
    }
  }
  if (problems.length > 0) throw invalidConfiguration(problems);

  // a substitution nothing resolves (an unset environment variable) stops the parser at the first
  // one: each is stood in for by a placeholder and the parse tried again, so that every missing
  // variable is named at once and the rest of the configuration is still checked
  const unresolved: ConfigProblem[] = [];
  const standIns = new Map<string, string | undefined>();
  let tree: unknown;
  try {
    for (;;) {
      try {
        tree = await parseHocon({ url: top, strict: true });
        break;
      } catch (cause) {
        const name = /Unable to resolve '([^']+)'/.exec((cause as Error).message)?.[1];
        if (name === undefined || standIns.has(name) || standIns.size >= MAX_STAND_INS) {
          if (name === undefined) {
            // every file parses alone: what fails is how they combine (the parser names the file)
            const { where, what } = describeHoconError((cause as Error).message);
            const file = /file: file:\/\/(\S+?)[ )]/.exec((cause as Error).message)?.[1];
            throw invalidConfiguration([...unresolved, { file: displayPath(file ? decodeURI(file) : top), path: where ?? '(syntax)', message: what }], cause);
          }
          throw invalidConfiguration([...unresolved, unresolvedProblem(name, own, top)], cause);
        }
        unresolved.push(unresolvedProblem(name, own, top));
        standIns.set(name, process.env[name]);
        process.env[name] = `${UNSET}${name}`;
      }
    }
  } finally {
    for (const [name, before] of standIns) {
      if (before === undefined) delete process.env[name];
      else process.env[name] = before;
    }
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new SluiceError('SLC_CONFIG', `${displayPath(top)}: the configuration must be an object`);
  }
  return {
    tree: tree as ConfigTree,
    files: files.map(displayPath),
    warnings,
    unresolved,
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

/** What a tree's string holds where an unset variable was substituted: `sluice check` reports the variable, not the value. */
export const UNSET = 'sluice-unset-variable:';
const MAX_STAND_INS = 100;

/** An unresolved substitution, naming the file that writes it. */
function unresolvedProblem(name: string, own: readonly { file: string; text: string }[], top: string): ConfigProblem {
  const culprit = own.find((f) => f.text.includes(`\${${name}}`))?.file ?? top;
  return { file: displayPath(culprit), path: '(substitution)', message: `\${${name}} is neither a configuration key nor a set environment variable` };
}

function invalidConfiguration(problems: readonly ConfigProblem[], cause?: unknown): SluiceError {
  const text = problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n');
  return new SluiceError('SLC_CONFIG', `invalid configuration:\n${text}`, { cause, problems: [...problems] });
}
