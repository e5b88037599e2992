// buildFlows (what `sluice check` runs): bad mappings, stage order and unsupported rules are
// rejected before any message is read, each problem at the key path of the stage that causes it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, resourcesOf } from '../../src/pipeline/load.ts';
import { type ConfigProblem, SluiceError } from '../../src/errors.ts';
import { packageRoot } from '../../src/package-root.ts';
import { type Flow } from '../../src/pipeline/flow.ts';
import { buildFlows } from '../../src/pipeline/build.ts';

const logger = pino({ level: 'silent' });
const configDir = join(packageRoot, 'config');
const qalConf = join(configDir, 'qal.conf');
const productionConf = join(configDir, 'production.conf');
const contentRules = join(configDir, 'rules', 'content.schema.json');
const campaignRules = join(configDir, 'rules', 'campaign.schema.json');
const samples = join(packageRoot, 'samples');
const ITEM = 'sluice.recommender.v1.ItemRecord';
const EVENT = 'sluice.recommender.v1.EventRecord';

let dir: string;
let counter = 0;
// scripts/test.mjs sets KAFKA_BROKERS for the broker it starts: these tests choose it themselves
const savedBrokers = process.env.KAFKA_BROKERS;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-'));
  delete process.env.KAFKA_BROKERS;
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  if (savedBrokers === undefined) delete process.env.KAFKA_BROKERS;
  else process.env.KAFKA_BROKERS = savedBrokers;
});

interface FlowSpec {
  /** `rules-file = ...` or `rules { ... }` */
  rules?: string;
  stages: string;
  enabled?: boolean;
  source?: string;
  /** The whole `sink { ... }` entry (default: a file in the temp dir) */
  sink?: string;
}

/** A configuration file in the temp dir with one flow per entry; sinks write into the temp dir. */
function configFile(flows: Record<string, FlowSpec>): string {
  const caseDir = join(dir, `case-${++counter}`);
  mkdirSync(caseDir, { recursive: true });
  const body = Object.entries(flows)
    .map(
      ([name, spec]) => `  ${name} {
    enabled = ${spec.enabled ?? true}
    ${spec.rules ?? `rules-file = "${contentRules}"`}
    source { kind = file, path = "${spec.source ?? join(samples, 'content.ndjson')}" }
    stages = [
${spec.stages}
    ]
    ${spec.sink ?? `sink { kind = file, path = "out/${name}.ndjson" }`}
    dead-letter { kind = file, path = "out/${name}.dlq.ndjson" }
  }`,
    )
    .join('\n');
  const file = join(caseDir, 'sluice.conf');
  writeFileSync(file, `log.level = silent\nflows {\n${body}\n}\n`);
  return file;
}

const show = (problems: readonly ConfigProblem[]) => JSON.stringify(problems, null, 2);

async function build(file: string): Promise<Flow[]> {
  const config = await loadConfig(file); // the shape is fine: only buildFlows may object
  return buildFlows(config.flows, resourcesOf(config, logger));
}

async function buildError(file: string): Promise<SluiceError> {
  const config = await loadConfig(file);
  try {
    buildFlows(config.flows, resourcesOf(config, logger));
  } catch (error) {
    assert.instance(error, SluiceError, `expected a SluiceError, got ${String(error)}`);
    const e = error as SluiceError;
    assert.is(e.code, 'SLC_CONFIG');
    return e;
  }
  throw new assert.Assertion({ message: `${file} built, but it should not`, operator: 'throws', expects: 'SLC_CONFIG', actual: 'built' });
}

function problemAt(error: SluiceError, path: string, file: string, ...patterns: (string | RegExp)[]): ConfigProblem {
  const found = error.problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path} in ${show(error.problems)}`);
  assert.ok(found.file, `problem at ${path} names no file`);
  assert.is(resolve(found.file), resolve(file));
  for (const pattern of patterns) assert.match(found.message, pattern);
  assert.ok(error.message.includes(path), `${path} is not in the message:\n${error.message}`);
  return found;
}

const mapStage = (target: string, fields: string) => `      { kind = map, name = to-record, target = "${target}", fields { ${fields} } }`;

// ---------------------------------------------------------------------------------------------

test('the shipped local.conf builds both flows', async () => {
  const flows = await build(join(configDir, 'local.conf'));
  assert.equal(flows.map((f) => f.name).sort(), ['campaign', 'content', 'engagement']);
});

test('the shipped qal.conf builds both flows on Kafka (building contacts no broker)', async () => {
  const flows = await build(qalConf);
  assert.equal(flows.map((f) => f.name).sort(), ['campaign', 'content', 'engagement', 'engagement.repartition']);
});

test('the shipped production.conf builds both flows with KAFKA_BROKERS set (protobuf sinks keyed by id and userId)', async () => {
  // production.conf also reads the enrichment services' URLs from the environment
  const vars = { KAFKA_BROKERS: 'b-1.prod:9092,b-2.prod:9092', CONTENT_API_URL: 'http://content-api.test', CAMPAIGN_MANAGER_URL: 'http://campaign-manager.test', RECOMMENDER_API_URL: 'http://recommender-api.test' };
  Object.assign(process.env, vars);
  try {
    const flows = await build(productionConf);
    assert.equal(flows.map((f) => f.name).sort(), ['campaign', 'content', 'engagement', 'engagement.repartition']);
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
  }
});

test('a kafka sink keyed by a field the rules do not define', async () => {
  const file = configFile({
    content: {
      stages: mapStage(ITEM, `item_id = id`),
      sink: `sink { kind = kafka, brokers = "127.0.0.1:9092", topic = items, key = ident }`,
    },
  });
  const error = await buildError(file);
  problemAt(error, 'flows.content.sink.key', file, '"ident"', /not defined/);
  assert.is(error.problems.length, 1, show(error.problems));
  // a key the rules define (nested too) builds
  for (const key of ['id', 'author.id']) {
    const good = configFile({
      content: { stages: mapStage(ITEM, `item_id = id`), sink: `sink { kind = kafka, brokers = "127.0.0.1:9092", topic = items, key = "${key}" }` },
    });
    assert.equal((await build(good)).map((f) => f.name), ['content'], key);
  }
});

test('an overlay of qal.conf keying a sink by an undefined field: the problem names the overlay', async () => {
  const overlayDir = join(dir, `case-${++counter}`);
  mkdirSync(overlayDir);
  const overlay = join(overlayDir, 'qal-overlay.conf');
  writeFileSync(overlay, `include "${qalConf}"\nflows.campaign.sink.key = user_id\n`);
  const error = await buildError(overlay);
  problemAt(error, 'flows.campaign.sink.key', overlay, '"user_id"');
  assert.is(error.problems.length, 1, show(error.problems));
});

test('a dedupe stage builds on a kafka source (on either client: its stores restore from changelogs) and on a file source', async () => {
  const overlayDir = join(dir, `case-${++counter}`);
  mkdirSync(overlayDir);
  for (const client of ['platformatic', 'kafkajs']) {
    const overlay = join(overlayDir, `qal-dedupe-${client}.conf`);
    writeFileSync(overlay, `include "${qalConf}"\nflows.campaign.stages = [{ kind = dedupe, key = eventId }] \${flows.campaign.stages}\nflows.campaign.source.client = ${client}\n`);
    assert.equal((await build(overlay)).map((f) => f.name).sort(), ['campaign', 'content', 'engagement', 'engagement.repartition']);
  }
  const local = join(overlayDir, 'local-dedupe.conf');
  writeFileSync(local, `include "${join(packageRoot, 'config', 'local.conf')}"\nflows.campaign.stages = [{ kind = dedupe, key = eventId, backend = memory }] \${flows.campaign.stages}\n`);
  assert.equal((await build(local)).map((f) => f.name).sort(), ['campaign', 'content', 'engagement']);
});

test('two stages of a flow naming one store: SLC_CONFIG at the second one\'s store', async () => {
  const overlayDir = join(dir, `case-${++counter}`);
  mkdirSync(overlayDir);
  const local = join(overlayDir, 'local-two-stores.conf');
  writeFileSync(local, `include "${join(packageRoot, 'config', 'local.conf')}"\nflows.campaign.stages = [{ kind = dedupe, key = eventId, backend = memory, store = seen }, { kind = dedupe, key = userId, backend = memory, store = seen }] \${flows.campaign.stages}\n`);
  const error = await buildError(local);
  problemAt(error, 'flows.campaign.stages[1].store', local, 'another stage');
  assert.is(error.problems.length, 1, show(error.problems));
});

test('a correct mapping (with constants and enrichment) builds', async () => {
  const file = configFile({
    content: {
      stages: [
        `      { kind = filter, keep-if { field = "author.id", exists = true } }`,
        mapStage(ITEM, `item_id = id, title = title, version = version, duration_sec = durationSec, rating = rating, tags = tags, author_id = "/author/id", item_type = { const = article }`),
        `      { kind = enrich-file, path = "${join(samples, 'lookup', 'content-documents.ndjson')}", key = id, merge { category = category } }`,
      ].join('\n'),
    },
  });
  const flows = await build(file);
  assert.equal(flows.map((f) => f.name), ['content']);
});

test('a map source field the rules do not define', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `item_id = id, title = headline`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.title', file, '"headline"', /not defined/);
  assert.is(error.problems.length, 1, show(error.problems));
});

test('a nested map source field the rules do not define', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `author_id = "author.email"`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.author_id', file, 'author.email', /not defined/);
});

test('a string field into int64 version', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `item_id = id, version = title`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.version', file, /string/, /int64/);
});

test('an integer without bounds into int32 duration_sec', async () => {
  // version is an integer with a minimum but no maximum: it may overflow int32
  const file = configFile({ content: { stages: mapStage(ITEM, `duration_sec = version`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.duration_sec', file, /int32/, /maximum|overflow|bound/);

  const unbounded = configFile({
    content: {
      rules: `rules { type = object, properties { secs { type = integer } } }`,
      stages: mapStage(ITEM, `duration_sec = secs`),
    },
  });
  const error2 = await buildError(unbounded);
  problemAt(error2, 'flows.content.stages[0].fields.duration_sec', unbounded, /int32/);
});

test('an integer with bounds that do not fit int32', async () => {
  const file = configFile({
    content: {
      rules: `rules { type = object, properties { secs { type = integer, minimum = 0, maximum = 9999999999 } } }`,
      stages: mapStage(ITEM, `duration_sec = secs`),
    },
  });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.duration_sec', file, /int32/);
});

test('a number into a string field', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `item_id = id, title = rating`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.title', file, /number/, /string/);
});

test('a number (not an integer) into an int64 field', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `version = rating`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.version', file, /number/, /int64/);
});

test('a string into a bool field, an object into a string field', async () => {
  const file = configFile({
    content: { rules: `rules-file = "${campaignRules}"`, source: join(samples, 'campaign.ndjson'), stages: mapStage(EVENT, `consent = userId, device_os = device`) },
  });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.consent', file, /string/, /bool/);
  problemAt(error, 'flows.content.stages[0].fields.device_os', file, /object/, /string/);
});

test('a target field that does not exist in the proto', async () => {
  const file = configFile({ content: { stages: mapStage(ITEM, `item_id = id, headline = title`) } });
  const error = await buildError(file);
  const problem = problemAt(error, 'flows.content.stages[0].fields.headline', file, '"headline"', ITEM);
  assert.match(problem.message, 'item_id', 'the message lists the fields that exist');
});

test('an unknown target message type', async () => {
  const file = configFile({ content: { stages: mapStage('sluice.recommender.v1.Nope', `item_id = id`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].target', file, 'sluice.recommender.v1.Nope', ITEM, EVENT);
});

test('enrich-file before any map stage', async () => {
  const file = configFile({
    content: {
      stages: `      { kind = enrich-file, path = "${join(samples, 'lookup', 'content-documents.ndjson')}", key = id, merge { category = category } }`,
    },
  });
  const error = await buildError(file);
  const problem = error.problems.find((p) => p.path.startsWith('flows.content.stages[0]'));
  assert.ok(problem, show(error.problems));
  assert.is(resolve(problem.file!), file);
  assert.match(problem.message, /map stage/);
});

test('enrich-file merging into a field the output record does not have', async () => {
  const file = configFile({
    content: {
      stages: [
        mapStage(ITEM, `item_id = id`),
        `      { kind = enrich-file, path = "${join(samples, 'lookup', 'content-documents.ndjson')}", key = ident, merge { colour = category } }`,
      ].join('\n'),
    },
  });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[1].merge.colour', file, 'colour');
  problemAt(error, 'flows.content.stages[1].key', file, 'ident');
});

test('a map stage with a bad field still counts as the map before an enrich-file stage', async () => {
  const file = configFile({
    content: {
      stages: [
        mapStage(ITEM, `item_id = id, title = headline`),
        `      { kind = enrich-file, path = "${join(samples, 'lookup', 'content-documents.ndjson')}", key = id, merge { category = category } }`,
      ].join('\n'),
    },
  });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.title', file, '"headline"');
  // the enrich-file stage is fine: its map stage is there, only one of its fields is wrong
  assert.equal(error.problems.map((p) => p.path), ['flows.content.stages[0].fields.title'], show(error.problems));
});

test('a filter on a field the rules do not define', async () => {
  const file = configFile({ content: { stages: `      { kind = filter, drop-if { field = state, in = [draft] } }` } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].drop-if.field', file, '"state"');
});

test('rules with an unknown format: the problem points at flows.<flow>.rules', async () => {
  const file = configFile({
    content: {
      rules: `rules { type = object, properties { id { type = string, format = ipv5 } } }`,
      stages: '',
    },
  });
  const error = await buildError(file);
  const problem = problemAt(error, 'flows.content.rules', file, /format/);
  assert.match(problem.message, /unknown format "ipv5"/);
});

test('a rules-file with an unknown format: the problem points at flows.<flow>.rules', async () => {
  const file = configFile({ content: { rules: `rules-file = "rules.json"`, stages: '' } });
  writeFileSync(join(resolve(file, '..'), 'rules.json'), JSON.stringify({ type: 'object', properties: { at: { type: 'string', format: 'e-mail' } } }));
  const error = await buildError(file);
  assert.ok(
    error.problems.some((p) => /^flows\.content\.rules(-file)?$/.test(p.path) && /format/.test(p.message)),
    show(error.problems),
  );
});

test("the checks a flow's rules leave to JS are listed: a pattern beyond the core's subset, a format run in JS", async () => {
  const file = configFile({
    content: {
      rules: `rules { type = object, properties { id { type = string, pattern = "(?<=x)y" }, at { type = string, format = idn-email } } }`,
      stages: '',
    },
  });
  const [flow] = await build(file);
  assert.equal(flow!.fallbacks.map((f) => f.keywordLocation).sort(), ['#/properties/at/format', '#/properties/id/pattern']);
  assert.ok(flow!.fallbacks.some((f) => f.description.includes('format "idn-email"')), JSON.stringify(flow!.fallbacks));
});

test('map checks its types through a $ref into a sibling rules file, as the core validates it', async () => {
  const rulesDir = join(dir, 'shared-rules');
  mkdirSync(join(rulesDir, 'shared'), { recursive: true });
  writeFileSync(join(rulesDir, 'r.json'), JSON.stringify({ type: 'object', required: ['id'], properties: { id: { type: 'string' }, duration: { $ref: 'shared/time.json#/$defs/seconds' }, title: { $ref: 'shared/time.json#/$defs/seconds' } } }));
  writeFileSync(join(rulesDir, 'shared', 'time.json'), JSON.stringify({ $defs: { seconds: { type: 'integer', minimum: 0, maximum: 86_400 } } }));
  const fits = configFile({ content: { rules: `rules-file = "${join(rulesDir, 'r.json')}"`, stages: mapStage(ITEM, `item_id = id, duration_sec = duration`) } });
  const [flow] = await build(fits);
  assert.ok(flow, 'built');
  const misfit = configFile({ content: { rules: `rules-file = "${join(rulesDir, 'r.json')}"`, stages: mapStage(ITEM, `item_id = id, title = title`) } });
  const problem = problemAt(await buildError(misfit), 'flows.content.stages[0].fields.title', misfit);
  assert.match(problem.message, 'a integer does not fit string');
});

test('a disabled flow is checked too', async () => {
  const file = configFile({ content: { enabled: false, stages: mapStage(ITEM, `title = headline`) } });
  const error = await buildError(file);
  problemAt(error, 'flows.content.stages[0].fields.title', file, '"headline"');
  // built when asked for (check), the topology saying it is disabled (run leaves it out)
  const config = await loadConfig(configFile({ content: { enabled: false, stages: mapStage(ITEM, `title = title`) } }));
  assert.equal(config.flows.map((t) => [t.flow, t.enabled]), [['content', false]]);
  assert.equal(buildFlows(config.flows, resourcesOf(config, logger)).map((f) => f.name), ['content']);
});

test('a mapping problem names the file that sets the stage (an included base, not the overlay)', async () => {
  const base = configFile({ content: { stages: mapStage(ITEM, `item_id = id, title = headline`) } });
  const overlayDir = join(resolve(base, '..'), 'env');
  mkdirSync(overlayDir);
  const overlay = join(overlayDir, 'overlay.conf');
  writeFileSync(overlay, `include "../sluice.conf"\nflows.content.sink.path = "elsewhere.ndjson"\nflows.content.limits.max-depth = 10\n`);
  const error = await buildError(overlay);
  problemAt(error, 'flows.content.stages[0].fields.title', base, '"headline"');
});

test('a three-file layout: a mapping problem names the base (stages), a sink key problem the environment file (I/O)', async () => {
  const caseDir = join(dir, `case-${++counter}`);
  mkdirSync(join(caseDir, 'env'), { recursive: true });
  const base = join(caseDir, 'base.conf');
  writeFileSync(
    base,
    `flows.content {
  rules-file = "${contentRules}"
  stages = [
${mapStage(ITEM, `item_id = id, title = headline`)}
  ]
}
`,
  );
  const env = join(caseDir, 'env', 'env.conf');
  writeFileSync(
    env,
    `include "../base.conf"
flows.content {
  source { kind = kafka, brokers = "127.0.0.1:9092", topic = items-in, group-id = g }
  sink { kind = kafka, brokers = "127.0.0.1:9092", topic = items-out, key = ident }
  dead-letter { kind = kafka, brokers = "127.0.0.1:9092", topic = items-dlq }
}
`,
  );
  const overlay = join(caseDir, 'env', 'overlay.conf');
  writeFileSync(overlay, `include "env.conf"\nflows.content.limits.max-depth = 10\n`);
  const error = await buildError(overlay);
  problemAt(error, 'flows.content.stages[0].fields.title', base, '"headline"');
  problemAt(error, 'flows.content.sink.key', env, '"ident"');
  assert.is(error.problems.length, 2, show(error.problems));
});

test('the problems of several stages, fields, rules and flows are listed together', async () => {
  const file = configFile({
    content: {
      stages: [
        `      { kind = filter, drop-if { field = state, in = [draft] } }`,
        mapStage(ITEM, `item_id = id, title = headline, version = title, duration_sec = version, summary = rating, headline = title`),
        `      { kind = enrich-file, path = "${join(samples, 'lookup', 'content-documents.ndjson')}", key = id, merge { colour = category } }`,
      ].join('\n'),
    },
    campaign: {
      rules: `rules { type = object, properties { eventId { type = string, format = ipv5 } } }`,
      stages: mapStage('sluice.recommender.v1.Nope', `event_id = eventId`),
    },
  });
  const error = await buildError(file);
  const expected = [
    'flows.content.stages[0].drop-if.field',
    'flows.content.stages[1].fields.title',
    'flows.content.stages[1].fields.version',
    'flows.content.stages[1].fields.duration_sec',
    'flows.content.stages[1].fields.summary',
    'flows.content.stages[1].fields.headline',
    'flows.content.stages[2].merge.colour',
    'flows.campaign.stages[0].target',
    'flows.campaign.rules',
  ];
  for (const path of expected) problemAt(error, path, file);
  assert.is(error.problems.length, expected.length, show(error.problems));
});

test.run();
