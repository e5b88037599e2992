// A partition store's local checkpoint: the changelog offset its files hold everything before.
// The store is flushed to disk only before a checkpoint is written (not on every batch), so the
// checkpoint also says whether its files can be trusted after the machine itself went down: a
// store written past its last flush may be torn by a machine crash (LMDB without a sync per commit
// keeps its integrity only across a process crash). Written after a flush on commit, on open and
// on clean close (a temporary file, then a rename: never half a file); read on assignment.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { storeFailure } from './failure.ts';

const FILE = 'checkpoint.json';

interface CheckpointFile {
  readonly changelog: string;
  readonly partition: number;
  /** The next changelog offset to read, decimal (a bigint as text). */
  readonly offset: string;
  /** The machine's boot when written: a store left open is trusted only by the same boot. Absent: written before flushes were deferred (every write was flushed). */
  readonly boot?: string;
  /** Written on close, after the last flush: nothing was written after it. */
  readonly closed?: boolean;
}

/** What a checkpoint says of its store. */
export interface Checkpoint {
  readonly offset: bigint;
  /**
   * The files can be trusted: every write reached the disk (closed after a flush, or flushed on
   * every write), or the machine has not restarted since (a process crash loses nothing LMDB
   * committed).
   */
  readonly trusted: boolean;
}

let bootId: string | null | undefined;
/** This boot of the machine (Linux; a container shares its host's), or undefined where unknown. */
function currentBoot(): string | undefined {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId ?? undefined;
}

/** `durable`: the file and its rename reach the disk before this returns (before the store is written past an earlier `closed` checkpoint). */
export function writeCheckpoint(dir: string, changelog: string, partition: number, offset: bigint, options: { closed: boolean; durable?: boolean }): void {
  const content: CheckpointFile = { changelog, partition, offset: offset.toString(), boot: currentBoot() ?? '', closed: options.closed };
  const path = join(dir, FILE);
  try {
    const fd = openSync(`${path}.tmp`, 'w');
    try {
      writeSync(fd, `${JSON.stringify(content)}\n`);
      if (options.durable === true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
    if (options.durable === true) syncDirectory(dir);
  } catch (error) {
    throw storeFailure(dir, 'write its checkpoint', error);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The checkpoint, or undefined (none, or one that does not fit: a warning says so). */
export function readCheckpoint(dir: string, changelog: string, partition: number, log: Logger): Checkpoint | undefined {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const content = JSON.parse(text) as Partial<CheckpointFile>;
    if (content.changelog === changelog && content.partition === partition && typeof content.offset === 'string' && /^[0-9]+$/.test(content.offset)) {
      const trusted = content.boot === undefined || content.closed === true || (content.boot !== '' && content.boot === currentBoot());
      return { offset: BigInt(content.offset), trusted };
    }
    log.warn({ path, changelog, partition }, 'state checkpoint names another changelog partition: ignored, the store restores in full');
  } catch {
    log.warn({ path }, 'state checkpoint is corrupt: ignored, the store restores in full');
  }
  return undefined;
}
