// The on-disk backend: LMDB (the `lmdb` package, prebuilt for Node and Deno). Chosen by
// bench/state.bench.ts over classic-level (LevelDB): reads and batch writes are synchronous, a
// read is about twice as fast, and a write batch is one ACID transaction (no log to replay after a
// crash). It takes more bytes per key (B-tree pages, no compression).
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { SluiceError } from '../errors.ts';
import { ioProblem, storeFailure } from './failure.ts';
import type { StoreScan } from '../component/state.ts';
import type { KeyValueStore, StoreBackend, StoreFlush, StoreWrite } from './store.ts';

/**
 * lmdb's open, loaded when the first store opens (synchronously, as stores open) or when the
 * backend's `load` is called: importing the package costs about 40 ms of start-up that commands
 * and flows without state never need.
 */
let openDatabase: typeof import('lmdb').open | undefined;
const lmdbOpen = (): typeof import('lmdb').open => (openDatabase ??= (createRequire(import.meta.url)('lmdb') as typeof import('lmdb')).open);

/** A store whose files are not a whole LMDB database (opening one would crash the process): SLC_STORE_CORRUPT. */
const storeCorrupt = (message: string) => new SluiceError('SLC_STORE_CORRUPT', message);

const MAGIC = 0xbeefc0de;
/** Where MDB_meta starts in a meta page, and mm_last_pg and mm_txnid in it (lmdb's data format 2). */
const META_AT = 24;
const LAST_PAGE_AT = META_AT + 120;
const TXN_AT = META_AT + 128;

/**
 * LMDB keeps no page checksums and reads its file through a memory map: a truncated or overwritten
 * file crashes the process (SIGBUS, SIGSEGV) instead of failing. So before opening, the two meta
 * pages must carry LMDB's magic and the newer must not point past the end of the file. Damage
 * inside a data page is not seen.
 */
function checkFiles(dir: string): void {
  const path = join(dir, 'data.mdb');
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r');
  let size: number;
  const head = Buffer.alloc(2 * 65536);
  try {
    size = fstatSync(fd).size;
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const pageSize = [4096, 8192, 16384, 65536].find((page) => size >= 2 * page && head.readUInt32LE(page + META_AT) === MAGIC);
  if (pageSize === undefined || head.readUInt32LE(META_AT) !== MAGIC) throw storeCorrupt(`${path} is not an LMDB database`);
  const current = head.readBigUInt64LE(TXN_AT) >= head.readBigUInt64LE(pageSize + TXN_AT) ? 0 : pageSize;
  const needed = (head.readBigUInt64LE(current + LAST_PAGE_AT) + 1n) * BigInt(pageSize);
  if (needed > BigInt(size)) throw storeCorrupt(`${path} is truncated: ${size} bytes, its meta page needs ${needed}`);
}

export class LmdbStore implements KeyValueStore {
  readonly #db: RootDatabase<Buffer, Buffer>;
  readonly #dir: string;
  readonly #flush: StoreFlush;
  #closed = false;
  /** The flushes under way in lmdb's thread: the files must not close under them. */
  #syncing: Promise<void> = Promise.resolve();

  /**
   * `readOnly`: the files must exist and are never written (`sluice state` reads a flow's stores
   * beside it). `flush` (StoreFlush): a flush on every write blocks the event loop about 2 ms a
   * batch, so a store that need not have one commits without it (LMDB's noSync: a process crash
   * keeps every commit, a machine crash may tear what was not flushed) and flushes in lmdb's thread.
   */
  constructor(dir: string, options: { readOnly?: boolean; flush?: StoreFlush } = {}) {
    this.#dir = dir;
    this.#flush = options.flush ?? 'every-write';
    try {
      if (!options.readOnly) mkdirSync(dir, { recursive: true });
      checkFiles(dir);
      this.#db = lmdbOpen()<Buffer, Buffer>({ path: dir, encoding: 'binary', keyEncoding: 'binary', compression: false, cache: false, readOnly: options.readOnly === true, noSync: this.#flush !== 'every-write' });
    } catch (error) {
      // a problem of the place is the user's to fix; anything else is the files' content (corrupt)
      if (ioProblem(error) !== undefined) throw storeFailure(dir, 'open', error);
      throw error;
    }
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#db.getBinary(key as Buffer);
  }

  write(writes: Iterable<StoreWrite>): void {
    try {
      this.#db.transactionSync(() => {
        for (const [key, value] of writes) {
          if (value === null) this.#db.removeSync(key as Buffer);
          else this.#db.putSync(key as Buffer, value as Buffer);
        }
      });
    } catch (error) {
      throw storeFailure(this.#dir, 'write', error);
    }
  }

  *entries(): Iterable<readonly [Uint8Array, Uint8Array]> {
    for (const { key, value } of this.#db.getRange({})) yield [key, value];
  }

  /**
   * In key order, each slice its own short read transaction starting at the last key seen (a
   * cursor held across slices would pin a read transaction, and LMDB's freed pages with it).
   */
  scan(): StoreScan {
    let last: Buffer | undefined;
    let over = false;
    return {
      next: (limit) => {
        if (over || this.#closed) return [];
        const slice: [Uint8Array, Uint8Array][] = [];
        // the range starts at the last key seen (inclusive): one more to read, the first skipped
        for (const { key, value } of this.#db.getRange({ start: last, limit: last === undefined ? limit : limit + 1 })) {
          if (last !== undefined && slice.length === 0 && Buffer.compare(key, last) === 0) continue;
          if (slice.length === limit) break;
          slice.push([key, value]);
        }
        if (slice.length < limit) over = true;
        else last = Buffer.from(slice[slice.length - 1]![0]);
        return slice;
      },
    };
  }

  count(): number {
    return this.#db.getCount();
  }

  bytes(): number {
    // what the B-tree's pages take (lmdb's getStats is typed as {}: these are MDB_stat's fields)
    const stats = this.#db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    return stats.pageSize * (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages);
  }

  sync(): Promise<void> {
    if (this.#flush !== 'on-sync' || this.#closed) return this.#syncing;
    const syncing = new Promise<void>((resolve, reject) => {
      // lmdb's Database has sync(callback) (mdb_env_sync in its own thread), missing from its types
      (this.#db as unknown as { sync(done: (error?: Error) => void): void }).sync((error) => (error ? reject(storeFailure(this.#dir, 'flush its writes', error)) : resolve()));
    });
    // close waits for every flush under way, not only the last one asked for
    this.#syncing = Promise.all([this.#syncing, syncing]).then(
      () => undefined,
      () => undefined,
    );
    return syncing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#syncing;
    await this.#db.close();
  }
}

export const lmdbBackend: StoreBackend = { name: 'lmdb', open: (dir, options) => new LmdbStore(dir, options), load: () => void lmdbOpen() };
