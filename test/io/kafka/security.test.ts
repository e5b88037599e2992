// Kafka over TLS and SASL, on a broker of its own that this suite starts with a SASL_SSL listener
// (scripts/kafka.sh with KAFKA_SASL_SSL_PORT: a self-signed CA made at start, users for PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512) and stops at the end. Ports: SLUICE_TEST_KAFKA_SECURE_PORT,
// default SLUICE_TEST_KAFKA_PORT + 100 (plaintext), +1 (controller), +2 (SASL_SSL).
//   - a flow (kafka source, kafka sink and dead letters, all over SASL_SSL, the CA from tls.ca-file,
//     the password from the environment) delivers its outputs and dead letter, once per mechanism
//     on platformatic (the default client), and on kafkajs with SCRAM-SHA-512;
//   - on both clients, a wrong password fails the flow at once with an error naming the mechanism
//     and the user, and a broker certificate from a CA the client does not trust fails the flow at
//     once, pointing at tls.ca-file; a missing ca-file is a configuration error;
//   - `sluice topics create` and `sluice produce` reach the cluster with the kafka block's tls and
//     sasl, which components take by substitution.
// The inputs are produced and the outputs read over the plaintext listener (kcat).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, resourcesOf } from '../../../src/pipeline/load.ts';
import { SluiceError } from '../../../src/errors.ts';
import { buildFlows } from '../../../src/pipeline/build.ts';
import { packageRoot } from '../../../src/package-root.ts';
import { CLI, ensureBuilt, KCAT, uniqueNames, waitFor } from './harness.ts';

const BASE = Number(process.env.SLUICE_TEST_KAFKA_SECURE_PORT ?? Number(process.env.SLUICE_TEST_KAFKA_PORT ?? 19092) + 100);
const PLAINTEXT = `127.0.0.1:${BASE}`;
const SASL_SSL = `127.0.0.1:${BASE + 2}`;
const RUN = join(tmpdir(), `sluice-kafka-secure-${BASE}`);
const CA = join(RUN, 'tls', 'ca.crt');
const USER = 'sluice';
const PASSWORD = 'sluice-secret';
const PASSWORD_VARIABLE = 'TEST_KAFKA_SASL_PASSWORD';
// SLUICE_TEST_LOG=debug shows the flow's logs (kafkajs) on stderr
const logger = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });
const unique = uniqueNames('sec');

const brokerEnv = { ...process.env, KAFKA_PORT: String(BASE), KAFKA_SASL_SSL_PORT: String(BASE + 2), SLUICE_KAFKA_RUN: RUN, KAFKA_SASL_USER: USER, KAFKA_SASL_PASSWORD: PASSWORD };
const kafkaSh = (command: string, ...args: string[]) =>
  spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), command, ...args], { env: brokerEnv, encoding: 'utf8', timeout: 300_000 });

function kcat(args: string[], input?: string): string {
  const result = spawnSync(KCAT, ['-b', PLAINTEXT, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

const lines = (topic: string) => kcat(['-C', '-t', topic, '-e', '-q', '-f', '%s\n']).split('\n').filter((l) => l !== '');

let dir = '';
let admin: KafkajsAdmin | undefined;
const security = suite('kafka security: a flow over SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); refused logins and untrusted certificates fail clearly');

security.before(async () => {
  const started = kafkaSh('start', '--purge');
  if (started.status !== 0) throw new Error(`scripts/kafka.sh start (SASL_SSL on ${SASL_SSL}) failed:\n${started.stdout}\n${started.stderr}`);
  assert.match(started.stdout, `CA: ${CA}`, 'kafka.sh names the CA to trust');
  dir = mkdtempSync(join(tmpdir(), 'sluice-security-'));
  admin = new kafkajs.Kafka({ brokers: [PLAINTEXT], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
});

security.after(async () => {
  delete process.env[PASSWORD_VARIABLE];
  await admin?.disconnect().catch(() => undefined);
  kafkaSh('stop', '--purge');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Topics {
  input: string;
  output: string;
  dlq: string;
  group: string;
}

/** A configuration of one flow whose three Kafka components connect over SASL_SSL with `security`. */
function writeConfig(topics: Topics, security: string): string {
  const connection = `brokers = "${SASL_SSL}", ${security}`;
  const file = join(dir, `${topics.group}.conf`);
  writeFileSync(
    file,
    `log { level = warn, destination = "${join(dir, 'sluice.log')}" }
progress = off
flows.secure {
  rules { type = object, required = [id], properties { id { type = string } } }
  source { kind = kafka, ${connection}, topic = "${topics.input}", group-id = "${topics.group}", commit-interval-ms = 0 }
  sink { kind = kafka, ${connection}, topic = "${topics.output}" }
  dead-letter { kind = kafka, ${connection}, topic = "${topics.dlq}" }
}
`,
  );
  return file;
}

async function freshTopics(what: string): Promise<Topics> {
  const topics = { input: unique(`${what}-in`), output: unique(`${what}-out`), dlq: unique(`${what}-dlq`), group: unique(`${what}-group`) };
  await admin!.createTopics({ waitForLeaders: true, topics: [topics.input, topics.output, topics.dlq].map((topic) => ({ topic, numPartitions: 1 })) });
  return topics;
}

/** Runs the configuration's flow; resolves with its error (or undefined when it was stopped by `until`). */
async function runFlow(file: string, until?: () => boolean): Promise<{ error?: Error; ms: number }> {
  const config = await loadConfig(file);
  assert.equal(config.warnings, [], 'the password comes from the environment: no warning');
  const [flow] = buildFlows(config.flows, resourcesOf(config, logger));
  const started = Date.now();
  const running = flow!.run();
  if (until) {
    try {
      await waitFor('the outputs', until, 60_000, 200);
    } finally {
      await flow!.stop();
    }
  }
  try {
    await running;
    return { ms: Date.now() - started };
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
}

const VALID = ['{"id":"a1","n":1}', '{"id":"a2","n":2}', '{"id":"a3","n":3}'];
const INVALID = '{"n":4}';

const CASES = [...(['plain', 'scram-sha-256', 'scram-sha-512'] as const).map((mechanism) => ({ mechanism, client: 'platformatic' })), { mechanism: 'scram-sha-512', client: 'kafkajs' }];
const CLIENTS = ['platformatic', 'kafkajs'] as const;
for (const { mechanism, client } of CASES) {
  security(`a flow over SASL_SSL with ${mechanism} (${client}) delivers its outputs and dead letter`, async () => {
    const topics = await freshTopics(`${mechanism}-${client}`);
    kcat(['-P', '-t', topics.input], `${[...VALID, INVALID].join('\n')}\n`);
    process.env[PASSWORD_VARIABLE] = PASSWORD;
    const file = writeConfig(topics, `client = ${client}, tls { ca-file = "${CA}" }, sasl { mechanism = ${mechanism}, username = ${USER}, password = \${${PASSWORD_VARIABLE}} }`);
    const outcome = await runFlow(file, () => lines(topics.output).length >= VALID.length && lines(topics.dlq).length >= 1);
    assert.is(outcome.error, undefined, `the flow ran without error: ${outcome.error?.message}`);
    assert.equal(lines(topics.output), VALID, 'the valid inputs, in order, as they came');
    assert.equal(lines(topics.dlq), [INVALID], 'the invalid input dead-lettered');
  });
}

security('a wrong password fails the flow at once, naming the mechanism and the user', async () => {
  const topics = await freshTopics('wrong-password');
  kcat(['-P', '-t', topics.input], `${VALID[0]}\n`);
  process.env[PASSWORD_VARIABLE] = 'not-the-password';
  for (const client of CLIENTS) {
    for (const mechanism of ['plain', 'scram-sha-512'] as const) {
      const file = writeConfig(topics, `client = ${client}, tls { ca-file = "${CA}" }, sasl { mechanism = ${mechanism}, username = ${USER}, password = \${${PASSWORD_VARIABLE}} }`);
      const outcome = await runFlow(file);
      assert.instance(outcome.error, SluiceError, `${client}, ${mechanism}: the flow fails with a SluiceError, got ${outcome.error}`);
      assert.match(outcome.error!.message, `SASL ${mechanism} login as "${USER}" refused`);
      assert.not.match(outcome.error!.message, 'not-the-password', 'the message does not show the password');
      assert.ok(outcome.ms < 20_000, `${client}, ${mechanism}: failed in ${outcome.ms} ms, not after the connection retries`);
    }
  }
  assert.equal(lines(topics.output), [], 'nothing written');
});

security('a broker certificate from an untrusted CA fails the flow at once, pointing at tls.ca-file', async () => {
  const topics = await freshTopics('untrusted');
  process.env[PASSWORD_VARIABLE] = PASSWORD;
  // no ca-file: the system CAs, which do not include the test CA
  for (const client of CLIENTS) {
    const file = writeConfig(topics, `client = ${client}, tls { enabled = true }, sasl { mechanism = plain, username = ${USER}, password = \${${PASSWORD_VARIABLE}} }`);
    const outcome = await runFlow(file);
    assert.instance(outcome.error, SluiceError, `${client}: the flow fails with a SluiceError, got ${outcome.error}`);
    assert.match(outcome.error!.message, `TLS to ${SASL_SSL}: the broker's certificate is not trusted`);
    assert.match(outcome.error!.message, 'tls.ca-file');
    assert.ok(outcome.ms < 20_000, `${client}: failed in ${outcome.ms} ms, not after the connection retries`);
  }
});

security('a missing tls.ca-file is a configuration error naming the key', async () => {
  const topics = { input: 'i', output: 'o', dlq: 'd', group: unique('missing-ca') };
  process.env[PASSWORD_VARIABLE] = PASSWORD;
  const file = writeConfig(topics, `tls { ca-file = "${join(dir, 'no-such-ca.crt')}" }, sasl { mechanism = plain, username = ${USER}, password = \${${PASSWORD_VARIABLE}} }`);
  const config = await loadConfig(file);
  try {
    buildFlows(config.flows, resourcesOf(config, logger));
    assert.unreachable('a missing CA file must not build');
  } catch (error) {
    assert.instance(error, SluiceError);
    assert.is((error as SluiceError).code, 'SLC_CONFIG');
    assert.match((error as Error).message, 'flows.secure.source.tls.ca-file: cannot read');
  }
});

security('sluice topics create and sluice produce over SASL_SSL with the kafka block; components take it by substitution', async () => {
  ensureBuilt();
  const topic = unique('tools');
  const file = join(dir, 'tools.conf');
  writeFileSync(
    file,
    `kafka {
  brokers = "${SASL_SSL}"
  tls { ca-file = "${CA}" }
  sasl { mechanism = scram-sha-256, username = ${USER}, password = \${${PASSWORD_VARIABLE}} }
  topics { "${topic}" = 2 }
}
flows.copy {
  on-invalid = drop
  rules = true
  source { kind = kafka, brokers = \${kafka.brokers}, tls = \${kafka.tls}, sasl = \${kafka.sasl}, topic = "${topic}", group-id = g }
  sink { kind = file, path = "${join(dir, 'copy.ndjson')}" }
}
`,
  );
  const input = join(dir, 'tools.ndjson');
  writeFileSync(input, `${VALID.join('\n')}\n`);
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_'))), [PASSWORD_VARIABLE]: PASSWORD };
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const check = cli('check', '--print', '--config', file);
  assert.is(check.status, 0, check.stderr);
  const printed = JSON.parse(check.stdout) as { flows: { copy: { source: { sasl: unknown } } } };
  assert.equal(printed.flows.copy.source.sasl, { mechanism: 'scram-sha-256', username: USER, password: '[redacted]' }, 'the component has the kafka block\'s sasl');
  const created = cli('topics', 'create', '--config', file);
  assert.is(created.status, 0, created.stderr);
  assert.match(created.stdout, `${topic}\t2 partitions\tcreated`);
  const produced = cli('produce', '--config', file, '--topic', topic, '--file', input);
  assert.is(produced.status, 0, produced.stderr);
  assert.equal(lines(topic).sort(), [...VALID].sort(), 'the lines are on the topic (read over the plaintext listener)');
});

security.run();
