// Fetches that keep failing while the broker and the consumer group answer (issue 20): on a broker
// of its own with ACLs on (scripts/kafka.sh with KAFKA_AUTHORIZER=1; ports:
// SLUICE_TEST_KAFKA_ACL_PORT, default SLUICE_TEST_KAFKA_PORT + 50, and the next for its
// controller), a running flow's input topic gets a DENY Read ACL (and ALLOW Describe and Write, so
// that metadata still answers and records can be produced): every fetch is refused (TOPIC_AUTHORIZATION_FAILED) while heartbeats go on.
//   - platformatic (which retries a failing fetch for 90 s): after max-broker-silence-ms, /readyz
//     is 503 naming the flow, the topic, its partitions and the fetch error;
//     sluice_kafka_fetch_failing_partitions counts the partitions; one log line when the fetches
//     start failing. The ACLs removed: /readyz 200 again, one log line, the gauge 0, and the
//     records produced meanwhile come out; the process never exited.
//   - kafkajs (which takes an authorization failure as fatal): the flow fails at once, exit 70,
//     a named error (not an internal fault).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin, type AclEntry } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { ensureBuilt, KCAT, Processor, sleep, uniqueNames, waitFor } from './harness.ts';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const PORT = Number(process.env.SLUICE_TEST_KAFKA_ACL_PORT ?? Number(process.env.SLUICE_TEST_KAFKA_PORT ?? 19092) + 50);
const BROKER = `127.0.0.1:${PORT}`;
const RUN = join(tmpdir(), `sluice-kafka-acl-${PORT}`);
const SILENCE_MS = 2000;
const unique = uniqueNames('ff');

const brokerEnv = { ...process.env, KAFKA_PORT: String(PORT), KAFKA_CONTROLLER_PORT: String(PORT + 1), SLUICE_KAFKA_RUN: RUN, KAFKA_AUTHORIZER: '1' };
const kafkaSh = (command: string, ...args: string[]) =>
  spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), command, ...args], { env: brokerEnv, encoding: 'utf8', timeout: 300_000 });

function kcat(args: string[], input?: string): string {
  const result = spawnSync(KCAT, ['-b', BROKER, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

const outputs = (topic: string) => kcat(['-C', '-t', topic, '-e', '-q', '-f', '%s\n']).split('\n').filter((l) => l !== '');

/**
 * Refuses the anonymous principal (every plaintext client) Read on `topic`; Describe (metadata)
 * and Write stay allowed (a topic with ACLs allows only what they allow).
 */
const refusal = (topic: string): AclEntry[] =>
  ([[AclOperationTypes.READ, AclPermissionTypes.DENY], [AclOperationTypes.DESCRIBE, AclPermissionTypes.ALLOW], [AclOperationTypes.WRITE, AclPermissionTypes.ALLOW]] as const).map(([operation, permissionType]) => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:ANONYMOUS',
    host: '*',
    operation,
    permissionType,
  }));

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** One Prometheus sample's value (0 when absent). */
function metric(text: string, name: string, flow: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`flow="${flow}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

let dir = '';
let admin: KafkajsAdmin | undefined;
const processors: Processor[] = [];
let passed = 0;
const TESTS = 2;

/** A flow on `client` reading a fresh 2-partition topic (3 records on it) on the ACL broker; started, its outputs written. */
async function startFlow(client: 'platformatic' | 'kafkajs') {
  const [input, output, dlq] = ['in', 'out', 'dlq'].map((what) => unique(`${client}-${what}`)) as [string, string, string];
  await admin!.createTopics({ waitForLeaders: true, topics: [input, output, dlq].map((topic) => ({ topic, numPartitions: topic === dlq ? 1 : 2 })) });
  kcat(['-P', '-t', input], '{"n":1}\n{"n":2}\n{"n":3}\n');
  const config = join(dir, `${client}.conf`);
  const log = join(dir, `${client}.log`);
  const kafka = `client = ${client}, brokers = "${BROKER}"`;
  writeFileSync(
    config,
    [
      `log { level = info, destination = "${log}" }`,
      'progress = off',
      'observe.http.port = 0',
      // heartbeats well within the silence: only the fetches fail
      `observe.readiness.max-broker-silence-ms = ${SILENCE_MS}`,
      'flows.acl {',
      '  rules = {}',
      `  source { kind = kafka, ${kafka}, topic = "${input}", group-id = "${unique(`${client}-group`)}", heartbeat-interval-ms = 300, session-timeout-ms = 6000 }`,
      `  sink { kind = kafka, ${kafka}, topic = "${output}" }`,
      `  dead-letter { kind = kafka, ${kafka}, topic = "${dlq}" }`,
      '}',
    ].join('\n') + '\n',
  );
  const processor = new Processor(config, log);
  processors.push(processor);
  let port = 0;
  await waitFor('the ops server', () => {
    if (processor.exit) throw new Error(`exited before its ops server listened:\n${processor.explain()}`);
    port = (processor.log().find((l) => String(l.msg).startsWith('ops server listening'))?.port as number | undefined) ?? 0;
    return port > 0;
  }, 60_000);
  await waitFor('the first 3 outputs', () => outputs(output).length === 3, 60_000, 200);
  await waitFor('/readyz 200', async () => (await get(port, '/readyz')).status === 200, 30_000);
  return { input, output, processor, port };
}

const fetchFailure = suite('kafka: fetches refused while the broker and the group answer (ACLs): /readyz 503 naming them, recovery; or a named failure');

fetchFailure.before(async () => {
  ensureBuilt();
  const started = kafkaSh('start', '--purge');
  if (started.status !== 0) throw new Error(`scripts/kafka.sh start (KAFKA_AUTHORIZER=1 on ${BROKER}) failed:\n${started.stdout}\n${started.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'sluice-fetch-failure-'));
  admin = new kafkajs.Kafka({ brokers: [BROKER], clientId: 'sluice-fetch-failure-test', logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
});

fetchFailure.after(async () => {
  for (const p of processors) if (!p.exit) await p.stop('SIGKILL');
  await admin?.disconnect().catch(() => undefined);
  kafkaSh('stop', '--purge');
  if (dir && passed === TESTS) rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`  kept ${dir} (the processors' logs)`);
});

fetchFailure('platformatic: /readyz 503 naming the partitions and the fetch error after max-broker-silence-ms, a gauge, one log line each way; recovers', async () => {
  const { input, output, processor, port } = await startFlow('platformatic');
  await admin!.createAcls({ acl: refusal(input) });
  const refusedAt = Date.now();
  let body = '';
  await waitFor('/readyz 503 naming the failing fetches', async () => {
    if (processor.exit) throw new Error(`exited while fetches were refused:\n${processor.explain()}`);
    const ready = await get(port, '/readyz');
    body = ready.body;
    return ready.status === 503;
  }, 30_000);
  const tookMs = Date.now() - refusedAt;
  assert.ok(tookMs >= SILENCE_MS, `503 only after max-broker-silence-ms (${SILENCE_MS} ms): after ${tookMs} ms`);
  const failing = (JSON.parse(body) as { failing: string[] }).failing;
  assert.equal(failing.length, 1, `one problem: ${body}`);
  assert.match(failing[0]!, new RegExp(`^flow acl: fetches of ${input} partition [01], ${input} partition [01] failing for \\d+ s: .*TOPIC_AUTHORIZATION_FAILED`));
  assert.not.match(body, BROKER, 'no broker address in the body');
  assert.is(metric((await get(port, '/metrics')).body, 'sluice_kafka_fetch_failing_partitions', 'acl'), 2, 'the gauge counts the partitions');

  kcat(['-P', '-t', input], '{"n":4}\n{"n":5}\n{"n":6}\n');
  await admin!.deleteAcls({ filters: refusal(input) });
  await waitFor('/readyz 200 again', async () => (await get(port, '/readyz')).status === 200, 30_000);
  await waitFor('the records produced while refused', () => outputs(output).length === 6, 30_000, 200);
  assert.is(metric((await get(port, '/metrics')).body, 'sluice_kafka_fetch_failing_partitions', 'acl'), 0, 'the gauge back to 0');
  const lines = processor.log().filter((l) => l.flow === 'acl');
  const started = lines.filter((l) => l.msg === 'fetches failing: retrying');
  assert.is(started.length, 1, 'one log line when the fetches start failing');
  assert.match(String(started[0]!.error), 'TOPIC_AUTHORIZATION_FAILED');
  assert.equal(started[0]!.partitions, [0, 1].map((p) => `${input} partition ${p}`).sort(), 'the line names the partitions');
  assert.is(lines.filter((l) => l.msg === 'fetches succeed again').length, 1, 'one log line when they succeed again');
  assert.is(processor.exit, undefined, 'the process never exited');
  assert.equal(await processor.stop('SIGTERM'), { code: 0, signal: null }, processor.explain());
  passed++;
});

fetchFailure('kafkajs: a refused fetch fails the flow at once: exit 70 with a named error', async () => {
  const { input, processor } = await startFlow('kafkajs');
  await admin!.createAcls({ acl: refusal(input) });
  const exit = await Promise.race([processor.exited, sleep(30_000).then(() => ({ code: null, signal: null }))]);
  assert.is(exit.code, 70, `exit 70\n${processor.explain()}`);
  assert.match(processor.stderr, /sluice: flow acl: the Kafka consumer stopped: .*Topic authorization failed/);
  assert.not.match(processor.stderr, 'internal fault');
  passed++;
});

fetchFailure.run();
