// An HTTP service as the enrichment stages call it: one bulkhead, retry policy and circuit
// breaker per service, shared by every stage that names the service, and one pool of keep-alive
// connections (undici: a third of the CPU per call of Node's fetch). The policies are plain
// counters and one loop, not a stack of wrapped promises per call, and the attempts' timeouts share
// one timer per service (DeadlineSweep): what a call costs beyond its request is a few field writes
// (bench/enrich-call.bench.ts measures it against a bare request loop).
import { clearTimeout, setTimeout } from 'node:timers';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { CallOutcome, ServiceMetrics } from '../../component/metrics.ts';
import { SluiceError } from '../../errors.ts';
import { type HttpAnswer, httpFailure, type HttpFailureCode, isHttpFailure, type Service, type ServiceConfig } from '../../component/service.ts';
import { parseJson } from '../../core/json-text.ts';

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

/** What an attempt got back: the status, the body's text for a 2xx (else empty), Retry-After. */
interface Reply {
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | string[] | undefined;
}

/**
 * One attempt: an undici dispatch handler that keeps a 2xx body's bytes and lets the rest go, and
 * the attempt's timeout as the abort of its request. undici's request() with an abort signal (an
 * AbortController's, or an EventEmitter) cost a call about 8 µs of CPU more than one without
 * (bench/enrich-call.bench.ts), a third of the request itself: listeners on the signal and on the
 * body stream. The dispatcher's own controller aborts without any, and no body stream is made.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly timesOutAt: number;
  #controller: Dispatcher.DispatchController | undefined;
  #timedOut: Error | undefined;
  #status = 0;
  #retryAfter: string | string[] | undefined;
  readonly #chunks: Buffer[] = [];
  #settle!: (reply: Reply) => void;
  #fail!: (error: Error) => void;
  readonly reply: Promise<Reply>;

  constructor(timesOutAt: number) {
    this.timesOutAt = timesOutAt;
    this.reply = new Promise<Reply>((settle, fail) => {
      this.#settle = settle;
      this.#fail = fail;
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#timedOut) controller.abort(this.#timedOut);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.#status = status;
    this.#retryAfter = headers['retry-after'];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#status >= 200 && this.#status < 300) this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.#chunks;
    const text = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.#settle({ status: this.#status, text, retryAfter: this.#retryAfter });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
  }

  timeOut(): void {
    this.#timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    // not started yet (queued for a connection): aborted as it starts
    this.#controller?.abort(this.#timedOut);
  }
}

/**
 * The timeouts of a service's attempts in flight, on one timer armed at the earliest: an attempt
 * costs a set entry, not a timer of its own. With answers far quicker than the timeout, the timer
 * fires about once per timeout-ms and finds nothing to abort.
 */
class DeadlineSweep {
  readonly #pending = new Set<Attempt>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  add(attempt: Attempt): void {
    this.#pending.add(attempt);
    if (attempt.timesOutAt < this.#armedFor) this.#arm(attempt.timesOutAt);
  }

  delete(attempt: Attempt): void {
    this.#pending.delete(attempt);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = at;
    // unref: an attempt in flight holds the process by its socket, the sweep need not
    this.#timer = setTimeout(this.#sweep, Math.max(0, at - performance.now())).unref();
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const attempt of this.#pending) {
      if (attempt.timesOutAt <= now) {
        this.#pending.delete(attempt);
        attempt.timeOut();
      } else if (attempt.timesOutAt < next) next = attempt.timesOutAt;
    }
    if (next < Infinity) this.#arm(next);
  };
}

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
type Circuit = typeof CLOSED | typeof OPEN | typeof HALF_OPEN;
const CIRCUIT_NAMES = ['closed', 'open', 'half-open'] as const;

const OUTCOME: Record<HttpFailureCode, CallOutcome> = {
  E_HTTP_STATUS: 'http_status',
  E_HTTP_UNAVAILABLE: 'unavailable',
  E_CIRCUIT_OPEN: 'circuit_open',
  E_RESPONSE: 'response',
  E_DEADLINE: 'deadline',
};

const pause = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

let undici: Promise<typeof import('undici')> | undefined;

/**
 * undici, imported once, when a service is first called (or when `sluice run` starts flows that
 * call services): the commands that build flows without calling them (`check`) do not pay its
 * import, about 70 ms of CPU.
 */
export function loadHttpClient(): Promise<typeof import('undici')> {
  return (undici ??= import('undici'));
}

export class HttpService implements Service {
  readonly name: string;
  readonly batchLookups: boolean;
  readonly #baseUrl: string | undefined;
  /** The base URL without a trailing slash, for relative URLs. */
  readonly #base: string;
  /** The pool of keep-alive connections, made on the first call (see loadHttpClient). */
  #connections: Dispatcher | undefined;
  readonly #maxConnections: number;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #sweep = new DeadlineSweep();
  // retries: full-jitter exponential backoff, except that a Retry-After from the service wins (capped)
  readonly #maxAttempts: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  // bulkhead: calls in flight, and the calls waiting for a place (in arrival order)
  readonly #capacity: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  // circuit breaker: consecutive failed calls (after their retries) open it; after halfOpenAfterMs
  // one call probes, the others wait for its answer
  readonly #breakAfter: number;
  readonly #halfOpenAfterMs: number;
  #circuit: Circuit = CLOSED;
  #consecutiveFailures = 0;
  #openedAt = 0;
  #probe: Promise<unknown> | undefined;

  /** `localUrl`: the address of the local service playing this one, if it runs. */
  constructor(name: string, config: ServiceConfig, logger: Logger, metrics: ServiceMetrics, localUrl?: string) {
    this.name = name;
    // the built-in lookup server answers every route's bulk form
    this.batchLookups = config['batch-lookups'] || (config['base-url'] === undefined && localUrl !== undefined);
    this.#baseUrl = config['base-url'] ?? localUrl;
    this.#base = (this.#baseUrl ?? '').replace(/\/$/, '');
    // one connection per call the bulkhead lets through, so a call never queues for a socket
    this.#maxConnections = config['max-concurrency'];
    this.#metrics = metrics;
    this.#logger = logger;
    this.#timeoutMs = config['timeout-ms'];
    this.#maxAttempts = config.retry['max-attempts'];
    this.#initialDelayMs = Math.max(1, config.retry['initial-delay-ms']);
    this.#maxDelayMs = config.retry['max-delay-ms'];
    this.#capacity = config['max-concurrency'];
    this.#breakAfter = config['circuit-breaker']['consecutive-failures'];
    this.#halfOpenAfterMs = config['circuit-breaker']['half-open-after-ms'];
  }

  /** An absolute URL for a stage's URL (relative ones are resolved against base-url). */
  resolve(url: string): string {
    if (url.startsWith('http://') || url.startsWith('https://')) return url;
    return this.#base + url;
  }

  get hasBaseUrl(): boolean {
    return this.#baseUrl !== undefined;
  }

  /** The breaker's state: closed, open or half-open. */
  get state(): string {
    return CIRCUIT_NAMES[this.#circuit];
  }

  /**
   * Calls the service under its policies. `deadline` (a performance.now() time: the record's
   * budget) is checked before every attempt, after any wait for the bulkhead or a backoff, and
   * caps the attempt's timeout. Resolves with the answer for 2xx and 404; throws HttpFailure.
   */
  async call(method: string, url: string, headers: Record<string, string>, body: string | undefined, deadline = Infinity): Promise<HttpAnswer> {
    const started = performance.now();
    let outcome: CallOutcome = 'ok';
    // bulkhead outermost: a call holds its place through its retries; the breaker counts calls
    if (this.#active < this.#capacity) this.#active++;
    else await new Promise<void>((enter) => this.#waiting.push(enter));
    try {
      // closed (the common case): straight to the attempts, one async layer less
      const answer = this.#circuit === CLOSED ? await this.#withRetries(method, url, headers, body, deadline, true) : await this.#throughBreaker(method, url, headers, body, deadline);
      if (answer.status === 404) outcome = 'not_found';
      return answer;
    } catch (error) {
      const failure = isHttpFailure(error) ? error : httpFailure('E_HTTP_UNAVAILABLE', `${this.name}: ${(error as Error).message}`, { cause: error });
      outcome = OUTCOME[failure.reason];
      throw failure;
    } finally {
      // the place passes to the first waiting call, if any
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
      this.#metrics.call(outcome).inc();
      this.#metrics.duration.record((performance.now() - started) / 1000);
    }
  }

  /** A call while the breaker is not closed: fails fast while open, probes after half-open-after-ms, waits for the probe. */
  async #throughBreaker(method: string, url: string, headers: Record<string, string>, body: string | undefined, deadline: number): Promise<HttpAnswer> {
    for (;;) {
      if (this.#circuit === CLOSED) return this.#withRetries(method, url, headers, body, deadline, true);
      if (this.#circuit === HALF_OPEN) {
        await this.#probe;
        continue;
      }
      if (Date.now() - this.#openedAt < this.#halfOpenAfterMs) throw httpFailure('E_CIRCUIT_OPEN', `${this.name}: circuit open`);
      this.#setCircuit(HALF_OPEN);
      const probe = this.#withRetries(method, url, headers, body, deadline, false);
      this.#probe = probe.catch(() => undefined);
      try {
        const answer = await probe;
        this.#close();
        return answer;
      } catch (error) {
        if (isHttpFailure(error)) this.#close();
        else this.#open();
        throw error;
      } finally {
        this.#probe = undefined;
      }
    }
  }

  #open(): void {
    if (this.#circuit === OPEN) return;
    this.#openedAt = Date.now();
    this.#setCircuit(OPEN);
  }

  #close(): void {
    this.#consecutiveFailures = 0;
    this.#setCircuit(CLOSED);
  }

  #setCircuit(circuit: Circuit): void {
    if (circuit === this.#circuit) return;
    this.#circuit = circuit;
    const state = CIRCUIT_NAMES[circuit];
    this.#metrics.breaker(state);
    this.#logger.warn({ service: this.name, state }, 'circuit breaker');
  }

  /**
   * The attempts of a call, with backoff between them. `counted`: the breaker is closed and counts
   * the call (a success resets the count, a failure of the service adds to it and may open it).
   */
  async #withRetries(method: string, url: string, headers: Record<string, string>, body: string | undefined, deadline: number, counted: boolean): Promise<HttpAnswer> {
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    const origin = slash < 0 ? url : url.slice(0, slash);
    const path = slash < 0 ? '/' : url.slice(slash);
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.#attempt(method, url, origin, path, headers, body, deadline);
        if (counted) this.#consecutiveFailures = 0;
        return answer;
      } catch (error) {
        if (!(error instanceof SluiceError && error.retriable)) throw error; // the call's own fault (a 400, a bad answer, its deadline), not the service's
        if (attempt >= this.#maxAttempts) {
          if (counted && ++this.#consecutiveFailures >= this.#breakAfter) this.#open();
          throw error;
        }
        const asked = error instanceof RetriableStatus ? error.retryAfterMs : undefined;
        const backoff = asked === undefined ? Math.floor(Math.random() * Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (attempt - 1))) : Math.min(asked, this.#maxDelayMs);
        this.#metrics.retries.inc();
        await pause(backoff);
      }
    }
  }

  async #connect(): Promise<Dispatcher> {
    const { Agent } = await loadHttpClient();
    return (this.#connections ??= new Agent({ connections: this.#maxConnections, keepAliveTimeout: 30_000 }));
  }

  async #attempt(method: string, url: string, origin: string, path: string, headers: Record<string, string>, body: string | undefined, deadline: number): Promise<HttpAnswer> {
    const connections = this.#connections ?? (await this.#connect());
    const now = performance.now();
    const left = deadline - now;
    if (left <= 0) throw httpFailure('E_DEADLINE', `${method} ${url}: the record's latency budget is spent`);
    const attempt = new Attempt(now + Math.ceil(Math.min(this.#timeoutMs, left)));
    this.#sweep.add(attempt);
    let reply: Reply;
    try {
      connections.dispatch({ origin, path, method: method as Dispatcher.HttpMethod, headers, body }, attempt);
      reply = await attempt.reply;
    } catch (cause) {
      throw new SluiceError('SLC_HTTP', `${method} ${url}: ${(cause as Error).message}`, { cause, retriable: true }); // network, timeout, or cut off mid-body
    } finally {
      this.#sweep.delete(attempt);
    }
    const status = reply.status;
    if (status === 429 || status >= 500) throw new RetriableStatus(status, retryAfterMs(reply.retryAfter));
    if (status === 404) return { status: 404, body: undefined };
    if (status >= 300 || status < 200) throw httpFailure('E_HTTP_STATUS', `${method} ${url}: HTTP ${status}`);
    try {
      return { status, body: parseJson(reply.text) };
    } catch {
      throw httpFailure('E_RESPONSE', `${method} ${url}: the response is not JSON`);
    }
  }
}
