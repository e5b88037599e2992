// The built-in HTTP server of local mode: serves lookup files (NDJSON, one row per key) on
// 127.0.0.1 so that enrich-http stages run with no infrastructure. It runs in a worker thread
// (lookup-worker.ts), off the event loop of the flows calling it. A route answers one key
// (`GET /documents/{id}`: the row, or 404) and many (`POST` on the route with the key replaced by
// `_batch`, e.g. `/documents/_batch`, a JSON array of keys: a JSON array of the rows found).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LocalServiceConfig } from '../../component/settings.ts';
import { SluiceError, type SluiceErrorCode } from '../../errors.ts';
import { parseJson } from '../../core/json-text.ts';

/** A route's path with its key replaced by this answers many keys at once (POST). */
export const BATCH_SEGMENT = '_batch';

interface Route {
  readonly prefix: string;
  readonly suffix: string;
  /** The path of the route's many-keys form. */
  readonly batchPath: string;
  readonly rows: Map<string, string>;
}

function loadRoute(template: string, file: string, key: string): Route {
  const open = template.indexOf('{');
  const close = template.indexOf('}', open);
  const rows = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SluiceError('SLC_IO', `local service: cannot read ${file}`, { cause });
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const row = parseJson(line) as Record<string, unknown>;
    rows.set(String(row[key]), line);
  }
  const prefix = template.slice(0, open);
  const suffix = template.slice(close + 1);
  return { prefix, suffix, batchPath: `${prefix}${BATCH_SEGMENT}${suffix}`, rows };
}

/** The directory a route's relative file resolves against (that of the config file setting it). */
export type RouteDirOf = (service: string, template: string) => string;

/** Starts the server; resolves once it listens. */
export async function startLocalService(name: string, config: LocalServiceConfig, dirOf: RouteDirOf): Promise<Server> {
  const routes = Object.entries(config.routes).map(([template, route]) => loadRoute(template, resolve(dirOf(name, template), route.file), route.key));
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
    const send = (status: number, body: string) => {
      const answer = () => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body);
      };
      if (config['delay-ms'] > 0) setTimeout(answer, config['delay-ms']);
      else answer();
    };
    if (request.method === 'POST') {
      const route = routes.find((r) => r.batchPath === path);
      if (!route) {
        send(404, '{"error":"no such route"}');
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let keys: unknown;
        try {
          keys = parseJson(Buffer.concat(chunks).toString('utf8'));
        } catch {
          keys = undefined;
        }
        if (!Array.isArray(keys)) {
          send(400, '{"error":"the body is a JSON array of keys"}');
          return;
        }
        const found: string[] = [];
        for (const key of keys) {
          const row = route.rows.get(String(key));
          if (row !== undefined) found.push(row);
        }
        send(200, `[${found.join(',')}]`);
      });
      return;
    }
    for (const route of routes) {
      if (!path.startsWith(route.prefix) || !path.endsWith(route.suffix)) continue;
      const row = route.rows.get(path.slice(route.prefix.length, path.length - route.suffix.length));
      send(row === undefined ? 404 : 200, row ?? '{"error":"not found"}');
      return;
    }
    send(404, '{"error":"no such route"}');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (cause) => reject(new SluiceError('SLC_IO', `local service ${name}: cannot listen on 127.0.0.1:${config.port}: ${cause.message}`, { cause })));
    server.listen(config.port, '127.0.0.1', resolveListen);
  });
  return server;
}

export interface LocalServices {
  /** The address of each running local service, by name (`http://127.0.0.1:port`). */
  readonly urls: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** What the lookup worker is started with: the services, their route files absolute. */
export interface LookupWorkerData {
  readonly services: readonly { name: string; config: LocalServiceConfig }[];
}

/** What the lookup worker answers once its servers listen, or why they could not. */
export type LookupWorkerReply = { ports: Record<string, number> } | { error: { code: SluiceErrorCode; message: string } };

/** The lookup worker, its module beside this one (.ts when run from the sources, .js once built). */
function lookupWorker(data: LookupWorkerData): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const module = new URL(`./lookup-worker${extension}`, import.meta.url);
  if (extension === '.ts' && !('Deno' in globalThis)) {
    // the sources under Node (tests, benches) run through tsx, whose loader a worker does not inherit
    const tsx = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`, { eval: true, workerData: data });
  }
  return new Worker(module, { workerData: data });
}

/** Starts every configured local service, in one worker thread; resolves once they all listen. */
export async function startLocalServices(services: Readonly<Record<string, LocalServiceConfig>>, dirOf: RouteDirOf): Promise<LocalServices> {
  const entries = Object.entries(services);
  if (entries.length === 0) return { urls: {}, stop: async () => undefined };
  const data: LookupWorkerData = {
    services: entries.map(([name, config]) => ({
      name,
      config: { ...config, routes: Object.fromEntries(Object.entries(config.routes).map(([template, route]) => [template, { ...route, file: resolve(dirOf(name, template), route.file) }])) },
    })),
  };
  const worker = lookupWorker(data);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= worker.terminate().then(() => undefined));
  const reply = await new Promise<LookupWorkerReply>((answer, fail) => {
    worker.once('message', answer);
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new SluiceError('SLC_IO', `local services: the lookup worker exited (${code}) before listening`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  worker.removeAllListeners('exit');
  worker.removeAllListeners('error');
  // a worker that fails later has nothing to report but its absence: the calls to it fail
  worker.on('error', () => undefined);
  if ('error' in reply) {
    await stop();
    throw new SluiceError(reply.error.code, reply.error.message);
  }
  worker.unref();
  const urls = Object.fromEntries(Object.entries(reply.ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
  return { urls, stop };
}
