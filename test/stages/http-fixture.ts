// A real HTTP service on 127.0.0.1 for the enrich-http tests, controlled by the test: per request
// it answers with a status and JSON body, after an injected latency, or resets the connection, or
// never answers; it can stop answering altogether (close) and come back on the same port. Every
// request is recorded (start and end time, method, path, headers, body, what was answered) so the
// tests can count attempts, measure backoff gaps and see concurrency.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';

export interface Request {
  /** 0-based index over every request this server has received. */
  readonly index: number;
  readonly method: string;
  /** The raw request target as sent (path and query, still percent-encoded). */
  readonly url: string;
  /** The decoded path (no query). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.now() when the request (head and body) had arrived. */
  start: number;
  /** performance.now() when the answer was written (or the socket destroyed); undefined while pending. */
  end: number | undefined;
  /** What was done: the status sent, 'reset', or 'hang' (never answered). */
  outcome: number | 'reset' | 'hang' | undefined;
  /** Requests in flight at this server when this one started (itself included). */
  concurrent: number;
}

export interface Reply {
  status?: number;
  /** A JSON body (default: {} for 2xx, {"error": ...} otherwise). */
  json?: unknown;
  /** A raw body, sent as is (overrides json). */
  body?: string;
  headers?: Record<string, string>;
  /** Latency before answering, in ms. */
  delayMs?: number;
  /** Destroy the socket instead of answering (after delayMs). */
  reset?: boolean;
  /** Never answer (until the server is closed). */
  hang?: boolean;
}

export type Handler = (request: Request) => Reply | Promise<Reply>;

/** The document the default handler serves for a content id: derived from the id, so any id works. */
export function documentFor(id: string): { id: string; category: string; images: { thumb: string } } {
  return { id, category: `cat-${id}`, images: { thumb: `https://img.test/${id}/thumb.jpg` } };
}

/** Answers /documents/<id> with documentFor(id); anything else 404. */
export const documents = (request: Request): Reply => {
  const match = /^\/documents\/([^/]+)$/.exec(request.path);
  return match ? { json: documentFor(match[1]!) } : { status: 404, json: { error: 'not found' } };
};

export class HttpFixture {
  readonly requests: Request[] = [];
  handler: Handler;
  port = 0;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #inFlight = 0;
  maxConcurrent = 0;

  constructor(handler: Handler = documents) {
    this.handler = handler;
  }

  /** Starts on a free port (first time) or on the same port again (after close: recovery). */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops answering: no more connections, every open one (and pending answer) destroyed. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const r of this.requests) if (r.end === undefined) r.end = performance.now();
    this.#inFlight = 0;
  }

  /** Requests whose path starts with `prefix`, in arrival order. */
  to(prefix: string): Request[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fixture');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    this.#inFlight++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#inFlight);
    const request: Request = {
      index: this.requests.length,
      method: req.method ?? '',
      url: req.url ?? '',
      path,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      start: performance.now(),
      end: undefined,
      outcome: undefined,
      concurrent: this.#inFlight,
    };
    this.requests.push(request);
    let finished = false;
    const finish = (outcome: Request['outcome']) => {
      if (finished) return;
      finished = true;
      request.end = performance.now();
      request.outcome ??= outcome;
      this.#inFlight = Math.max(0, this.#inFlight - 1);
    };
    // the client gave up (timeout) or the socket went away: the request is no longer in flight
    res.on('close', () => finish(request.outcome ?? 'hang'));
    let reply: Reply;
    try {
      reply = await this.handler(request);
    } catch (error) {
      reply = { status: 500, json: { error: String(error) } };
    }
    if (reply.hang) {
      request.outcome = 'hang';
      return;
    }
    if (reply.delayMs) await this.#sleep(reply.delayMs);
    if (res.destroyed) return;
    if (reply.reset) {
      request.outcome = 'reset';
      finish('reset');
      req.socket.destroy();
      return;
    }
    const status = reply.status ?? 200;
    const body = reply.body ?? JSON.stringify(reply.json ?? (status < 300 ? {} : { error: `status ${status}` }));
    request.outcome = status;
    res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
    res.end(body, () => finish(status));
  }
}

export async function startFixture(handler?: Handler): Promise<HttpFixture> {
  return new HttpFixture(handler).start();
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:port. */
export async function listening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}


export { prng } from '../../scripts/support/random.ts';
