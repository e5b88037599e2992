// The Sluice core: exports called by src/core/. Integers in, verdict records out (layout.ts).
import { CODE_COUNT } from './codes';
import { configureRegex } from './regex';
import { configureScanner, outStride, scanMessage } from './scanner';

export { configureTape, explainBranch, setTapeBase } from './scanner';

/** First free byte after the module's static data: where src/core/ lays out the arena. */
export function heapBase(): usize {
  return __heap_base;
}

/** Number of verdict codes, so the JS side can check its table matches this build. */
export function codeCount(): i32 {
  return CODE_COUNT;
}

export function configure(
  root: usize, any: usize, maxDepth: i32, maxSize: u32, slots: u32,
  pathStack: usize, seenStack: usize, regexScratch: usize, regexCapacity: u32, pathOut: usize,
): void {
  configureScanner(root, any, maxDepth, maxSize, slots, pathStack, seenStack, pathOut);
  configureRegex(regexScratch, regexCapacity);
}

/** Validates `count` messages listed in the message table; verdict records go to `records`. */
export function validateBatch(table: usize, count: u32, records: usize): u32 {
  const stride = <usize>outStride();
  let pathTop: i32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const entry = table + (<usize>i << 3);
    pathTop = scanMessage(<usize>load<u32>(entry), load<u32>(entry, 4), records + <usize>i * stride, pathTop);
  }
  return count;
}

/** Does nothing: the benchmark's floor for copying a batch in and crossing the boundary once. */
export function crossing(count: u32): u32 {
  return count;
}
