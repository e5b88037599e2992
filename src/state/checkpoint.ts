// A partition store's local checkpoint: the changelog offset its files hold everything before.
// Written on commit and on clean shutdown (write to a temporary file, then rename: never half a
// file); read on assignment, so that restore skips what the store already has.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { storeFailure } from './failure.ts';

const FILE = 'checkpoint.json';

interface CheckpointFile {
  readonly changelog: string;
  readonly partition: number;
  /** The next changelog offset to read, decimal (a bigint as text). */
  readonly offset: string;
}

export function writeCheckpoint(dir: string, changelog: string, partition: number, offset: bigint): void {
  const content: CheckpointFile = { changelog, partition, offset: offset.toString() };
  const path = join(dir, FILE);
  try {
    writeFileSync(`${path}.tmp`, `${JSON.stringify(content)}\n`);
    renameSync(`${path}.tmp`, path);
  } catch (error) {
    throw storeFailure(dir, 'write its checkpoint', error);
  }
}

/** The offset the store holds everything before, or undefined (no checkpoint, or one that does not fit: a warning says so). */
export function readCheckpoint(dir: string, changelog: string, partition: number, log: Logger): bigint | undefined {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const content = JSON.parse(text) as Partial<CheckpointFile>;
    if (content.changelog === changelog && content.partition === partition && typeof content.offset === 'string' && /^[0-9]+$/.test(content.offset)) return BigInt(content.offset);
    log.warn({ path, changelog, partition }, 'state checkpoint names another changelog partition: ignored, the store restores in full');
  } catch {
    log.warn({ path }, 'state checkpoint is corrupt: ignored, the store restores in full');
  }
  return undefined;
}

/** While a store is written past its checkpoint, the checkpoint must not be trusted after a crash. */
export function removeCheckpoint(dir: string): void {
  rmSync(join(dir, FILE), { force: true });
}
