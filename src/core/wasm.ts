// Loads the core's WebAssembly module once per process (synchronously: it is small, and
// compileSchema stays a plain function on Node and Deno alike).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../errors.ts';
import { packageRoot } from '../package-root.ts';

export type Kernel = 'simd' | 'scalar';

export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  codeCount(): number;
  configure(
    root: number, any: number, maxDepth: number, maxSize: number, slots: number,
    pathStack: number, seenStack: number, regexScratch: number, regexCapacity: number, pathOut: number,
  ): void;
  configureTape(evalRoot: number, evalLimit: number): void;
  setTapeBase(at: number, capacity: number): void;
  validateBatch(table: number, count: number, records: number): number;
  explainBranch(at: number, length: number, record: number, pathStart: number, branch: number, offset: number): void;
  crossing(count: number): number;
}

const FILES: Record<Kernel, string> = { simd: 'sluice-core.wasm', scalar: 'sluice-core-scalar.wasm' };
const modules = new Map<Kernel, WebAssembly.Module>();

export function coreModule(kernel: Kernel): WebAssembly.Module {
  let module = modules.get(kernel);
  if (!module) {
    const file = join(packageRoot, 'build', FILES[kernel]);
    try {
      module = new WebAssembly.Module(readFileSync(file));
    } catch (cause) {
      throw new SluiceError('SLC_CORE', `cannot load the core from ${file}: run npm run build:wasm`, { cause });
    }
    modules.set(kernel, module);
  }
  return module;
}
