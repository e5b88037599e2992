// Readiness: the parts of a running process (flows, Kafka sources, HTTP services) each add a check
// while they run; the process is ready when at least one flow runs and no check names a problem.
// Checks name flows and services only: never a configuration value (broker, URL, credential).

/** The thresholds of the checks (observe.readiness in the configuration). */
export interface ReadinessLimits {
  /** A circuit breaker open (or half-open) for longer than this makes the process not ready. */
  readonly maxCircuitOpenMs: number;
  /** A Kafka consumer without an answer from the brokers (fetch or heartbeat) for this long: not ready. */
  readonly maxBrokerSilenceMs: number;
}

/** A problem in words, or undefined when this part is ready. */
export type ReadinessCheck = (limits: ReadinessLimits) => string | undefined;

export class Readiness {
  readonly #checks = new Set<ReadinessCheck>();
  #flows = 0;

  /** Adds a check; returns its removal. */
  add(check: ReadinessCheck): () => void {
    this.#checks.add(check);
    return () => void this.#checks.delete(check);
  }

  /** A flow runs (with its check) until the returned function is called. */
  flowRunning(check: ReadinessCheck): () => void {
    this.#flows++;
    const remove = this.add(check);
    return () => {
      this.#flows--;
      remove();
    };
  }

  /** What keeps the process from being ready; empty when it is. */
  problems(limits: ReadinessLimits): string[] {
    const problems = this.#flows === 0 ? ['no flow is running'] : [];
    for (const check of this.#checks) {
      const problem = check(limits);
      if (problem !== undefined) problems.push(problem);
    }
    return problems;
  }
}
