// Bounds of what a validator can be asked to do, shared by the configuration and the command line.

/**
 * The deepest nesting limit (`limits.max-depth`, `sluice validate --max-depth`) a flow may set.
 * The core's scanner recurses once per container on the runtime's stack (about 1 MB on Node and
 * Deno), and a message nested past it overflows that stack instead of failing with E_DEPTH.
 * Measured with scripts/core-depth.ts (both builds, arrays, objects and both mixed, before and
 * after V8 optimizes the scanner): Node 20 gives out first, at 1,242 levels of objects once
 * optimized (Deno 2: 2,943); this keeps well over half of that in reserve for the callers' frames.
 */
export const MAX_DEPTH_LIMIT = 512;
