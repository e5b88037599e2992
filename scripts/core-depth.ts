/**
 * How much of the runtime's stack a validator takes on a message nested to MAX_DEPTH_LIMIT
 * (src/core/limits.ts), the deepest limit a configuration may set. The core's scanner recurses
 * once per container on the stack V8 gives the thread (about 1 MB on Node and Deno); V8's
 * optimized code (warm, after tier-up) takes more per level than its baseline code (cold).
 *
 *   npx tsx scripts/core-depth.ts                       # every runtime x validator x shape x cold/warm
 *   deno run -A scripts/core-depth.ts                   # the same, started from Deno
 *   npx tsx scripts/core-depth.ts probe simd object 5000 warm   # one try (exit 0 survived, 3 overflowed)
 *
 * A try nests `frames` plain JavaScript calls, then validates the message at the bottom; a binary
 * search finds the most frames that still let the validation finish, and the same with nothing
 * at the bottom. What the validation costs is the share of the stack it took from the filler.
 * Each try runs in a fresh process (a stack overflow says nothing good about the process after it).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { JsValidator } from '../src/core/js-validator.ts';
import { MAX_DEPTH_LIMIT } from '../src/core/limits.ts';
import { compileSchema, type MessageValidator } from '../src/core/validator.ts';
import { packageRoot } from '../src/package-root.ts';

const SHAPES: Record<string, (depth: number) => string> = {
  array: (depth) => '['.repeat(depth) + ']'.repeat(depth),
  object: (depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  mixed: (depth) => '{"k":"v","a":[1,'.repeat(depth / 2) + 'null' + ']}'.repeat(depth / 2),
};
const VALIDATORS = ['simd', 'scalar', 'js'] as const;
const MOST_FRAMES = 1 << 20;

/** `frames` nested calls, then `bottom`. */
function nest(frames: number, bottom: () => void): void {
  if (frames > 0) nest(frames - 1, bottom);
  else bottom();
}

function probe(kind: string, shape: string, frames: number, warm: boolean): never {
  let bottom = () => {};
  if (kind !== 'none') {
    const options = { maxDepth: MAX_DEPTH_LIMIT };
    const validator: MessageValidator =
      kind === 'js' ? new JsValidator(true, options) : compileSchema(true, { ...options, kernel: kind as 'simd' | 'scalar' });
    const encode = (text: string) => new TextEncoder().encode(text);
    if (warm) {
      // enough calls for V8 to tier the scanner up to optimized code, whose frames differ
      const shallow = [encode(SHAPES[shape]!(20))];
      for (let i = 0; i < 200_000; i++) validator.check(shallow);
    }
    const deep = [encode(SHAPES[shape]!(MAX_DEPTH_LIMIT))];
    bottom = () => {
      validator.check(deep);
      if (validator.verdict(0).code !== 'OK') throw new Error(`not OK: ${validator.verdict(0).code}`);
    };
  }
  try {
    nest(frames, bottom);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    process.exit(3);
  }
}

function survives(runtime: string, kind: string, shape: string, frames: number, warm: boolean): boolean {
  const script = join(packageRoot, 'scripts', 'core-depth.ts');
  const args = ['probe', kind, shape, String(frames), ...(warm ? ['warm'] : [])];
  const [command, commandArgs] =
    runtime === 'deno'
      ? [join(packageRoot, 'node_modules', '.bin', 'deno'), ['run', '-A', script, ...args]]
      : ['node', ['--import', 'tsx', script, ...args]];
  const result = spawnSync(command, commandArgs, { cwd: packageRoot, encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 3) throw new Error(`${command} ${commandArgs.join(' ')}: exit ${result.status}\n${result.stderr}`);
  return result.status === 0;
}

/** The most filler frames under which the try still finishes. */
function mostFrames(runtime: string, kind: string, shape: string, warm: boolean): number {
  let low = 0;
  let high = MOST_FRAMES;
  if (!survives(runtime, kind, shape, low, warm)) return -1;
  while (high - low > 16) {
    const middle = (low + high) >> 1;
    if (survives(runtime, kind, shape, middle, warm)) low = middle;
    else high = middle;
  }
  return low;
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'probe') {
  const [kind, shape, frames, warm] = rest;
  probe(kind!, shape!, Number(frames), warm === 'warm');
}
let most = 0;
for (const runtime of ['node', 'deno']) {
  const free = mostFrames(runtime, 'none', 'array', false);
  for (const kind of VALIDATORS) {
    const cells: string[] = [];
    for (const shape of Object.keys(SHAPES)) {
      for (const warm of [false, true]) {
        const left = mostFrames(runtime, kind, shape, warm);
        const share = left < 0 ? 1 : 1 - left / free;
        if (kind !== 'js') most = Math.max(most, share);
        cells.push(`${shape}/${warm ? 'warm' : 'cold'} ${left < 0 ? 'overflows' : `${Math.round(share * 100)}%`}`);
      }
    }
    console.log(`${runtime} ${kind}: ${cells.join(', ')}`);
  }
}
console.log(`a message nested ${MAX_DEPTH_LIMIT} deep takes at most ${Math.round(most * 100)}% of the stack in the core`);
