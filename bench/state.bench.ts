// State store candidates side by side: a plain Map, lmdb, classic-level (LevelDB).
//   npm run bench:state [-- --keys 200000 --rounds 5]
// Per candidate, on tinybench, each timed iteration on a fresh store: put µs (writes applied in
// batches of 1,000, as a batch transaction's flush applies them), get µs (random reads of present
// keys), bytes per key (the store's files on disk after the puts; for the Map, heap growth) and
// restore rate (changelog-sized batches of 5,000 into an empty store, keys/s). Figures are medians
// over the --rounds iterations. A candidate whose library is not installed
// is reported as such: only the chosen one is a dependency.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { prng } from '../scripts/support/random.ts';
import { median } from './alternate.ts';

const { values: args } = parseArgs({ options: { keys: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const keyCount = Number(args.keys);
const rounds = Number(args.rounds);

interface Candidate {
  readonly name: string;
  writeBatch(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void>;
  get(key: Uint8Array): Uint8Array | undefined;
  /** Bytes the store takes for what it holds. */
  size(): number;
  close(): Promise<void>;
}

type Open = (dir: string) => Promise<Candidate>;

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

const openMap: Open = async () => {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const map = new Map<string, Uint8Array>();
  return {
    name: 'Map',
    async writeBatch(entries) {
      for (const [key, value] of entries) map.set(Buffer.from(key).toString('latin1'), value.slice());
    },
    get: (key) => map.get(Buffer.from(key).toString('latin1')),
    size: () => {
      globalThis.gc?.();
      return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
    },
    async close() {
      map.clear();
    },
  };
};

const openLmdb: Open = async (dir) => {
  const { open } = await import('lmdb');
  const db = open<Buffer, Buffer>({ path: join(dir, 'lmdb'), encoding: 'binary', keyEncoding: 'binary', compression: false });
  return {
    name: 'lmdb',
    async writeBatch(entries) {
      db.transactionSync(() => {
        for (const [key, value] of entries) db.putSync(key as Buffer, value as Buffer);
      });
    },
    get: (key) => db.getBinary(key as Buffer),
    size: () => directoryBytes(join(dir, 'lmdb')),
    close: () => db.close(),
  };
};

interface ClassicLevelDb {
  open(): Promise<void>;
  batch(operations: { type: 'put'; key: Uint8Array; value: Uint8Array }[]): Promise<void>;
  getSync(key: Uint8Array): Uint8Array | undefined;
  close(): Promise<void>;
}

const openClassicLevel: Open = async (dir) => {
  // not a dependency: imported by a name the type checker does not resolve
  const library = 'classic-level';
  const { ClassicLevel } = (await import(library)) as { ClassicLevel: new (path: string, options: object) => ClassicLevelDb };
  const db = new ClassicLevel(join(dir, 'level'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    name: 'classic-level',
    async writeBatch(entries) {
      await db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
    },
    get: (key) => db.getSync(key),
    size: () => directoryBytes(join(dir, 'level')),
    close: () => db.close(),
  };
};

const candidates: [string, Open][] = [
  ['Map', openMap],
  ['lmdb', openLmdb],
  ['classic-level', openClassicLevel],
];

function entries(seed: number): [Uint8Array, Uint8Array][] {
  const random = prng(seed);
  const out: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < keyCount; i++) {
    // a dedupe-like key (a 36-char event id) and a small value (seen-at timestamp and source offset)
    const key = Buffer.from(`evt-${i.toString(36).padStart(8, '0')}-${Math.floor(random() * 1e12).toString(36).padStart(12, '0')}-x`);
    const value = Buffer.alloc(24);
    value.writeBigUInt64BE(BigInt(1_700_000_000_000 + i), 0);
    value.writeBigUInt64BE(BigInt(i), 8);
    out.push([key, value]);
  }
  return out;
}

async function writeAll(store: Candidate, data: readonly [Uint8Array, Uint8Array][], batch: number): Promise<void> {
  for (let i = 0; i < data.length; i += batch) await store.writeBatch(data.slice(i, i + batch));
}

const data = entries(16);
const order = prng(61);
const probes = Array.from({ length: 100_000 }, () => data[Math.floor(order() * data.length)]![0]);

/** Whether the candidate's library is installed: only the chosen one is a dependency. */
async function installed(open: Open): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  try {
    await (await open(dir)).close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh store in a directory of its own for each timed iteration, closed and removed after it (its size read first). */
function freshStore(open: Open, sizes?: number[]) {
  let dir = '';
  let store: Candidate;
  return {
    store: () => store,
    hooks: {
      async beforeEach() {
        dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
        store = await open(dir);
      },
      async afterEach(mode?: string) {
        if (mode === 'run') sizes?.push(store.size() / data.length);
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

const bench = new Bench({ iterations: rounds, time: 0, warmup: false, throws: true });
const bytesPerKey = new Map<string, number[]>();
const missing: string[] = [];
for (const [name, open] of candidates) {
  if (!(await installed(open))) {
    missing.push(name);
    continue;
  }
  const sizes: number[] = [];
  bytesPerKey.set(name, sizes);
  const put = freshStore(open, sizes);
  bench.add(`${name} put`, () => writeAll(put.store(), data, 1_000), put.hooks);
  // the reads: one store filled once, then random reads of present keys
  let dir = '';
  let filled: Candidate;
  bench.add(
    `${name} get`,
    () => {
      let found = 0;
      for (const key of probes) if (filled.get(key) !== undefined) found++;
      if (found !== probes.length) throw new Error(`${name}: ${probes.length - found} keys not found`);
    },
    {
      async beforeAll() {
        dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
        filled = await open(dir);
        await writeAll(filled, data, 5_000);
      },
      async afterAll() {
        await filled.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  );
  const restore = freshStore(open);
  bench.add(`${name} restore`, () => writeAll(restore.store(), data, 5_000), restore.hooks);
}
await bench.run();

/** tinybench's median of a task's iterations, in milliseconds. */
function medianMs(task: string): number {
  const result = bench.getTask(task)!.result;
  if (result.state !== 'completed') throw new Error(`${task}: ${result.state === 'errored' ? result.error.message : result.state}`);
  return result.latency.p50;
}

console.log(`state stores: ${keyCount} keys (~36 B key, 24 B value), median of ${rounds} iterations on tinybench, ${process.version}`);
console.log('store          put µs  get µs  bytes/key  restore keys/s');
for (const [name, sizes] of bytesPerKey) {
  const putUs = (medianMs(`${name} put`) * 1000) / data.length;
  const getUs = (medianMs(`${name} get`) * 1000) / probes.length;
  const restorePerS = data.length / (medianMs(`${name} restore`) / 1000);
  console.log(`${name.padEnd(14)} ${putUs.toFixed(2).padStart(6)}  ${getUs.toFixed(2).padStart(6)}  ${median(sizes).toFixed(0).padStart(9)}  ${Math.round(restorePerS).toString().padStart(14)}`);
}
for (const name of missing) console.log(`${name.padEnd(14)} not installed (npm install --no-save ${name} to compare)`);
