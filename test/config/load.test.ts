// loadConfig: the shipped configurations, overlays, ${?ENV} substitutions, relative paths and
// every kind of configuration error, each named by the file and key path that cause it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, type SluiceConfig } from '../../src/config/load.ts';
import { type ConfigProblem, SluiceError } from '../../src/errors.ts';
import { packageRoot } from '../../src/package-root.ts';
import type { FlowTopology, TopologyNode } from '../../src/pipeline/topology.ts';

const configDir = join(packageRoot, 'config');
const baseConf = join(configDir, 'base.conf');
const contentRules = join(configDir, 'rules', 'content.schema.json');
const samples = join(packageRoot, 'samples');

// the environment variables the shipped configurations read: unset while these tests run
const ENV = [
  'SLUICE_LOG_LEVEL', 'SLUICE_LOG_DESTINATION', 'SLUICE_CONTENT_INPUT', 'SLUICE_CAMPAIGN_INPUT',
  'SLUICE_CONTENT_OUTPUT', 'SLUICE_CAMPAIGN_OUTPUT', 'SLUICE_CONTENT_DEAD_LETTERS', 'SLUICE_CAMPAIGN_DEAD_LETTERS',
];
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

/** An overlay of the shipped base.conf with `body` appended. */
function overlay(body: string): string {
  return write(`include "${baseConf}"\n${body}\n`);
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

function assertShippedDefaults(config: SluiceConfig): void {
  assert.equal(config.flows.map((f) => f.flow).sort(), ['campaign', 'content']);
  for (const flow of config.flows) {
    assert.is(flow.enabled, true);
    assert.is(flow.maxDepth, 64, `${flow.flow}: max-depth default`);
    assert.is(flow.maxSize, 1024 * 1024, `${flow.flow}: max-size default`);
    assert.is(flow.onInvalid, 'dlq');
    assert.is(typeof flow.rules, 'object');
    const source = nodeOf(flow, 'source');
    assert.is(source.kind, 'file');
    assert.is(source.config['batch-size'], 1024);
    assert.is(source.config['chunk-size'], 1 << 20);
    assert.is(source.config.path, `../samples/${flow.flow}.ndjson`);
    assert.is(source.baseDir, configDir);
    const sink = nodeOf(flow, 'sink');
    assert.is(sink.config.encoding, 'json');
    assert.is(sink.config.append, false);
    const deadLetter = nodeOf(flow, 'dead-letter');
    assert.is(deadLetter.config.encoding, 'json', 'dead-letter sink encoding default');
    assert.is(deadLetter.config.append, false);
    assert.equal(
      flow.nodes.filter((n) => n.role === 'stage').map((n) => n.kind),
      ['filter', 'map', 'enrich-file'],
    );
    const enrich = flow.nodes.find((n) => n.kind === 'enrich-file')!;
    assert.is(enrich.config['on-missing'], 'dlq');
    // the validate node sits between the source and the stages
    const validate = nodeOf(flow, 'validate');
    assert.equal(validate.parents, [source.name]);
  }
  // the resolved view (what `check --print` shows) carries the defaults too
  const flows = config.resolved.flows as Record<string, Record<string, any>>;
  assert.equal(flows.content!.limits, { 'max-depth': 64, 'max-size': 1024 * 1024 });
  assert.is(flows.content!['on-invalid'], 'dlq');
  assert.is(flows.content!.source['batch-size'], 1024);
}

test('config/local.conf loads both flows with every default applied', async () => {
  const config = await loadConfig(join(configDir, 'local.conf'));
  assertShippedDefaults(config);
  assert.equal(config.files.map((f) => resolve(f)), [join(configDir, 'local.conf'), baseConf]);
  assert.is(config.settings.log.level, 'info');
  assert.is(config.settings.log.destination, '../out/sluice.log');
  assert.is(config.logDir, configDir);
  assert.is(config.settings.progress, 'auto');
});

test('config/qal.conf loads: debug logs on stderr', async () => {
  const config = await loadConfig(join(configDir, 'qal.conf'));
  assertShippedDefaults(config);
  assert.is(config.settings.log.level, 'debug');
  assert.is(config.settings.log.destination, 'stderr');
  assert.is(nodeOf(flowOf(config, 'content'), 'sink').config.path, '../out/content.ndjson');
});

test('config/production.conf loads: progress off, outputs from the environment', async () => {
  const config = await loadConfig(join(configDir, 'production.conf'));
  assertShippedDefaults(config);
  assert.is(config.settings.progress, 'off');
  assert.is(config.settings.log.level, 'info');
  assert.is(nodeOf(flowOf(config, 'content'), 'sink').config.path, '../out/content.ndjson');

  process.env.SLUICE_CONTENT_OUTPUT = '/var/lib/sluice/content.ndjson';
  process.env.SLUICE_CAMPAIGN_DEAD_LETTERS = '/var/lib/sluice/campaign.dlq.ndjson';
  try {
    const withEnv = await loadConfig(join(configDir, 'production.conf'));
    assert.is(nodeOf(flowOf(withEnv, 'content'), 'sink').config.path, '/var/lib/sluice/content.ndjson');
    assert.is(nodeOf(flowOf(withEnv, 'campaign'), 'dead-letter').config.path, '/var/lib/sluice/campaign.dlq.ndjson');
    // the others keep base.conf's values
    assert.is(nodeOf(flowOf(withEnv, 'campaign'), 'sink').config.path, '../out/campaign.ndjson');
  } finally {
    delete process.env.SLUICE_CONTENT_OUTPUT;
    delete process.env.SLUICE_CAMPAIGN_DEAD_LETTERS;
  }
});

// ---------------------------------------------------------------------------------------------
// overlays, substitutions, relative paths

test('an overlay including base.conf by absolute path overrides its keys', async () => {
  const file = overlay(`
log.level = warn
progress = off
flows.content.limits.max-depth = 12
flows.content.on-invalid = drop
flows.campaign.source.batch-size = 7
`);
  const config = await loadConfig(file);
  assert.equal(config.files.map((f) => resolve(f)), [file, baseConf]);
  assert.is(config.settings.log.level, 'warn');
  assert.is(config.settings.progress, 'off');
  const content = flowOf(config, 'content');
  assert.is(content.maxDepth, 12);
  assert.is(content.maxSize, 1024 * 1024, 'an overlay of one limit keeps the other default');
  assert.is(content.onInvalid, 'drop');
  const campaign = flowOf(config, 'campaign');
  assert.is(nodeOf(campaign, 'source').config['batch-size'], 7);
  assert.is(nodeOf(campaign, 'source').config.path, '../samples/campaign.ndjson', 'the rest of the block is kept');
  assert.is(campaign.maxDepth, 64);
  assert.is(campaign.onInvalid, 'dlq');
});

test('${?SLUICE_CONTENT_INPUT} replaces the source path when set, base value when unset', async () => {
  const unset = await loadConfig(baseConf);
  assert.is(nodeOf(flowOf(unset, 'content'), 'source').config.path, '../samples/content.ndjson');

  process.env.SLUICE_CONTENT_INPUT = '/data/incoming/content.ndjson';
  try {
    const set = await loadConfig(baseConf);
    assert.is(nodeOf(flowOf(set, 'content'), 'source').config.path, '/data/incoming/content.ndjson');
    assert.is(nodeOf(flowOf(set, 'campaign'), 'source').config.path, '../samples/campaign.ndjson');
    // through an overlay too
    const viaOverlay = await loadConfig(join(configDir, 'local.conf'));
    assert.is(nodeOf(flowOf(viaOverlay, 'content'), 'source').config.path, '/data/incoming/content.ndjson');
  } finally {
    delete process.env.SLUICE_CONTENT_INPUT;
  }
  const again = await loadConfig(baseConf);
  assert.is(nodeOf(flowOf(again, 'content'), 'source').config.path, '../samples/content.ndjson');
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
  assert.is(nodeOf(content, 'source').baseDir, configDir, 'source.path is set by base.conf');
  assert.is(nodeOf(content, 'dead-letter').baseDir, configDir, 'dead-letter.path is set by base.conf');
  assert.is(nodeOf(content, 'stage', 'content-document').baseDir, configDir, 'the lookup path is set by base.conf');
  const campaign = flowOf(config, 'campaign');
  assert.is(nodeOf(campaign, 'dead-letter').baseDir, tempDir);
  assert.is(nodeOf(campaign, 'dead-letter').config.append, true);
  assert.is(nodeOf(campaign, 'sink').baseDir, configDir);
  assert.is(config.logDir, tempDir, 'log.destination is set by the overlay');
  // rules-file (set by base.conf) was read from config/rules, not from the temp dir
  assert.is((content.rules as Record<string, unknown>).$comment !== undefined, true);
});

test('a rules-file set by an overlay resolves against the overlay directory', async () => {
  const file = overlay(`flows.content.rules-file = "my-rules.json"`);
  writeFileSync(join(resolve(file, '..'), 'my-rules.json'), JSON.stringify({ type: 'object', $comment: 'mine' }));
  const config = await loadConfig(file);
  assert.equal(flowOf(config, 'content').rules, { type: 'object', $comment: 'mine' });
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

test('error: an unknown stage kind lists the known kinds', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft] } }
  { kind = transmogrify, name = magic }
]`);
  const error = await loadError(file);
  const problem = problemAt(error, 'flows.content.stages[1].kind', file);
  assert.match(problem.message, 'transmogrify');
  for (const kind of ['filter', 'map', 'enrich-file']) assert.match(problem.message, kind);
});

test('error: an unknown source and sink kind list the known kinds', async () => {
  const file = overlay(`
flows.campaign.source.kind = kafka
flows.campaign.sink.kind = s3
`);
  const error = await loadError(file);
  assert.match(problemAt(error, 'flows.campaign.source.kind', file).message, /kafka.*file|file.*kafka/);
  assert.match(problemAt(error, 'flows.campaign.sink.kind', file).message, /s3.*file|file.*s3/);
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
  assert.is(flowOf(config, 'solo').onInvalid, 'drop');
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

test('several component problems are all reported, across flows', async () => {
  const file = overlay(`
flows.content.stages = [
  { kind = filter, drop-if { field = status, in = [draft], equals = draft } }
  { kind = transmogrify }
  { kind = map, target = "sluice.recommender.v1.ItemRecord", fields { item_id = id }, colour = red }
]
flows.content.sink.frobnicate = true
flows.campaign.source.kind = kafka
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

test.run();
