// A partition store's local checkpoint: the changelog offset its files hold everything before.
// The store is flushed to disk only when it closes (not on every batch), so the checkpoint also
// says whether its files can be trusted after the machine itself went down: a store written past
// its last flush may be torn by a machine crash (LMDB without a sync per commit keeps its integrity
// only across a process crash). Written on open, after commits, on revocation and, after the
// flush, on clean close (a temporary file, then a rename: never half a file); read on assignment.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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

const trusted = (content: Partial<CheckpointFile>): boolean => content.boot === undefined || content.closed === true || (content.boot !== '' && content.boot === currentBoot());

/** The store's checkpoint says it was left open on an earlier boot of the machine: its files may be torn, and must not be read. */
export function leftOpenOnAnotherBoot(dir: string): boolean {
  try {
    return !trusted(JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Partial<CheckpointFile>);
  } catch {
    return false; // none, or unreadable: the files are judged by their own meta pages
  }
}

/** A directory's entries (a file created or renamed in it) reach the disk. */
export function syncDirectory(dir: string): void {
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
      return { offset: BigInt(content.offset), trusted: trusted(content) };
    }
    log.warn({ path, changelog, partition }, 'state checkpoint names another changelog partition: ignored, the store restores in full');
  } catch {
    log.warn({ path }, 'state checkpoint is corrupt: ignored, the store restores in full');
  }
  return undefined;
}

/** Removes the checkpoint for good (the removal on disk before this returns): before the files it described are. */
export function forgetCheckpoint(dir: string): void {
  if (!existsSync(join(dir, FILE))) return;
  try {
    rmSync(join(dir, FILE), { force: true });
    syncDirectory(dir);
  } catch (error) {
    throw storeFailure(dir, 'remove its checkpoint', error);
  }
}
