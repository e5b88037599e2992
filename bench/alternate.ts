// The micro suites' runner: tinybench times each case, in short blocks that take the cases in
// turn (a burst of load from elsewhere on a shared machine then hits every case alike, so the
// ratios between them hold). Each iteration's wall time is tinybench's sample; its CPU time (all
// the process's threads, which a busy machine's other processes do not inflate) is taken beside
// it, outside the timed call, so the i-th CPU times of two cases ran in the same block.
import { Bench } from 'tinybench';

export interface CaseTimes {
  /** Wall milliseconds an iteration, sorted (tinybench's samples). */
  readonly wall: number[];
  /** CPU milliseconds an iteration, in the order they ran. */
  readonly cpu: number[];
}

export interface AlternateOptions {
  /** Untimed iterations of each case before its first timed one. */
  readonly warmup: number;
  /** Timed iterations of each case. */
  readonly rounds: number;
  /** Iterations of a case in a row before the next case takes its turn. */
  readonly block?: number;
  /** Before each iteration, untimed (a collection, so one case's garbage is not billed to the next). */
  readonly beforeEach?: () => void;
}

export function runAlternating(cases: Readonly<Record<string, () => unknown>>, options: AlternateOptions): Map<string, CaseTimes> {
  const times = new Map(Object.keys(cases).map((name) => [name, { wall: [] as number[], cpu: [] as number[] }]));
  const block = options.block ?? 5;
  let cpuStarted = process.cpuUsage();
  for (let done = 0; done < options.rounds; ) {
    const iterations = Math.min(block, options.rounds - done);
    const first = done === 0;
    const bench = new Bench({ iterations, time: 0, warmup: first && options.warmup > 0, warmupIterations: options.warmup, warmupTime: 0, retainSamples: true, throws: true });
    for (const [name, fn] of Object.entries(cases)) {
      const cpu = times.get(name)!.cpu;
      bench.add(name, fn, {
        beforeEach() {
          options.beforeEach?.();
          cpuStarted = process.cpuUsage();
        },
        afterEach(mode) {
          if (mode !== 'run') return;
          const used = process.cpuUsage(cpuStarted);
          cpu.push((used.user + used.system) / 1000);
        },
      });
    }
    bench.runSync();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
      times.get(task.name)!.wall.push(...result.latency.samples!);
    }
    done += iterations;
  }
  for (const { wall } of times.values()) wall.sort((a, b) => a - b);
  return times;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
