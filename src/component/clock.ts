// Wall-clock time as components read it: from their build context, never Date.now() directly, so
// that the test driver can move time on (a retention expiring) without waiting for it to pass.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
