// The in-memory backend: a Map keyed by the key's bytes as a latin1 string (one char per byte,
// so string order is byte order). Nothing survives the process: a partition restores in full.
import type { KeyValueStore, StoreBackend, StoreWrite } from './store.ts';

const asString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class MemoryStore implements KeyValueStore {
  readonly #map = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.#map.get(asString(key));
  }

  write(writes: Iterable<StoreWrite>): void {
    for (const [key, value] of writes) {
      if (value === null) this.#map.delete(asString(key));
      else this.#map.set(asString(key), new Uint8Array(value)); // a copy: the caller may reuse its buffer
    }
  }

  *entries(): Iterable<readonly [Uint8Array, Uint8Array]> {
    for (const key of [...this.#map.keys()].sort()) yield [Buffer.from(key, 'latin1'), this.#map.get(key)!];
  }

  count(): number {
    return this.#map.size;
  }

  async close(): Promise<void> {
    this.#map.clear();
  }
}

export const memoryBackend: StoreBackend = { name: 'memory', open: () => new MemoryStore() };
