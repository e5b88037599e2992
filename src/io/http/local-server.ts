// The built-in HTTP server of local mode: serves lookup files (NDJSON, one row per key) on
// 127.0.0.1 so that enrich-http stages run with no infrastructure.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import type { LocalServiceConfig } from '../../component/settings.ts';
import { SluiceError } from '../../errors.ts';

interface Route {
  readonly prefix: string;
  readonly suffix: string;
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
    const row = JSON.parse(line) as Record<string, unknown>;
    rows.set(String(row[key]), line);
  }
  return { prefix: template.slice(0, open), suffix: template.slice(close + 1), rows };
}

/** The directory a route's relative file resolves against (that of the config file setting it). */
export type RouteDirOf = (service: string, template: string) => string;

/** Starts the server; resolves once it listens. */
export async function startLocalService(name: string, config: LocalServiceConfig, dirOf: RouteDirOf): Promise<Server> {
  const routes = Object.entries(config.routes).map(([template, route]) => loadRoute(template, resolve(dirOf(name, template), route.file), route.key));
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!);
    const answer = () => {
      for (const route of routes) {
        if (!path.startsWith(route.prefix) || !path.endsWith(route.suffix)) continue;
        const row = route.rows.get(path.slice(route.prefix.length, path.length - route.suffix.length));
        response.writeHead(row === undefined ? 404 : 200, { 'content-type': 'application/json' });
        response.end(row ?? '{"error":"not found"}');
        return;
      }
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":"no such route"}');
    };
    if (config['delay-ms'] > 0) setTimeout(answer, config['delay-ms']);
    else answer();
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

/** Starts every configured local service. */
export async function startLocalServices(services: Readonly<Record<string, LocalServiceConfig>>, dirOf: RouteDirOf): Promise<LocalServices> {
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  const stop = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise((resolveClose) => {
            server.closeAllConnections?.();
            server.close(resolveClose);
          }),
      ),
    ).then(() => undefined);
  try {
    for (const [name, config] of Object.entries(services)) {
      const server = await startLocalService(name, config, dirOf);
      servers.push(server);
      const address = server.address();
      urls[name] = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.port}`;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, stop };
}
