// Run by test/deno/deno.test.ts under Deno (and Node): an lmdb partition store in the directory
// given as argument, written through a batch transaction, closed, reopened from its checkpoint.
// Prints one JSON line of what the reopened store holds.
import process from 'node:process';
import pino from 'pino';
import { lmdbBackend } from '../../src/state/lmdb.ts';
import { PartitionStore } from '../../src/state/partition.ts';

const dir = process.argv[process.argv.length - 1]!;
const log = pino({ level: 'silent' });
const store = PartitionStore.open(lmdbBackend, dir, 'seen', 0, 'g-seen-changelog', log);
const tx = store.begin();
for (let i = 0; i < 1000; i++) tx.put(new TextEncoder().encode(`key-${i}`), new TextEncoder().encode(`value-${i}`), BigInt(i));
tx.delete(new TextEncoder().encode('key-7'), 1000n);
let sent = 0;
await tx.prepare(async (_partition, records) => void (sent = records.length));
tx.flush();
store.checkpoint(1001n);
await store.close();
const reopened = PartitionStore.open(lmdbBackend, dir, 'seen', 0, 'g-seen-changelog', log);
const value = reopened.store.get(new TextEncoder().encode('key-999'));
console.log(JSON.stringify({ sent, keys: reopened.store.count(), position: String(reopened.position), value: value && new TextDecoder().decode(value), deleted: reopened.store.get(new TextEncoder().encode('key-7')) === undefined }));
await reopened.close();
