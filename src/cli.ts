#!/usr/bin/env node
// The `sluice` command. Exit codes: 0 success; 1 `validate` found invalid messages; 2 a broken
// configuration or command line; 70 a flow failed (a named I/O failure, or an internal fault).
import { readFileSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { BranchVerdict, MessageValidator } from './core/validator.ts';
import type { FlowRules, JsonSchema } from './core/rule-model.ts';
import { MAX_DEPTH_LIMIT } from './core/limits.ts';
import { parseJson } from './core/json-text.ts';
import { type ConfigProblem, SluiceError } from './errors.ts';
import { packageRoot } from './package-root.ts';
import type { Logger } from 'pino';
import type { Security } from './io/kafka/tools.ts';
import type { Flow } from './pipeline/flow.ts';
import type { Compression } from './io/kafka/transport.ts';
// Everything else is imported by the command that uses it: `--help`, `--version` and `check`
// start without the runtime, and no command loads a Kafka client its configuration does not name.
import { addBenchCommand } from './bench/command.ts';

// V8's compiled code of the modules each command imports, kept on disk between runs (Node 22.1+;
// Node 20 and Deno have no such cache): a command's start-up is mostly compiling them
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const EXIT_INVALID = 1;
const EXIT_CONFIG = 2;
const EXIT_INTERNAL = 70;

/** $SLUICE_CONFIG, else the embedded default: both flows on the shipped samples, no infrastructure. */
const DEFAULT_CONFIG = process.env.SLUICE_CONFIG || join(packageRoot, 'config', 'local.conf');

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function partitionNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a partition number (0, 1, ...)');
  return n;
}

function depthLimit(value: string): number {
  const n = positiveInteger(value);
  if (n > MAX_DEPTH_LIMIT) throw new InvalidArgumentError(`at most ${MAX_DEPTH_LIMIT} (deeper nesting would overflow the validator's stack)`);
  return n;
}

async function run(options: { config: string; summaryJson?: string }): Promise<number> {
  const [{ loadConfig }, { createLogger }, { startLocalServices }, { Metrics }, { startOpsServer }, { FlowSupervisor, loadRunLibraries, reloadOnChange }] = await Promise.all([
    import('./pipeline/load.ts'),
    import('./observe/logger.ts'),
    import('./io/http/local-server.ts'),
    import('./observe/metrics.ts'),
    import('./observe/ops-server.ts'),
    import('./pipeline/supervisor.ts'),
  ]);
  const config = await loadConfig(options.config);
  const logger = createLogger(config.settings.log, config.logDir);
  for (const w of config.warnings) logger.warn({ file: w.file, key: w.path }, w.message);
  logger.debug({ config: config.resolved }, 'configuration');
  // the flows' libraries are imported while the local services' worker starts on another core (a
  // worker left starting after a failure unrefs itself once it listens: it holds no exit back)
  const [localServices] = await Promise.all([
    startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file'])),
    loadRunLibraries(config),
  ]);
  let supervisor: InstanceType<typeof FlowSupervisor>;
  let ops: Awaited<ReturnType<typeof startOpsServer>>;
  try {
    const metrics = new Metrics({ served: config.settings.observe.http.enabled });
    supervisor = new FlowSupervisor(options.config, config, logger, { localUrls: localServices.urls, metrics });
    ops = await startOpsServer(config.settings.observe, metrics, logger, supervisor.queries);
  } catch (error) {
    await localServices.stop();
    throw error;
  }
  const showProgress = config.settings.progress === 'on' || (config.settings.progress === 'auto' && process.stderr.isTTY === true);
  const stopProgress = showProgress ? (await import('./observe/progress.ts')).startProgress(supervisor.stats) : undefined;
  const shutdownTimeoutMs = config.settings['shutdown-timeout-ms'];
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    logger.info({ shutdownTimeoutMs }, 'stopping: finishing the batches in flight');
    if (shutdownTimeoutMs > 0) setTimeout(() => shutdownTimedOut(logger, shutdownTimeoutMs, supervisor.undelivered()), shutdownTimeoutMs).unref();
    void supervisor.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stopReloading = reloadOnChange(supervisor, logger);
  logger.info({ flows: supervisor.stats.map((s) => s.flow), config: config.files }, 'starting');
  try {
    await supervisor.run();
  } finally {
    stopReloading();
    stopProgress?.();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await Promise.all([localServices.stop(), ops.stop()]);
  }
  const { formatSummary, summarize } = await import('./observe/stats.ts');
  const summaries = supervisor.stats.map(summarize);
  logger.info({ summaries }, 'finished');
  logger.flush();
  process.stdout.write(formatSummary(summaries));
  if (options.summaryJson) writeFileSync(options.summaryJson, `${JSON.stringify(summaries, null, 2)}\n`);
  return 0;
}

/**
 * The drain outlasted shutdown-timeout-ms: exit now, naming what was left undelivered. Its offsets
 * were not committed, so a restart reads it again: nothing is lost.
 */
function shutdownTimedOut(logger: Logger, timeoutMs: number, undelivered: readonly string[]): never {
  const what = undelivered.length > 0 ? undelivered.join('; ') : 'no batch in flight (closing the clients took the time)';
  const message = `shutdown not finished after shutdown-timeout-ms (${timeoutMs} ms): exiting; left undelivered, read again on restart: ${what}`;
  logger.error({ undelivered }, message);
  logger.flush();
  process.stderr.write(`sluice: ${message}\n`);
  process.exit(EXIT_INTERNAL);
}

async function check(options: { config: string; print?: boolean; describe?: boolean }): Promise<number> {
  const [{ inspectConfiguration, resourcesOf }, { configError }, { createLogger }, { buildFlows }, { describe }] = await Promise.all([
    import('./pipeline/load.ts'),
    import('./config/load.ts'),
    import('./observe/logger.ts'),
    import('./pipeline/build.ts'),
    import('./pipeline/topology.ts'),
  ]);
  const { config, problems } = await inspectConfiguration(options.config);
  for (const w of config?.warnings ?? []) process.stderr.write(`sluice: warning: ${w.file}: ${w.path}: ${w.message}\n`);
  // building compiles the rules and every stage: mapping errors surface here, before anything
  // runs, listed with the problems of the files (of the flows those leave right)
  const buildProblems: ConfigProblem[] = [];
  let flows: Flow[] = [];
  if (config) {
    try {
      flows = buildFlows(config.flows, resourcesOf(config, createLogger({ level: 'silent', destination: 'stderr' })));
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'SLC_CONFIG' && error.problems.length > 0)) throw error;
      buildProblems.push(...error.problems);
    }
  }
  if (problems.length + buildProblems.length > 0 || !config) throw configError([...problems, ...buildProblems]);
  if (options.print) process.stdout.write(`${JSON.stringify(config.resolved, null, 2)}\n`);
  if (options.describe) process.stdout.write(describe(config.flows));
  if (!options.print && !options.describe) {
    // the configured flows: the two parts of a flow split at a repartition topic are one
    process.stdout.write(`ok: ${[...new Set(config.flows.map((f) => f.repartition?.flow ?? f.flow))].join(', ')} (${config.files.join(', ')})\n`);
    // every check the core hands to JS, so that a slow path is never a surprise
    for (const flow of flows) {
      if (flow.fallbacks.length === 0) continue;
      process.stdout.write(`${flow.name}: decided in JS, not in the core:\n`);
      for (const f of flow.fallbacks) process.stdout.write(`  ${f.keywordLocation}: ${f.description}\n`);
    }
  }
  return 0;
}

/** One line: code, instance path (or byte), the keyword's schema location, message; then each failed branch of an anyOf/oneOf. */
function describeFailure(failure: { code: string; message: string; path?: string; offset?: number; keywordLocation?: string; branches?: readonly BranchVerdict[] }): string {
  const where = failure.path !== undefined ? ` at ${failure.path || '(root)'}` : failure.offset !== undefined ? ` at byte ${failure.offset}` : '';
  const keyword = failure.keywordLocation !== undefined ? ` (schema ${failure.keywordLocation || '(root)'})` : '';
  const branches = (failure.branches ?? []).map((b) => `; branch ${b.branch}: ${b.ok ? 'matches' : describeFailure(b)}`).join('');
  return `${failure.code}${where}${keyword}: ${failure.message}${branches}`;
}

interface ValidateOptions {
  schema?: string;
  config?: string;
  flow?: string;
  raw?: string[];
  maxDepth?: number;
  maxSize?: number;
}

/** What `validate` checks against: --schema, or --config and --flow (that flow's rules and limits), or well-formedness only. */
async function validatorFor(options: ValidateOptions): Promise<MessageValidator> {
  const { compileSchema } = await import('./core/validator.ts');
  if (options.config !== undefined || options.flow !== undefined) {
    if (options.config === undefined || options.flow === undefined) throw new SluiceError('SLC_USAGE', '--config and --flow go together: the flow of that configuration whose rules validate the files');
    if (options.schema !== undefined) throw new SluiceError('SLC_USAGE', '--schema or --config with --flow, not both');
    const [{ loadConfig }, { flowRules, validateSettings }] = await Promise.all([import('./pipeline/load.ts'), import('./pipeline/topology.ts')]);
    const config = await loadConfig(options.config);
    const flow = config.flows.find((f) => f.flow === options.flow);
    if (!flow) throw new SluiceError('SLC_USAGE', `${options.config} has no flow "${options.flow}" (flows: ${config.flows.map((f) => f.flow).join(', ')})`);
    const settings = validateSettings(flow);
    // the flow's own limits, unless the command line narrows them
    const rules = flowRules(flow);
    const limits = { maxDepth: options.maxDepth ?? settings['max-depth'], maxSize: options.maxSize ?? settings['max-size'], assertFormats: true, base: rules.base, schemas: rules.schemas };
    if (settings.engine === 'js') return new (await import('./core/js-validator.ts')).JsValidator(rules.schema, limits);
    return compileSchema(rules.schema, limits);
  }
  let rules: FlowRules = { schema: true };
  if (options.schema) {
    const { loadRuleDocuments } = await import('./config/rules.ts');
    let schema: JsonSchema;
    try {
      schema = parseJson(readFileSync(options.schema, 'utf8')) as JsonSchema;
    } catch (cause) {
      throw new SluiceError('SLC_USAGE', `${options.schema}: cannot read a JSON Schema: ${(cause as Error).message}`, { cause });
    }
    // sibling schema files it $refs, relative to it, as a flow's rules-file (a $ref that does not resolve: SLC_SCHEMA)
    rules = loadRuleDocuments(schema, resolve(options.schema));
  }
  return compileSchema(rules.schema, { maxDepth: options.maxDepth, maxSize: options.maxSize, base: rules.base, schemas: rules.schemas });
}

async function validate(files: string[], options: ValidateOptions): Promise<number> {
  const all = [...files, ...(options.raw ?? [])];
  if (all.length === 0) throw new SluiceError('SLC_USAGE', 'no files to validate: sluice validate [options] FILE...');
  const validator = await validatorFor(options);
  let invalid = 0;
  for (const file of all) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (cause) {
      throw new SluiceError('SLC_USAGE', `${file}: cannot read: ${(cause as Error).message}`, { cause });
    }
    validator.check([bytes]);
    const verdict = validator.verdict(0);
    if (verdict.ok) process.stdout.write(`${file}\tok\n`);
    else {
      invalid++;
      process.stdout.write(`${file}\tinvalid\t${describeFailure(verdict)}\n`);
    }
  }
  return invalid > 0 ? EXIT_INVALID : 0;
}

/**
 * Brokers from --brokers, else the configuration's kafka.brokers, else $KAFKA_BROKERS, else a local
 * broker; TLS and SASL from the configuration's kafka block.
 */
async function brokersFor(options: { brokers?: string; config?: string }): Promise<{ brokers: string[]; security: Security }> {
  const config = options.config ? await (await import('./pipeline/load.ts')).loadConfig(options.config) : undefined;
  const kafka = config?.settings.kafka;
  const brokers = (options.brokers || kafka?.brokers || process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const { connectionOptions } = await import('./io/kafka/connection.ts');
  const { tls, sasl } = config && kafka ? connectionOptions({ brokers, 'client-id': 'sluice', tls: kafka.tls, sasl: kafka.sasl }, config.dirOf(['kafka', 'tls'])) : {};
  return { brokers, security: { tls, sasl } };
}

async function produce(options: { brokers?: string; config?: string; topic: string; file: string; rate?: number; key?: string; deletedField?: string; compression: Compression; batchSize: number }): Promise<number> {
  const [{ createLogger }, { produceFile }] = await Promise.all([import('./observe/logger.ts'), import('./io/kafka/tools.ts')]);
  const logger = createLogger({ level: 'warn', destination: 'stderr' });
  const started = performance.now();
  const { sent, skipped, maxMessageBytes } = await produceFile({
    ...(await brokersFor(options)),
    topic: options.topic,
    file: options.file,
    rate: options.rate,
    key: options.key,
    deletedField: options.deletedField,
    compression: options.compression,
    batchSize: options.batchSize,
    logger,
  });
  const seconds = (performance.now() - started) / 1000;
  const accepts = maxMessageBytes === undefined ? 'its max.message.bytes' : `max.message.bytes = ${maxMessageBytes.toLocaleString('en')} bytes`;
  for (const { line, bytes } of skipped) {
    process.stderr.write(`sluice: ${options.file}:${line}: skipped: ${bytes.toLocaleString('en')} bytes (--compression ${options.compression}) is more than ${options.topic} accepts (${accepts})\n`);
  }
  const skippedText = skipped.length === 0 ? '' : `; ${skipped.length} skipped as too large for the topic (lines ${skipped.map((s) => s.line).join(', ')})`;
  process.stdout.write(`${sent} messages to ${options.topic} in ${seconds.toFixed(2)} s (${Math.round(sent / seconds)} msg/s)${skippedText}\n`);
  return skipped.length > 0 ? EXIT_INVALID : 0;
}

async function topicsCreate(options: { config: string; brokers?: string }): Promise<number> {
  const [{ loadConfig }, { createLogger }, { createTopics }, { changelogsOf }, { changelogTopicSpec }] = await Promise.all([
    import('./pipeline/load.ts'),
    import('./observe/logger.ts'),
    import('./io/kafka/tools.ts'),
    import('./pipeline/changelogs.ts'),
    import('./state/changelog.ts'),
  ]);
  const config = await loadConfig(options.config);
  const topics = config.settings.kafka?.topics ?? {};
  // the stateful flows' changelogs: compacted, partitioned like their flow's input
  const changelogs = config.flows.filter((f) => f.enabled).flatMap(changelogsOf);
  // the split flows' repartition topics: partitioned like their flow's input
  const hops = config.flows.filter((f) => f.enabled && f.repartition?.writer === f.flow).map((f) => f.repartition!);
  if (Object.keys(topics).length === 0 && changelogs.length === 0) {
    const which = options.config === DEFAULT_CONFIG ? ` (the default${process.env.SLUICE_CONFIG ? ', $SLUICE_CONFIG' : ': $SLUICE_CONFIG is unset'})` : '';
    throw new SluiceError(
      'SLC_USAGE',
      `${options.config}${which} lists no topics (kafka.topics): name the configuration of a Kafka environment, e.g. sluice topics create -c config/qal.conf (a local broker) or -c config/production.conf`,
    );
  }
  const unknown = changelogs.find((c) => topics[c.input] === undefined);
  if (unknown) throw new SluiceError('SLC_USAGE', `changelog ${unknown.topic} (flow ${unknown.flow}) has as many partitions as ${unknown.input}, which kafka.topics does not list: add it with its partition count`);
  const unlisted = hops.find((h) => topics[h.input] === undefined);
  if (unlisted) throw new SluiceError('SLC_USAGE', `repartition topic ${unlisted.topic} (flow ${unlisted.flow}) has as many partitions as ${unlisted.input}, which kafka.topics does not list: add it with its partition count`);
  // a table's topic is its log: compacted, so it keeps each key's last row
  const tableTopics = new Set(config.tables.filter((t) => t.kind === 'kafka').map((t) => String(t.config.topic)));
  const plain = Object.fromEntries([...Object.entries(topics).filter(([topic]) => !tableTopics.has(topic)), ...hops.map((h) => [h.topic, topics[h.input]!] as const)]);
  const compacted = [
    ...Object.entries(topics)
      .filter(([topic]) => tableTopics.has(topic))
      .map(([topic, partitions]) => ({ topic, partitions, config: { 'cleanup.policy': 'compact' } })),
    ...changelogs.map((c) => changelogTopicSpec(c.group, c.store, topics[c.input]!)),
  ];
  const { brokers, security } = await brokersFor(options);
  const created = await createTopics(brokers, plain, createLogger({ level: 'warn', destination: 'stderr' }), security, compacted);
  for (const [topic, partitions] of Object.entries(plain)) {
    process.stdout.write(`${topic}\t${partitions} partitions\t${created.includes(topic) ? 'created' : 'exists'}\n`);
  }
  for (const { topic, partitions } of compacted) process.stdout.write(`${topic}\t${partitions} partitions, compacted\t${created.includes(topic) ? 'created' : 'exists'}\n`);
  return 0;
}

async function test(files: string[]): Promise<number> {
  const { runTestFile } = await import('./testing/test-files.ts');
  let failed = 0;
  for (const file of files) {
    for (const result of await runTestFile(file)) {
      if (result.problems.length === 0) process.stdout.write(`ok\t${file}\t${result.name}\n`);
      else {
        failed++;
        process.stdout.write(`FAIL\t${file}\t${result.name}\n${result.problems.map((p) => `\t${p}\n`).join('')}`);
      }
    }
  }
  return failed > 0 ? EXIT_INVALID : 0;
}

/** The exit codes a command may end with, for its help. */
function exitCodes(...codes: string[]): string {
  return `\nExit codes:\n${[...codes, '2  a broken configuration or command line', '70 a failure it named (a broker refusing us) or an internal fault'].map((c) => `  ${c}`).join('\n')}\n`;
}

const CONFIG_OPTION = '-c, --config <file>';
const CONFIG_HELP = 'configuration file (default: $SLUICE_CONFIG, else config/local.conf: both flows on the shipped samples)';
const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

function program(): Command {
  const cli = new Command('sluice')
    .description('Kafka Streams-style stream processor: JSON parsing and rule validation in a WebAssembly core, pipelines in HOCON')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  cli
    .command('run')
    .description('Run the configured flows (without --config: local mode on the shipped samples)')
    .option(CONFIG_OPTION, CONFIG_HELP)
    .option('--summary-json <file>', 'also write the run summary as JSON')
    .addHelpText('after', exitCodes('0  the flows finished (a file source read to its end) or stopped on SIGINT/SIGTERM'))
    .action(async (options: { config?: string; summaryJson?: string }) => {
      process.exitCode = await run({ ...options, config: options.config ?? DEFAULT_CONFIG });
    });
  cli
    .command('check')
    .description('Check a configuration: every problem of it listed in one run')
    .option(CONFIG_OPTION, CONFIG_HELP)
    .option('--print', 'print the resolved configuration (defaults applied, secrets redacted) as JSON')
    .option('--describe', 'print the flow topologies')
    .addHelpText('after', exitCodes('0  the configuration is right (warnings, such as a secret written in a file, go to stderr)'))
    .action(async (options: { config?: string; print?: boolean; describe?: boolean }) => {
      process.exitCode = await check({ ...options, config: options.config ?? DEFAULT_CONFIG });
    });
  cli
    .command('validate')
    .description('Validate files, each one message: one line per file, ok or invalid<TAB>reason')
    .argument('[files...]', 'the files to validate')
    .option('-s, --schema <file>', 'JSON Schema to validate against (default: well-formedness only)')
    .option(CONFIG_OPTION, 'with --flow: validate with the rules and limits of that flow of this configuration')
    .option('--flow <name>', 'the flow of --config whose rules validate the files')
    .option('--raw <files...>', 'the files to validate (the same as the plain arguments)')
    .option('--max-depth <n>', `nesting limit (at most ${MAX_DEPTH_LIMIT})`, depthLimit)
    .option('--max-size <bytes>', 'size limit', positiveInteger)
    .addHelpText('after', exitCodes('0  every file is valid', '1  a file is invalid'))
    .action(async (files: string[], options: ValidateOptions) => {
      process.exitCode = await validate(files, options);
    });
  cli
    .command('produce')
    .description('Produce every line of an NDJSON file to a topic (to feed a real broker from the samples); a line larger than the topic accepts is skipped and named')
    .requiredOption('-t, --topic <topic>', 'the topic')
    .requiredOption('-f, --file <file>', 'the NDJSON file; invalid lines are sent as they are')
    .option('-r, --rate <n>', 'messages per second, sent on a schedule (default: as fast as acknowledged)', positiveInteger)
    .option('-k, --key <field>', 'JSON field whose value keys each message')
    .option('--deleted-field <field>', 'a line whose JSON field of this name is true is sent as a tombstone (null value) under its key, e.g. _deleted for a table\'s file')
    .option('-b, --brokers <list>', 'brokers (default: kafka.brokers of --config, else $KAFKA_BROKERS, else 127.0.0.1:9092)')
    .option(CONFIG_OPTION, 'configuration naming the brokers (kafka block: brokers, tls, sasl)')
    .addOption(new Option('--compression <codec>', 'producer batch compression').choices(COMPRESSIONS).default('none'))
    .option('--batch-size <n>', 'messages per produce request', positiveInteger, 500)
    .addHelpText('after', exitCodes('0  every line was sent', '1  lines larger than the topic accepts were skipped (each named on stderr, the others sent)'))
    .action(async (options) => {
      process.exitCode = await produce(options);
    });
  cli
    .command('replay')
    .description("Send a flow's dead letters back to its input topic once their cause is fixed (a group of its own keeps the position: a second replay does not resend)")
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .requiredOption('--flow <name>', 'the flow (a kafka source and a kafka dead-letter sink)')
    .option('--reason <code...>', 'only letters with these reasons (sluice.reason), e.g. E_LOOKUP_MISS')
    .option('--since <time>', 'only letters written at or after this time (ISO 8601, or a duration ago: 90s, 15m, 2h, 7d)')
    .option('--until <time>', 'only letters written before this time (ISO 8601, or a duration ago)')
    .option('--limit <n>', 'replay at most n letters; the rest is left for the next replay', positiveInteger)
    .option('--max-replays <n>', 'a record replayed this many times already stays a dead letter', positiveInteger, 3)
    .option('--group <id>', 'the consumer group keeping the position (default: the source group-id + "-replay")')
    .option('--dry-run', 'count what would be replayed; produce and commit nothing')
    .action(async (options) => {
      const { replayCommand } = await import('./replay-command.ts');
      process.exitCode = await replayCommand(options, (text) => process.stdout.write(text));
    });
  cli
    .command('state')
    .description("Print a flow's state store from its files when the flow is not running (a running one answers GET /state/<flow>/<store>[/<key>] on its ops endpoint): keys and bytes per partition, or a key's value")
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('--store <name>', 'the store (a stateful stage\'s `store`)')
    .option('--key <key>', 'the key, as the stage keys it: JSON text (42, "42", ["u1","c2"]) or else a string')
    .option('--partition <n>', 'only this input partition (Kafka sources keep a store per partition)', partitionNumber)
    .option('--from <time>', 'a windowed store: windows starting at or after this time (epoch ms or RFC 3339)')
    .option('--to <time>', 'a windowed store: windows starting before this time')
    .option('--state-dir <dir>', 'the state dir (default: the source\'s state-dir, else .sluice-state under the working directory)')
    .addHelpText('after', exitCodes('0  printed', '1  the key is in no partition read', '2  no such flow or store, or no files of it here (the message says where it looked)'))
    .action(async (options) => {
      const { stateCommand } = await import('./state-command.ts');
      process.exitCode = await stateCommand(options, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    });
  const topics = cli.command('topics').description('Kafka topics of an environment');
  topics
    .command('create')
    .description('Create the topics the configuration lists in kafka.topics (existing ones are left alone)')
    .option(CONFIG_OPTION, 'configuration file (default: $SLUICE_CONFIG, else config/local.conf, which lists no topics: give e.g. config/qal.conf)')
    .option('-b, --brokers <list>', 'brokers (default: kafka.brokers of the configuration)')
    .addHelpText('after', exitCodes('0  every topic exists now'))
    .action(async (options: { config?: string; brokers?: string }) => {
      process.exitCode = await topicsCreate({ ...options, config: options.config ?? DEFAULT_CONFIG });
    });
  cli
    .command('test')
    .description('Run declarative test files (inputs and expected outputs for a flow of a configuration) in memory')
    .argument('<files...>', 'test files, e.g. config/tests/content.test.conf')
    .addHelpText('after', exitCodes('0  every case passed', '1  a case failed'))
    .action(async (files: string[]) => {
      process.exitCode = await test(files);
    });
  cli
    .command('components')
    .description('Print the reference of every source, stage, sink and table kind (from their specs)')
    .addOption(new Option('--format <format>', 'text for a terminal, md for Markdown').choices(['text', 'md']).default('text'))
    .addHelpText('after', exitCodes('0  printed'))
    .action(async (options: { format: 'text' | 'md' }) => {
      const { componentDocs, componentText } = await import('./pipeline/docs.ts');
      process.stdout.write(options.format === 'md' ? componentDocs() : componentText(Math.max(60, Math.min(process.stdout.columns ?? 100, 120))));
    });
  addBenchCommand(cli);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_CONFIG;
    }
    if (error instanceof SluiceError && (error.code === 'SLC_CONFIG' || error.code === 'SLC_USAGE' || error.code === 'SLC_SCHEMA' || error.code === 'SLC_MAPPING')) {
      process.stderr.write(`sluice: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    // a flow that failed for a reason it named (a broker refusing us, a fenced instance): no stack
    if (error instanceof SluiceError) process.stderr.write(`sluice: ${error.message}\n`);
    else process.stderr.write(`sluice: internal fault: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_INTERNAL;
  }
}

process.exitCode = await main(process.argv.slice(2));
// done: a client socket a library left open (say, to a broker that restarted) must not keep the
// process alive after a graceful shutdown
setTimeout(() => process.exit(), 2000).unref();
