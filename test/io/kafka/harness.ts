// Shared harness of the Kafka end-to-end tests (test/io/kafka/*.test.ts, test/deno/kafka.test.ts):
// the broker from KAFKA_BROKERS, unique names, the built CLI (run to completion or as a `sluice run`
// child process), kcat and kafkajs reads, sample loading and generated campaign inputs.
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Admin as KafkajsAdmin } from 'kafkajs';
import type { Logger } from 'pino';
import * as assert from 'uvu/assert';
import { loadClient, transportFor } from '../../../src/io/kafka/connection.ts';
import type { KafkaTransport } from '../../../src/io/kafka/transport.ts';
import { packageRoot } from '../../../src/package-root.ts';
import { rawLines } from '../../../scripts/support/lines.ts';

export const BROKERS = process.env.KAFKA_BROKERS ?? '';
export const brokerList = BROKERS.split(',').map((b) => b.trim()).filter((b) => b !== '');
export const KCAT = process.env.KCAT ?? '/usr/bin/kcat';
/** The Kafka client the suites run on (SLUICE_KAFKA_CLIENT: platformatic, the default, or kafkajs). */
export const KAFKA_CLIENT = parseClient(process.env.SLUICE_KAFKA_CLIENT);
export const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
export const SAMPLES = join(packageRoot, 'samples');
export const DENO = join(packageRoot, 'node_modules', '.bin', 'deno');

// ------------------------------------------------------------------------------------ helpers

function parseClient(name: string | undefined): 'kafkajs' | 'platformatic' {
  if (name === undefined || name === '' || name === 'platformatic') return 'platformatic';
  if (name === 'kafkajs') return name;
  throw new Error(`SLUICE_KAFKA_CLIENT=${name}: expected kafkajs or platformatic`);
}

/** Overlay lines putting the Kafka source, sink and dead-letter sink of `flows` on KAFKA_CLIENT. */
export const clientLines = (...flows: string[]) =>
  flows.map((flow) => `flows.${flow} { source.client = ${KAFKA_CLIENT}, sink.client = ${KAFKA_CLIENT}, dead-letter.client = ${KAFKA_CLIENT} }`);

await loadClient(KAFKA_CLIENT);

/** The transport of KAFKA_CLIENT, for suites that use the port directly. */
export const testTransport = (clientId: string, logger: Logger): KafkaTransport =>
  transportFor({ brokers: brokerList, 'client-id': clientId, client: KAFKA_CLIENT }, { logger, baseDir: process.cwd() });

export function requireEnvironment(): void {
  if (brokerList.length === 0) {
    throw new Error('KAFKA_BROKERS is not set: these tests need a real broker (npm test starts one; or KAFKA_PORT=49092 bash scripts/kafka.sh start and KAFKA_BROKERS=127.0.0.1:49092)');
  }
  if (!existsSync(KCAT)) throw new Error(`kcat not found at ${KCAT} (apt-get install kcat, or set KCAT)`);
}

/** A name unique to this run: `sluice-<prefix>-<what>-<time>-<random hex of randomBytes bytes>`. */
/** The topics and consumer group of one run of the campaign flow. */
export interface CampaignTopics {
  input: string;
  output: string;
  dlq: string;
  group: string;
}

/** A run's own topic and group names. */
export const campaignTopics = (unique: (what: string) => string): CampaignTopics => ({
  input: unique('events-in'),
  output: unique('events-out'),
  dlq: unique('events-dlq'),
  group: unique('events-group'),
});

/** After a suite of processes: stops what still runs, deletes the run's topics, keeps its folder (the logs) when a test failed. */
export async function cleanUpRun(run: CampaignTopics & { dir: string; processors: readonly Processor[]; producer?: ChildProcess; admin?: KafkajsAdmin; passed: boolean }): Promise<void> {
  for (const p of run.processors) if (!p.exit) await p.stop('SIGKILL');
  if (run.producer && run.producer.exitCode === null) run.producer.kill('SIGKILL');
  if (run.admin) {
    await run.admin.deleteTopics({ topics: [run.input, run.output, run.dlq] }).catch(() => undefined);
    await run.admin.disconnect().catch(() => undefined);
  }
  if (run.dir && run.passed) rmSync(run.dir, { recursive: true, force: true });
  else if (run.dir) console.log(`  kept ${run.dir} (the processors' logs)`);
}

/**
 * Writes a configuration running qal.conf's campaign flow alone on `run`'s topics and group
 * (`partitions` for input and output, 1 for dead letters); `lines` go before the topic lines.
 */
export function writeCampaignOverlay(file: string, run: CampaignTopics, options: { partitions: number; log?: string; shortSession?: boolean; lines?: readonly string[] }): void {
  writeFileSync(
    file,
    [
      `include "${join(packageRoot, 'config', 'qal.conf')}"`,
      `kafka.brokers = "${BROKERS}"`,
      'kafka.topics = null',
      `kafka.topics { "${run.input}" = ${options.partitions}, "${run.output}" = ${options.partitions}, "${run.dlq}" = 1 }`,
      'log.level = info',
      ...(options.log === undefined ? [] : [`log.destination = "${options.log}"`]),
      'progress = off',
      'flows.content.enabled = false',
      'flows.engagement.enabled = false',
      ...(options.lines ?? []),
      ...clientLines('campaign'),
      `flows.campaign.source.topic = "${run.input}"`,
      `flows.campaign.source.group-id = "${run.group}"`,
      // a SIGKILLed member leaves the group after the session timeout: the broker's minimum
      ...(options.shortSession ? ['flows.campaign.source.session-timeout-ms = 6000', 'flows.campaign.source.heartbeat-interval-ms = 1000'] : []),
      `flows.campaign.sink.topic = "${run.output}"`,
      `flows.campaign.dead-letter.topic = "${run.dlq}"`,
    ].join('\n') + '\n',
  );
}

export { rawLines };

export const uniqueNames = (prefix: string, randomBytesCount = 4) => (what: string) =>
  `sluice-${prefix}-${what}-${Date.now().toString(36)}-${randomBytes(randomBytesCount).toString('hex')}`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}


/** Builds dist/ when a source file is newer than the built CLI. */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0)));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= Math.max(newest(join(packageRoot, 'src')), newest(join(packageRoot, 'schemas')))) return;
  const build = spawnSync('npm', ['run', 'build:ts'], { cwd: packageRoot, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build:ts failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
}

/** The environment of a child: no SLUICE_* variables (the overlay says everything). */
export const childEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_')));

/** `sluice …` (the built CLI) to completion; throws unless it exits 0. */
export function sluice(args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: packageRoot, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`sluice ${args.join(' ')}: exit ${result.status} ${result.signal ?? ''}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export function kcat(args: string[]): Buffer {
  const result = spawnSync(KCAT, ['-b', BROKERS, ...args], { maxBuffer: 1 << 30, timeout: 120_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr.toString()}`);
  return result.stdout;
}

export interface Received {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Everything in a topic, read by kcat: keys and values binary-safe (-f with their lengths), headers from -J. */
export function kcatRead(topic: string, withHeaders: boolean): Received[] {
  const raw = kcat(['-C', '-t', topic, '-e', '-q', '-f', '%p %o %K %S\n%k%s\n']);
  const messages: Received[] = [];
  for (let at = 0; at < raw.length; ) {
    const eol = raw.indexOf(10, at);
    const [partition, offset, keyLength, valueLength] = raw.subarray(at, eol).toString('latin1').split(' ');
    at = eol + 1;
    const k = Number(keyLength);
    const key = k < 0 ? null : raw.subarray(at, at + k);
    at += Math.max(k, 0);
    const v = Number(valueLength);
    const value = v < 0 ? null : raw.subarray(at, at + v);
    at += Math.max(v, 0);
    if (raw[at] !== 10) throw new Error(`kcat -f output of ${topic} not framed at byte ${at}`);
    at += 1;
    messages.push({ partition: Number(partition), offset: BigInt(offset!), key, value, headers: {} });
  }
  if (withHeaders) {
    const byCoordinates = new Map(messages.map((m) => [`${m.partition}/${m.offset}`, m]));
    for (const line of kcat(['-C', '-t', topic, '-e', '-q', '-J']).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const json = JSON.parse(line) as { partition: number; offset: number; headers?: string[] };
      const m = byCoordinates.get(`${json.partition}/${json.offset}`);
      if (!m) throw new Error(`kcat -J shows ${topic} ${json.partition}/${json.offset}, -f did not`);
      const flat = json.headers ?? [];
      for (let i = 0; i < flat.length; i += 2) m.headers[flat[i]!] = flat[i + 1]!;
    }
  }
  return messages.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

export async function endOffsets(admin: KafkajsAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** partition -> committed offset (-1: none) of a group on a topic. */
export async function committedOffsets(admin: KafkajsAdmin, groupId: string, topic: string): Promise<Map<number, string>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `sluice run` child process, its output collected. */
export class Processor {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(
    readonly config: string,
    readonly logFile: string,
    args: string[] = [],
  ) {
    const [command, argv] = this.command(config, args);
    this.child = spawn(command, argv, { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise<Exit>((resolve) => this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))));
  }

  /** The program and arguments of the child (a subclass may run another runtime). */
  protected command(config: string, args: string[]): [string, string[]] {
    return [process.execPath, [CLI, 'run', '--config', config, ...args]];
  }

  /** The log's JSON lines. */
  log(): Record<string, unknown>[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a line being written
        }
      });
  }

  assignments(flow: string): { time: number; assigned: string[] }[] {
    return this.log()
      .filter((l) => l.msg === 'partitions assigned' && l.flow === flow)
      .map((l) => ({ time: l.time as number, assigned: l.assigned as string[] }));
  }

  /** stdout, stderr and the log, for failure messages: the run's own lines, not the repeated ones. */
  explain(): string {
    const lines = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l !== '') : [];
    const failures = lines.filter((l) => l.includes('"stage":'));
    const retries = lines.filter((l) => /"kafka":"(Connection|BrokerPool)"/.test(l));
    const rest = lines.filter((l) => !failures.includes(l) && !retries.includes(l));
    const log = lines.length === 0
      ? '(no log)'
      : [
          `${failures.length} per-message failure lines${failures[0] ? `, the first: ${failures[0]}` : ''}`,
          `${retries.length} kafkajs connection lines${retries.at(-1) ? `, the last: ${retries.at(-1)}` : ''}`,
          ...rest.slice(-20),
        ].join('\n');
    return `pid ${this.child.pid}, exit ${JSON.stringify(this.exit)}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr.slice(-4000)}\n--- log ${this.logFile}\n${log}`;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`, noted in `stderr`). */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<Exit> {
    if (!this.exit) this.child.kill(signal);
    const timer = setTimeout(() => {
      this.stderr += `\n[test: no exit ${timeoutMs / 1000} s after ${signal}: SIGKILL]`;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
/** A `sluice run` child process under Deno (from the TypeScript sources), its output collected. */
export class DenoProcessor extends Processor {
  protected override command(config: string, args: string[]): [string, string[]] {
    return [DENO, ['run', '-A', join(packageRoot, 'src', 'cli.ts'), 'run', '--config', config, ...args]];
  }
}

// ------------------------------------------------------------------------------------ input

export interface Expected {
  ok: boolean;
  filtered?: boolean;
  reason?: string;
  path?: string;
}

/** Each sample line's expected outcome: samples/<flow>.expected.ndjson. */
export const expectedOutcomes = (flow: 'content' | 'campaign'): Expected[] =>
  readFileSync(join(SAMPLES, `${flow}.expected.ndjson`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Expected);

/** `from` replaced by `to` when it occurs exactly once in `line`, else undefined. */
export function replaceOnce(line: Buffer, from: string, to: string): Buffer | undefined {
  const needle = Buffer.from(from, 'utf8');
  const at = line.indexOf(needle);
  if (at < 0 || line.indexOf(needle, at + 1) >= 0) return undefined;
  return Buffer.concat([line.subarray(0, at), Buffer.from(to, 'utf8'), line.subarray(at + needle.length)]);
}

export interface Generated {
  lines: Buffer[];
  /** Per line: its sample line's expected outcome. */
  expected: Expected[];
  /** Per line: the fresh eventId of a line that must be written, else null. */
  written: (string | null)[];
  /** The fresh eventIds of valid lines the flow filters out. */
  filtered: Set<string>;
}

/**
 * `count` campaign events from the samples, in their order, cycling: the valid ones (written or
 * filtered) with a fresh eventId and userId each (the lines whose eventId and userId occur once in
 * their raw bytes), the others (`mixed`: every failing kind but E_SIZE) as they are.
 */
export function campaignEvents(count: number, mixed: boolean): Generated {
  const samples = rawLines(join(SAMPLES, 'campaign.ndjson'));
  const outcomes = expectedOutcomes('campaign');
  const tag = randomBytes(4).toString('hex');
  const templates: { index: number; eventId?: string; userId?: string }[] = [];
  samples.forEach((line, index) => {
    const e = outcomes[index]!;
    // a stage's failure (a lookup miss) is a valid event too: fresh ids, or the flow's dedupe would drop its repeats
    if (e.ok || (mixed && STAGE_FAILURES.has(e.reason!))) {
      // a line the flow's state drops (a re-sent one) would be new with a fresh eventId
      if (e.ok && ((!mixed && e.filtered) || e.reason !== undefined)) return;
      const event = JSON.parse(line.toString('utf8')) as { eventId: string; userId: string };
      // quoted: a bare value could also match inside an escape (`"3\u0034d3b…"` holds `34d3b…`)
      const [eventId, userId] = [JSON.stringify(event.eventId), JSON.stringify(event.userId)];
      if (!replaceOnce(line, eventId, eventId) || !replaceOnce(line, userId, userId)) return;
      templates.push({ index, eventId, userId });
    } else if (mixed && e.reason !== 'E_SIZE') templates.push({ index });
  });
  const out: Generated = { lines: [], expected: [], written: [], filtered: new Set() };
  for (let n = 0; n < count; n++) {
    const t = templates[n % templates.length]!;
    const e = outcomes[t.index]!;
    let line = samples[t.index]!;
    let fresh: string | null = null;
    if (t.eventId !== undefined) {
      fresh = `${tag}-${(n >>> 16).toString(16).padStart(4, '0')}-4000-8000-${n.toString(16).padStart(12, '0')}`;
      line = replaceOnce(replaceOnce(line, t.eventId, JSON.stringify(fresh))!, t.userId!, JSON.stringify(`usr-${tag}-${n}`))!;
      if (e.filtered) out.filtered.add(fresh);
    }
    out.lines.push(line);
    out.expected.push(e);
    out.written.push(e.ok && !e.filtered ? fresh : null);
  }
  return out;
}

// ------------------------------------------------------------------------------------ the run

/** eventId -> "reason: message" of the dead letters whose value is a JSON event (valid lines dead-lettered by a stage). */
export function deadLetteredEvents(letters: readonly Received[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const letter of letters) {
    try {
      const eventId = (JSON.parse(letter.value!.toString('utf8')) as { eventId?: unknown }).eventId;
      if (typeof eventId === 'string') out.set(eventId, `${letter.headers['sluice.reason']}: ${letter.headers['sluice.message']}`);
    } catch {
      // not JSON: an invalid line
    }
  }
  return out;
}

/** "N missing: id (why), …" for a failure message. */
export function explainMissing(missing: readonly string[], dead: Map<string, string>): string {
  const lettered = missing.filter((id) => dead.has(id)).length;
  const shown = missing.slice(0, 10).map((id) => `${id} (${dead.get(id) ?? 'no dead letter either'})`);
  return `${missing.length} expected outputs missing (${lettered} of them dead-lettered instead); the first: ${shown.join('; ')}`;
}

/** Failures of a stage (not of validation): counted in the summary as dead-lettered, not invalid. */
export const STAGE_FAILURES = new Set(['E_LOOKUP_MISS']);

export interface FlowCase {
  flow: 'content' | 'campaign';
  keyField: string;
  compression: string;
  lines: Buffer[];
  expected: Expected[];
  input: string;
  output: string;
  dlq: string;
  group: string;
  /** Local mode's output records: the reference. */
  reference: Buffer[];
  /** When the outputs and dead letters of this flow were all on the broker (ms since the epoch). */
  doneAt: number;
}


/** Records a flow writes: expected ok and not filtered. */
export const written = (c: FlowCase) => c.expected.filter((e) => e.ok && !e.filtered).length;
/** Inputs a flow dead-letters. */
export const deadLettered = (c: FlowCase) => c.expected.filter((e) => !e.ok).length;

/** An overlay of qal.conf running `flows` on their own topics; the flows not listed are disabled. */
export function writeKafkaOverlay(file: string, flows: readonly FlowCase[], log: string): void {
  const lines = [
    `include "${join(packageRoot, 'config', 'qal.conf')}"`,
    `kafka.brokers = "${BROKERS}"`,
    'kafka.topics = null',
    `kafka.topics { ${flows.flatMap((c) => [`"${c.input}" = 1`, `"${c.output}" = 1`, `"${c.dlq}" = 1`]).join(', ')} }`,
    'log.level = info',
    `log.destination = "${log}"`,
    'progress = off',
    ...(['content', 'campaign', 'engagement'] as const).filter((f) => !flows.some((c) => c.flow === f)).map((f) => `flows.${f}.enabled = false`),
    ...clientLines(...flows.map((c) => c.flow)),
    ...flows.flatMap((c) => [
      `flows.${c.flow}.source.state-dir = "${join(dirname(file), 'state')}"`,
      `flows.${c.flow}.source.topic = "${c.input}"`,
      `flows.${c.flow}.source.group-id = "${c.group}"`,
      `flows.${c.flow}.sink.topic = "${c.output}"`,
      `flows.${c.flow}.dead-letter.topic = "${c.dlq}"`,
    ]),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Local mode (file source and sinks) on the same samples, into `dir`/local: each flow's reference outputs. */
export function runLocalReference(dir: string, flows: readonly FlowCase[]): void {
  const out = join(dir, 'local');
  const config = join(dir, 'local.conf');
  writeFileSync(
    config,
    [
      `include "${join(packageRoot, 'config', 'local.conf')}"`,
      `log.destination = "${join(out, 'sluice.log')}"`,
      'progress = off',
      ...(['content', 'campaign', 'engagement'] as const).filter((f) => !flows.some((c) => c.flow === f)).map((f) => `flows.${f}.enabled = false`),
      ...flows.flatMap((c) => [
        `flows.${c.flow}.source.path = "${join(SAMPLES, `${c.flow}.ndjson`)}"`,
        `flows.${c.flow}.sink.path = "${join(out, `${c.flow}.ndjson`)}"`,
        `flows.${c.flow}.dead-letter.path = "${join(out, `${c.flow}.dlq.ndjson`)}"`,
      ]),
    ].join('\n'),
  );
  sluice(['run', '--config', config]);
  for (const c of flows) {
    c.reference = rawLines(join(out, `${c.flow}.ndjson`));
    assert.is(c.reference.length, written(c), `local mode writes the expected ${c.flow} outputs`);
  }
}
