#!/usr/bin/env node
// The `sluice` command. Exit codes: 0 success; 1 `validate` found invalid messages; 2 a broken
// configuration or command line; 70 a flow failed (a named I/O failure, or an internal fault).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { bundleRules } from './config/rules.ts';
import { loadConfig, resourcesOf } from './pipeline/load.ts';
import { compileSchema, type BranchVerdict } from './core/validator.ts';
import type { JsonSchema } from './core/rule-model.ts';
import { MAX_DEPTH_LIMIT } from './core/limits.ts';
import { SluiceError } from './errors.ts';
import { createLogger } from './observe/logger.ts';
import { Metrics } from './observe/metrics.ts';
import { startOpsServer } from './observe/ops-server.ts';
import { startProgress } from './observe/progress.ts';
import { formatSummary, summarize } from './observe/stats.ts';
import { packageRoot } from './package-root.ts';
import { startLocalServices } from './io/http/local-server.ts';
import { connectionOptions } from './io/kafka/connection.ts';
import { createTopics, produceFile, type Security } from './io/kafka/tools.ts';
import { buildFlows } from './pipeline/flow.ts';
import { FlowSupervisor, reloadOnChange } from './pipeline/supervisor.ts';
import { runTestFile } from './testing/test-files.ts';
import { componentDocs } from './pipeline/docs.ts';
import { replayCommand } from './replay-command.ts';
import { describe } from './pipeline/topology.ts';

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

function depthLimit(value: string): number {
  const n = positiveInteger(value);
  if (n > MAX_DEPTH_LIMIT) throw new InvalidArgumentError(`at most ${MAX_DEPTH_LIMIT} (deeper nesting would overflow the validator's stack)`);
  return n;
}

async function run(options: { config: string; summaryJson?: string }): Promise<number> {
  const config = await loadConfig(options.config);
  const logger = createLogger(config.settings.log, config.logDir);
  for (const w of config.warnings) logger.warn({ file: w.file, key: w.path }, w.message);
  logger.debug({ config: config.resolved }, 'configuration');
  const localServices = await startLocalServices(config.settings['local-services'], (name, template) => config.dirOf(['local-services', name, 'routes', template, 'file']));
  let supervisor: FlowSupervisor;
  let ops: Awaited<ReturnType<typeof startOpsServer>>;
  try {
    const metrics = new Metrics({ served: config.settings.observe.http.enabled });
    supervisor = new FlowSupervisor(options.config, config, logger, { localUrls: localServices.urls, metrics });
    ops = await startOpsServer(config.settings.observe, metrics, logger);
  } catch (error) {
    await localServices.stop();
    throw error;
  }
  const showProgress = config.settings.progress === 'on' || (config.settings.progress === 'auto' && process.stderr.isTTY === true);
  const stopProgress = showProgress ? startProgress(supervisor.stats) : undefined;
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
function shutdownTimedOut(logger: ReturnType<typeof createLogger>, timeoutMs: number, undelivered: readonly string[]): never {
  const what = undelivered.length > 0 ? undelivered.join('; ') : 'no batch in flight (closing the clients took the time)';
  const message = `shutdown not finished after shutdown-timeout-ms (${timeoutMs} ms): exiting; left undelivered, read again on restart: ${what}`;
  logger.error({ undelivered }, message);
  logger.flush();
  process.stderr.write(`sluice: ${message}\n`);
  process.exit(EXIT_INTERNAL);
}

async function check(options: { config: string; print?: boolean; describe?: boolean }): Promise<number> {
  const config = await loadConfig(options.config);
  for (const w of config.warnings) process.stderr.write(`sluice: warning: ${w.file}: ${w.path}: ${w.message}\n`);
  // building compiles the rules and every stage: mapping errors surface here, before anything runs
  buildFlows(config.flows, resourcesOf(config, createLogger({ level: 'silent', destination: 'stderr' })));
  if (options.print) process.stdout.write(`${JSON.stringify(config.resolved, null, 2)}\n`);
  if (options.describe) process.stdout.write(describe(config.flows));
  if (!options.print && !options.describe) process.stdout.write(`ok: ${config.flows.map((f) => f.flow).join(', ')} (${config.files.join(', ')})\n`);
  return 0;
}

/** One line: code, instance path (or byte), the keyword's schema location, message; then each failed branch of an anyOf/oneOf. */
function describeFailure(failure: { code: string; message: string; path?: string; offset?: number; keywordLocation?: string; branches?: readonly BranchVerdict[] }): string {
  const where = failure.path !== undefined ? ` at ${failure.path || '(root)'}` : failure.offset !== undefined ? ` at byte ${failure.offset}` : '';
  const keyword = failure.keywordLocation !== undefined ? ` (schema ${failure.keywordLocation || '(root)'})` : '';
  const branches = (failure.branches ?? []).map((b) => `; branch ${b.branch}: ${b.ok ? 'matches' : describeFailure(b)}`).join('');
  return `${failure.code}${where}${keyword}: ${failure.message}${branches}`;
}

function validate(options: { schema?: string; raw: string[]; maxDepth?: number; maxSize?: number }): number {
  let schema: JsonSchema = true;
  if (options.schema) {
    try {
      schema = JSON.parse(readFileSync(options.schema, 'utf8')) as JsonSchema;
    } catch (cause) {
      throw new SluiceError('SLC_USAGE', `${options.schema}: cannot read a JSON Schema: ${(cause as Error).message}`, { cause });
    }
    // sibling schema files it $refs, relative to it, as a flow's rules-file (a $ref that does not resolve: SLC_SCHEMA)
    schema = bundleRules(schema, resolve(options.schema));
  }
  const validator = compileSchema(schema, { maxDepth: options.maxDepth, maxSize: options.maxSize });
  let invalid = 0;
  for (const file of options.raw) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (cause) {
      throw new SluiceError('SLC_USAGE', `${file}: cannot read: ${(cause as Error).message}`, { cause });
    }
    const verdict = validator.validate(bytes);
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
  const config = options.config ? await loadConfig(options.config) : undefined;
  const kafka = config?.settings.kafka;
  const brokers = (options.brokers || kafka?.brokers || process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const { tls, sasl } = config && kafka ? connectionOptions({ brokers, 'client-id': 'sluice', tls: kafka.tls, sasl: kafka.sasl }, config.dirOf(['kafka', 'tls'])) : {};
  return { brokers, security: { tls, sasl } };
}

async function produce(options: { brokers?: string; config?: string; topic: string; file: string; rate?: number; key?: string; compression: string; batchSize: number }): Promise<number> {
  const logger = createLogger({ level: 'warn', destination: 'stderr' });
  const started = performance.now();
  const sent = await produceFile({
    ...(await brokersFor(options)),
    topic: options.topic,
    file: options.file,
    rate: options.rate,
    key: options.key,
    compression: options.compression as 'none',
    batchSize: options.batchSize,
    logger,
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${sent} messages to ${options.topic} in ${seconds.toFixed(2)} s (${Math.round(sent / seconds)} msg/s)\n`);
  return 0;
}

async function topicsCreate(options: { config: string; brokers?: string }): Promise<number> {
  const config = await loadConfig(options.config);
  const topics = config.settings.kafka?.topics ?? {};
  if (Object.keys(topics).length === 0) throw new SluiceError('SLC_USAGE', `${options.config} names no topics (kafka.topics)`);
  const { brokers, security } = await brokersFor(options);
  const created = await createTopics(brokers, topics, createLogger({ level: 'warn', destination: 'stderr' }), security);
  for (const [topic, partitions] of Object.entries(topics)) {
    process.stdout.write(`${topic}\t${partitions} partitions\t${created.includes(topic) ? 'created' : 'exists'}\n`);
  }
  return 0;
}

async function test(files: string[]): Promise<number> {
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

function program(): Command {
  const cli = new Command('sluice')
    .description('Kafka Streams-style stream processor: JSON parsing and rule validation in a WebAssembly core, pipelines in HOCON')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  cli
    .command('run')
    .description('Run the configured flows (default: local mode on the shipped samples)')
    .option('-c, --config <file>', 'configuration file (default: $SLUICE_CONFIG, else config/local.conf)', DEFAULT_CONFIG)
    .option('--summary-json <file>', 'also write the run summary as JSON')
    .action(async (options) => {
      process.exitCode = await run(options);
    });
  cli
    .command('check')
    .description('Check a configuration: exit 0, or 2 listing every problem')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--print', 'print the resolved configuration (defaults applied) as JSON')
    .option('--describe', 'print the flow topologies')
    .action(async (options) => {
      process.exitCode = await check(options);
    });
  cli
    .command('validate')
    .description('Validate files, each one message: one line per file, ok or invalid<TAB>reason')
    .option('-s, --schema <file>', 'JSON Schema to validate against (default: well-formedness only)')
    .requiredOption('--raw <files...>', 'the files to validate')
    .option('--max-depth <n>', `nesting limit (at most ${MAX_DEPTH_LIMIT})`, depthLimit)
    .option('--max-size <bytes>', 'size limit', positiveInteger)
    .action((options) => {
      process.exitCode = validate(options);
    });
  cli
    .command('produce')
    .description('Produce every line of an NDJSON file to a topic (to feed a real broker from the samples)')
    .requiredOption('-t, --topic <topic>', 'the topic')
    .requiredOption('-f, --file <file>', 'the NDJSON file; invalid lines are sent as they are')
    .option('-r, --rate <n>', 'messages per second, sent on a schedule (default: as fast as acknowledged)', positiveInteger)
    .option('-k, --key <field>', 'JSON field whose value keys each message')
    .option('-b, --brokers <list>', 'brokers (default: kafka.brokers of --config, else $KAFKA_BROKERS, else 127.0.0.1:9092)')
    .option('-c, --config <file>', 'configuration naming the brokers')
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--batch-size <n>', 'messages per produce request', positiveInteger, 500)
    .action(async (options) => {
      process.exitCode = await produce(options);
    });
  cli
    .command('replay')
    .description("Send a flow's dead letters back to its input topic once their cause is fixed (a group of its own keeps the position: a second replay does not resend)")
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .requiredOption('--flow <name>', 'the flow (a kafka source and a kafka dead-letter sink)')
    .option('--reason <code...>', 'only letters with these reasons (sluice.reason), e.g. E_LOOKUP_MISS')
    .option('--since <time>', 'only letters written at or after this time (ISO 8601)')
    .option('--until <time>', 'only letters written before this time (ISO 8601)')
    .option('--max-replays <n>', 'a record replayed this many times already stays a dead letter', positiveInteger, 3)
    .option('--group <id>', 'the consumer group keeping the position (default: the source group-id + "-replay")')
    .option('--dry-run', 'count what would be replayed; produce and commit nothing')
    .action(async (options) => {
      process.exitCode = await replayCommand(options, (text) => process.stdout.write(text));
    });
  const topics = cli.command('topics').description('Kafka topics of an environment');
  topics
    .command('create')
    .description('Create the topics the configuration lists in kafka.topics (existing ones are left alone)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-b, --brokers <list>', 'brokers (default: kafka.brokers of the configuration)')
    .action(async (options) => {
      process.exitCode = await topicsCreate(options);
    });
  cli
    .command('test')
    .description('Run declarative test files (inputs and expected outputs for a flow of a configuration) in memory')
    .argument('<files...>', 'test files, e.g. config/tests/content.test.conf')
    .action(async (files: string[]) => {
      process.exitCode = await test(files);
    });
  cli
    .command('components')
    .description('Print the reference of every source, stage and sink kind (from their specs)')
    .action(() => {
      process.stdout.write(componentDocs());
    });
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
