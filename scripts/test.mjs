#!/usr/bin/env node
// `npm test`: makes sure the build the tests need exists, starts a real Kafka broker (KRaft, from
// the Maven Central jars: scripts/kafka.sh) unless KAFKA_BROKERS names one, runs every uvu suite
// under test/ in one process (TypeScript through tsx), and stops the broker it started. A full run
// type-checks the tree first.
// An argument is a file pattern: `npm test -- core/` runs the suites whose path matches.
// SLUICE_KAFKA_CLIENT=kafkajs runs the Kafka suites on kafkajs (default: @platformatic/kafka).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args, env = {}) => spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

const built = ['build/sluice-core.wasm', 'build/sluice-core-scalar.wasm', 'dist/src/cli.js'].every((f) => existsSync(join(root, f)));
if (!built && run('npm', ['run', 'build']) !== 0) process.exit(1);

const pattern = process.argv[2] ?? '';
// SLUICE_TEST_BROKER=none: no broker, no type-check, only the suites that need no broker (CI runs
// them on the Node.js lines besides the one that runs everything); keep the list in step with them
const noBroker = process.env.SLUICE_TEST_BROKER === 'none';
const brokerSuites = '^(io/kafka/|deno/kafka|pipeline/reload|state/(flow-state|restore)|observe/(ops|state-route)|cli/produce|bench/kafka-transport)';
// the whole tree type-checks (src, tests, benchmarks, scripts) before any suite runs
if (pattern === '' && !noBroker && run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit']) !== 0) {
  console.error('test: type errors (see above)');
  process.exit(1);
}
const kafkaPort = process.env.SLUICE_TEST_KAFKA_PORT ?? '19092';
const ownBroker = !process.env.KAFKA_BROKERS && !noBroker;
const env = ownBroker ? { KAFKA_PORT: kafkaPort, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` } : {};
// a broker of its own: fresh (--purge) at the start, and no data left behind at the end
if (ownBroker && run('bash', ['scripts/kafka.sh', 'start', '--purge'], env) !== 0) {
  console.error('test: the Kafka broker did not start (see above)');
  process.exit(1);
}
// a full run runs these Kafka suites a second time on the other client (the transport conformance
// suite covers both by itself; crash, groups and broker-restart run on the default one only)
const otherClient = { SLUICE_KAFKA_CLIENT: 'kafkajs' };
const otherClientSuites = 'io/kafka/(flows|interop|exactly-once|hostile)\\.test\\.ts$';
let status;
try {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  status = run(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', `${escaped}.*\\.test\\.ts$`, ...(noBroker ? ['--ignore', brokerSuites] : [])], env);
  if (pattern === '' && !process.env.SLUICE_KAFKA_CLIENT && !noBroker) {
    console.log(`\ntest: the Kafka suites again on ${otherClient.SLUICE_KAFKA_CLIENT} (${otherClientSuites})`);
    status = run(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', otherClientSuites], { ...env, ...otherClient }) || status;
  }
} finally {
  if (ownBroker) run('bash', ['scripts/kafka.sh', 'stop', '--purge'], env);
}
process.exit(status);
