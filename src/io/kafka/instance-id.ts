// Exactly-once without a configured instance-id: the transactional id is `<group>-<instance>`, and
// an instance id new on every start leaves the transaction a killed predecessor had open to the
// broker's transaction timeout, holding read_committed readers back that long. So the generated
// id is kept in a file of the state directory, as Kafka Streams keeps its process id there: a
// plain restart registers the same transactional id, which aborts its predecessor's transaction
// at once. The file is held by a lock file naming the process: a second live process on the same
// directory and group (a twin on one machine) gets an id of its own for this run instead of
// fencing the first.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^[0-9a-f-]{36}$/;

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a pid of its own in a lock file may be a predecessor's: pid 1 of a container). */
const held = new Set<string>();

/** Takes `lock` for this process; false when a live process (or another source of this one) holds it. */
function takeLock(lock: string): boolean {
  if (held.has(lock)) return false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (holder === process.pid) return true;
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
      rmSync(lock, { force: true }); // left by a process that died: taken over
    }
  }
  return false;
}

export interface InstanceId {
  readonly id: string;
  /** Kept from an earlier run (false: new, or this run's own because another process holds the file). */
  readonly reused: boolean;
  /** Lets the lock go (the file stays for the next start). */
  release(): void;
}

/**
 * The instance id of `groupId` kept in `dir` (created if missing): the one an earlier run wrote, or a
 * new one written for the next. An unwritable directory gives this run's own id (and a next start a
 * new one), as before there was a file.
 */
export function persistentInstanceId(dir: string, groupId: string): InstanceId {
  const file = join(dir, `${encodeURIComponent(groupId)}.instance-id`);
  const lock = `${file}.lock`;
  const own = { id: randomUUID(), reused: false, release: () => undefined };
  try {
    mkdirSync(dir, { recursive: true });
    if (!takeLock(lock)) return own;
  } catch {
    return own;
  }
  held.add(lock);
  const release = () => {
    held.delete(lock);
    rmSync(lock, { force: true });
  };
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (ID.test(kept)) return { id: kept, reused: true, release };
  } catch {
    // none yet
  }
  try {
    // written whole or not at all: a crash mid-write must not leave half an id
    writeFileSync(`${file}.tmp`, `${own.id}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // not kept: this run's own id all the same
  }
  return { ...own, release };
}
