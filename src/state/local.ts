// A flow's own store in local mode (no partitions, no changelog): <state-dir>/<flow>/<store>/.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { KeyValueStore, StoreBackendName } from '../component/state.ts';
import { isSluiceError } from '../errors.ts';
import { lmdbBackend } from './lmdb.ts';
import { memoryBackend } from './memory.ts';

/** The state dir when none is configured: under the working directory. */
export const DEFAULT_STATE_DIR = '.sluice-state';

/**
 * `fresh`: the store starts empty, for a source that reads its input from the start every run (a
 * file): what an earlier run remembered would judge the same lines again against themselves.
 */
export function openFlowStore(stateDir: string, flow: string, name: string, backend: StoreBackendName, log: Logger, fresh = false): KeyValueStore {
  if (backend === 'memory') return memoryBackend.open('');
  const dir = join(stateDir, flow, name);
  if (fresh && existsSync(dir)) {
    log.info({ flow, store: name, path: dir }, 'state store emptied: the flow\'s source reads its input from the start every run');
    rmSync(dir, { recursive: true, force: true });
  }
  // no changelog behind it: every write is flushed, but in a store the next run empties anyway
  const options = { flush: fresh ? 'never' : 'every-write' } as const;
  try {
    return lmdbBackend.open(dir, options);
  } catch (error) {
    if (!isSluiceError(error, 'SLC_STORE_CORRUPT')) throw error;
    log.warn({ flow, store: name, path: dir, err: error }, 'state store corrupt: starting it empty (local mode has no changelog)');
    rmSync(dir, { recursive: true, force: true });
    return lmdbBackend.open(dir, options);
  }
}
