// Failure log lines, rate-limited per stage and reason: a dead service or a broken producer fails
// thousands of messages a second, and a line for each would bury everything else (the dead
// letters and the counters keep every one). Past the limit, one line per second says how many
// were left out.
import type { Logger } from 'pino';

interface Window {
  second: number;
  logged: number;
  suppressed: number;
}

export class FailureLog {
  readonly #logger: Logger;
  readonly #perSecond: number;
  readonly #windows = new Map<string, Window>();
  /** Milliseconds on a monotonic clock (a test's own, to cross a second without waiting for it). */
  readonly #now: () => number;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, perSecond: number, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#perSecond = perSecond;
    this.#now = now;
  }

  /** Logs a failed message at warn, unless its stage and reason are over their limit this second. */
  warn(stage: string, reason: string, fields: Record<string, unknown>, message: string): void {
    const second = Math.floor(this.#now() / 1000);
    const key = `${stage}\u0000${reason}`;
    let window = this.#windows.get(key);
    if (window === undefined) {
      window = { second, logged: 0, suppressed: 0 };
      this.#windows.set(key, window);
    } else if (window.second !== second) {
      this.#flush(stage, reason, window);
      window.second = second;
      window.logged = 0;
    }
    if (window.logged < this.#perSecond) {
      window.logged++;
      this.#logger.warn({ stage, reason, ...fields }, message);
    } else {
      window.suppressed++;
      // said within a second even if no further failure comes
      this.#flushTimer ??= setTimeout(() => {
        this.#flushTimer = undefined;
        this.flush();
      }, 1000).unref();
    }
  }

  /** Reports what the limit left out (called at the end of a run, too). */
  flush(): void {
    for (const [key, window] of this.#windows) {
      const [stage, reason] = key.split('\u0000') as [string, string];
      this.#flush(stage, reason, window);
    }
  }

  #flush(stage: string, reason: string, window: Window): void {
    if (window.suppressed === 0) return;
    this.#logger.warn({ stage, reason, suppressed: window.suppressed }, `${window.suppressed} more failures like this were not logged (log.failures-per-second)`);
    window.suppressed = 0;
  }
}
