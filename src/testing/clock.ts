// A clock that stands still until told to move: the test driver's, and the unit tests' of
// components that use time.
import type { Clock } from '../component/clock.ts';

export class ManualClock implements Clock {
  #time: number;

  /** `start`: milliseconds since the epoch. */
  constructor(start: number) {
    this.#time = start;
  }

  now(): number {
    return this.#time;
  }

  /** Moves time on by `ms` (not back: a component may rely on it never decreasing). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock moves forward: advance(${ms})`);
    this.#time += ms;
  }
}
