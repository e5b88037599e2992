// A batch's transaction over a partition store: writes are kept in a read-your-own-writes cache,
// `prepare` sends them to the changelog (or `sent` says they went in the batch's Kafka
// transaction), `flush` writes them to the store. The status moves STARTED -> PREPARED ->
// COMPLETE, or to FAILED, and a failed transaction cannot be used again. The partition's
// transactions not flushed or failed yet are in flight: a read sees the writes of the earlier ones
// (a partition's next batch is processed while the last one is delivered).
import { SluiceError } from '../errors.ts';
import type { ChangelogRecord, ChangelogSend } from './changelog.ts';
import type { KeyValueStore } from './store.ts';

export type TransactionStatus = 'STARTED' | 'PREPARED' | 'COMPLETE' | 'FAILED';

const asString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class BatchTransaction {
  readonly #store: KeyValueStore;
  readonly #partition: number;
  /** The batch's writes by key (latin1 of the bytes): the last write of a key wins. */
  readonly #cache = new Map<string, ChangelogRecord>();
  /** The partition's transactions in flight, in the order they began (this one among them until it ends). */
  readonly #inFlight: BatchTransaction[];
  #status: TransactionStatus = 'STARTED';

  constructor(store: KeyValueStore, partition: number, inFlight: BatchTransaction[] = []) {
    this.#store = store;
    this.#partition = partition;
    this.#inFlight = inFlight;
    inFlight.push(this);
  }

  get status(): TransactionStatus {
    return this.#status;
  }

  /** The value as this batch sees it: its own writes first, then the store. */
  get(key: Uint8Array): Uint8Array | undefined {
    this.#expect('STARTED', 'read');
    const id = asString(key);
    const written = this.#cache.get(id);
    if (written !== undefined) return written.value ?? undefined;
    for (let i = this.#inFlight.indexOf(this) - 1; i >= 0; i--) {
      const earlier = this.#inFlight[i]!.#cache.get(id);
      if (earlier !== undefined) return earlier.value ?? undefined;
    }
    return this.#store.get(key);
  }

  put(key: Uint8Array, value: Uint8Array, sourceOffset: bigint): void {
    this.#expect('STARTED', 'write');
    this.#cache.set(asString(key), { key: new Uint8Array(key), value: new Uint8Array(value), sourceOffset });
  }

  delete(key: Uint8Array, sourceOffset: bigint): void {
    this.#expect('STARTED', 'write');
    this.#cache.set(asString(key), { key: new Uint8Array(key), value: null, sourceOffset });
  }

  /** One changelog record per key written. */
  changes(): ChangelogRecord[] {
    return [...this.#cache.values()];
  }

  /** Sends the changelog records; the store is not touched yet. */
  async prepare(send: ChangelogSend): Promise<void> {
    this.#expect('STARTED', 'prepare');
    try {
      if (this.#cache.size > 0) await send(this.#partition, this.changes());
      this.#status = 'PREPARED';
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    }
  }

  /** The changelog records went in the batch's Kafka transaction, which committed. */
  sent(): void {
    this.#expect('STARTED', 'prepare');
    this.#status = 'PREPARED';
  }

  /** Writes the batch to the store, once its changelog records are acknowledged (or committed). */
  flush(): void {
    this.#expect('PREPARED', 'flush');
    try {
      if (this.#cache.size > 0) this.#store.write(this.#writes());
      this.#status = 'COMPLETE';
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    } finally {
      this.#end();
    }
  }

  /** The batch's output was not delivered: nothing of it is remembered. */
  fail(): void {
    this.#status = 'FAILED';
    this.#cache.clear();
    this.#end();
  }

  #end(): void {
    const at = this.#inFlight.indexOf(this);
    if (at >= 0) this.#inFlight.splice(at, 1);
  }

  *#writes(): Iterable<readonly [Uint8Array, Uint8Array | null]> {
    for (const { key, value } of this.#cache.values()) yield [key, value];
  }

  #expect(status: TransactionStatus, doing: string): void {
    if (this.#status !== status) throw new SluiceError('SLC_STATE', `cannot ${doing} a ${this.#status} transaction (it must be ${status})`);
  }
}
