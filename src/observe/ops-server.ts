// The operations endpoint of `sluice run` (node:http, so it runs on Deno too):
//   GET /metrics  Prometheus text: Sluice's metrics and the process's
//   GET /healthz  200 while the process is alive
//   GET /readyz   200 when ready, else 503 naming what is failing (see health.ts)
//   GET /state/<flow>/<store>[/<key>]   the flows' state stores (see state-route.ts)
// Nothing here echoes the configuration: bodies name flows and services, never brokers or URLs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { RootConfig } from '../config/schema.ts';
import { SluiceError } from '../errors.ts';
import type { ReadinessLimits } from './health.ts';
import type { Metrics } from './metrics.ts';
import type { StateQueries } from '../component/state.ts';
import { answerStateQuery, parseStatePath } from './state-route.ts';

export interface OpsServer {
  /** The port listened on (the free one picked for port 0); undefined when disabled. */
  readonly port: number | undefined;
  stop(): Promise<void>;
}

const DISABLED: OpsServer = { port: undefined, stop: async () => undefined };

const json = (body: unknown) => `${JSON.stringify(body)}\n`;

export async function startOpsServer(settings: RootConfig['observe'], metrics: Metrics, logger: Logger, state?: StateQueries): Promise<OpsServer> {
  const { enabled, host, port } = settings.http;
  if (!enabled) return DISABLED;
  const limits: ReadinessLimits = {
    maxCircuitOpenMs: settings.readiness['max-circuit-open-ms'],
    maxBrokerSilenceMs: settings.readiness['max-broker-silence-ms'],
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://ops');
    const path = url.pathname;
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'text/plain', 'GET only\n');
    if (path === '/healthz') return answer(200, 'application/json', json({ status: 'alive' }));
    if (path === '/readyz') {
      const failing = metrics.readiness.problems(limits);
      return failing.length === 0 ? answer(200, 'application/json', json({ status: 'ready' })) : answer(503, 'application/json', json({ status: 'not ready', failing }));
    }
    if (path === '/metrics') {
      metrics.text().then(
        (text) => answer(200, metrics.contentType, text),
        (error: unknown) => answer(500, 'text/plain', `metrics: ${(error as Error).message}\n`),
      );
      return;
    }
    if (path.startsWith('/state/') && state) {
      const query = parseStatePath(path, url.searchParams);
      if (!query) return answer(404, 'application/json', json({ error: 'not a state query: /state/<flow>/<store>[/<key>]' }));
      try {
        const { status, body } = answerStateQuery(state, query);
        return answer(status, 'application/json', json(body));
      } catch (error) {
        // a store closed or failing under the read: the query fails, the process runs on
        return answer(500, 'application/json', json({ error: `state query failed: ${(error as Error).message}` }));
      }
    }
    answer(404, 'text/plain', `not found: /metrics, /healthz, /readyz${state ? ', /state/<flow>/<store>[/<key>]' : ''}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: Error) => reject(new SluiceError('SLC_CONFIG', `observe.http: cannot listen on ${host}:${port}: ${cause.message}`, { cause })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ port: bound }, 'ops server listening: /metrics, /healthz, /readyz');
  return {
    port: bound,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await closed;
    },
  };
}
