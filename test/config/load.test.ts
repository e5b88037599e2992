// loadConfig: the shipped configurations (base.conf: the flows' rules and stages; local.conf,
// qal.conf and production.conf: base.conf plus where messages come from and go to), overlays,
// ${?ENV} substitutions, relative paths and every kind of configuration error, each named by the
// file and key path that cause it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, type SluiceConfig } from '../../src/pipeline/load.ts';
import { MAX_DEPTH_LIMIT } from '../../src/core/limits.ts';
import { type ConfigProblem, SluiceError } from '../../src/errors.ts';
import { packageRoot } from '../../src/package-root.ts';
import { compileSchema } from '../../src/core/validator.ts';
import { JsValidator } from '../../src/core/js-validator.ts';
import { describe, flowRules, type FlowTopology, type TopologyNode, validateSettings } from '../../src/pipeline/topology.ts';

/** production.conf also reads the enrichment services' URLs from the environment. */
const PRODUCTION_URLS = { CONTENT_API_URL: 'http://content-api.test', CAMPAIGN_MANAGER_URL: 'http://campaign-manager.test', RECOMMENDER_API_URL: 'http://recommender-api.test' };

const configDir = join(packageRoot, 'config');
const baseConf = join(configDir, 'base.conf');
const localConf = join(configDir, 'local.conf');
const qalConf = join(configDir, 'qal.conf');
const lookupConf = join(configDir, 'lookup-server.conf');
const productionConf = join(configDir, 'production.conf');
const contentRules = join(configDir, 'rules', 'content.schema.json');
const samples = join(packageRoot, 'samples');

// the environment variables the shipped configurations read: unset while these tests run
// (scripts/test.mjs sets KAFKA_BROKERS for the broker it starts)
const ENV = ['SLUICE_LOG_LEVEL', 'SLUICE_LOG_DESTINATION', 'SLUICE_CONTENT_INPUT', 'SLUICE_CAMPAIGN_INPUT', 'KAFKA_BROKERS'];
const savedEnv = new Map(ENV.map((name) => [name, process.env[name]]));

let dir: string;
let counter = 0;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-'));
  for (const name of ENV) delete process.env[name];
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Writes a configuration file into the temp dir (a fresh sub-directory unless `at` is given). */
function write(text: string, at?: string): string {
  const file = at ? join(dir, at) : join(dir, `case-${++counter}`, 'sluice.conf');
  mkdirSync(resolve(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** An overlay of a shipped configuration (local.conf: base.conf and the file I/O) with `body` appended. */
function overlay(body: string, of = localConf): string {
  return write(`include "${of}"\n${body}\n`);
}

/** Runs `fn` with the environment variables in `vars` set (undefined: unset), then unsets them. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await fn();
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
  }
}

/** A minimal flow written out in full (no include), with `extra` keys inside it. */
function standalone(flowBody: string): string {
  return write(`flows {
  solo {
${flowBody}
  }
}
`);
}

const SOLO_SOURCE = `source { kind = file, path = "${join(samples, 'content.ndjson')}" }`;
const SOLO_RULES = `rules-file = "${contentRules}"`;

async function loadError(file: string): Promise<SluiceError> {
  try {
    await loadConfig(file);
  } catch (error) {
    assert.instance(error, SluiceError, `expected a SluiceError, got ${String(error)}`);
    const e = error as SluiceError;
    assert.is(e.code, 'SLC_CONFIG');
    return e;
  }
  throw new assert.Assertion({ message: `${file} loaded, but it should not`, operator: 'throws', expects: 'SLC_CONFIG', actual: 'loaded' });
}

const show = (problems: readonly ConfigProblem[]) => JSON.stringify(problems, null, 2);

/** The problem at `path` (asserting there is one), checking the file it names. */
function problemAt(error: SluiceError, path: string, file: string): ConfigProblem {
  const found = error.problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path} in ${show(error.problems)}`);
  assert.ok(found.file !== undefined, `problem at ${path} names no file`);
  assert.is(resolve(found.file), resolve(file), `problem at ${path} names ${found.file}, not ${file}`);
  return found;
}

const flowOf = (config: SluiceConfig, name: string): FlowTopology => {
  const flow = config.flows.find((f) => f.flow === name);
  assert.ok(flow, `no flow ${name} in ${config.flows.map((f) => f.flow).join(', ')}`);
  return flow;
};

const nodeOf = (flow: FlowTopology, role: TopologyNode['role'], name?: string): TopologyNode => {
  const node = flow.nodes.find((n) => n.role === role && (name === undefined || n.name === `${flow.flow}.${name}`));
  assert.ok(node, `no ${role} node ${name ?? ''} in flow ${flow.flow}`);
  return node;
};

// ---------------------------------------------------------------------------------------------
// the shipped configurations

const KAFKA_NODES = ['source', 'sink', 'dead-letter'] as const;

/** What base.conf gives every environment: the flows, their rules and stages, the defaults. */
function assertBaseFlows(config: SluiceConfig): void {
  // on Kafka, engagement's key-by before its aggregate splits it at a repartition topic
  const split = config.flows.some((f) => f.repartition !== undefined);
  assert.equal(config.flows.map((f) => f.flow).sort(), ['campaign', 'content', 'engagement', ...(split ? ['engagement.repartition'] : [])]);
  for (const flow of config.flows) {
    assert.is(flow.enabled, true);
    assert.is(validateSettings(flow)['max-depth'], 64, `${flow.flow}: max-depth default`);
    assert.is(validateSettings(flow)['max-size'], 1024 * 1024, `${flow.flow}: max-size default`);
    assert.is(validateSettings(flow)['on-invalid'], 'dlq');
    assert.is(typeof flow.rules, 'object');
    assert.is((flow.rules as Record<string, unknown>).$comment !== undefined, true, 'rules-file read from config/rules');
    const stages = { campaign: ['filter', 'dedupe', 'map', 'lookup', 'enrich-http'], content: ['filter', 'latest', 'map', 'enrich-http'], engagement: split ? ['aggregate'] : ['filter', 'dedupe', 'key-by', 'aggregate'], 'engagement.repartition': ['filter', 'dedupe', 'key-by'] }[flow.flow];
    assert.equal(flow.nodes.filter((n) => n.role === 'stage').map((n) => n.kind), stages);
    if (flow.flow === 'campaign') {
      // the placement comes from the placements table, a node the lookup stage reads
      assert.equal(nodeOf(flow, 'stage', 'placement').parents, ['campaign.to-event-record', 'table.placements']);
      assert.is(flow.nodes.find((n) => n.role === 'table')?.name, 'table.placements');
    }
    const enrich = flow.nodes.find((n) => n.kind === 'enrich-http');
    if (flow.flow === 'campaign' || flow.flow === 'content') {
      assert.is(enrich!.config['on-failure'], flow.flow === 'campaign' ? 'skip-stage' : 'dlq', 'the user segment is optional, the content document is not');
      assert.is(enrich!.baseDir, configDir, 'the enrichment is set by base.conf');
    }
    // the validate node sits between the source and the stages
    const source = nodeOf(flow, 'source');
    const validate = nodeOf(flow, 'validate');
    assert.equal(validate.parents, [source.name]);
    nodeOf(flow, 'sink');
    nodeOf(flow, 'dead-letter');
  }
  assert.equal(flowOf(config, 'content').nodes.filter((n) => n.role === 'stage').map((n) => n.name), [
    'content.drop-drafts',
    'content.drop-stale-versions',
    'content.to-item-record',
    'content.content-document',
  ]);
  // the resolved view (what `check --print` shows) carries the defaults too
  const flows = config.resolved.flows as Record<string, Record<string, any>>;
  assert.equal(flows.content!.limits, { 'max-depth': 64, 'max-size': 1024 * 1024 });
  assert.is(flows.content!['on-invalid'], 'dlq');
}

/** local.conf's file I/O: samples/ in, out/ out, with the file components' defaults. */
function assertLocalIO(config: SluiceConfig): void {
  for (const flow of config.flows) {
    const source = nodeOf(flow, 'source');
    assert.is(source.kind, 'file');
    assert.is(source.config['batch-size'], 64);
    assert.is(source.config['chunk-size'], 1 << 20);
    assert.is(source.config.path, `../samples/${flow.flow === 'engagement' ? 'campaign' : flow.flow}.ndjson`, 'engagement reads the campaign events');
    assert.is(source.baseDir, configDir);
    const sink = nodeOf(flow, 'sink');
    assert.is(sink.kind, 'file');
    assert.is(sink.config.path, `../out/${flow.flow}.ndjson`);
    assert.is(sink.config.encoding, 'json');
    assert.is(sink.config.append, false);
    const deadLetter = nodeOf(flow, 'dead-letter');
    assert.is(deadLetter.kind, 'file');
    assert.is(deadLetter.config.path, `../out/${flow.flow}.dlq.ndjson`);
    assert.is(deadLetter.config.encoding, 'json', 'dead-letter sink encoding default');
    assert.is(deadLetter.config.append, false);
  }
  const flows = config.resolved.flows as Record<string, Record<string, any>>;
  assert.is(flows.content!.source['batch-size'], 64);
}

/** Every source, sink and dead-letter of every flow is a kafka component on `brokers`. */
function assertKafkaIO(config: SluiceConfig, brokers: string[]): void {
  for (const flow of config.flows) {
    for (const role of KAFKA_NODES) {
      const node = nodeOf(flow, role);
      assert.is(node.kind, 'kafka', `${flow.flow} ${role}`);
      assert.equal(node.config.brokers, brokers, `${flow.flow} ${role} brokers`);
      assert.is(node.config['client-id'], 'sluice');
      assert.is(node.config.path, undefined, `${flow.flow} ${role}: no file path in a Kafka environment`);
    }
  }
}

const QAL_TOPICS = {
  'qal.oicms.content-items': 4,
  'qal.cm.campaign-events': 4,
  'qal.recommender.items': 4,
  'qal.recommender.events': 4,
  'qal.sluice.content.dlq': 1,
  'qal.sluice.campaign.dlq': 1,
  'qal.recommender.item-engagement': 4,
  'qal.sluice.engagement.dlq': 1,
};

const PRODUCTION_TOPICS = {
  'oicms.content-items': 12,
  'cm.campaign-events': 12,
  'cm.placements': 3,
  'recommender.items': 12,
  'recommender.events': 12,
  'sluice.content.dlq': 3,
  'sluice.campaign.dlq': 3,
  'recommender.item-engagement': 12,
  'sluice.engagement.dlq': 3,
};

test('config/base.conf alone has no I/O: every flow lacks its source and sink, named in base.conf', async () => {
  const error = await loadError(baseConf);
  for (const flow of ['content', 'campaign']) {
    for (const key of ['source', 'sink']) {
      const problem = problemAt(error, `flows.${flow}.${key}`, baseConf);
      assert.match(problem.message, /object|required|missing/i);
    }
  }
  for (const p of error.problems) assert.is(resolve(p.file!), baseConf, `${p.path} names ${p.file}`);
});

test('config/local.conf loads both flows with every default applied', async () => {
  const config = await loadConfig(localConf);
  assertBaseFlows(config);
  assertLocalIO(config);
  assert.equal(config.files.map((f) => resolve(f)), [localConf, baseConf, lookupConf]);
  assert.is(config.settings.log.level, 'info');
  assert.is(config.settings.log.destination, '../out/sluice.log');
  assert.is(config.logDir, configDir);
  assert.is(config.settings.progress, 'auto');
  assert.is(config.settings.kafka, undefined, 'local mode has no Kafka cluster');
});

test('config/qal.conf loads: both flows on Kafka (a local broker by default), debug logs on stderr', async () => {
  const config = await loadConfig(qalConf);
  assertBaseFlows(config);
  assertKafkaIO(config, ['127.0.0.1:9092']);
  assert.equal(config.files.map((f) => resolve(f)), [qalConf, baseConf, lookupConf]);
  assert.is(config.settings.log.level, 'debug');
  assert.is(config.settings.log.destination, 'stderr');
  assert.is(config.settings.progress, 'auto');
  // the cluster block: brokers as written, topic names with dots kept whole (not nested keys)
  assert.equal(config.settings.kafka, { brokers: '127.0.0.1:9092', topics: QAL_TOPICS });

  const content = flowOf(config, 'content');
  const contentSource = nodeOf(content, 'source').config;
  assert.is(contentSource.topic, 'qal.oicms.content-items');
  assert.is(contentSource['group-id'], 'sluice-qal-content');
  assert.is(contentSource['from-beginning'], true, 'kafka source default');
  assert.is(contentSource['read-committed'], true, 'kafka source default');
  const contentSink = nodeOf(content, 'sink').config;
  assert.is(contentSink.topic, 'qal.recommender.items');
  assert.is(contentSink.key, 'id');
  assert.is(contentSink.encoding, 'json');
  assert.is(contentSink.compression, 'lz4');
  assert.is(contentSink.acks, -1, 'kafka sink default');
  assert.is(contentSink.idempotent, false, 'kafka sink default');
  const contentDlq = nodeOf(content, 'dead-letter').config;
  assert.is(contentDlq.topic, 'qal.sluice.content.dlq');
  assert.is(contentDlq.encoding, 'json');
  assert.is(contentDlq.compression, 'none');

  const campaign = flowOf(config, 'campaign');
  assert.is(nodeOf(campaign, 'source').config.topic, 'qal.cm.campaign-events');
  assert.is(nodeOf(campaign, 'source').config['group-id'], 'sluice-qal-campaign');
  assert.is(nodeOf(campaign, 'sink').config.topic, 'qal.recommender.events');
  assert.is(nodeOf(campaign, 'sink').config.key, 'userId');
  assert.is(nodeOf(campaign, 'dead-letter').config.topic, 'qal.sluice.campaign.dlq');
  // every topic a component names is one `sluice topics create` makes
  for (const flow of config.flows) {
    for (const role of KAFKA_NODES) assert.ok(String(nodeOf(flow, role).config.topic) in QAL_TOPICS || nodeOf(flow, role).config.topic === flow.repartition?.topic, `${flow.flow} ${role}`);
  }
});

test('config/qal.conf: ${?KAFKA_BROKERS} replaces the default brokers everywhere', async () => {
  const config = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: 'kafka-1.qal:9092, kafka-2.qal:9093' }, () => loadConfig(qalConf));
  assertKafkaIO(config, ['kafka-1.qal:9092', 'kafka-2.qal:9093']);
  assert.is(config.settings.kafka!.brokers, 'kafka-1.qal:9092, kafka-2.qal:9093');
  assert.equal(config.settings.kafka!.topics, QAL_TOPICS);
  // and back to the default once unset
  const again = await loadConfig(qalConf);
  assertKafkaIO(again, ['127.0.0.1:9092']);
  assert.is(again.settings.kafka!.brokers, '127.0.0.1:9092');
});

test('config/qal.conf: ${?SLUICE_LOG_LEVEL} replaces its debug level', async () => {
  const config = await withEnv({ SLUICE_LOG_LEVEL: 'warn' }, () => loadConfig(qalConf));
  assert.is(config.settings.log.level, 'warn');
  assert.is((await loadConfig(qalConf)).settings.log.level, 'debug');
});

test('config/production.conf without KAFKA_BROKERS: SLC_CONFIG naming the variable and production.conf', async () => {
  const error = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: undefined }, () => loadError(productionConf));
  const text = '${KAFKA_BROKERS} is neither a configuration key nor a set environment variable';
  assert.ok(error.message.includes(text), error.message);
  assert.is(error.problems.length, 1, show(error.problems));
  assert.is(resolve(error.problems[0]!.file!), productionConf);
  assert.ok(error.problems[0]!.message.includes(text), show(error.problems));
  assert.ok(error.message.includes('production.conf'), error.message);
});

test('config/production.conf loads with KAFKA_BROKERS: Kafka everywhere, protobuf records, progress off', async () => {
  const config = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: 'b-1.prod:9092,b-2.prod:9092,b-3.prod:9092' }, () => loadConfig(productionConf));
  assertBaseFlows(config);
  const brokers = ['b-1.prod:9092', 'b-2.prod:9092', 'b-3.prod:9092'];
  assertKafkaIO(config, brokers);
  assert.equal(config.files.map((f) => resolve(f)), [productionConf, baseConf]);
  assert.is(config.settings.progress, 'off');
  assert.is(config.settings.log.level, 'info');
  assert.is(config.settings.log.destination, 'stderr');
  assert.equal(config.settings.kafka, { brokers: 'b-1.prod:9092,b-2.prod:9092,b-3.prod:9092', topics: PRODUCTION_TOPICS });

  const expected = {
    content: { in: 'oicms.content-items', group: 'sluice-content', out: 'recommender.items', key: 'id', dlq: 'sluice.content.dlq' },
    campaign: { in: 'cm.campaign-events', group: 'sluice-campaign', out: 'recommender.events', key: 'userId', dlq: 'sluice.campaign.dlq' },
  };
  for (const [name, want] of Object.entries(expected)) {
    const flow = flowOf(config, name);
    const source = nodeOf(flow, 'source').config;
    assert.is(source.topic, want.in);
    assert.is(source['group-id'], want.group);
    assert.is(source['partitions-in-flight'], 4);
    const sink = nodeOf(flow, 'sink').config;
    assert.is(sink.topic, want.out);
    assert.is(sink.key, want.key);
    assert.is(sink.encoding, 'protobuf', `${name}: protobuf records to the recommender`);
    assert.is(sink.compression, 'zstd');
    assert.is(sink.idempotent, true);
    const deadLetter = nodeOf(flow, 'dead-letter').config;
    assert.is(deadLetter.topic, want.dlq);
    assert.is(deadLetter.idempotent, true);
    assert.is(deadLetter.encoding, 'json', 'dead letters keep the original bytes');
  }
  const placements = config.tables.find((t) => t.name === 'placements')!;
  assert.equal([placements.kind, placements.config.topic, placements.config.brokers], ['kafka', 'cm.placements', brokers], 'the placements table follows its topic');
  // SLUICE_LOG_LEVEL still overrides
  const quiet = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: 'b-1.prod:9092', SLUICE_LOG_LEVEL: 'error' }, () => loadConfig(productionConf));
  assert.is(quiet.settings.log.level, 'error');
  assertKafkaIO(quiet, ['b-1.prod:9092']);
});

test('config/production.conf with an empty KAFKA_BROKERS: the brokers of every component are named', async () => {
  const error = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: '' }, () => loadError(productionConf));
  for (const flow of ['content', 'campaign']) {
    for (const role of KAFKA_NODES) problemAt(error, `flows.${flow}.${role}.brokers`, productionConf);
  }
});

test('an overlay of production.conf without KAFKA_BROKERS names production.conf, which reads it', async () => {
  const file = overlay(`progress = on`, productionConf);
  const error = await withEnv({ ...PRODUCTION_URLS, KAFKA_BROKERS: undefined }, () => loadError(file));
  assert.ok(error.message.includes('${KAFKA_BROKERS} is neither a configuration key nor a set environment variable'), error.message);
  assert.is(error.problems.length, 1, show(error.problems));
  assert.is(resolve(error.problems[0]!.file!), productionConf, `names ${error.problems[0]!.file}, not production.conf`);
});

test('the resolved view (check --print) includes the kafka block with its defaults', async () => {
  const qal = await loadConfig(qalConf);
  assert.equal(qal.resolved.kafka, { brokers: '127.0.0.1:9092', topics: QAL_TOPICS }, `resolved keys: ${Object.keys(qal.resolved).join(', ')}`);
  const noTopics = await loadConfig(overlay(`kafka { brokers = "k:9092" }`));
  assert.equal(noTopics.resolved.kafka, { brokers: 'k:9092', topics: {} });
  const local = await loadConfig(localConf);
  assert.is(local.resolved.kafka, undefined);
});

// ---------------------------------------------------------------------------------------------
// overlays, substitutions, relative paths

test('an overlay including local.conf by absolute path overrides its keys and those of base.conf', async () => {
  const file = overlay(`
log.level = warn
progress = off
flows.content.limits.max-depth = 12
flows.content.on-invalid = drop
flows.campaign.source.batch-size = 7
`);
  const config = await loadConfig(file);
  assert.equal(config.files.map((f) => resolve(f)), [file, localConf, baseConf, lookupConf]);
  assert.is(config.settings.log.level, 'warn');
  assert.is(config.settings.progress, 'off');
  assert.is(config.settings.log.destination, '../out/sluice.log', "local.conf's log file is kept");
  const content = flowOf(config, 'content');
  assert.is(validateSettings(content)['max-depth'], 12);
  assert.is(validateSettings(content)['max-size'], 1024 * 1024, 'an overlay of one limit keeps the other default');
  assert.is(validateSettings(content)['on-invalid'], 'drop');
  assert.equal(content.nodes.filter((n) => n.role === 'stage').map((n) => n.kind), ['filter', 'latest', 'map', 'enrich-http'], "base.conf's stages are kept");
  const campaign = flowOf(config, 'campaign');
  assert.is(nodeOf(campaign, 'source').config['batch-size'], 7);
  assert.is(nodeOf(campaign, 'source').config.path, '../samples/campaign.ndjson', 'the rest of the block is kept');
  assert.is(validateSettings(campaign)['max-depth'], 64);
  assert.is(validateSettings(campaign)['on-invalid'], 'dlq');
});

test('an overlay of qal.conf overrides one dotted topic, adds another, keeps the rest', async () => {
  const file = overlay(
    `
kafka.topics."qal.oicms.content-items" = 8
kafka.topics."qal.extra.topic" = 2
flows.content.source.topic = "qal.extra.topic"
`,
    qalConf,
  );
  const config = await loadConfig(file);
  assert.equal(config.files.map((f) => resolve(f)), [file, qalConf, baseConf, lookupConf]);
  assert.equal(config.settings.kafka!.topics, { ...QAL_TOPICS, 'qal.oicms.content-items': 8, 'qal.extra.topic': 2 });
  const source = nodeOf(flowOf(config, 'content'), 'source').config;
  assert.is(source.topic, 'qal.extra.topic');
  assert.is(source['group-id'], 'sluice-qal-content', 'the rest of the block is kept');
  assert.equal(source.brokers, ['127.0.0.1:9092']);
});

test('an overlay of qal.conf changing kafka.brokers moves every component (they refer to ${kafka.brokers})', async () => {
  // the substitution is resolved over the whole configuration, so an overlay's value wins
  const file = overlay(`kafka.brokers = "elsewhere:9092"`, qalConf);
  const config = await loadConfig(file);
  assert.is(config.settings.kafka!.brokers, 'elsewhere:9092');
  assertKafkaIO(config, ['elsewhere:9092']);
});

test('${?SLUICE_CONTENT_INPUT} replaces the source path when set, local.conf value when unset', async () => {
  const unset = await loadConfig(localConf);
  assert.is(nodeOf(flowOf(unset, 'content'), 'source').config.path, '../samples/content.ndjson');

  process.env.SLUICE_CONTENT_INPUT = '/data/incoming/content.ndjson';
  try {
    const set = await loadConfig(localConf);
    assert.is(nodeOf(flowOf(set, 'content'), 'source').config.path, '/data/incoming/content.ndjson');
    assert.is(nodeOf(flowOf(set, 'campaign'), 'source').config.path, '../samples/campaign.ndjson');
    // through an overlay too
    const viaOverlay = await loadConfig(overlay(`progress = off`));
    assert.is(nodeOf(flowOf(viaOverlay, 'content'), 'source').config.path, '/data/incoming/content.ndjson');
  } finally {
    delete process.env.SLUICE_CONTENT_INPUT;
  }
  const again = await loadConfig(localConf);
  assert.is(nodeOf(flowOf(again, 'content'), 'source').config.path, '../samples/content.ndjson');
});

test('${?SLUICE_LOG_DESTINATION} replaces the log file of local.conf', async () => {
  const config = await withEnv({ SLUICE_LOG_DESTINATION: 'stdout' }, () => loadConfig(localConf));
  assert.is(config.settings.log.destination, 'stdout');
});

test('relative paths resolve against the directory of the file that sets them', async () => {
  const file = overlay(`
flows.content.sink.path = "out/content.ndjson"
flows.campaign.dead-letter { path = "out/campaign.dlq.ndjson", append = true }
log.destination = "logs/sluice.log"
`);
  const tempDir = resolve(file, '..');
  const config = await loadConfig(file);
  const content = flowOf(config, 'content');
  assert.is(nodeOf(content, 'sink').config.path, 'out/content.ndjson');
  assert.is(nodeOf(content, 'sink').baseDir, tempDir, 'sink.path is set by the overlay');
  assert.is(nodeOf(content, 'source').baseDir, configDir, 'source.path is set by local.conf');
  assert.is(nodeOf(content, 'dead-letter').baseDir, configDir, 'dead-letter.path is set by local.conf');
  assert.is(nodeOf(content, 'stage', 'content-document').baseDir, configDir, 'the lookup path is set by base.conf');
  const campaign = flowOf(config, 'campaign');
  assert.is(nodeOf(campaign, 'dead-letter').baseDir, tempDir);
  assert.is(nodeOf(campaign, 'dead-letter').config.append, true);
  assert.is(nodeOf(campaign, 'sink').baseDir, configDir);
  assert.is(config.logDir, tempDir, 'log.destination is set by the overlay');
  // rules-file (set by base.conf) was read from config/rules, not from the temp dir
  assert.is((content.rules as Record<string, unknown>).$comment !== undefined, true);
});

test('a three-file layout like the shipped one: each relative path against the directory of its own file', async () => {
  // base (rules, stages) in one directory, an environment file (I/O) in another, an overlay in a third
  const root = join(dir, 'layout');
  write(JSON.stringify({ type: 'object', $comment: 'layout rules', properties: { id: { type: 'string' } } }), 'layout/base/rules/r.json');
  write('{"id":"a","category":"c"}\n', 'layout/base/lookup/l.ndjson');
  const base = write(
    `flows.solo {
  rules-file = "rules/r.json"
  stages = [ { kind = filter, name = keep, keep-if { field = id, exists = true } } ]
  on-invalid = dlq
}
`,
    'layout/base/base.conf',
  );
  const env = write(
    `include "../base/base.conf"
log.destination = "env.log"
flows.solo {
  source { kind = file, path = "in.ndjson" }
  sink { kind = file, path = "out.ndjson" }
  dead-letter { kind = file, path = "dlq.ndjson" }
}
`,
    'layout/env/env.conf',
  );
  const top = write(`include "../env/env.conf"\nflows.solo.sink.path = "top-out.ndjson"\n`, 'layout/top/top.conf');
  const config = await loadConfig(top);
  assert.equal(config.files.map((f) => resolve(f)), [top, env, base]);
  const solo = flowOf(config, 'solo');
  assert.equal(solo.rules, { type: 'object', $comment: 'layout rules', properties: { id: { type: 'string' } } }, 'rules-file read next to base.conf');
  assert.is(nodeOf(solo, 'source').baseDir, join(root, 'env'));
  assert.is(nodeOf(solo, 'dead-letter').baseDir, join(root, 'env'));
  assert.is(nodeOf(solo, 'sink').baseDir, join(root, 'top'));
  assert.is(config.logDir, join(root, 'env'));
  // and each key path is named by its file
  assert.is(resolve(config.problemAt(['flows', 'solo', 'stages', 0, 'keep-if'], 'x').file!), base);
  assert.is(resolve(config.problemAt(['flows', 'solo', 'rules-file'], 'x').file!), base);
  assert.is(resolve(config.problemAt(['flows', 'solo', 'source', 'path'], 'x').file!), env);
  assert.is(resolve(config.problemAt(['flows', 'solo', 'sink', 'path'], 'x').file!), top);
});

test('a rules-file set by an overlay resolves against the overlay directory', async () => {
  const file = overlay(`flows.content.rules-file = "my-rules.json"`);
  writeFileSync(join(resolve(file, '..'), 'my-rules.json'), JSON.stringify({ type: 'object', $comment: 'mine' }));
  const config = await loadConfig(file);
  assert.equal(flowOf(config, 'content').rules, { type: 'object', $comment: 'mine' });
});

test('key paths of the shipped files are named by the file that sets them: base.conf, local.conf, the overlay', async () => {
  const file = overlay(`
flows.content.sink.path = "elsewhere.ndjson"
flows.campaign.limits.max-depth = 10
`);
  const config = await loadConfig(file);
  const fileOf = (...path: PropertyKey[]) => resolve(config.problemAt(path, 'x').file!);
  // base.conf: rules, stages, on-invalid
  assert.is(fileOf('flows', 'content', 'rules-file'), baseConf);
  assert.is(fileOf('flows', 'content', 'stages', 1, 'fields', 'title'), baseConf);
  assert.is(fileOf('flows', 'campaign', 'stages', 2, 'path'), baseConf);
  assert.is(fileOf('flows', 'campaign', 'on-invalid'), baseConf);
  // local.conf: sources, sinks, dead-letters and the log file
  assert.is(fileOf('flows', 'content', 'source', 'path'), localConf);
  assert.is(fileOf('flows', 'content', 'dead-letter', 'path'), localConf);
  assert.is(fileOf('flows', 'campaign', 'source', 'path'), localConf);
  assert.is(fileOf('flows', 'campaign', 'sink', 'path'), localConf);
  assert.is(fileOf('flows', 'campaign', 'sink', 'encoding'), localConf);
  assert.is(fileOf('log', 'destination'), localConf);
  // the overlay: its own keys
  assert.is(fileOf('flows', 'content', 'sink', 'path'), file);
  assert.is(fileOf('flows', 'campaign', 'limits', 'max-depth'), file);

  const qal = await loadConfig(qalConf);
  const qalFileOf = (...path: PropertyKey[]) => resolve(qal.problemAt(path, 'x').file!);
  assert.is(qalFileOf('flows', 'content', 'source', 'topic'), qalConf);
  assert.is(qalFileOf('flows', 'campaign', 'sink', 'brokers'), qalConf);
  assert.is(qalFileOf('kafka', 'topics', 'qal.oicms.content-items'), qalConf);
  assert.is(qalFileOf('log', 'level'), qalConf);
  assert.is(qalFileOf('flows', 'content', 'stages', 0, 'drop-if'), baseConf);
  assert.is(qalFileOf('flows', 'content', 'rules-file'), baseConf);
});

// ---------------------------------------------------------------------------------------------
// errors

test('error: a missing file', async () => {
  const missing = join(dir, 'no-such-dir', 'missing.conf');
  const error = await loadError(missing);
  assert.ok(error.problems.length >= 1);
  assert.is(resolve(error.problems[0]!.file!), missing);
  assert.match(error.message, 'missing.conf');
  assert.match(error.message, /no such/i);
});

test('error: a HOCON syntax error names the file', async () => {
  const file = write(`flows {\n  content {\n    source { kind = file, path = "x"\n`, 'syntax/broken.conf');
  const error = await loadError(file);
  assert.match(error.message, 'broken.conf');
  assert.is(error.problems.length, 1);
  assert.is(resolve(error.problems[0]!.file!), file);
});

test('error: a HOCON syntax error in an included file names the included file', async () => {
  const included = write(`flows { content { source = { kind = file, path = "x" ] } }\n`, 'syntax-included/base.conf');
  const top = write(`include "base.conf"\nprogress = off\n`, 'syntax-included/top.conf');
  const error = await loadError(top);
  assert.is(error.problems.length, 1);
  assert.is(resolve(error.problems[0]!.file!), included);
  assert.match(error.message, 'base.conf');
});

test('error: an unknown top-level key', async () => {
  const file = overlay(`colour = blue`);
  const error = await loadError(file);
  const problem = problemAt(error, 'colour', file);
  assert.match(problem.message, /unknown|unrecognized/i);
});

test('error: a wrong type (max-depth = "deep")', async () => {
  const file = overlay(`flows.content.limits.max-depth = "deep"`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.limits.max-depth', file);
  assert.match(problem.message, /number/i);
  assert.match(error.message, 'flows.content.limits.max-depth');
});

test('error: a max-depth above what the validator can nest names the key and the maximum', async () => {
  const file = overlay(`flows.content.limits.max-depth = 10000\nflows.campaign.limits.max-depth = ${MAX_DEPTH_LIMIT + 1}`);
  const error = await loadError(file);
  for (const flow of ['content', 'campaign']) {
    const problem = problemAt(error, `flows.${flow}.limits.max-depth`, file);
    assert.match(problem.message, `at most ${MAX_DEPTH_LIMIT}`);
  }
  const atLimit = await loadConfig(overlay(`flows.content.limits.max-depth = ${MAX_DEPTH_LIMIT}`));
  assert.is(validateSettings(atLimit.flows.find((f) => f.flow === 'content')!)['max-depth'], MAX_DEPTH_LIMIT);
});

test('error: an unknown stage kind lists the known kinds', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft] } }
  { kind = transmogrify, name = magic }
]`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.stages[1].kind', file);
  assert.match(problem.message, 'transmogrify');
  for (const kind of ['filter', 'map', 'enrich-http']) assert.match(problem.message, kind);
});

test('error: an unknown source and sink kind list the known kinds (file, kafka)', async () => {
  const file = overlay(`
flows.campaign.source.kind = http
flows.campaign.sink.kind = s3
flows.content.dead-letter.kind = sqs
`);
  const error = await loadError(file);
  const source = problemAt(error, 'flows.campaign.source.kind', file).message;
  assert.match(source, 'http');
  for (const kind of ['file', 'kafka']) assert.match(source, kind);
  for (const path of ['flows.campaign.sink.kind', 'flows.content.dead-letter.kind']) {
    const message = problemAt(error, path, file).message;
    assert.match(message, /s3|sqs/);
    for (const kind of ['file', 'kafka']) assert.match(message, kind);
  }
});

test('error: an overlay turning a local file sink into kafka: its file keys (local.conf) and missing kafka keys (overlay)', async () => {
  const file = overlay(`flows.content.sink.kind = kafka`);
  const error = await loadError(file);
  // path is set by local.conf: the problem names it there
  assert.match(problemAt(error, 'flows.content.sink.path', localConf).message, /unknown|unrecognized/i);
  // brokers and topic are set nowhere: named at the block the overlay changed
  problemAt(error, 'flows.content.sink.brokers', file);
  problemAt(error, 'flows.content.sink.topic', file);
  assert.not.ok(error.problems.some((p) => p.path.startsWith('flows.campaign')), show(error.problems));
});

test('error: bad kafka source and sink settings, each at its key path', async () => {
  const file = overlay(
    `
flows.content.source.brokers = "localhost"
flows.content.source.partitions-in-flight = 0
flows.content.sink.compression = brotli
flows.content.sink.encoding = avro
flows.campaign.sink.acks = 2
flows.campaign.dead-letter.colour = red
`,
    qalConf,
  );
  const error = await loadError(file);
  assert.match(problemAt(error, 'flows.content.source.brokers[0]', file).message, 'host:port');
  problemAt(error, 'flows.content.source.partitions-in-flight', file);
  assert.match(problemAt(error, 'flows.content.sink.compression', file).message, /zstd/);
  assert.match(problemAt(error, 'flows.content.sink.encoding', file).message, /protobuf/);
  problemAt(error, 'flows.campaign.sink.acks', file);
  assert.match(problemAt(error, 'flows.campaign.dead-letter.colour', file).message, /unknown|unrecognized/i);
});

test('error: a kafka source without topic and group-id; brokers as a list are accepted', async () => {
  const file = standalone(`
    ${SOLO_RULES}
    source { kind = kafka, brokers = ["a:9092", "b:9093"] }
    sink { kind = kafka, brokers = ["a:9092"], topic = out }
    on-invalid = drop
`);
  const error = await loadError(file);
  problemAt(error, 'flows.solo.source.topic', file);
  problemAt(error, 'flows.solo.source.group-id', file);
  assert.not.ok(error.problems.some((p) => p.path.startsWith('flows.solo.source.brokers') || p.path.startsWith('flows.solo.sink')), show(error.problems));
  const fixed = standalone(`
    ${SOLO_RULES}
    source { kind = kafka, brokers = ["a:9092", "b:9093"], topic = in, group-id = g }
    sink { kind = kafka, brokers = ["a:9092"], topic = out }
    on-invalid = drop
`);
  const config = await loadConfig(fixed);
  assert.equal(nodeOf(flowOf(config, 'solo'), 'source').config.brokers, ['a:9092', 'b:9093']);
});

test('error: the kafka block: a topic with 0 partitions (a dotted name), an unknown key, no brokers', async () => {
  const file = overlay(
    `
kafka.topics."qal.oicms.content-items" = 0
kafka.colour = red
`,
    qalConf,
  );
  const error = await loadError(file);
  assert.match(problemAt(error, 'kafka.topics["qal.oicms.content-items"]', file).message, /1/);
  assert.match(problemAt(error, 'kafka.colour', file).message, /unknown|unrecognized/i);

  const noBrokers = overlay(`kafka.topics { "a.b" = 1 }`);
  const error2 = await loadError(noBrokers);
  problemAt(error2, 'kafka.brokers', noBrokers);
});

test('error: an overlay key whose value refers to ${kafka.brokers} is still named in the overlay', async () => {
  // the overlay cannot be parsed alone (kafka.brokers is in qal.conf); the key it sets is its own
  const file = overlay(`flows.content.sink { brokers = \${kafka.brokers}, topic = qal.other.items, compression = brotli }`, qalConf);
  const error = await loadError(file);
  assert.match(problemAt(error, 'flows.content.sink.compression', file).message, /zstd/);
});

test('error: an unknown key inside a stage', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft] }, colour = red }
]`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.stages[0].colour', file);
  assert.match(problem.message, /unknown|unrecognized/i);
});

test('error: a filter condition with both in and equals', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft], equals = draft } }
]`);
  const error = await loadError(file);
  const problem = error.problems.find((p) => p.path.startsWith('flows.content.stages[0].drop-if'));
  assert.ok(problem, `no problem under flows.content.stages[0].drop-if in ${show(error.problems)}`);
  assert.is(resolve(problem.file!), file);
  assert.match(problem.message, /in/);
  assert.match(problem.message, /equals/);
});

test('error: a flow without a sink', async () => {
  const file = standalone(`
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    on-invalid = drop
`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.solo.sink', file);
  assert.match(problem.message, /object|required|missing/i);
});

test('error: on-invalid = dlq without a dead-letter sink', async () => {
  const file = standalone(`
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    sink { kind = file, path = out.ndjson }
    on-invalid = dlq
`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.solo.on-invalid', file);
  assert.match(problem.message, /dead-letter/);
});

test('error: on-invalid defaults to dlq, so a flow without a dead-letter sink needs on-invalid = drop', async () => {
  const file = standalone(`
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    sink { kind = file, path = out.ndjson }
`);
  const error = await loadError(file);
  const problem = error.problems.find((p) => p.path === 'flows.solo.on-invalid');
  assert.ok(problem, show(error.problems));
  assert.match(problem.message, /dead-letter/);
  const fixed = standalone(`
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    sink { kind = file, path = out.ndjson }
    on-invalid = drop
`);
  const config = await loadConfig(fixed);
  assert.is(validateSettings(flowOf(config, 'solo'))['on-invalid'], 'drop');
});

test('error: rules and rules-file both given', async () => {
  const file = overlay(`flows.content.rules { type = object }`);
  const error = await loadError(file);
  const problem = error.problems.find((p) => /^flows\.content(\.rules|\.rules-file)?$/.test(p.path));
  assert.ok(problem, show(error.problems));
  assert.is(resolve(problem.file!), file);
  assert.match(problem.message, 'rules-file');
  assert.match(problem.message, /exactly one|both|not both/);
});

test('error: neither rules nor rules-file', async () => {
  const file = standalone(`
    ${SOLO_SOURCE}
    sink { kind = file, path = out.ndjson }
    on-invalid = drop
`);
  const error = await loadError(file);
  const problem = error.problems.find((p) => /^flows\.solo(\.rules|\.rules-file)?$/.test(p.path));
  assert.ok(problem, show(error.problems));
  assert.match(problem.message, 'rules-file');
});

/** A flow `solo` in its own directory whose rules-file is `rules/r.json`, with `files` (path -> JSON) beside it. */
function refsLayout(name: string, files: Record<string, unknown>, flowExtra = ''): string {
  for (const [path, json] of Object.entries(files)) write(JSON.stringify(json), `${name}/${path}`);
  return write(
    `flows.solo {
  ${SOLO_SOURCE}
  rules-file = "rules/r.json"
  ${flowExtra}
  sink { kind = file, path = "out.ndjson" }
  on-invalid = drop
}
`,
    `${name}/sluice.conf`,
  );
}

const MONEY = { type: 'object', required: ['value', 'currency'], properties: { value: { type: 'number' }, currency: { $ref: 'currency.json' } } };
const CURRENCY = { type: 'string', pattern: '^[A-Z]{3}$' };
const DEFS = { $id: 'https://example.org/defs.json', $defs: { kind: { enum: ['view', 'click'] } } };

test('rules $ref sibling files (relative to the file holding the $ref) and listed schemas by $id: all resolved at load, carried beside the rules', async () => {
  const file = refsLayout('refs', {
    'rules/r.json': {
      type: 'object',
      properties: { price: { $ref: 'shared/money.json' }, kind: { $ref: 'https://example.org/defs.json#/$defs/kind' }, id: { $ref: '#/$defs/id' } },
      $defs: { id: { type: 'string' } },
    },
    'rules/shared/money.json': MONEY,
    'rules/shared/currency.json': CURRENCY,
    'defs/defs.json': DEFS,
  }, 'schemas = ["defs/defs.json"]');
  const config = await loadConfig(file);
  const flow = flowOf(config, 'solo');
  const rules = flowRules(flow);
  // the rules as written; the documents they reference on the validate node, by URI
  assert.equal(rules.schema, JSON.parse(readFileSync(join(resolve(file, '..'), 'rules', 'r.json'), 'utf8')));
  assert.equal(Object.keys(rules.schemas ?? {}).map((uri) => uri.slice(uri.lastIndexOf('/refs/') + 6)).sort(), ['defs/defs.json', 'rules/shared/currency.json', 'rules/shared/money.json']);
  assert.match(rules.base!, /^file:.*\/refs\/rules\/r\.json$/);
  assert.match(describe([flow]), /\n {6}schemas = \{"file:/, 'describe shows them on the validate node');
  const options = { base: rules.base, schemas: rules.schemas };
  const validators = { core: compileSchema(rules.schema, options), js: new JsValidator(rules.schema, options) };
  const encoder = new TextEncoder();
  for (const [engine, validator] of Object.entries(validators)) {
    const verdict = (text: string) => {
      validator.check([encoder.encode(text)]);
      return validator.verdict(0);
    };
    assert.ok(verdict('{"price":{"value":1,"currency":"EUR"},"kind":"view","id":"a"}').ok, engine);
    const currency = verdict('{"price":{"value":1,"currency":"eur"}}');
    assert.is(currency.code, 'E_PATTERN', engine);
    assert.is(currency.path, '/price/currency', engine);
    // (the core: the file's URI and the pointer in it; ajv: the reference as written)
    assert.match(currency.keywordLocation!, engine === 'core' ? /^file:.*\/rules\/shared\/currency\.json#\/pattern$/ : /currency\.json\/pattern$/, `${engine}: ${JSON.stringify(currency)}`);
    assert.is(verdict('{"price":{"value":1}}').code, 'E_REQUIRED', engine);
    assert.is(verdict('{"kind":"buy"}').code, 'E_ENUM', engine);
    assert.equal(verdict('{"id":1}').keywordLocation, '/$defs/id/type', `${engine}: the rules' own keywords stay plain pointers`);
  }
});

test('rules without references to other files load unchanged', async () => {
  const rules = { type: 'object', properties: { id: { $ref: '#/$defs/id' } }, $defs: { id: { type: 'string' } } };
  const config = await loadConfig(refsLayout('no-refs', { 'rules/r.json': rules }));
  assert.equal(flowRules(flowOf(config, 'solo')), { schema: rules });
});

test('error: a $ref to a sibling file that does not exist names the rules file and the pointer', async () => {
  const file = refsLayout('missing-sibling', { 'rules/r.json': { properties: { price: { $ref: 'money.json' } } } });
  const problem = problemAt(await loadError(file), 'flows.solo.rules-file', file);
  assert.match(problem.message, join('rules', 'r.json'));
  assert.match(problem.message, '/properties/price/$ref');
  assert.match(problem.message, 'money.json');
});

test('error: a $ref into a sibling file whose pointer does not resolve, and to an $id nothing lists', async () => {
  const pointer = refsLayout('bad-pointer', {
    'rules/r.json': { properties: { price: { $ref: 'money.json' } } },
    'rules/money.json': { properties: { currency: { $ref: '#/$defs/currency' } } },
  });
  const problem = problemAt(await loadError(pointer), 'flows.solo.rules-file', pointer);
  assert.match(problem.message, join('rules', 'money.json'), 'the file holding the $ref');
  assert.match(problem.message, '/properties/currency/$ref');
  assert.match(problem.message, 'no /$defs/currency');
  const unlisted = refsLayout('unlisted', { 'rules/r.json': { properties: { kind: { $ref: 'https://example.org/defs.json#/$defs/kind' } } } });
  const unknown = problemAt(await loadError(unlisted), 'flows.solo.rules-file', unlisted);
  assert.match(unknown.message, '/properties/kind/$ref');
  assert.match(unknown.message, 'https://example.org/defs.json');
  const inline = write(`flows.solo {\n  ${SOLO_SOURCE}\n  rules { properties { a { "$ref" = "nope.json" } } }\n  sink { kind = file, path = "o.ndjson" }\n  on-invalid = drop\n}\n`);
  const fromInline = problemAt(await loadError(inline), 'flows.solo.rules', inline);
  assert.match(fromInline.message, '/properties/a/$ref');
});

test('error: a rules-file that does not exist (resolved against the overlay)', async () => {
  const file = overlay(`flows.content.rules-file = "rules/nope.schema.json"`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.rules-file', file);
  assert.match(problem.message, join(resolve(file, '..'), 'rules', 'nope.schema.json'));
});

test('error: a rules-file that is not JSON', async () => {
  const file = overlay(`flows.campaign.rules-file = "bad.json"`);
  writeFileSync(join(resolve(file, '..'), 'bad.json'), '{ "type": "object", }');
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.campaign.rules-file', file);
  assert.match(problem.message, 'bad.json');
});

test('error: a flow name with upper-case letters', async () => {
  const file = write(`flows { Content { ${SOLO_RULES}, ${SOLO_SOURCE}, sink { kind = file, path = o }, on-invalid = drop } }`);
  const error = await loadError(file);
  const problem = error.problems.find((p) => p.path.startsWith('flows'));
  assert.ok(problem, show(error.problems));
  assert.match(problem.message, /lower-case/);
});

test('error: two nodes with the same name in one flow', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, name = same, drop-if { field = status, in = [draft] } }
  { kind = filter, name = same, drop-if { field = status, in = [withdrawn] } }
]`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.stages[1].name', file);
  assert.match(problem.message, 'same');
});

test('errors are attributed to base.conf when the base file sets the offending key', async () => {
  // a base of our own (in the temp dir) with mistakes, and an overlay in a sub-directory
  const base = write(
    `flows {
  content {
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    limits { max-depth = "deep" }
    sink { kind = file, path = out.ndjson }
    dead-letter { kind = file, path = dlq.ndjson }
  }
}
`,
    'attribution/base.conf',
  );
  const top = write(`include "../base.conf"\nflows.content.sink.path = "env/out.ndjson"\n`, 'attribution/env/top.conf');
  const error = await loadError(top);
  problemAt(error, 'flows.content.limits.max-depth', base);

  const base2 = write(
    `flows {
  content {
    ${SOLO_RULES}
    ${SOLO_SOURCE}
    stages = [
      { kind = filter, drop-if { field = status, in = [draft] } }
      { kind = filter, keep-if { field = status, exists = true }, colour = red }
    ]
    sink { kind = file, path = out.ndjson }
    dead-letter { kind = file, path = dlq.ndjson }
  }
}
`,
    'attribution2/base.conf',
  );
  const top2 = write(
    `include "../base.conf"\nflows.content.sink.path = "env/out.ndjson"\nflows.content.dead-letter.colour = blue\n`,
    'attribution2/env/top.conf',
  );
  const error2 = await loadError(top2);
  problemAt(error2, 'flows.content.stages[1].colour', base2);
  problemAt(error2, 'flows.content.dead-letter.colour', top2);
});

test('errors in a three-file layout (base: rules and stages; environment: I/O; overlay) name the file setting the key', async () => {
  const base = write(
    `flows {
  content {
    ${SOLO_RULES}
    stages = [
      { kind = filter, drop-if { field = status, in = [draft] } }
      { kind = filter, keep-if { field = status, exists = true }, colour = red }
    ]
    limits { max-depth = "deep" }
  }
}
`,
    'attribution3/base.conf',
  );
  const env = write(
    `include "../base.conf"
flows.content {
  ${SOLO_SOURCE}
  sink { kind = file, path = out.ndjson, encoding = xml }
  dead-letter { kind = kafka, brokers = "k:9092", topic = dlq, frobnicate = true }
}
`,
    'attribution3/env/env.conf',
  );
  // the flow's shape first (a flow whose shape is wrong is not checked further)
  const top = write(`include "env.conf"\nflows.content.on-invalid = sometimes\n`, 'attribution3/env/top.conf');
  const error = await loadError(top);
  problemAt(error, 'flows.content.limits.max-depth', base);
  problemAt(error, 'flows.content.on-invalid', top);
  // with the shape fixed by an overlay, the components' problems, each in its own file
  const fixedTop = write(
    `include "env.conf"\nflows.content.limits.max-depth = 10\nflows.content.source.batch-size = "many"\n`,
    'attribution3/env/fixed.conf',
  );
  const error2 = await loadError(fixedTop);
  problemAt(error2, 'flows.content.stages[1].colour', base);
  problemAt(error2, 'flows.content.sink.encoding', env);
  problemAt(error2, 'flows.content.dead-letter.frobnicate', env);
  problemAt(error2, 'flows.content.source.batch-size', fixedTop);
  assert.not.ok(error2.problems.some((p) => p.path === 'flows.content.limits.max-depth'), show(error2.problems));
});

test('several component problems are all reported, across flows', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft], equals = draft } }
  { kind = transmogrify }
  { kind = map, target = "sluice.recommender.v1.ItemRecord", fields { item_id = id }, colour = red }
]
flows.content.sink.frobnicate = true
flows.campaign.source.kind = http
flows.campaign.rules { type = object }
flows.campaign.dead-letter.encoding = xml
`);
  const error = await loadError(file);
  const paths = error.problems.map((p) => p.path);
  for (const expected of [
    'flows.content.stages[1].kind',
    'flows.content.stages[2].colour',
    'flows.content.sink.frobnicate',
    'flows.campaign.source.kind',
    'flows.campaign.dead-letter.encoding',
  ]) {
    assert.ok(paths.includes(expected), `${expected} missing from ${show(error.problems)}`);
  }
  assert.ok(paths.some((p) => p.startsWith('flows.content.stages[0].drop-if')), `filter problem missing from ${show(error.problems)}`);
  assert.ok(paths.some((p) => /^flows\.campaign(\.rules|\.rules-file)?$/.test(p)), `rules problem missing from ${show(error.problems)}`);
  for (const p of error.problems) assert.is(resolve(p.file!), file, `${p.path} names ${p.file}`);
  // the message lists each of them too, one per line
  for (const expected of paths) assert.ok(error.message.includes(expected), `${expected} not in message:\n${error.message}`);
});

test('several problems are all reported, mixing the configuration shape and components', async () => {
  const file = overlay(`
log.level = loud
flows.content.limits.max-depth = "deep"
flows.campaign.stages = [ { kind = transmogrify } ]
flows.campaign.sink.frobnicate = true
`);
  const error = await loadError(file);
  const paths = error.problems.map((p) => p.path);
  for (const expected of [
    'log.level',
    'flows.content.limits.max-depth',
    'flows.campaign.stages[0].kind',
    'flows.campaign.sink.frobnicate',
  ]) {
    assert.ok(paths.includes(expected), `${expected} missing from ${show(error.problems)}`);
  }
});

test('integers set from the environment (strings in HOCON) are read as numbers; anything else is an error naming the key', async () => {
  const config = await withEnv({ SLUICE_LOCAL_PORT: '18123', SLUICE_LOCAL_DELAY_MS: '5', SLUICE_HTTP_PORT: '0' }, () => loadConfig(localConf));
  assert.is(config.settings['local-services'].lookup!.port, 18123);
  assert.is(config.settings['local-services'].lookup!['delay-ms'], 5);
  assert.is(config.settings.observe.http.port, 0);
  const error = await withEnv({ SLUICE_LOCAL_DELAY_MS: 'soon' }, () => loadConfig(localConf).then(() => undefined, (e: unknown) => e));
  assert.instance(error, SluiceError);
  assert.match((error as SluiceError).message, 'local-services.lookup.delay-ms');
});

test('a Kafka source fetches 1 MiB a partition unless set (Kafka\'s max.partition.fetch.bytes), in either delivery mode', async () => {
  const kafkaFlow = (delivery: string, extra = '') =>
    standalone(`    delivery = ${delivery}
    on-invalid = drop
    ${SOLO_RULES}
    source { kind = kafka, brokers = "127.0.0.1:9092", topic = in, group-id = g${extra} }
    sink { kind = kafka, brokers = "127.0.0.1:9092", topic = out }`);
  const fetchBytes = async (file: string) => nodeOf(flowOf(await loadConfig(file), 'solo'), 'source').config['max-bytes-per-partition'];
  assert.is(await fetchBytes(kafkaFlow('exactly-once')), 1024 * 1024);
  assert.is(await fetchBytes(kafkaFlow('at-least-once')), 1024 * 1024);
  assert.is(await fetchBytes(kafkaFlow('exactly-once', ', max-bytes-per-partition = 65536')), 65536, 'a value set stays');
});

test.run();
