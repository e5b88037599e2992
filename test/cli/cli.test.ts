// The built `sluice` command (dist/src/cli.js): exit codes and what it prints for check,
// validate and run. Exit codes: 0 success, 1 invalid messages (validate), 2 a broken
// configuration or command line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_DEPTH_LIMIT } from '../../src/core/limits.ts';
import { packageRoot } from '../../src/package-root.ts';
import { expectedOutcomes, STAGE_FAILURES } from '../io/kafka/harness.ts';

const cli = join(packageRoot, 'dist', 'src', 'cli.js');
const localConf = join(packageRoot, 'config', 'local.conf');
const qalConf = join(packageRoot, 'config', 'qal.conf');

// the command runs without the SLUICE_* variables and the KAFKA_BROKERS the shipped configurations
// read (scripts/test.mjs sets KAFKA_BROKERS for the broker it starts)
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_') && name !== 'KAFKA_BROKERS'),
);

/** production.conf also reads the enrichment services' URLs (local.conf and qal.conf would use them instead of the built-in server). */
const PRODUCTION_URLS = { CONTENT_API_URL: 'http://content-api.test', CAMPAIGN_MANAGER_URL: 'http://campaign-manager.test', RECOMMENDER_API_URL: 'http://recommender-api.test' };
/** The stage kinds base.conf gives each flow. */
const STAGE_KINDS: Record<string, string[]> = { content: ['filter', 'latest', 'map', 'enrich-http'], campaign: ['filter', 'dedupe', 'map', 'lookup', 'enrich-http'], engagement: ['filter', 'dedupe', 'key-by', 'aggregate'] };
const production = (...args: string[]): Result => sluiceWith(PRODUCTION_URLS, ...args);

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function sluiceWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Result {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: packageRoot, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sluice = (...args: string[]): Result => sluiceWith({}, ...args);

const MISSING_BROKERS = 'config/production.conf: (substitution): ${KAFKA_BROKERS} is neither a configuration key nor a set environment variable';

const explain = (r: Result) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

let dir: string;
let counter = 0;

test.before(() => {
  assert.ok(existsSync(cli), `${cli} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), 'sluice-'));
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A file in a fresh sub-directory of the temp dir. */
function file(name: string, content: string | Uint8Array): string {
  const caseDir = join(dir, `case-${++counter}`);
  mkdirSync(caseDir, { recursive: true });
  const path = join(caseDir, name);
  writeFileSync(path, content);
  return path;
}

// ---------------------------------------------------------------------------------------------
// check

test('check on config/local.conf exits 0', () => {
  const r = sluice('check', '--config', 'config/local.conf');
  assert.is(r.status, 0, explain(r));
  assert.match(r.stdout, /^ok: /);
  assert.match(r.stdout, 'campaign');
  assert.match(r.stdout, 'content');
  assert.match(r.stdout, 'config/local.conf');
  assert.match(r.stdout, 'config/base.conf');
});

test('check on config/qal.conf exits 0 without a broker', () => {
  const r = sluice('check', '--config', 'config/qal.conf');
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, 'ok: campaign, content, engagement (config/qal.conf, config/base.conf, config/lookup-server.conf)\n');
});

test('check defaults to $SLUICE_CONFIG when it is set', () => {
  const r = sluiceWith({ SLUICE_CONFIG: 'config/qal.conf' }, 'check');
  assert.is(r.status, 0, explain(r));
  assert.match(r.stdout, 'config/qal.conf');
  assert.not.match(r.stdout, 'local.conf');
});

test('check --print on config/qal.conf: kafka sources and sinks on the default broker, or on $KAFKA_BROKERS', () => {
  const r = sluice('check', '-c', 'config/qal.conf', '--print');
  assert.is(r.status, 0, explain(r));
  const printed = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(printed.log, { level: 'debug', destination: 'stderr', format: 'json', 'failures-per-second': 100 });
  const topics = {
    content: ['qal.oicms.content-items', 'qal.recommender.items', 'qal.sluice.content.dlq'],
    campaign: ['qal.cm.campaign-events', 'qal.recommender.events', 'qal.sluice.campaign.dlq'],
    engagement: ['qal.cm.campaign-events', 'qal.recommender.item-engagement', 'qal.sluice.engagement.dlq'],
  };
  for (const [name, [input, output, deadLetters]] of Object.entries(topics)) {
    const flow = printed.flows[name];
    for (const role of ['source', 'sink', 'dead-letter']) {
      assert.is(flow[role].kind, 'kafka', `${name} ${role}`);
      assert.equal(flow[role].brokers, ['127.0.0.1:9092'], `${name} ${role}`);
    }
    assert.is(flow.source.topic, input);
    assert.is(flow.source['group-id'], `sluice-qal-${name}`);
    assert.is(flow.sink.topic, output);
    assert.is(flow.sink.encoding, 'json');
    assert.is(flow.sink.compression, 'lz4');
    assert.is(flow['dead-letter'].topic, deadLetters);
    assert.equal(flow.stages.map((s: { kind: string }) => s.kind), STAGE_KINDS[name], 'the stages of base.conf');
  }
  assert.is(printed.flows.content.sink.key, 'id');
  assert.is(printed.flows.campaign.sink.key, 'userId');

  const moved = sluiceWith({ KAFKA_BROKERS: 'kafka-1.qal:9092,kafka-2.qal:9092' }, 'check', '-c', 'config/qal.conf', '--print');
  assert.is(moved.status, 0, explain(moved));
  const flows = (JSON.parse(moved.stdout) as Record<string, any>).flows;
  for (const name of ['content', 'campaign']) {
    for (const role of ['source', 'sink', 'dead-letter']) assert.equal(flows[name][role].brokers, ['kafka-1.qal:9092', 'kafka-2.qal:9092'], `${name} ${role}`);
  }
});

test('check --print on config/qal.conf shows the kafka block, topics with dots in their names', () => {
  const r = sluice('check', '-c', 'config/qal.conf', '--print');
  assert.is(r.status, 0, explain(r));
  const printed = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(printed.kafka, {
    brokers: '127.0.0.1:9092',
    topics: {
      'qal.oicms.content-items': 4,
      'qal.cm.campaign-events': 4,
      'qal.recommender.items': 4,
      'qal.recommender.events': 4,
      'qal.sluice.content.dlq': 1,
      'qal.sluice.campaign.dlq': 1,
      'qal.recommender.item-engagement': 4,
      'qal.sluice.engagement.dlq': 1,
    },
  }, `printed keys: ${Object.keys(printed).join(', ')}`);
});

test('check --describe on config/qal.conf: kafka source, sink and dead-letter', () => {
  const r = sluice('check', '-c', 'config/qal.conf', '--describe');
  assert.is(r.status, 0, explain(r));
  const lines = r.stdout.split('\n');
  for (const name of ['content', 'campaign']) {
    const row = (node: string) => lines.find((l) => l.trim().split(/\s+/)[0] === `${name}.${node}`)?.trim().split(/\s+/);
    assert.equal(row('source'), [`${name}.source`, 'source', 'kafka'], r.stdout);
    assert.equal(row('sink')?.slice(0, 3), [`${name}.sink`, 'sink', 'kafka'], r.stdout);
    assert.equal(row('dead-letter')?.slice(0, 3), [`${name}.dead-letter`, 'dead-letter', 'kafka'], r.stdout);
  }
});

test('check on config/production.conf without KAFKA_BROKERS exits 2 naming the variable', () => {
  const r = production('check', '-c', 'config/production.conf');
  assert.is(r.status, 2, explain(r));
  assert.is(r.stdout, '');
  assert.ok(r.stderr.includes(MISSING_BROKERS), explain(r));
  assert.not.match(r.stderr, /internal fault|at .*\.js:\d+/);
});

test('check on config/production.conf with no environment names every missing variable in one run', () => {
  const r = sluice('check', '-c', 'config/production.conf');
  assert.is(r.status, 2, explain(r));
  for (const name of ['KAFKA_BROKERS', 'CONTENT_API_URL', 'RECOMMENDER_API_URL']) {
    assert.ok(r.stderr.includes(`config/production.conf: (substitution): \${${name}} is neither a configuration key nor a set environment variable`), `${name}: ${explain(r)}`);
  }
  // the placeholder values standing in for them are not reported as wrong values too
  assert.is(r.stderr.trim().split('\n').length, 4, explain(r));
  assert.not.match(r.stderr, /unset-variable|host:port|an http/);
});

test('check lists every independent mistake in one run: variables, settings, flow settings, components, mappings', () => {
  const config = file(
    'mistakes.conf',
    `include "${localConf}"
progres = off
observe.http.port = "abc"
services.content-api.base-url = \${SLUICE_TEST_UNSET_URL}
flows.content.stages.2.fields.item_idd = id
flows.campaign.sink { kind = file, path = "out.ndjson", encoding = jsn }
flows.campaign.max-in-flight = -1
flows.content.source.path = \${SLUICE_TEST_UNSET_INPUT}
`,
  );
  const r = sluice('check', '-c', config);
  assert.is(r.status, 2, explain(r));
  const expected = [
    '(substitution): ${SLUICE_TEST_UNSET_URL} is neither a configuration key nor a set environment variable',
    '(substitution): ${SLUICE_TEST_UNSET_INPUT} is neither a configuration key nor a set environment variable',
    'observe.http.port: Invalid input: expected number, received string',
    'progres: unknown key',
    'flows.campaign.max-in-flight: Too small',
    'flows.campaign.sink.encoding: Invalid option',
    'flows.content.stages[2].fields.item_idd: sluice.recommender.v1.ItemRecord has no field "item_idd"',
  ];
  for (const problem of expected) assert.ok(r.stderr.includes(problem), `${problem}: ${explain(r)}`);
  assert.is(r.stderr.trim().split('\n').length, expected.length + 1, explain(r));
});

test('run on config/production.conf without KAFKA_BROKERS exits 2 before running', () => {
  const r = production('run', '-c', 'config/production.conf');
  assert.is(r.status, 2, explain(r));
  assert.ok(r.stderr.includes(MISSING_BROKERS), explain(r));
  assert.not.match(r.stderr, /internal fault|at .*\.js:\d+/);
});

test('check on config/production.conf with KAFKA_BROKERS exits 0; --print: protobuf to Kafka, progress off', () => {
  const brokers = { KAFKA_BROKERS: 'b-1.prod:9092,b-2.prod:9092' };
  const r = sluiceWith({ ...PRODUCTION_URLS, ...brokers }, 'check', '-c', 'config/production.conf');
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, 'ok: campaign, content, engagement (config/production.conf, config/base.conf)\n');

  const p = sluiceWith({ ...PRODUCTION_URLS, ...brokers }, 'check', '-c', 'config/production.conf', '--print');
  assert.is(p.status, 0, explain(p));
  const printed = JSON.parse(p.stdout) as Record<string, any>;
  assert.is(printed.progress, 'off');
  assert.equal(printed.log, { level: 'info', destination: 'stderr', format: 'json', 'failures-per-second': 100 });
  for (const name of ['content', 'campaign']) {
    const flow = printed.flows[name];
    for (const role of ['source', 'sink', 'dead-letter']) {
      assert.is(flow[role].kind, 'kafka', `${name} ${role}`);
      assert.equal(flow[role].brokers, ['b-1.prod:9092', 'b-2.prod:9092'], `${name} ${role}`);
    }
    assert.is(flow.sink.encoding, 'protobuf');
    assert.is(flow.sink.compression, 'zstd');
    assert.is(flow.sink.idempotent, true);
    assert.is(flow['dead-letter'].idempotent, true);
  }
  assert.is(printed.flows.content.source.topic, 'oicms.content-items');
  assert.is(printed.flows.campaign.sink.topic, 'recommender.events');
});

test('check defaults to the shipped local configuration', () => {
  const r = sluice('check');
  assert.is(r.status, 0, explain(r));
  assert.match(r.stdout, 'local.conf');
});

test('check --print prints the configuration as JSON with every default', () => {
  const r = sluice('check', '-c', 'config/local.conf', '--print');
  assert.is(r.status, 0, explain(r));
  const printed = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(printed.log, { level: 'info', destination: '../out/sluice.log', format: 'json', 'failures-per-second': 100 });
  assert.is(printed.progress, 'auto');
  assert.equal(Object.keys(printed.flows).sort(), ['campaign', 'content', 'engagement']);
  for (const name of ['content', 'campaign']) {
    const flow = printed.flows[name];
    assert.is(flow.enabled, true);
    assert.equal(flow.limits, { 'max-depth': 64, 'max-size': 1048576 });
    assert.is(flow['on-invalid'], 'dlq');
    assert.is(flow.validator, 'wasm', 'the validator engine is a setting too');
    assert.is(flow.rules.type, 'object', 'the rules from rules-file are inlined');
    assert.is(flow.source.kind, 'file');
    assert.is(flow.source.path, `../samples/${name}.ndjson`);
    assert.is(flow.source['batch-size'], 64);
    assert.is(flow.source['chunk-size'], 1048576);
    assert.is(flow.sink.encoding, 'json');
    assert.is(flow.sink.append, false);
    assert.is(flow['dead-letter'].encoding, 'json');
    assert.is(flow['dead-letter'].append, false);
    assert.equal(flow.stages.map((s: { kind: string }) => s.kind), STAGE_KINDS[name]);
    assert.is(flow.stages[3][name === 'campaign' ? 'on-missing' : 'on-failure'], 'dlq');
  }
  assert.equal(printed.flows.content.stages.map((s: { name: string }) => s.name), ['drop-drafts', 'drop-stale-versions', 'to-item-record', 'content-document']);
  assert.equal(printed.tables, { placements: { kind: 'file', path: '../samples/placements.ndjson', key: 'placementId', 'deleted-field': '_deleted' } }, 'tables with their defaults');
});

test('check --print shows the overrides of an overlay', () => {
  const overlay = file('env.conf', `include "${localConf}"\nflows.content.limits.max-depth = 9\nflows.campaign.on-invalid = drop\n`);
  const r = sluice('check', '-c', overlay, '--print');
  assert.is(r.status, 0, explain(r));
  const printed = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(printed.flows.content.limits, { 'max-depth': 9, 'max-size': 1048576 });
  assert.is(printed.flows.campaign['on-invalid'], 'drop');
  assert.is(printed.flows.content['on-invalid'], 'dlq');
  assert.is(printed.flows.content.source.path, '../samples/content.ndjson', "local.conf's I/O is kept");
});

test('check --describe prints the topology', () => {
  const r = sluice('check', '-c', 'config/local.conf', '--describe');
  assert.is(r.status, 0, explain(r));
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes('Flow content: at-least-once, invalid messages -> dlq'), r.stdout);
  assert.ok(lines.includes('Flow campaign: at-least-once, invalid messages -> dlq'), r.stdout);
  const row = (name: string) => {
    const found = lines.find((l) => l.trim().split(/\s+/)[0] === name);
    assert.ok(found, `no line for ${name} in\n${r.stdout}`);
    return found.trim().split(/\s+/);
  };
  assert.equal(row('content.source').slice(0, 3), ['content.source', 'source', 'file']);
  assert.equal(row('content.validate'), ['content.validate', 'validate', 'core', '<-', 'content.source']);
  assert.equal(row('content.drop-drafts'), ['content.drop-drafts', 'stage', 'filter', '<-', 'content.validate']);
  assert.equal(row('content.drop-stale-versions'), ['content.drop-stale-versions', 'stage', 'latest', '<-', 'content.drop-drafts']);
  assert.equal(row('content.to-item-record'), ['content.to-item-record', 'stage', 'map', '<-', 'content.drop-stale-versions']);
  assert.equal(row('campaign.drop-duplicates'), ['campaign.drop-duplicates', 'stage', 'dedupe', '<-', 'campaign.drop-heartbeats']);
  assert.equal(row('content.content-document'), ['content.content-document', 'stage', 'enrich-http', '<-', 'content.to-item-record']);
  assert.equal(row('content.sink'), ['content.sink', 'sink', 'file', '<-', 'content.content-document']);
  const deadLetter = row('content.dead-letter');
  assert.equal(deadLetter.slice(0, 4), ['content.dead-letter', 'dead-letter', 'file', '<-']);
  for (const from of ['content.validate', 'content.drop-drafts', 'content.drop-stale-versions', 'content.to-item-record', 'content.content-document']) {
    assert.match(deadLetter.slice(4).join(' '), from);
  }
  assert.equal(row('campaign.placement'), ['campaign.placement', 'stage', 'lookup', '<-', 'campaign.to-event-record,', 'table.placements']);
  assert.equal(row('table.placements'), ['table.placements', 'table', 'file'], 'the table the lookup reads is a node of its own');
  assert.equal(row('content.commit'), ['content.commit', 'commit', 'acknowledge', '<-', 'content.sink,', 'content.dead-letter']);
  // every setting under its node: the validator's engine and limits, the services an enrichment calls
  const settingsOf = (name: string) => {
    const after = lines.slice(lines.findIndex((l) => l.trim().split(/\s+/)[0] === name) + 1);
    const end = after.findIndex((l) => !l.startsWith('      '));
    return end < 0 ? after : after.slice(0, end);
  };
  assert.equal(settingsOf('content.validate').slice(0, 4), ['      engine = "wasm"', '      max-depth = 64', '      max-size = 1048576', '      on-invalid = "dlq"']);
  assert.ok(settingsOf('content.content-document').some((l) => l.startsWith('      services.content-api = {') && l.includes('"local-service":"lookup"')), r.stdout);
});

test('check on a broken configuration exits 2 and lists every problem with file and key path', () => {
  const overlay = file(
    'broken.conf',
    `include "${localConf}"
colour = blue
flows.content.limits.max-depth = "deep"
`,
  );
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  assert.is(r.stdout, '');
  assert.ok(r.stderr.includes(`${overlay}: colour:`), explain(r));
  assert.ok(r.stderr.includes(`${overlay}: flows.content.limits.max-depth:`), explain(r));
  assert.not.match(r.stderr, /internal fault|at .*\.js:\d+/);
});

test('check refuses a max-depth deeper than the validator can nest, naming the key and the maximum (exit 2)', () => {
  const overlay = file('deep.conf', `include "${localConf}"\nflows.content.limits.max-depth = 10000\n`);
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  assert.ok(r.stderr.includes(`${overlay}: flows.content.limits.max-depth: at most ${MAX_DEPTH_LIMIT}`), explain(r));
  const atLimit = file('at-limit.conf', `include "${localConf}"\nflows.content.limits.max-depth = ${MAX_DEPTH_LIMIT}\n`);
  const ok = sluice('check', '-c', atLimit);
  assert.is(ok.status, 0, explain(ok));
});

test('check on a configuration with broken components exits 2 and lists every problem', () => {
  const overlay = file(
    'broken.conf',
    `include "${localConf}"
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft] } }
  { kind = transmogrify }
]
flows.content.sink.frobnicate = true
flows.campaign.rules-file = "nope.json"
flows.campaign.dead-letter.encoding = xml
`,
  );
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  for (const path of ['flows.content.stages[1].kind', 'flows.content.sink.frobnicate', 'flows.campaign.rules-file', 'flows.campaign.dead-letter.encoding']) {
    assert.ok(r.stderr.includes(`${overlay}: ${path}:`), `${path} missing:\n${explain(r)}`);
  }
  assert.match(r.stderr, 'transmogrify');
});

test('check on a broken overlay of qal.conf exits 2 and lists the kafka problems', () => {
  const overlay = file(
    'broken-qal.conf',
    `include "${qalConf}"
kafka.topics."qal.extra.topic" = 0
flows.content.source.brokers = "localhost"
flows.content.sink.compression = brotli
flows.campaign.sink.key = user_id
`,
  );
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  assert.is(r.stdout, '');
  for (const path of ['kafka.topics["qal.extra.topic"]', 'flows.content.source.brokers[0]', 'flows.content.sink.compression']) {
    assert.ok(r.stderr.includes(`${overlay}: ${path}:`), `${path} missing:\n${explain(r)}`);
  }
  assert.not.match(r.stderr, /internal fault|at .*\.js:\d+/);
  // with the shape fixed, the sink key the rules do not define is named too
  const keyOnly = file('key-qal.conf', `include "${qalConf}"\nflows.campaign.sink.key = user_id\n`);
  const k = sluice('check', '-c', keyOnly);
  assert.is(k.status, 2, explain(k));
  assert.ok(k.stderr.includes(`${keyOnly}: flows.campaign.sink.key:`), explain(k));
  assert.match(k.stderr, 'user_id');
});

test('check on a configuration with bad mappings exits 2 and lists every problem', () => {
  const overlay = file(
    'mapping.conf',
    `include "${localConf}"
flows.content.stages = [
  { kind = map, target = "sluice.recommender.v1.ItemRecord", fields { item_id = id, title = headline, version = title } }
]
flows.campaign.stages = [
  { kind = filter, keep-if { field = kind, equals = click } }
]
`,
  );
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  for (const path of ['flows.content.stages[0].fields.title', 'flows.content.stages[0].fields.version', 'flows.campaign.stages[0].keep-if.field']) {
    assert.ok(r.stderr.includes(`${overlay}: ${path}:`), `${path} missing:\n${explain(r)}`);
  }
});

test('check on a missing file exits 2', () => {
  const r = sluice('check', '-c', join(dir, 'missing.conf'));
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'missing.conf');
});

test('check on a file with a HOCON syntax error exits 2 naming the file, the line and what was expected', () => {
  const broken = file('syntax.conf', 'flows { content { source { kind = file\n');
  const r = sluice('check', '-c', broken);
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, `${broken}: line 1, column 9: an object (from "content" on) is not closed: expected "}"`);
  assert.not.match(r.stderr, /Node\.\d|@[0-9a-f]{5}|Source:|Token:|internal fault/);
});

test('check warns of an optional include of a missing file and exits 0', () => {
  const overlay = file('overlay.conf', `include "${localConf}"\ninclude "not-there.conf"\n`);
  const r = sluice('check', '-c', overlay);
  assert.is(r.status, 0, explain(r));
  assert.match(r.stderr, `sluice: warning: ${overlay}: line 2: include "not-there.conf": no such file`);
});

test('an unknown option exits 2', () => {
  const r = sluice('check', '--frobnicate');
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, '--frobnicate');
});

test('an unknown command exits 2', () => {
  const r = sluice('frobnicate');
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'frobnicate');
});

test('a missing option argument and a bad number exit 2', () => {
  const noConfig = sluice('check', '--config');
  assert.is(noConfig.status, 2, explain(noConfig));
  const json = file('a.json', '{}');
  const badDepth = sluice('validate', '--max-depth', '0', '--raw', json);
  assert.is(badDepth.status, 2, explain(badDepth));
  assert.match(badDepth.stderr, /positive integer/);
});

// ---------------------------------------------------------------------------------------------
// validate

const VALID: Record<string, string> = {
  'object.json': '{"a": {"b": [1, 2.5, -3e2]}, "c": "d\\u00e9"}',
  'array.json': '[1, "two", null, true, {"x": []}]\n',
  'string.json': '"héllo"',
  'number.json': '-12.5e3',
  'true.json': 'true',
  'false.json': ' false ',
  'null.json': 'null',
};

function validateLines(r: Result): string[][] {
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

test('validate --raw: valid JSON of every type, one "<file>\\tok" line each, exit 0', () => {
  const files = Object.entries(VALID).map(([name, text]) => file(name, text));
  const r = sluice('validate', '--raw', ...files);
  assert.is(r.status, 0, explain(r));
  assert.equal(validateLines(r), files.map((f) => [f, 'ok']));
});

test('validate --raw: malformed files are invalid with their code, exit 1', () => {
  const good = file('good.json', '{"a": 1}');
  const trailingComma = file('trailing-comma.json', '{"a": 1,}');
  const trailingCommaArray = file('trailing-comma-array.json', '[1, 2,]');
  const badUtf8 = file('bad-utf8.json', Uint8Array.from([0x22, 0x61, 0xff, 0xfe, 0x22]));
  const truncatedUtf8 = file('truncated-utf8.json', Uint8Array.from([0x22, 0xc3, 0x22]));
  const empty = file('empty.json', '');
  const blank = file('blank.json', ' \n\t ');
  const files = [good, trailingComma, trailingCommaArray, badUtf8, truncatedUtf8, empty, blank];
  const r = sluice('validate', '--raw', ...files);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.is(lines.length, files.length, explain(r));
  assert.equal(lines.map((l) => l[0]), files, 'one line per file, in order');
  assert.equal(lines[0], [good, 'ok']);
  const code = (line: string[]) => {
    assert.is(line[1], 'invalid', line.join('\t'));
    assert.is(line.length, 3, `"<file>\\tinvalid\\t<CODE> ...": ${line.join('\\t')}`);
    return line[2]!.split(/[\s:]/)[0];
  };
  assert.is(code(lines[1]!), 'E_TOKEN');
  assert.is(code(lines[2]!), 'E_TOKEN');
  assert.is(code(lines[3]!), 'E_UTF8');
  assert.is(code(lines[4]!), 'E_UTF8');
  assert.is(code(lines[5]!), 'E_EMPTY');
  assert.is(code(lines[6]!), 'E_EMPTY');
  // the reason says where
  assert.match(lines[1]![2]!, /byte \d+/);
});

test('validate --raw: other well-formedness failures', () => {
  const cases: [string, string | Uint8Array, string][] = [
    ['unterminated.json', '{"a": [1, 2', 'E_UNTERMINATED'],
    ['trailing.json', '{"a": 1} {"b": 2}', 'E_TRAILING'],
    ['number.json', '01', 'E_NUMBER'],
    ['escape.json', '"\\x"', 'E_ESCAPE'],
    ['control.json', Uint8Array.from([0x22, 0x61, 0x01, 0x22]), 'E_CONTROL'],
  ];
  const files = cases.map(([name, text]) => file(name, text));
  const r = sluice('validate', '--raw', ...files);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  cases.forEach(([, , expected], i) => {
    assert.is(lines[i]![0], files[i]);
    assert.is(lines[i]![1], 'invalid');
    assert.ok(lines[i]![2]!.startsWith(expected), `${files[i]}: expected ${expected}, got ${lines[i]![2]}`);
  });
});

test('validate --max-depth applies the nesting limit', () => {
  const deep = file('deep.json', `${'['.repeat(10)}${']'.repeat(10)}`);
  const ok = sluice('validate', '--raw', deep);
  assert.is(ok.status, 0, explain(ok));
  const r = sluice('validate', '--max-depth', '5', '--raw', deep);
  assert.is(r.status, 1, explain(r));
  assert.ok(validateLines(r)[0]![2]!.startsWith('E_DEPTH'), explain(r));
});

test('validate --max-depth: at most the limit a configuration may set; a message nested to it gets a verdict', () => {
  const nested = (depth: number) => '{"a":['.repeat(depth / 2) + '1' + ']}'.repeat(depth / 2);
  const atLimit = file('at-limit.json', nested(MAX_DEPTH_LIMIT));
  const deeper = file('deeper.json', nested(MAX_DEPTH_LIMIT + 2));
  const tooDeep = file('too-deep.json', nested(6000));
  const r = sluice('validate', '--max-depth', String(MAX_DEPTH_LIMIT), '--raw', atLimit, deeper, tooDeep);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.equal(lines[0], [atLimit, 'ok']);
  for (const line of lines.slice(1)) assert.match(line[2]!, new RegExp(`^E_DEPTH at byte \\d+: containers nested deeper than ${MAX_DEPTH_LIMIT}`), explain(r));
  const refused = sluice('validate', '--max-depth', '10000', '--raw', atLimit);
  assert.is(refused.status, 2, explain(refused));
  assert.match(refused.stderr, `--max-depth`);
  assert.match(refused.stderr, `at most ${MAX_DEPTH_LIMIT}`);
  assert.is(refused.stdout, '');
});

const ITEM = {
  id: 'cnt-000001',
  type: 'article',
  status: 'published',
  title: 'A title',
  language: 'en',
  publishedAt: '2024-01-02T03:04:05Z',
  version: 3,
  tags: ['a', 'b'],
  author: { id: 'aut-1' },
};

test('validate --schema applies the rules', () => {
  const good = file('good.json', JSON.stringify(ITEM));
  const { version: _version, ...withoutVersion } = ITEM;
  const missing = file('missing.json', JSON.stringify(withoutVersion));
  const badId = file('bad-id.json', JSON.stringify({ ...ITEM, id: 'item-1' }));
  const extra = file('extra.json', JSON.stringify({ ...ITEM, colour: 'blue' }));
  const wrongType = file('wrong-type.json', JSON.stringify({ ...ITEM, version: '3' }));
  const malformed = file('malformed.json', '{"id": "cnt-000001",}');
  const duplicate = file('duplicate.json', JSON.stringify(ITEM).replace('{', '{"version": 3, '));
  const files = [good, missing, badId, extra, wrongType, malformed, duplicate];
  const r = sluice('validate', '--schema', 'config/rules/content.schema.json', '--raw', ...files);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.equal(lines.map((l) => l[0]), files);
  assert.equal(lines[0], [good, 'ok']);
  const expected = ['E_REQUIRED', 'E_PATTERN', 'E_ADDITIONAL', 'E_TYPE', 'E_TOKEN', 'E_DUPLICATE_KEY'];
  expected.forEach((code, i) => {
    const line = lines[i + 1]!;
    assert.is(line[1], 'invalid', line.join('\t'));
    assert.ok(line[2]!.startsWith(code), `${line[0]}: expected ${code}, got ${line[2]}`);
  });
  assert.match(lines[2]![2]!, '/id', 'a rule failure names the path');
  assert.match(lines[4]![2]!, '/version');

  const allGood = sluice('validate', '--schema', 'config/rules/content.schema.json', '--raw', good);
  assert.is(allGood.status, 0, explain(allGood));
  assert.equal(validateLines(allGood), [[good, 'ok']]);
});

test('validate --schema: a rule failure names the keyword in the schema, and each failed branch of an anyOf', () => {
  const schema = file('target.schema.json', JSON.stringify({
    properties: { target: { anyOf: [{ type: 'string' }, { type: 'object', required: ['id'] }] }, count: { type: 'integer' } },
  }));
  const wrongType = file('count.json', '{"count":"3"}');
  const noBranch = file('target.json', '{"target":{"name":"x"}}');
  const r = sluice('validate', '--schema', schema, '--raw', wrongType, noBranch);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.equal(lines[0], [wrongType, 'invalid', 'E_TYPE at /count (schema /properties/count/type): must be integer']);
  assert.equal(lines[1], [
    noBranch,
    'invalid',
    'E_ANY_OF at /target (schema /properties/target/anyOf): must match a schema in anyOf'
      + '; branch 0: E_TYPE at /target (schema /properties/target/anyOf/0/type): must be string'
      + "; branch 1: E_REQUIRED at /target/id (schema /properties/target/anyOf/1/required): must have required property 'id'",
  ]);
});

test('validate --schema: $refs to sibling schema files resolve against the schema file; one that does not is exit 2 naming file and pointer', () => {
  const refs = join(dir, 'refs');
  mkdirSync(join(refs, 'shared'), { recursive: true });
  const schema = join(refs, 'event.schema.json');
  writeFileSync(schema, JSON.stringify({ properties: { price: { $ref: 'shared/money.json#/$defs/amount' } } }));
  writeFileSync(join(refs, 'shared', 'money.json'), JSON.stringify({ $defs: { amount: { type: 'object', required: ['currency'] } } }));
  const good = file('refs-good.json', '{"price":{"currency":"EUR"}}');
  const bad = file('refs-bad.json', '{"price":{}}');
  const r = sluice('validate', '--schema', schema, '--raw', good, bad);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.equal(lines[0], [good, 'ok']);
  assert.match(lines[1]![2]!, /^E_REQUIRED at \/price\/currency \(schema file:.*\/refs\/shared\/money\.json#\/\$defs\/amount\/required\)/, explain(r));

  const broken = join(refs, 'broken.schema.json');
  writeFileSync(broken, JSON.stringify({ properties: { price: { $ref: 'shared/nope.json' } } }));
  const failed = sluice('validate', '--schema', broken, '--raw', good);
  assert.is(failed.status, 2, explain(failed));
  assert.match(failed.stderr, 'broken.schema.json: /properties/price/$ref');
  assert.match(failed.stderr, 'nope.json');
  assert.not.match(failed.stderr, /\n\s+at /, 'no stack trace');
});

test('validate --schema: a number of 130,000 digits under numeric rules gets its verdict (exit 1, not 70)', () => {
  const schema = file('s.json', JSON.stringify({ type: 'number', maximum: 10 }));
  const huge = file('n.json', `1${'0'.repeat(130_000)}`);
  const small = file('small.json', `-1${'0'.repeat(130_000)}`);
  const fraction = file('fraction.json', `9.${'0'.repeat(130_000)}1`);
  const r = sluice('validate', '--schema', schema, '--raw', huge, small, fraction);
  assert.is(r.status, 1, explain(r));
  const lines = validateLines(r);
  assert.equal(lines[0]!.slice(0, 2), [huge, 'invalid']);
  assert.match(lines[0]![2]!, /^E_MAXIMUM .*must be <= 10/);
  assert.equal(lines.slice(1), [[small, 'ok'], [fraction, 'ok']]);
});

test('validate with a schema using a keyword the core does not support exits 2', () => {
  const schema = file('recursive.schema.json', JSON.stringify({ oneOf: [{ type: 'string' }], $recursiveRef: '#' }));
  const message = file('m.json', '"x"');
  const r = sluice('validate', '--schema', schema, '--raw', message);
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, '$recursiveRef');
  assert.is(r.stdout, '');
});

test('validate with a schema using oneOf and $ref', () => {
  const schema = file('one-of.schema.json', JSON.stringify({ $defs: { s: { type: 'string' } }, oneOf: [{ $ref: '#/$defs/s' }, { type: 'integer' }] }));
  const ok = sluice('validate', '--schema', schema, '--raw', file('m.json', '"x"'));
  assert.is(ok.status, 0, explain(ok));
  const bad = sluice('validate', '--schema', schema, '--raw', file('n.json', '1.5'));
  assert.match(bad.stdout, 'E_ONE_OF');
});

test('validate with a schema file that is missing or not JSON exits 2', () => {
  const message = file('m.json', '"x"');
  const missing = sluice('validate', '--schema', join(dir, 'nope.schema.json'), '--raw', message);
  assert.is(missing.status, 2, explain(missing));
  assert.match(missing.stderr, 'nope.schema.json');
  const notJson = file('bad.schema.json', '{ "type": ');
  const r = sluice('validate', '--schema', notJson, '--raw', message);
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'bad.schema.json');
});

test('validate on a missing file exits 2', () => {
  const missing = join(dir, 'does-not-exist.json');
  const r = sluice('validate', '--raw', missing);
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'does-not-exist.json');
});

test('validate without files exits 2', () => {
  const r = sluice('validate');
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'no files to validate');
});

test('validate takes plain file arguments, as --raw', () => {
  const good = file('good.json', '{"a":1}');
  const bad = file('bad.json', '{"a":');
  const r = sluice('validate', good, bad);
  assert.is(r.status, 1, explain(r));
  assert.match(r.stdout, `${good}\tok\n`);
  assert.match(r.stdout, `${bad}\tinvalid\t`);
});

test('validate --config --flow validates with that flow\'s rules (well-formed JSON that breaks them is invalid)', () => {
  const item = file('item.json', '{"id":"c1"}');
  const wellFormed = sluice('validate', item);
  assert.is(wellFormed.status, 0, explain(wellFormed));
  const r = sluice('validate', '--config', localConf, '--flow', 'content', item);
  assert.is(r.status, 1, explain(r));
  assert.match(r.stdout, `${item}\tinvalid\tE_PATTERN at /id`);
});

test('validate --config needs --flow, and an unknown flow is named (exit 2)', () => {
  const item = file('item.json', '{}');
  const without = sluice('validate', '--config', localConf, item);
  assert.is(without.status, 2, explain(without));
  assert.match(without.stderr, '--config and --flow go together');
  const unknown = sluice('validate', '--config', localConf, '--flow', 'nope', item);
  assert.is(unknown.status, 2, explain(unknown));
  assert.match(unknown.stderr, 'has no flow "nope" (flows: campaign, content, engagement)');
});

// ---------------------------------------------------------------------------------------------
// version, help, components, produce and topics arguments

test('--version and -V print the package version', () => {
  const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-V']) {
    const r = sluice(flag);
    assert.is(r.status, 0, explain(r));
    assert.is(r.stdout, `${version}\n`);
  }
});

test('each command\'s help lists its exit codes; run, check and topics create name $SLUICE_CONFIG, the default once', () => {
  for (const command of [['run'], ['check'], ['validate'], ['produce'], ['topics', 'create'], ['test'], ['components']]) {
    const r = sluice(...command, '--help');
    assert.is(r.status, 0, explain(r));
    assert.match(r.stdout, /Exit codes:\n {2}0 /, command.join(' '));
    if (['run', 'check', 'create'].includes(command.at(-1)!)) {
      assert.match(r.stdout, '$SLUICE_CONFIG', command.join(' '));
      assert.is(r.stdout.split('--config <file>').length - 1, 1, `${command.join(' ')}\n${r.stdout}`);
      assert.is(r.stdout.split('(default: $SLUICE_CONFIG, else').length - 1, 1, `${command.join(' ')}: the default once\n${r.stdout}`);
      assert.not.match(r.stdout, packageRoot, `${command.join(' ')}: no absolute path`);
    }
  }
});

test('topics create on the default local.conf says it lists no topics and which configuration to give (exit 2)', () => {
  const r = sluice('topics', 'create');
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'local.conf (the default: $SLUICE_CONFIG is unset) lists no topics (kafka.topics)');
  assert.match(r.stderr, '-c config/qal.conf');
});

test('produce --compression refuses an unknown codec, listing the valid ones (exit 2)', () => {
  const r = sluice('produce', '-t', 'topic', '-f', file('in.ndjson', '{}\n'), '--compression', 'brotli');
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, "argument 'brotli' is invalid. Allowed choices are none, gzip, snappy, lz4, zstd");
});

test('components renders for a terminal; --format md prints Markdown', () => {
  const text = sluice('components');
  assert.is(text.status, 0, explain(text));
  assert.match(text.stdout, /^SOURCES\n\n {2}file\n/);
  assert.match(text.stdout, /\n {4}path \(required\): string\n/);
  assert.not.match(text.stdout, /###|\|---/);
  const md = sluice('components', '--format', 'md');
  assert.is(md.status, 0, explain(md));
  assert.match(md.stdout, /^## Sources\n\n### file\n/);
  assert.match(md.stdout, '| key | type | default | description |');
});

// ---------------------------------------------------------------------------------------------
// run

test('run with an overlay writing into the temp dir exits 0 and prints the summary', () => {
  const overlay = file(
    'run.conf',
    `include "${localConf}"
log.level = warn
log.destination = "out/sluice.log"
progress = off
flows.content.sink.path = "out/content.ndjson"
flows.content.dead-letter.path = "out/content.dlq.ndjson"
flows.campaign.sink.path = "out/campaign.ndjson"
flows.campaign.dead-letter.path = "out/campaign.dlq.ndjson"
flows.engagement.sink.path = "out/engagement.ndjson"
flows.engagement.dead-letter.path = "out/engagement.dlq.ndjson"
`,
  );
  const out = join(overlay, '..', 'out');
  const summaryJson = join(overlay, '..', 'summary.json');
  const r = sluice('run', '-c', overlay, '--summary-json', summaryJson);
  assert.is(r.status, 0, explain(r));

  const summary = (flow: string) => {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${flow}: `));
    assert.ok(line, `no summary line for ${flow}:\n${explain(r)}`);
    const count = (what: string) => {
      const m = new RegExp(`(\\d+) ${what}\\b`).exec(line);
      assert.ok(m, `no "${what}" count in: ${line}`);
      return Number(m[1]);
    };
    return {
      read: count('read'),
      valid: count('valid'),
      invalid: count('invalid'),
      filtered: count('filtered'),
      written: count('written'),
      deadLettered: count('dead-lettered'),
      dropped: count('dropped'),
    };
  };
  const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;
  /** Lines the rules reject, by the samples' expected outcomes (a stage's failure is of a valid line). */
  const invalidIn = (flow: 'content' | 'campaign') => expectedOutcomes(flow).filter((e) => !e.ok && !STAGE_FAILURES.has(e.reason!)).length;
  const contentInvalid = invalidIn('content');
  const campaignInvalid = invalidIn('campaign');

  const content = summary('content');
  assert.is(content.read, lines(join(packageRoot, 'samples', 'content.ndjson')));
  assert.is(content.invalid, contentInvalid);
  assert.is(content.valid, content.read - contentInvalid);
  assert.is(content.dropped, 0);
  // every valid message is written, filtered or dead-lettered by a stage
  assert.is(content.written + content.filtered + (content.deadLettered - content.invalid), content.valid);
  assert.is(lines(join(out, 'content.ndjson')), content.written);
  assert.is(lines(join(out, 'content.dlq.ndjson')), content.deadLettered);

  const campaign = summary('campaign');
  assert.is(campaign.read, lines(join(packageRoot, 'samples', 'campaign.ndjson')));
  assert.is(campaign.valid + campaign.invalid, campaign.read);
  assert.is(campaign.invalid, campaignInvalid);
  assert.is(lines(join(out, 'campaign.ndjson')), campaign.written);
  assert.is(lines(join(out, 'campaign.dlq.ndjson')), campaign.deadLettered);

  assert.match(r.stdout, /invalid by reason: .*E_TYPE \d+/);
  assert.match(r.stdout, /stage failures: .*E_LOOKUP_MISS \d+/);
  const json = JSON.parse(readFileSync(summaryJson, 'utf8')) as { flow: string; read: number; invalid: number }[];
  assert.equal(
    json.map((s) => [s.flow, s.read, s.invalid]).sort(),
    [
      ['campaign', campaign.read, campaignInvalid],
      ['content', content.read, contentInvalid],
      ['engagement', campaign.read, campaignInvalid],
    ],
  );
  // logs went to the overlay's directory, not to stderr
  assert.ok(existsSync(join(out, 'sluice.log')), 'the log file is created next to the overlay');
});

test('run on a broken configuration exits 2 without running', () => {
  const overlay = file(
    'broken-run.conf',
    `include "${localConf}"
progress = off
flows.content.sink.path = "out/content.ndjson"
flows.content.stages = [ { kind = map, target = "sluice.recommender.v1.ItemRecord", fields { title = headline } } ]
`,
  );
  const r = sluice('run', '-c', overlay);
  assert.is(r.status, 2, explain(r));
  assert.match(r.stderr, 'flows.content.stages[0].fields.title');
  assert.not.ok(existsSync(join(overlay, '..', 'out', 'content.ndjson')), 'nothing is written');
});

test.run();
