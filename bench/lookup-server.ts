// An enrichment service for the benchmarks: Sluice's lookup server on its own, in its own process
// (as a remote service would be), answering after a fixed delay.
//   tsx bench/lookup-server.ts PORT DELAY_MS '{"/placements/{placementId}": {"file": "/abs/placements.ndjson", "key": "placementId"}}'
// Prints "listening PORT" once it accepts connections.
import { startLocalService } from '../src/io/http/local-server.ts';

const [port, delayMs, routes] = process.argv.slice(2);
const server = await startLocalService('bench', { port: Number(port), 'delay-ms': Number(delayMs), routes: JSON.parse(routes!) }, () => '/');
const address = server.address();
console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
