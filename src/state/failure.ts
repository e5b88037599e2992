// A state store's file system failure (a full disk, a state dir it may not write) as a
// SluiceError naming the store's path: the user's to fix, unlike a corrupt store, which is rebuilt.
import { statfsSync } from 'node:fs';
import { SluiceError } from '../errors.ts';

/** Below this much free space a failed write is put down to a full disk (LMDB reports it as EIO). */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** An I/O failure of the store at `dir` (a full disk, a state dir it may not write) as a SluiceError naming it. */
export function storeFailure(dir: string, doing: string, cause: unknown): SluiceError {
  const why = ioProblem(cause) ?? (diskFull(dir) ? 'the disk is full' : String((cause as Error | undefined)?.message ?? cause));
  return new SluiceError('SLC_IO', `state store ${dir}: cannot ${doing}: ${why}`, { cause });
}

function diskFull(dir: string): boolean {
  try {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

/** What an error of the file system says about the place, or undefined when it is not one. */
export function ioProblem(cause: unknown): string | undefined {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const message = String((cause as Error | undefined)?.message ?? '');
  if (code === 'ENOSPC' || /MDB_MAP_FULL|No space left/i.test(message)) return 'the disk is full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || /Permission denied|Read-only file system/i.test(message)) return 'the directory is not writable';
  if (code === 'ENOTDIR' || code === 'EEXIST' || /Not a directory/i.test(message)) return 'a file is in the way of the directory';
  return undefined;
}
