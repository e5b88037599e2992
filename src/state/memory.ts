// The in-memory backend: a Map keyed by the key's bytes as a latin1 string (one char per byte,
// so string order is byte order). Nothing survives the process: a partition restores in full.
import type { StoreScan } from '../component/state.ts';
import type { KeyValueStore, StoreBackend, StoreWrite } from './store.ts';

const asString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class MemoryStore implements KeyValueStore {
  readonly #map = new Map<string, Uint8Array>();
  /** Key and value bytes held (not the Map's own overhead). */
  #bytes = 0;

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#map.get(asString(key));
  }

  write(writes: Iterable<StoreWrite>): void {
    for (const [key, value] of writes) {
      const id = asString(key);
      const old = this.#map.get(id);
      if (old !== undefined) this.#bytes -= id.length + old.byteLength;
      if (value === null) this.#map.delete(id);
      else {
        this.#map.set(id, new Uint8Array(value)); // a copy: the caller may reuse its buffer
        this.#bytes += id.length + value.byteLength;
      }
    }
  }

  *entries(): Iterable<readonly [Uint8Array, Uint8Array]> {
    for (const key of [...this.#map.keys()].sort()) yield [Buffer.from(key, 'latin1'), this.#map.get(key)!];
  }

  /** In insertion order: a Map's iterator goes on past writes and deletes, so no key order is needed. */
  scan(): StoreScan {
    const iterator = this.#map.entries();
    let over = false;
    return {
      next: (limit) => {
        const slice: [Uint8Array, Uint8Array][] = [];
        while (!over && slice.length < limit) {
          const step = iterator.next();
          if (step.done) over = true;
          else slice.push([Buffer.from(step.value[0], 'latin1'), step.value[1]]);
        }
        return slice;
      },
    };
  }

  count(): number {
    return this.#map.size;
  }

  bytes(): number {
    return this.#bytes;
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {
    this.#map.clear();
    this.#bytes = 0;
  }
}

export const memoryBackend: StoreBackend = { name: 'memory', open: () => new MemoryStore() };
