// simdjson compiled to wasm (bench/simdjson/build.sh) as the core bench's peer. Messages are copied
// into its memory a batch at a time and parsed in one call per batch, as the core does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.ts';

export const SIMDJSON_WASM = join(packageRoot, 'bench', '.build', 'simdjson.wasm');
const BUILD_SCRIPT = join(packageRoot, 'bench', 'simdjson', 'build.sh');
/** build.sh's exit code when the toolchain or the sources are missing. */
const NO_TOOLCHAIN = 3;
const BATCH = 1024;
const ENOSYS = 52;

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  sj_alloc(size: number): number;
  sj_padding(): number;
  sj_init(maxMessageBytes: number): number;
  sj_implementation(): number;
  sj_set_pointers(text: number, length: number): void;
  sj_parse_batch(buffer: number, offsets: number, lengths: number, count: number, verdicts: number): number;
  sj_extract_batch(buffer: number, offsets: number, lengths: number, count: number, verdicts: number): number;
}

export class SimdjsonPeer {
  /** The kernel simdjson chose: "fallback" in wasm (upstream has no wasm SIMD kernel). */
  readonly implementation: string;
  readonly #wasm: Exports;
  readonly #input: number;
  readonly #inputCapacity: number;
  readonly #offsets: number;
  readonly #lengths: number;
  readonly #verdicts: number;
  #bytes!: Uint8Array;
  #words!: Uint32Array;

  constructor(wasm: Exports, pointers: readonly string[], maxMessageBytes: number) {
    this.#wasm = wasm;
    wasm._initialize();
    const inputCapacity = Math.max(1 << 20, maxMessageBytes);
    this.#inputCapacity = inputCapacity;
    this.#input = wasm.sj_alloc(inputCapacity + wasm.sj_padding());
    this.#offsets = wasm.sj_alloc(BATCH * 4);
    this.#lengths = wasm.sj_alloc(BATCH * 4);
    this.#verdicts = wasm.sj_alloc(BATCH);
    if (wasm.sj_init(maxMessageBytes) !== 0) throw new Error('simdjson: the parser could not reserve its memory');
    const text = new TextEncoder().encode(pointers.join('\n'));
    const at = wasm.sj_alloc(text.length);
    this.#views().set(text, at);
    wasm.sj_set_pointers(at, text.length);
    const bytes = this.#views();
    const name = wasm.sj_implementation();
    this.implementation = new TextDecoder().decode(bytes.subarray(name, bytes.indexOf(0, name)));
  }

  #views(): Uint8Array {
    // a memory grow detaches the views: re-take them when that happened
    if (this.#bytes?.buffer !== this.#wasm.memory.buffer) {
      this.#bytes = new Uint8Array(this.#wasm.memory.buffer);
      this.#words = new Uint32Array(this.#wasm.memory.buffer);
    }
    return this.#bytes;
  }

  /** Copies messages[start ...] in, as many as fit; returns how many. */
  #copy(messages: readonly Uint8Array[], start: number): number {
    const bytes = this.#views();
    const words = this.#words;
    const offsets = this.#offsets >> 2;
    const lengths = this.#lengths >> 2;
    let cursor = 0;
    let count = 0;
    while (count < BATCH && start + count < messages.length) {
      const message = messages[start + count]!;
      if (cursor + message.length > this.#inputCapacity) {
        if (count > 0) break;
        throw new Error(`simdjson peer: a ${message.length}-byte message is over the ${this.#inputCapacity} bytes it was sized for`);
      }
      bytes.set(message, this.#input + cursor);
      words[offsets + count] = this.#input + cursor;
      words[lengths + count] = message.length;
      cursor += message.length;
      count++;
    }
    return count;
  }

  /** Full parse of messages[start ...] (as many as fit); returns how many; `ok(i)` then reads verdicts. */
  parse(messages: readonly Uint8Array[], start: number): number {
    const count = this.#copy(messages, start);
    this.#wasm.sj_parse_batch(0, this.#offsets, this.#lengths, count, this.#verdicts);
    return count;
  }

  /** Parse plus a walk to every extracted field; returns [how many, checksum of the fields found]. */
  extract(messages: readonly Uint8Array[], start: number): [number, number] {
    const count = this.#copy(messages, start);
    return [count, this.#wasm.sj_extract_batch(0, this.#offsets, this.#lengths, count, this.#verdicts)];
  }

  /** Whether message i of the last batch is valid JSON. */
  ok(i: number): boolean {
    return this.#views()[this.#verdicts + i] === 1;
  }
}

/**
 * The peer, built first when the binary is missing and clang is present; else the reason it is
 * skipped, with how to build it.
 */
export function loadSimdjson(pointers: readonly string[], maxMessageBytes: number): SimdjsonPeer | { skipped: string } {
  if (!existsSync(SIMDJSON_WASM)) {
    const built = spawnSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    if (built.status === NO_TOOLCHAIN) {
      return { skipped: `${built.stderr.trim()}; to include it: apt-get install clang-16 lld-16 libclang-rt-16-dev-wasm32 wasi-libc libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 && bash bench/simdjson/build.sh` };
    }
    if (built.status !== 0) throw new Error(`bench/simdjson/build.sh failed:\n${built.stderr}`);
  }
  // the WASI calls linked in (stdio for abort messages) are never reached on the paths used here
  const wasi = { fd_close: () => ENOSYS, fd_seek: () => ENOSYS, fd_write: () => ENOSYS };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(SIMDJSON_WASM)), { wasi_snapshot_preview1: wasi });
  return new SimdjsonPeer(instance.exports as unknown as Exports, pointers, maxMessageBytes);
}
