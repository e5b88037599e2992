// The broker restarts under a running processor (the broker of scripts/kafka.sh on KAFKA_PORT,
// which KAFKA_BROKERS names; scripts/test.mjs starts one and passes both): the campaign flow
// (config/qal.conf with this run's own topics and group) on a 4-partition input of 30,000 valid
// events (the sample lines that are written, each with a fresh eventId and userId).
//   - 20,000 events are produced, the processor starts; once it has written a fifth of them,
//     `scripts/kafka.sh restart` stops the broker (SIGTERM) and starts it again on the same data;
//   - the remaining 10,000 events are produced once the broker is back;
//   - the processor recovers by itself: the same process, never restarted, writes every input
//     eventId to the output at least once (duplicates counted), no dead letter;
//   - its committed offsets then reach the end of every input partition;
//   - SIGTERM: exit 0 with the summary.
// Without KAFKA_PORT (a broker this test cannot restart) the test is skipped, saying so.
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';

const BROKERS = process.env.KAFKA_BROKERS ?? '';
const brokerList = BROKERS.split(',').map((b) => b.trim()).filter((b) => b !== '');
const KCAT = process.env.KCAT ?? '/usr/bin/kcat';
const CLI = join(packageRoot, 'dist', 'src', 'cli.js');
const SAMPLES = join(packageRoot, 'samples');

// ------------------------------------------------------------------------------------ helpers

function requireEnvironment(): void {
  if (brokerList.length === 0) {
    throw new Error('KAFKA_BROKERS is not set: these tests need a real broker (npm test starts one; or KAFKA_PORT=49092 bash scripts/kafka.sh start and KAFKA_BROKERS=127.0.0.1:49092)');
  }
  if (!existsSync(KCAT)) throw new Error(`kcat not found at ${KCAT} (apt-get install kcat, or set KCAT)`);
}

const unique = (what: string) => `sluice-r-${what}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Lines of a file as raw bytes (invalid UTF-8 kept), a trailing CR dropped. */
function rawLines(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
    out.push(bytes.subarray(start, i));
    start = i + 1;
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out.map((b) => (b[b.length - 1] === 13 ? b.subarray(0, -1) : b));
}

/** Builds dist/ when a source file is newer than the built CLI. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0)));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= Math.max(newest(join(packageRoot, 'src')), newest(join(packageRoot, 'schemas')))) return;
  const build = spawnSync('npm', ['run', 'build:ts'], { cwd: packageRoot, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build:ts failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
}

/** The environment of a child: no SLUICE_* variables (the overlay says everything). */
const childEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_')));

/** `sluice …` (the built CLI) to completion; throws unless it exits 0. */
function sluice(args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: packageRoot, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`sluice ${args.join(' ')}: exit ${result.status} ${result.signal ?? ''}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function kcat(args: string[]): Buffer {
  const result = spawnSync(KCAT, ['-b', BROKERS, ...args], { maxBuffer: 1 << 30, timeout: 120_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')}: exit ${result.status}\n${result.stderr.toString()}`);
  return result.stdout;
}

interface Received {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Everything in a topic, read by kcat: keys and values binary-safe (-f with their lengths), headers from -J. */
function kcatRead(topic: string, withHeaders: boolean): Received[] {
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

async function endOffsets(admin: KafkajsAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** partition -> committed offset (-1: none) of a group on a topic. */
async function committedOffsets(admin: KafkajsAdmin, groupId: string, topic: string): Promise<Map<number, string>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `sluice run` child process, its output collected. */
class Processor {
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
    this.child = spawn(process.execPath, [CLI, 'run', '--config', config, ...args], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise<Exit>((resolve) => this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))));
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


// ------------------------------------------------------------------------------------ input

interface Expected {
  ok: boolean;
  filtered?: boolean;
  reason?: string;
  path?: string;
}

/** `from` replaced by `to` when it occurs exactly once in `line`, else undefined. */
function replaceOnce(line: Buffer, from: string, to: string): Buffer | undefined {
  const needle = Buffer.from(from, 'utf8');
  const at = line.indexOf(needle);
  if (at < 0 || line.indexOf(needle, at + 1) >= 0) return undefined;
  return Buffer.concat([line.subarray(0, at), Buffer.from(to, 'utf8'), line.subarray(at + needle.length)]);
}

interface Generated {
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
function campaignEvents(count: number, mixed: boolean): Generated {
  const samples = rawLines(join(SAMPLES, 'campaign.ndjson'));
  const outcomes = readFileSync(join(SAMPLES, 'campaign.expected.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Expected);
  const tag = randomBytes(4).toString('hex');
  const templates: { index: number; eventId?: string; userId?: string }[] = [];
  samples.forEach((line, index) => {
    const e = outcomes[index]!;
    if (e.ok) {
      if (!mixed && e.filtered) return;
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
function deadLetteredEvents(letters: readonly Received[]): Map<string, string> {
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
function explainMissing(missing: readonly string[], dead: Map<string, string>): string {
  const lettered = missing.filter((id) => dead.has(id)).length;
  const shown = missing.slice(0, 10).map((id) => `${id} (${dead.get(id) ?? 'no dead letter either'})`);
  return `${missing.length} expected outputs missing (${lettered} of them dead-lettered instead); the first: ${shown.join('; ')}`;
}

const FIRST = 20_000;
const MESSAGES = 30_000;
const PARTITIONS = 4;
const TESTS = 3;
const KAFKA_PORT = process.env.KAFKA_PORT;

const state: {
  dir: string;
  input: string;
  output: string;
  dlq: string;
  group: string;
  processor?: Processor;
  admin?: KafkajsAdmin;
  recovered: boolean;
  passed: number;
} = { dir: '', input: '', output: '', dlq: '', group: '', recovered: false, passed: 0 };

function overlay(file: string, log: string): void {
  writeFileSync(
    file,
    [
      `include "${join(packageRoot, 'config', 'qal.conf')}"`,
      `kafka.brokers = "${BROKERS}"`,
      'kafka.topics = null',
      `kafka.topics { "${state.input}" = ${PARTITIONS}, "${state.output}" = ${PARTITIONS}, "${state.dlq}" = 1 }`,
      'log.level = info',
      `log.destination = "${log}"`,
      'progress = off',
      'flows.content.enabled = false',
      `flows.campaign.source.topic = "${state.input}"`,
      `flows.campaign.source.group-id = "${state.group}"`,
      `flows.campaign.sink.topic = "${state.output}"`,
      `flows.campaign.dead-letter.topic = "${state.dlq}"`,
    ].join('\n') + '\n',
  );
}

/** Why the broker cannot be restarted here, or undefined. */
function cannotRestart(): string | undefined {
  if (!KAFKA_PORT) return 'KAFKA_PORT is not set: no broker of scripts/kafka.sh to restart (npm test sets it; or KAFKA_PORT=49092 KAFKA_BROKERS=127.0.0.1:49092)';
  if (!brokerList.some((b) => b.endsWith(`:${KAFKA_PORT}`))) return `KAFKA_BROKERS (${BROKERS}) does not name the broker on KAFKA_PORT ${KAFKA_PORT}`;
  const status = spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'status'], { env: { ...process.env, KAFKA_PORT }, encoding: 'utf8' });
  if (status.status !== 0) return `no broker of scripts/kafka.sh runs on port ${KAFKA_PORT} (${status.stdout.trim()})`;
  return undefined;
}

const describeOffsets = async (admin: KafkajsAdmin) => {
  const ends = await admin.fetchTopicOffsets(state.input);
  const committed = await committedOffsets(admin, state.group, state.input);
  return {
    done: ends.every((p) => committed.get(p.partition) === p.high),
    text: ends.sort((a, b) => a.partition - b.partition).map((p) => `partition ${p.partition}: committed ${committed.get(p.partition)}, end ${p.high}`).join('; '),
  };
};

const requireRecovered = () => {
  if (!state.recovered) throw new Error('the run did not complete: see the first test of this suite');
};

const restart = suite('kafka broker restart: the processor recovers by itself, nothing lost');

restart.after(async () => {
  if (state.processor && !state.processor.exit) await state.processor.stop('SIGKILL');
  if (state.admin) {
    await state.admin.deleteTopics({ topics: [state.input, state.output, state.dlq] }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  // a failure keeps the processor's log and the configuration for inspection
  if (state.dir && state.passed === TESTS) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the processor's log: sluice.log)`);
});

const why = brokerList.length > 0 ? cannotRestart() : undefined;
if (why) console.log(`  broker-restart.test.ts: skipped: ${why}`);
const register = why ? (name: string, _: () => Promise<void>) => restart.skip(name, () => undefined) : restart;

register('scripts/kafka.sh restart during a run of 30k events: the same process delivers every one (nothing lost, no dead letter)', async () => {
  requireEnvironment();
  ensureBuilt();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
  state.input = unique('events-in');
  state.output = unique('events-out');
  state.dlq = unique('events-dlq');
  state.group = unique('events-group');
  const generated = campaignEvents(MESSAGES, false);
  const files = [generated.lines.slice(0, FIRST), generated.lines.slice(FIRST)].map((lines, i) => {
    const file = join(state.dir, `events-${i}.ndjson`);
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    return file;
  });
  const config = join(state.dir, 'restart.conf');
  overlay(config, join(state.dir, 'sluice.log'));
  sluice(['topics', 'create', '--config', config]);
  const produce = (file: string) => sluice(['produce', '--brokers', BROKERS, '--topic', state.input, '--file', file, '--key', 'userId', '--batch-size', '2000']);
  produce(files[0]!);
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, maxRetryTime: 2000 } });
  const admin = (state.admin = kafka.admin());
  await admin.connect();
  // this test's own admin client reconnects after the restart: its errors mean "not yet"
  let observerError = '';
  const observe = async <T>(what: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await what();
    } catch (error) {
      observerError = (error as Error).message;
      return undefined;
    }
  };

  const processor = (state.processor = new Processor(config, join(state.dir, 'sluice.log')));
  await waitFor('a fifth of the first outputs', async () => {
    if (processor.exit) throw new Error(`sluice exited:\n${processor.explain()}`);
    return (await endOffsets(admin, state.output)) >= FIRST / 5;
  }, 60_000, 20).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${processor.explain()}`);
  });
  const before = await endOffsets(admin, state.output);
  const stopping = Date.now();
  const restarted = spawnSync('bash', [join(packageRoot, 'scripts', 'kafka.sh'), 'restart'], { env: { ...process.env, KAFKA_PORT }, encoding: 'utf8', timeout: 180_000 });
  assert.is(restarted.status, 0, `scripts/kafka.sh restart:\n${restarted.stdout}\n${restarted.stderr}`);
  console.log(`  ${elapsed()}: broker restarted at ${before} outputs of ${FIRST} (down and up again in ${((Date.now() - stopping) / 1000).toFixed(1)} s)`);
  assert.not.ok(processor.exit, `the processor exited while the broker restarted:\n${processor.explain()}`);
  produce(files[1]!);

  // done: every event has its output, and the count no longer grows
  let last = -1;
  let stableSince = Date.now();
  await waitFor(`${MESSAGES} outputs, the count stable for 2 s`, async () => {
    if (processor.exit) throw new Error(`the processor exited after the broker restart (it must recover by itself):\n${processor.explain()}`);
    const outputs = await observe(async () => (await endOffsets(admin, state.output)) + (await endOffsets(admin, state.dlq)));
    if (outputs === undefined) return false;
    if (outputs !== last) [last, stableSince] = [outputs, Date.now()];
    return outputs >= MESSAGES && Date.now() - stableSince >= 2000;
  }, 90_000, 200).catch(async (error: unknown) => {
    const offsets = await observe(() => describeOffsets(admin));
    throw new Error(`${(error as Error).message}: ${last} outputs and dead letters; ${offsets?.text ?? `(offsets unknown: ${observerError})`}\n${processor.explain()}`);
  });

  const outputs = kcatRead(state.output, false);
  const counts = new Map<string, number>();
  for (const m of outputs) {
    const eventId = (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId;
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  const want = generated.written.filter((id): id is string => id !== null);
  assert.is(want.length, MESSAGES, 'every generated event is valid and written');
  const letters = kcatRead(state.dlq, true);
  const dead = deadLetteredEvents(letters);
  const missing = want.filter((id) => !counts.has(id));
  assert.is(missing.length, 0, `${explainMissing(missing, dead)}\n${processor.explain()}`);
  const wanted = new Set(want);
  assert.equal([...counts.keys()].filter((id) => !wanted.has(id)).slice(0, 20), [], 'no output for an eventId that was not produced');
  assert.is(letters.length, 0, `no dead letter (valid events whose placement exists), got ${letters.length}: ${[...new Set(dead.values())].slice(0, 3).join(' | ')}`);
  console.log(`  ${elapsed()}: ${outputs.length} outputs for ${MESSAGES} inputs (${outputs.length - counts.size} duplicates), the processor never restarted (pid ${processor.child.pid})`);
  state.recovered = true;
  state.passed++;
});

register('after the restart the committed offsets reach the end of every input partition (and never go back)', async () => {
  requireRecovered();
  const admin = state.admin!;
  let offsets = await describeOffsets(admin);
  // delivered offsets are committed every commit-interval-ms (1 s)
  for (const deadline = Date.now() + 10_000; !offsets.done && Date.now() < deadline; ) {
    await sleep(250);
    offsets = await describeOffsets(admin);
  }
  assert.ok(offsets.done, `every delivered offset committed 10 s after the last output: ${offsets.text}\n${state.processor!.explain()}`);
  state.passed++;
});

register('SIGTERM after the restart: exit 0 with the summary, the offsets still at the end', async () => {
  requireRecovered();
  const processor = state.processor!;
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  assert.match(processor.stdout, /^campaign: \d+ read/m, 'the summary');
  const offsets = await describeOffsets(state.admin!);
  assert.ok(offsets.done, `committed offsets after the exit: ${offsets.text}`);
  state.passed++;
});

restart.run();
