// The thread of local mode's built-in lookup server (started by local-server.ts): parsing
// requests and answering them never takes the event loop of the flows that call it.
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { SluiceError } from '../../errors.ts';
import { type LookupWorkerData, type LookupWorkerReply, startLocalService } from './local-server.ts';

const { services } = workerData as LookupWorkerData;
const servers: Server[] = [];
let reply: LookupWorkerReply;
try {
  const ports: Record<string, number> = {};
  for (const { name, config } of services) {
    // the route files are absolute already: the main thread resolved them
    const server = await startLocalService(name, config, () => '/');
    servers.push(server);
    const address = server.address();
    ports[name] = typeof address === 'object' && address ? address.port : config.port;
  }
  reply = { ports };
} catch (error) {
  for (const server of servers) server.close();
  reply = { error: { code: error instanceof SluiceError ? error.code : 'SLC_IO', message: (error as Error).message } };
}
parentPort!.postMessage(reply);
