// Crash recovery on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts one): the
// campaign flow (config/qal.conf with this run's own topics and group) on a 4-partition input of
// 102,000 events — the sample lines cycled (all but the two ~1 MB E_SIZE ones): valid ones with a
// fresh eventId and userId each, filtered heartbeats, and every invalid and lookup-missing kind as
// they are — produced with `sluice produce` in four batches, the first before the processor
// starts, the others while it runs.
//   - the processor is SIGKILLed 3 times at random moments of the run (random fractions of the
//     expected outputs + dead letters), and restarted each time;
//   - once the group's committed offsets reach the end of every input partition and the outputs
//     stop growing, the last one is stopped with SIGTERM (exit 0);
//   - every expected output eventId is in the output at least once, no other (no filtered or
//     invalid input gives an output); every failing input (by its source coordinates) has a dead
//     letter at least once, with its expected reason, and no valid input has one;
//   - the duplicates (at-least-once redelivery of the batches not committed at a SIGKILL) are
//     counted and printed.
// The group's session timeout is the broker's minimum (6 s): a restarted member waits that long for
// the killed one to leave the group.
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

const unique = (what: string) => `sluice-c-${what}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
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

const MESSAGES = 102_000;
const BATCHES = 4;
const PARTITIONS = 4;
const KILLS = 3;

const state: {
  dir: string;
  input: string;
  output: string;
  dlq: string;
  group: string;
  processors: Processor[];
  producer?: ChildProcess;
  admin?: KafkajsAdmin;
  passed: boolean;
} = { dir: '', input: '', output: '', dlq: '', group: '', processors: [], passed: false };

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
      // a SIGKILLed member leaves the group after the session timeout: the broker's minimum
      'flows.campaign.source.session-timeout-ms = 6000',
      'flows.campaign.source.heartbeat-interval-ms = 1000',
      `flows.campaign.sink.topic = "${state.output}"`,
      `flows.campaign.dead-letter.topic = "${state.dlq}"`,
    ].join('\n') + '\n',
  );
}

const explainAll = () => state.processors.map((p, i) => `=== run ${i + 1}\n${p.explain()}`).join('\n');

const crash = suite('kafka crash recovery: 102k events, the processor SIGKILLed 3 times, nothing lost');

crash.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  if (state.producer && state.producer.exitCode === null) state.producer.kill('SIGKILL');
  if (state.admin) {
    await state.admin.deleteTopics({ topics: [state.input, state.output, state.dlq] }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  // a failure keeps the processors' logs and the configuration for inspection
  if (state.dir && state.passed) rmSync(state.dir, { recursive: true, force: true });
  else if (state.dir) console.log(`  kept ${state.dir} (the processors' logs)`);
});

crash('3 SIGKILLs at random moments: every expected output and dead letter at least once', async () => {
  requireEnvironment();
  ensureBuilt();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  state.dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  state.input = unique('events-in');
  state.output = unique('events-out');
  state.dlq = unique('events-dlq');
  state.group = unique('events-group');
  const generated = campaignEvents(MESSAGES, true);
  const batchFiles = Array.from({ length: BATCHES }, (_, b) => {
    const file = join(state.dir, `events-${b}.ndjson`);
    const size = Math.ceil(MESSAGES / BATCHES);
    writeFileSync(file, Buffer.concat(generated.lines.slice(b * size, (b + 1) * size).flatMap((l) => [l, Buffer.from('\n')])));
    return file;
  });
  const expectedOutputs = generated.written.filter((id) => id !== null).length;
  const expectedLetters = generated.expected.filter((e) => !e.ok).length;
  const config = join(state.dir, 'crash.conf');
  overlay(config, join(state.dir, 'sluice.log'));
  sluice(['topics', 'create', '--config', config]);
  const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
  const admin = (state.admin = kafka.admin());
  await admin.connect();
  const produce = (file: string) => ['produce', '--brokers', BROKERS, '--topic', state.input, '--file', file, '--key', 'userId', '--batch-size', '2000'];

  // the first batch before the processor starts, the others while it runs
  sluice(produce(batchFiles[0]!));
  const start = () => {
    const p = new Processor(config, join(state.dir, 'sluice.log'), ['--summary-json', join(state.dir, `summary-${state.processors.length + 1}.json`)]);
    state.processors.push(p);
    return p;
  };
  let processor = start();
  let producing = (async () => {
    for (const file of batchFiles.slice(1)) {
      const child = (state.producer = spawn(process.execPath, [CLI, ...produce(file)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`sluice produce ${file}: exit ${code}\n${stderr}`);
    }
  })();
  let produceError: unknown;
  producing = producing.catch((error: unknown) => void (produceError = error));

  // kill at random fractions of the expected outputs + dead letters (duplicates count too: a kill
  // may come a little earlier than its fraction, never after the end)
  const fractions = Array.from({ length: KILLS }, (_, i) => 0.1 + (i + Math.random()) * (0.75 / KILLS));
  console.log(`  kills at ${fractions.map((f) => `${Math.round(f * 100)} %`).join(', ')} of ${expectedOutputs} outputs + ${expectedLetters} dead letters`);
  const progress = async () => (await endOffsets(admin, state.output)) + (await endOffsets(admin, state.dlq));
  for (const fraction of fractions) {
    await waitFor(`${Math.round(fraction * 100)} % of the outputs and dead letters (run ${state.processors.length})`, async () => {
      if (produceError) throw produceError;
      if (processor.exit) throw new Error(`run ${state.processors.length} exited:\n${processor.explain()}`);
      return (await progress()) >= fraction * (expectedOutputs + expectedLetters);
    }, 90_000, 20).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${explainAll()}`);
    });
    await sleep(Math.random() * 200);
    const exit = await processor.stop('SIGKILL');
    assert.equal(exit, { code: null, signal: 'SIGKILL' }, `run ${state.processors.length} was still running when killed:\n${processor.explain()}`);
    const at = await progress();
    console.log(`  ${elapsed()}: SIGKILL run ${state.processors.length} at ${at} outputs + dead letters`);
    assert.ok(at < expectedOutputs + expectedLetters, 'killed before the end of the run');
    processor = start();
  }
  await producing;
  if (produceError) throw produceError;

  // done: every input offset committed, the outputs no longer growing
  let last = -1;
  let stableSince = Date.now();
  await waitFor('every input offset committed and the outputs stable for 2 s', async () => {
    if (processor.exit) throw new Error(`the last run exited:\n${processor.explain()}`);
    const now = await progress();
    if (now !== last) [last, stableSince] = [now, Date.now()];
    const ends = await admin.fetchTopicOffsets(state.input);
    const committed = await committedOffsets(admin, state.group, state.input);
    return ends.every((p) => committed.get(p.partition) === p.high) && Date.now() - stableSince >= 2000;
  }, 120_000, 200).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll()}`);
  });
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  console.log(`  ${elapsed()}: the last run ended (SIGTERM): ${processor.stdout.split('\n')[0]}`);

  // the input as the broker has it: each message's expected outcome from its bytes
  const byBytes = new Map<string, { expected: Expected; written: string | null }>();
  generated.lines.forEach((line, i) => byBytes.set(line.toString('latin1'), { expected: generated.expected[i]!, written: generated.written[i]! }));
  const inputs = kcatRead(state.input, false);
  assert.is(inputs.length, MESSAGES, 'every event produced once');
  const failing = new Map<string, Expected>();
  for (const m of inputs) {
    const known = byBytes.get(m.value!.toString('latin1'));
    assert.ok(known, `input ${m.partition}/${m.offset} is a generated line`);
    if (!known.expected.ok) failing.set(`${m.partition}/${m.offset}`, known.expected);
  }
  assert.is(failing.size, expectedLetters, 'failing inputs on the broker');

  const outputs = kcatRead(state.output, false);
  const counts = new Map<string, number>();
  for (const m of outputs) {
    const eventId = (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId;
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  const letters = kcatRead(state.dlq, true);
  const dead = deadLetteredEvents(letters);
  const want = generated.written.filter((id): id is string => id !== null);
  const missing = want.filter((id) => !counts.has(id));
  assert.is(missing.length, 0, explainMissing(missing, dead));
  const wanted = new Set(want);
  const unexpected = [...counts.keys()].filter((id) => !wanted.has(id));
  assert.equal(unexpected.slice(0, 20), [], `${unexpected.length} outputs of events that must not be written (${[...unexpected].filter((id) => generated.filtered.has(id)).length} filtered ones)`);

  // dead letters: of failing inputs only, with their expected reason; every failing input has one
  const lettered = new Map<string, number>();
  const wrong: string[] = [];
  for (const letter of letters) {
    const h = letter.headers;
    const coordinates = `${h['sluice.source.partition']}/${h['sluice.source.offset']}`;
    const expected = failing.get(coordinates);
    if (!expected) {
      wrong.push(`input ${coordinates}: ${h['sluice.reason']}: ${h['sluice.message']}`);
      continue;
    }
    assert.is(h['sluice.reason'], expected.reason, `dead letter ${letter.offset} of input ${coordinates}: sluice.reason`);
    if (expected.path !== undefined) assert.is(h['sluice.path'], expected.path, `dead letter ${letter.offset} of input ${coordinates}: sluice.path`);
    lettered.set(coordinates, (lettered.get(coordinates) ?? 0) + 1);
  }
  assert.is(wrong.length, 0, `${wrong.length} dead letters of inputs that are not failing ones, the first: ${wrong.slice(0, 5).join(' | ')}`);
  const notLettered = [...failing.keys()].filter((c) => !lettered.has(c));
  assert.equal(notLettered.slice(0, 20), [], `${notLettered.length} failing inputs without a dead letter (first 20 shown)`);

  console.log(
    `  ${elapsed()}: ${MESSAGES} inputs, ${KILLS} SIGKILLs: ${outputs.length} outputs for ${want.length} expected (${outputs.length - counts.size} duplicates), ` +
      `${letters.length} dead letters for ${failing.size} expected (${letters.length - lettered.size} duplicates)`,
  );
  state.passed = true;
});

crash.run();
