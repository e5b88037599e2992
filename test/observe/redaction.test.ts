// Secrets never reach a log line or `sluice check --print`: a SASL password and HTTP credentials
// (Authorization, x-api-key) given through the environment are used (the HTTP server here sees
// them) and show as [redacted] wherever the configuration is written out. Also: the log level from
// SLUICE_LOG_LEVEL wins over the file, log.format = pretty, and `sluice check` warns (exit 0) about
// a secret written in a file.
import { spawn, spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../src/observe/logger.ts';
import { packageRoot } from '../../src/package-root.ts';
import { CLI, ensureBuilt, waitFor } from '../io/kafka/harness.ts';

const SECRETS = { REDACTION_TEST_SASL_PASSWORD: 'pw-5f1c9e2a', REDACTION_TEST_TOKEN: 'tok-8d03b7c4', REDACTION_TEST_API_KEY: 'key-2e6a91f0' };
const REDACTED = '[redacted]';

let dir = '';
let server: Server | undefined;
let port = 0;
const seen: IncomingHttpHeaders[] = [];

const redaction = suite('secrets are redacted in logs and in check --print');

redaction.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-redaction-'));
  server = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"category":"news"}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

redaction.after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A configuration: a file flow enriching over HTTP with credentials, and a Kafka flow (disabled) with a SASL password. */
function writeConfig(name: string, extra = '', options: { input?: string; firstStages?: string } = {}): string {
  const input = options.input ?? join(dir, 'in.ndjson');
  if (options.input === undefined) writeFileSync(input, '{"id":"c1"}\n{"id":"c2"}\n');
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `log { level = warn, destination = "${join(dir, `${name}.log`)}" }
progress = off
services.api.base-url = "http://127.0.0.1:${port}"
flows.items {
  on-invalid = drop
  rules { type = object, required = [id], properties { id { type = string } } }
  source { kind = file, path = "${input}" }
  stages = [${options.firstStages ?? ''}
    { kind = map, target = "sluice.recommender.v1.ItemRecord", fields { item_id = id } }
    {
      kind = enrich-http, service = api, url = "/documents/{id}", merge { category = category }, on-failure = drop
      headers { Authorization = "Bearer "\${REDACTION_TEST_TOKEN}, x-api-key = \${REDACTION_TEST_API_KEY} }
    }
  ]
  sink { kind = file, path = "${join(dir, `${name}.out.ndjson`)}", encoding = json }
}
flows.events {
  enabled = false
  on-invalid = drop
  rules = true
  source {
    kind = kafka, brokers = "127.0.0.1:9", topic = events, group-id = sluice-events
    tls { enabled = true }
    sasl { mechanism = scram-sha-512, username = sluice, password = \${REDACTION_TEST_SASL_PASSWORD} }
  }
  sink { kind = file, path = "${join(dir, 'events.ndjson')}" }
}
${extra}
`,
  );
  return file;
}

/** The built CLI as a child, asynchronously: the HTTP server of this process must keep answering. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_')));
  const child = spawn(process.execPath, [CLI, ...args], { cwd: packageRoot, env: { ...base, ...SECRETS, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

function assertNoSecret(text: string, where: string): void {
  for (const [name, value] of Object.entries(SECRETS)) assert.not.match(text, value, `${where} shows ${name}`);
}

redaction('sluice run: the credentials are sent, and the log (debug, from SLUICE_LOG_LEVEL) shows them redacted', async () => {
  ensureBuilt();
  const config = writeConfig('run');
  const run = await cli(['run', '--config', config], { SLUICE_LOG_LEVEL: 'debug' });
  assert.is(run.status, 0, `sluice run: ${run.stderr}`);
  assert.ok(seen.length >= 2, 'the HTTP service was called');
  assert.is(seen[0]!.authorization, `Bearer ${SECRETS.REDACTION_TEST_TOKEN}`, 'the Authorization header is sent as configured');
  assert.is(seen[0]!['x-api-key'], SECRETS.REDACTION_TEST_API_KEY);
  const log = readFileSync(join(dir, 'run.log'), 'utf8');
  assertNoSecret(log, 'the log');
  const configuration = log.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'configuration');
  assert.ok(configuration, 'SLUICE_LOG_LEVEL=debug overrides log.level = warn: the debug line with the configuration is there');
  const flows = (configuration!.config as { flows: Record<string, { source: Record<string, unknown>; stages: Record<string, unknown>[] }> }).flows;
  assert.equal(flows.events!.source.sasl, { mechanism: 'scram-sha-512', username: 'sluice', password: REDACTED });
  assert.equal(flows.items!.stages[1]!.headers, { Authorization: REDACTED, 'x-api-key': REDACTED });
  assertNoSecret(run.stdout + run.stderr, 'the output');
});

redaction('sluice run: the ops endpoint\'s /state answers (values, sizes, 404s) show no credential, service URL or broker', async () => {
  const fifo = join(dir, 'state.fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const config = writeConfig('state', 'observe.http.port = 0\nlog.level = info\nflows.items.source.batch-size = 1', { input: fifo, firstStages: '{ kind = dedupe, key = id, store = seen, backend = memory }' });
  const run = cli(['run', '--config', config]);
  const log = join(dir, 'state.log');
  let port = 0;
  await waitFor('the ops server', () => {
    const listening = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes('ops server listening')) : undefined;
    port = listening ? (JSON.parse(listening) as { port: number }).port : 0;
    return port > 0;
  }, 30_000);
  const writer = await open(fifo, 'w');
  try {
    await writer.write('{"id":"c1"}\n{"id":"c2"}\n');
    const ask = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, text: await response.text() };
    };
    await waitFor('both keys stored', async () => (await ask('/state/items/seen/c2')).status === 200, 30_000, 50);
    const answers = await Promise.all(['/state/items/seen/c1', '/state/items/seen', '/state/items', '/state/items/seen/none', '/state/items/other/c1', '/state/events/seen/c1'].map(ask));
    assert.equal(answers.map((a) => a.status), [200, 200, 200, 404, 404, 404]);
    for (const { text } of answers) {
      assertNoSecret(text, 'a /state body');
      for (const value of [`127.0.0.1:${port}`, '127.0.0.1:9', 'http://', dir]) assert.not.ok(text.includes(value), `a /state body shows "${value}"`);
    }
  } finally {
    await writer.close();
  }
  const result = await run;
  assert.is(result.status, 0, result.stderr);
});

redaction('sluice check --print shows the secrets redacted; given from the environment, no warning', async () => {
  const check = await cli(['check', '--print', '--config', writeConfig('print')]);
  assert.is(check.status, 0, check.stderr);
  assertNoSecret(check.stdout + check.stderr, 'check --print');
  const printed = JSON.parse(check.stdout) as { flows: Record<string, { source: Record<string, unknown>; stages: Record<string, unknown>[] }> };
  assert.equal(printed.flows.events!.source.sasl, { mechanism: 'scram-sha-512', username: 'sluice', password: REDACTED });
  assert.equal(printed.flows.items!.stages[1]!.headers, { Authorization: REDACTED, 'x-api-key': REDACTED });
  assert.is(check.stderr, '', 'no warning');
});

redaction('sluice check warns (exit 0) about each secret written in a file, naming the file and line', async () => {
  const file = writeConfig('literal', 'flows.events.source.sasl.password = "written-here"');
  const check = await cli(['check', '--config', file]);
  assert.is(check.status, 0, check.stderr);
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('written-here')) + 1;
  assert.match(check.stderr, `sluice: warning: ${file.replace(`${packageRoot}/`, '')}:${line}: password: a secret written in the file`);
  assert.is(check.stderr.trim().split('\n').length, 1, `one warning:\n${check.stderr}`);
});

redaction('a password inside a URL (a service base-url, brokers) is redacted in check --print and warned about', async () => {
  const file = writeConfig('url', `services.api.base-url = "http://reader:\${REDACTION_TEST_SASL_PASSWORD}@127.0.0.1:${port}/v1"`);
  const check = await cli(['check', '--print', '--config', file]);
  assert.is(check.status, 0, check.stderr);
  assertNoSecret(check.stdout + check.stderr, 'check --print');
  const printed = JSON.parse(check.stdout) as { services: { api: { 'base-url': string } } };
  assert.is(printed.services.api['base-url'], `http://reader:${REDACTED}@127.0.0.1:${port}/v1`, 'the user and the address stay');
  assert.match(check.stderr, /sluice: warning: .*url\.conf: services\.api\.base-url: a password inside a URL/);
  assert.is(check.stderr.trim().split('\n').length, 1, `one warning:\n${check.stderr}`);
  const describe = await cli(['check', '--describe', '--config', file]);
  assert.is(describe.status, 0, describe.stderr);
  assert.match(describe.stdout, `reader:${REDACTED}@`);
  assertNoSecret(describe.stdout, 'check --describe');
});

redaction('log lines redact a password inside a URL, in fields and in the message text', async () => {
  const file = join(dir, 'url-password.log');
  const logger = createLogger({ level: 'info', destination: file });
  const password = SECRETS.REDACTION_TEST_SASL_PASSWORD;
  logger.warn({ url: `https://reader:${password}@lookup.example/v1/items`, brokers: [`sluice:${password}@broker-1:9092`] }, `GET http://reader:${password}@lookup.example/v1 failed`);
  await waitFor('the log line', () => existsSync(file) && readFileSync(file, 'utf8').includes('\n'), 5_000);
  const text = readFileSync(file, 'utf8');
  assertNoSecret(text, 'the log');
  const line = JSON.parse(text) as { url: string; brokers: string[]; msg: string };
  assert.is(line.url, `https://reader:${REDACTED}@lookup.example/v1/items`);
  assert.equal(line.brokers, [`sluice:${REDACTED}@broker-1:9092`]);
  assert.is(line.msg, `GET http://reader:${REDACTED}@lookup.example/v1 failed`);
});

redaction('log lines redact passwords and credential headers at any depth, in json and pretty format', async () => {
  for (const format of ['json', 'pretty'] as const) {
    const file = join(dir, `direct-${format}.log`);
    const logger = createLogger({ level: 'info', destination: file, format });
    logger.warn({
      flow: 'f',
      sasl: { password: SECRETS.REDACTION_TEST_SASL_PASSWORD },
      request: { headers: { Authorization: `Bearer ${SECRETS.REDACTION_TEST_TOKEN}`, 'x-api-key': SECRETS.REDACTION_TEST_API_KEY } },
    }, 'credentials in fields');
    // the destination opens and writes asynchronously
    await waitFor(`the ${format} log line`, () => existsSync(file) && readFileSync(file, 'utf8').includes('\n'), 5_000);
    const text = readFileSync(file, 'utf8');
    assert.match(text, 'credentials in fields', `${format}: the line is written`);
    assert.match(text, REDACTED, `${format}: marked redacted`);
    assertNoSecret(text, `the ${format} log`);
    if (format === 'json') {
      const line = JSON.parse(text) as { sasl: unknown; request: { headers: unknown } };
      assert.equal(line.sasl, { password: REDACTED });
      assert.equal(line.request.headers, { Authorization: REDACTED, 'x-api-key': REDACTED });
    } else assert.not.ok(text.trimStart().startsWith('{'), 'pretty: not JSON lines');
  }
});

redaction.run();
