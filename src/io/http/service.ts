// An HTTP service as the enrichment stages call it: one bulkhead, retry policy and circuit
// breaker per service (cockatiel), shared by every stage that names the service, and one pool of
// keep-alive connections (undici: a third of the CPU per call of Node's fetch).
import {
  BrokenCircuitError,
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  fullJitterGenerator,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  retry,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { CallOutcome, ServiceMetrics } from '../../component/metrics.ts';
import { SluiceError } from '../../errors.ts';
import { type HttpAnswer, httpFailure, type HttpFailureCode, isHttpFailure, type Service, type ServiceConfig } from '../../component/service.ts';

/**
 * A status worth another attempt (retriable); carries the Retry-After the service asked for, if
 * any. It never leaves this module: a call that ends with it fails with E_HTTP_UNAVAILABLE.
 */
class RetriableStatus extends SluiceError {
  readonly retryAfterMs: number | undefined;
  constructor(status: number, retryAfterMs: number | undefined) {
    super('SLC_HTTP', `HTTP ${status}`, { retriable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  if (Array.isArray(header)) header = header[0];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Full-jitter exponential backoff, except that a Retry-After from the service wins (capped). */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  readonly #exponential: IBackoffFactory<unknown>;
  readonly #cap: number;

  constructor(exponential: IBackoffFactory<unknown>, cap: number) {
    this.#exponential = exponential;
    this.#cap = cap;
  }

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const exponential = this.#exponential.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = error instanceof RetriableStatus ? error.retryAfterMs : undefined;
    return {
      duration: asked === undefined ? exponential.duration : Math.min(asked, this.#cap),
      next: (ctx) => new RetryAfterBackoff(exponential, this.#cap).next(ctx),
    };
  }
}

/** Origin and path of an absolute URL, as the connection pool takes them. */
function requestOf(url: string): { origin: string; path: string } {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/**
 * A failed attempt another attempt may get past: network errors, timeouts, 5xx and 429 (retriable
 * SluiceErrors), not a failure the service answered for good nor a call the open breaker refused.
 * What is retried through its attempts and still fails counts against the circuit breaker.
 */
const isRetriable = (error: Error) => (error instanceof SluiceError ? error.retriable : !(error instanceof BrokenCircuitError));

const OUTCOME: Record<HttpFailureCode, CallOutcome> = {
  E_HTTP_STATUS: 'http_status',
  E_HTTP_UNAVAILABLE: 'unavailable',
  E_CIRCUIT_OPEN: 'circuit_open',
  E_RESPONSE: 'response',
  E_DEADLINE: 'deadline',
};

export class HttpService implements Service {
  readonly name: string;
  readonly #config: ServiceConfig;
  readonly #baseUrl: string | undefined;
  readonly #policy;
  readonly #breaker;
  readonly #connections: Agent;
  readonly #metrics: ServiceMetrics;

  /** `localUrl`: the address of the local service playing this one, if it runs. */
  constructor(name: string, config: ServiceConfig, logger: Logger, metrics: ServiceMetrics, localUrl?: string) {
    this.name = name;
    this.#config = config;
    this.#baseUrl = config['base-url'] ?? localUrl;
    // one connection per call the bulkhead lets through, so a call never queues for a socket
    this.#connections = new Agent({ connections: config['max-concurrency'], keepAliveTimeout: 30_000 });
    const backoff = new ExponentialBackoff({
      generator: fullJitterGenerator,
      initialDelay: Math.max(1, config.retry['initial-delay-ms']),
      maxDelay: config.retry['max-delay-ms'],
    });
    const retries = retry(handleWhen(isRetriable), {
      maxAttempts: config.retry['max-attempts'] - 1,
      backoff: new RetryAfterBackoff(backoff, config.retry['max-delay-ms']),
    });
    this.#breaker = circuitBreaker(handleWhen(isRetriable), {
      halfOpenAfter: config['circuit-breaker']['half-open-after-ms'],
      breaker: new ConsecutiveBreaker(config['circuit-breaker']['consecutive-failures']),
    });
    this.#breaker.onStateChange((state) => logger.warn({ service: name, state: ['closed', 'open', 'half-open', 'isolated'][state] ?? state }, 'circuit breaker'));
    this.#metrics = metrics;
    retries.onRetry(() => metrics.retries.inc());
    this.#breaker.onBreak(() => metrics.breaker('open'));
    this.#breaker.onHalfOpen(() => metrics.breaker('half-open'));
    this.#breaker.onReset(() => metrics.breaker('closed'));
    // bulkhead outermost: a call holds its place through its retries; the breaker counts calls
    this.#policy = wrap(bulkhead(config['max-concurrency'], Number.MAX_SAFE_INTEGER), this.#breaker, retries);
  }

  /** An absolute URL for a stage's URL (relative ones are resolved against base-url). */
  resolve(url: string): string {
    if (/^https?:\/\//.test(url)) return url;
    return `${(this.#baseUrl ?? '').replace(/\/$/, '')}${url}`;
  }

  get hasBaseUrl(): boolean {
    return this.#baseUrl !== undefined;
  }

  /** The breaker's state: closed, open or half-open. */
  get state(): string {
    return ['closed', 'open', 'half-open', 'isolated'][this.#breaker.state] ?? 'unknown';
  }

  /**
   * Calls the service under its policies. `deadline` (a performance.now() time: the record's
   * budget) is checked before every attempt, after any wait for the bulkhead or a backoff, and
   * caps the attempt's timeout. Resolves with the answer for 2xx and 404; throws HttpFailure.
   */
  async call(method: string, url: string, headers: Record<string, string>, body: string | undefined, deadline = Infinity): Promise<HttpAnswer> {
    const started = performance.now();
    let outcome: CallOutcome = 'ok';
    try {
      const answer = await this.#policy.execute(async () => {
        const left = deadline - performance.now();
        if (left <= 0) throw httpFailure('E_DEADLINE', `${method} ${url}: the record's latency budget is spent`);
        const timeout = Math.ceil(Math.min(this.#config['timeout-ms'], left));
        let response: Dispatcher.ResponseData;
        try {
          response = await this.#connections.request({ ...requestOf(url), method: method as Dispatcher.HttpMethod, headers, body, signal: AbortSignal.timeout(timeout) });
        } catch (cause) {
          throw new SluiceError('SLC_HTTP', `${method} ${url}: ${(cause as Error).message}`, { cause, retriable: true }); // network or timeout
        }
        const status = response.statusCode;
        if (status === 429 || status >= 500) {
          await response.body.dump();
          throw new RetriableStatus(status, retryAfterMs(response.headers['retry-after']));
        }
        if (status === 404) {
          await response.body.dump();
          return { status: 404, body: undefined };
        }
        if (status >= 300 || status < 200) {
          await response.body.dump();
          throw httpFailure('E_HTTP_STATUS', `${method} ${url}: HTTP ${status}`);
        }
        let text: string;
        try {
          text = await response.body.text();
        } catch (cause) {
          throw new SluiceError('SLC_HTTP', `${method} ${url}: ${(cause as Error).message}`, { cause, retriable: true }); // cut off mid-body
        }
        try {
          return { status, body: JSON.parse(text) as unknown };
        } catch {
          throw httpFailure('E_RESPONSE', `${method} ${url}: the response is not JSON`);
        }
      });
      if (answer.status === 404) outcome = 'not_found';
      return answer;
    } catch (error) {
      const failure =
        isHttpFailure(error)
          ? error
          : error instanceof BrokenCircuitError
            ? httpFailure('E_CIRCUIT_OPEN', `${this.name}: circuit open`, { cause: error })
            : httpFailure('E_HTTP_UNAVAILABLE', `${this.name}: ${(error as Error).message}`, { cause: error });
      outcome = OUTCOME[failure.reason];
      throw failure;
    } finally {
      this.#metrics.call(outcome).inc();
      this.#metrics.duration.record((performance.now() - started) / 1000);
    }
  }
}
