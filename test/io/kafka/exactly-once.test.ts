// Exactly-once delivery on a real broker (the one KAFKA_BROKERS names; scripts/test.mjs starts
// one): the campaign flow (config/qal.conf with this run's own topics and groups,
// `delivery = exactly-once`) on 4-partition inputs generated from samples/campaign.ndjson — every
// valid line replicated with a fresh eventId (a UUID) and userId, and ~3 % failing lines (every
// invalid kind and the lookup misses, as they are; not the two ~1 MB E_SIZE lines, which a topic
// with default limits refuses) — produced with `sluice produce`. Every run ends with the same
// checks, as a read_committed consumer (kcat): every expected eventId in the output exactly once
// (none missing, no duplicate, nothing else), every failing input (by its source coordinates)
// dead-lettered exactly once with its expected reason, no other dead letter. The read_uncommitted
// view is read too: a superset, its extra (aborted) records counted and printed.
//   1. end to end: 20k events, one processor, no fault; SIGTERM (exit 0) once the group's
//      committed offsets reach the end of the input and the outputs stop growing.
//   2. crash: 100k events (produced in four parts, three while the processor runs); the processor
//      is SIGKILLed 3 times at random moments (random fractions of the input committed, plus up to
//      0.5 s) and restarted each time, same group.
//   3. fencing / rebalance: two processors in one group on 100k events; the second joins while the
//      first is busy (a rebalance during its transactions); then the first is frozen (SIGSTOP) for a
//      few ms at a time until the broker (DescribeTransactions) shows one of its transactional ids
//      Ongoing, and SIGKILLed: the survivor takes its partitions, its producer fences the dead
//      one's id (same id, higher epoch, committed since the kill), the output is exactly once.
//   4. zombie: as 3, but the frozen processor is not killed: it is thawed (SIGCONT) as soon as the
//      survivor has its partitions (the group dropped it after the session timeout), its
//      transaction still open — a GC pause, a stalled VM. The new owner must have fenced it
//      before reading where the partition stands: the output is still exactly once.
//      On platformatic (the default: one transactional id per processor, KIP-447), 3 and 4 find the
//      victim's id in its log; in 3 the broker aborts its transaction at the timeout, and 4 runs
//      (it is skipped with SLUICE_KAFKA_CLIENT=kafkajs: a known gap).
//   5. static membership (platformatic): a processor with `instance-id`, frozen until a transaction
//      of its id is seen open and SIGKILLed, then started again with the same id, with a 30 s
//      session and a 60 s transaction timeout: the successor must have all partitions and the open
//      transaction settled (same producer id, a higher epoch) within 15 s of its start.
//   6. twins (platformatic): a second live processor with the same instance-id: the first stops
//      (exit 70, the error naming the id), the second runs on.
//   5b. plain restart (platformatic): no instance-id, a state-dir of the run's own; frozen until a
//      transaction is seen open and SIGKILLed, then started again with the same configuration,
//      with a 60 s transaction timeout: the successor registers the kept transactional id (a
//      higher epoch) and its first commit follows within seconds; the figures are printed.
//   In 5, 5b and 6 the output is exactly once.
//   7. configuration: `sluice check` rejects exactly-once with a file sink or a file dead-letter
//      sink (exit 2, naming flows.campaign.delivery), with `read-committed = false` on the source
//      (exit 2, naming flows.campaign.source.read-committed), and `instance-id` with
//      `client = kafkajs` (exit 2, naming flows.campaign.source.instance-id).
// The groups' session timeout is the broker's minimum (6 s), so takeovers do not wait 30 s.
// The processors log to files in the temp dir (kept, and named in the failure, when a test fails).
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin as KafkajsAdmin } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../../src/package-root.ts';
import { brokerList, BROKERS, childEnv, CLI, endOffsets, KAFKA_CLIENT, ensureBuilt, type Exit, type Expected, kcat, rawLines, replaceOnce, requireEnvironment, SAMPLES, sleep, sluice, STAGE_FAILURES, uniqueNames, writeCampaignOverlay } from './harness.ts';

const QAL = join(packageRoot, 'config', 'qal.conf');
const PARTITIONS = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ------------------------------------------------------------------------------------ helpers

const unique = uniqueNames('eo', 3);

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** `sluice …` (the built CLI) to completion. */
function sluiceResult(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: packageRoot, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
}

type Isolation = 'read_committed' | 'read_uncommitted';

interface Received {
  partition: number;
  offset: bigint;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Everything in a topic as a consumer with `isolation` sees it, read by kcat: values binary-safe
 * (-f with their lengths), headers from -J.
 */
function kcatRead(topic: string, isolation: Isolation, withHeaders: boolean): Received[] {
  const isolate = ['-X', `isolation.level=${isolation}`];
  const raw = kcat(['-C', '-t', topic, ...isolate, '-e', '-q', '-f', '%p %o %S\n%s\n']);
  const messages: Received[] = [];
  for (let at = 0; at < raw.length; ) {
    const eol = raw.indexOf(10, at);
    const [partition, offset, valueLength] = raw.subarray(at, eol).toString('latin1').split(' ');
    at = eol + 1;
    const v = Number(valueLength);
    const value = v < 0 ? null : raw.subarray(at, at + v);
    at += Math.max(v, 0);
    if (raw[at] !== 10) throw new Error(`kcat -f output of ${topic} not framed at byte ${at}`);
    at += 1;
    messages.push({ partition: Number(partition), offset: BigInt(offset!), value, headers: {} });
  }
  if (withHeaders) {
    const byCoordinates = new Map(messages.map((m) => [`${m.partition}/${m.offset}`, m]));
    for (const line of kcat(['-C', '-t', topic, ...isolate, '-e', '-q', '-J']).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const json = JSON.parse(line) as { partition: number; offset: number; headers?: string[] };
      const m = byCoordinates.get(`${json.partition}/${json.offset}`);
      if (!m) throw new Error(`kcat -J shows ${topic} ${json.partition}/${json.offset}, -f did not`);
      const flat = json.headers ?? [];
      for (let i = 0; i < flat.length; i += 2) m.headers[flat[i]!] = flat[i + 1]!;
    }
  }
  return messages;
}

/** The input's end offsets and the group's committed ones, per partition. */
async function inputProgress(admin: KafkajsAdmin, groupId: string, topic: string): Promise<{ ends: Map<number, number>; committed: Map<number, number> }> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = new Map(fetched!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return { ends, committed };
}

/** A `sluice run` child process, its output collected, its log in its own file. */
class Processor {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(
    readonly name: string,
    readonly config: string,
    readonly logFile: string,
    args: string[] = [],
  ) {
    this.child = spawn(process.execPath, [CLI, 'run', '--config', config, ...args], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise<Exit>((resolve) => this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))));
  }

  /** The partitions (numbers) of the last assignment the log shows, or undefined. */
  assigned(): number[] | undefined {
    if (!existsSync(this.logFile)) return undefined;
    const line = readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"partitions assigned"') && l.includes('"flow":"campaign"')).at(-1);
    const assigned = line === undefined ? undefined : (JSON.parse(line) as { assigned: string[] }).assigned;
    return assigned?.map((tp) => Number(tp.slice(tp.lastIndexOf('-') + 1))).sort();
  }

  /** The transactional ids the processor registered (its log says). */
  transactionalIds(): string[] {
    if (!existsSync(this.logFile)) return [];
    const lines = readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"transactional producer"'));
    return [...new Set(lines.map((l) => (JSON.parse(l) as { transactionalId: string }).transactionalId))];
  }

  /** The log's lines other than per-message failures, at warn and up or about the group. */
  notable(): string[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.includes('"stage":') && (/"level":[456]0/.test(l) || l.includes('partitions assigned') || l.includes('"msg":"st')));
  }

  /** A live process's state (R running, S sleeping, T stopped) and CPU time, from /proc. */
  processState(): string {
    if (this.exit || this.child.pid === undefined) return '';
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
      return ` (pid ${this.child.pid}, ${/State:\s*(.*)/.exec(status)?.[1]}, ${(ticks / 100).toFixed(1)} s CPU)`;
    } catch {
      return ` (pid ${this.child.pid})`;
    }
  }

  /** stdout, stderr and the notable log lines, for failure messages. */
  explain(): string {
    return `=== ${this.name}: exit ${JSON.stringify(this.exit)}${this.processState()} (log ${this.logFile})\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr.slice(-3000)}\n--- log (notable, last 25)\n${this.notable().slice(-25).join('\n')}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<Exit> {
    if (!this.exit) {
      this.child.kill(signal);
      if (signal !== 'SIGKILL') this.child.kill('SIGCONT');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

// ------------------------------------------------------------------------------------ input

interface Generated {
  lines: Buffer[];
  /** Per line: its sample line's expected outcome. */
  expected: Expected[];
  /** Per line: its fresh eventId (a valid line), else null. */
  ids: (string | null)[];
  /** The fresh eventIds of the lines that must be written, once each. */
  written: string[];
  /** The fresh eventIds of valid lines the flow filters out. */
  filtered: Set<string>;
}

const FAILING_EVERY = 32; // one failing line in 32: ~3 %

/** A sample line to generate from: its eventId and userId (quoted) when they are replaced. */
interface Template {
  index: number;
  eventId?: string;
  userId?: string;
}

/**
 * `count` campaign events from the samples: the valid lines (written or filtered; those whose
 * eventId and userId occur once in their raw bytes) cycled, each with a fresh eventId (a UUID) and
 * userId; every FAILING_EVERY-th line a failing one (invalid, as it is; or a lookup miss, with
 * fresh ids too; not E_SIZE), cycled.
 */
function campaignEvents(count: number): Generated {
  const samples = rawLines(join(SAMPLES, 'campaign.ndjson'));
  const outcomes = readFileSync(join(SAMPLES, 'campaign.expected.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Expected);
  const tag = randomBytes(4).toString('hex');
  const valid: Template[] = [];
  const failing: Template[] = [];
  /** The line's eventId and userId, quoted, if each occurs once in its raw bytes. */
  const ids = (line: Buffer): { eventId: string; userId: string } | undefined => {
    const event = JSON.parse(line.toString('utf8')) as { eventId: string; userId: string };
    // quoted: a bare value could also match inside an escape (`"3\u0034d3b…"` holds `34d3b…`)
    const [eventId, userId] = [JSON.stringify(event.eventId), JSON.stringify(event.userId)];
    return replaceOnce(line, eventId, eventId) && replaceOnce(line, userId, userId) ? { eventId, userId } : undefined;
  };
  samples.forEach((line, index) => {
    const e = outcomes[index]!;
    if (!e.ok) {
      // a stage's failure (a lookup miss) is a valid event: fresh ids, or the flow's dedupe drops its repeats
      if (STAGE_FAILURES.has(e.reason!)) {
        const found = ids(line);
        if (found) failing.push({ index, ...found });
      } else if (e.reason !== 'E_SIZE') failing.push({ index });
      return;
    }
    if (e.reason !== undefined) return; // a re-sent line the flow's dedupe drops: new with a fresh eventId
    const found = ids(line);
    if (found) valid.push({ index, ...found });
  });
  const freshened = (t: Template, n: number): { line: Buffer; fresh: string } => {
    const fresh = `${tag}-${(n >>> 16).toString(16).padStart(4, '0')}-4000-8000-${(n & 0xffff).toString(16).padStart(12, '0')}`;
    if (!UUID.test(fresh)) throw new Error(`generated eventId ${fresh} is not a UUID`);
    return { line: replaceOnce(replaceOnce(samples[t.index]!, t.eventId!, JSON.stringify(fresh))!, t.userId!, JSON.stringify(`usr-${tag}-${n}`))!, fresh };
  };
  const out: Generated = { lines: [], expected: [], ids: [], written: [], filtered: new Set() };
  let v = 0;
  let f = 0;
  for (let n = 0; n < count; n++) {
    if (n % FAILING_EVERY === FAILING_EVERY >> 1) {
      const t = failing[f++ % failing.length]!;
      out.lines.push(t.eventId === undefined ? samples[t.index]! : freshened(t, n).line);
      out.expected.push(outcomes[t.index]!);
      out.ids.push(null);
      continue;
    }
    const t = valid[v++ % valid.length]!;
    const e = outcomes[t.index]!;
    const { line, fresh } = freshened(t, n);
    out.lines.push(line);
    out.expected.push(e);
    out.ids.push(fresh);
    if (e.filtered) out.filtered.add(fresh);
    else out.written.push(fresh);
  }
  return out;
}

// ------------------------------------------------------------------------------------ a run

const state: { dir: string; admin?: KafkajsAdmin; topics: string[]; processors: Processor[]; producers: ChildProcess[]; failed: boolean } = {
  dir: '',
  topics: [],
  processors: [],
  producers: [],
  failed: false,
};

interface Run {
  name: string;
  dir: string;
  input: string;
  output: string;
  dlq: string;
  group: string;
  config: string;
  generated: Generated;
  processors: Processor[];
  started: number;
}

/** A run's temp dir, its own topics and group, its overlay (exactly-once), the topics created. */
function newRun(name: string, messages: number, lines: readonly string[] = []): Run {
  const dir = join(state.dir, name);
  mkdirSync(dir, { recursive: true });
  const run: Run = {
    name,
    dir,
    input: unique(`${name}-in`),
    output: unique(`${name}-out`),
    dlq: unique(`${name}-dlq`),
    group: unique(`${name}-group`),
    config: join(dir, 'sluice.conf'),
    generated: campaignEvents(messages),
    processors: [],
    started: Date.now(),
  };
  writeCampaignOverlay(run.config, run, { partitions: PARTITIONS, shortSession: true, lines: ['flows.campaign.delivery = exactly-once', ...lines] });
  state.topics.push(run.input, run.output, run.dlq);
  sluice(['topics', 'create', '--config', run.config]);
  return run;
}

const elapsed = (run: Run) => `${((Date.now() - run.started) / 1000).toFixed(1)} s`;

/** A processor of the run, logging to its own file (`log.destination` by overlay). */
function startProcessor(run: Run): Processor {
  const n = run.processors.length + 1;
  const config = join(run.dir, `run-${n}.conf`);
  const log = join(run.dir, `run-${n}.log`);
  writeFileSync(config, `include "${run.config}"\nlog.destination = "${log}"\n`);
  const p = new Processor(`${run.name} processor ${n}`, config, log, ['--summary-json', join(run.dir, `summary-${n}.json`)]);
  run.processors.push(p);
  state.processors.push(p);
  return p;
}

const explainAll = (run: Run) => `temp dir ${run.dir}\n${run.processors.map((p) => p.explain()).join('\n')}`;

/** The generated lines split into `parts` NDJSON files. */
function inputFiles(run: Run, parts: number): string[] {
  const lines = run.generated.lines;
  const size = Math.ceil(lines.length / parts);
  return Array.from({ length: parts }, (_, b) => {
    const file = join(run.dir, `input-${b}.ndjson`);
    writeFileSync(file, Buffer.concat(lines.slice(b * size, (b + 1) * size).flatMap((l) => [l, Buffer.from('\n')])));
    return file;
  });
}

const produceArgs = (run: Run, file: string) => ['produce', '--brokers', BROKERS, '--topic', run.input, '--file', file, '--key', 'userId', '--batch-size', '2000'];

/** `sluice produce` of each file in turn, in the background; resolves when all are produced, rejects on a failure. */
function produceInBackground(run: Run, files: string[]): Promise<void> {
  return (async () => {
    for (const file of files) {
      const child = spawn(process.execPath, [CLI, ...produceArgs(run, file)], { cwd: packageRoot, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      state.producers.push(child);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`sluice produce ${file}: exit ${code}\n${stderr}`);
    }
  })();
}

/** Waits until the group's committed offsets reach the end of every input partition and the outputs and dead letters stop growing (2 s). */
async function waitUntilDone(run: Run, live: Processor[], timeoutMs: number): Promise<void> {
  const admin = state.admin!;
  let last = -1;
  let stableSince = Date.now();
  await waitFor(
    'every input offset committed, the outputs stable for 2 s, no transaction of the run open',
    async () => {
      for (const p of live) if (p.exit) throw new Error(`${p.name} exited`);
      const now = (await endOffsets(admin, run.output)) + (await endOffsets(admin, run.dlq));
      if (now !== last) [last, stableSince] = [now, Date.now()];
      const { ends, committed } = await inputProgress(admin, run.group, run.input);
      const total = [...ends.values()].reduce((a, b) => a + b, 0);
      if (total !== run.generated.lines.length || ![...ends].every(([p, end]) => committed.get(p) === end) || Date.now() - stableSince < 2000) return false;
      // a killed processor's transaction that no one fences (an id of its own, as with
      // platformatic) holds read_committed readers back until the broker aborts it at its timeout
      const ids = run.processors.flatMap((p) => p.transactionalIds());
      return [...(await describeTransactions(ids)).values()].every((t) => !/^(Ongoing|Prepare)/.test(t.state));
    },
    timeoutMs,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${explainAll(run)}`);
  });
}

interface Figures {
  outputs: { committed: number; uncommitted: number };
  letters: { committed: number; uncommitted: number };
}

const first = <T>(list: T[], n = 10) => `${list.length}${list.length > 0 ? ` (first ${Math.min(n, list.length)}: ${JSON.stringify(list.slice(0, n))})` : ''}`;

/**
 * The checks every run ends with. read_committed: every expected output eventId exactly once and
 * nothing else; every failing input dead-lettered exactly once, with its reason, and nothing else.
 * read_uncommitted: a superset (the aborted records on top), counted.
 */
function verifyExactlyOnce(run: Run): Figures {
  const { generated } = run;
  // the input as the broker has it: each message's expected outcome from its bytes
  const byBytes = new Map<string, number>();
  generated.lines.forEach((line, i) => byBytes.set(line.toString('latin1'), i));
  const inputs = kcatRead(run.input, 'read_committed', false);
  assert.is(inputs.length, generated.lines.length, 'every event produced once');
  const failing = new Map<string, Expected>();
  const coordinatesOf = new Map<string, string>(); // eventId -> partition/offset of its input
  for (const m of inputs) {
    const index = byBytes.get(m.value!.toString('latin1'));
    assert.ok(index !== undefined, `input ${m.partition}/${m.offset} is a generated line`);
    const expected = generated.expected[index]!;
    if (!expected.ok) failing.set(`${m.partition}/${m.offset}`, expected);
    const id = generated.ids[index];
    if (id) coordinatesOf.set(id, `${m.partition}/${m.offset}`);
  }
  /** Input coordinates (partition/offset) as offset ranges per partition, for a failure message. */
  const ranges = (coordinates: (string | undefined)[]) => {
    const byPartition = new Map<string, number[]>();
    for (const c of coordinates) {
      if (c === undefined) continue;
      const [partition, offset] = c.split('/');
      byPartition.set(partition!, [...(byPartition.get(partition!) ?? []), Number(offset)]);
    }
    return [...byPartition]
      .map(([partition, offsets]) => `input partition ${partition}: ${offsets.length} between offsets ${Math.min(...offsets)} and ${Math.max(...offsets)}`)
      .join('; ');
  };
  const problems: string[] = [];

  const eventIds = (messages: Received[]) => {
    const counts = new Map<string, number>();
    for (const m of messages) {
      const eventId = (JSON.parse(m.value!.toString('utf8')) as { eventId: string }).eventId;
      counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
    }
    return counts;
  };
  const outputs = kcatRead(run.output, 'read_committed', false);
  const counts = eventIds(outputs);
  const wanted = new Set(generated.written);
  const missing = generated.written.filter((id) => !counts.has(id));
  const twice = [...counts].filter(([, n]) => n > 1);
  const duplicated = twice.map(([id, n]) => `${id} x${n}`);
  const unexpected = [...counts.keys()].filter((id) => !wanted.has(id));
  if (missing.length > 0) problems.push(`${first(missing)} expected outputs missing`);
  if (duplicated.length > 0) problems.push(`${first(duplicated, 5)} outputs duplicated (${ranges(twice.map(([id]) => coordinatesOf.get(id)))})`);
  if (unexpected.length > 0) problems.push(`${first(unexpected)} outputs not expected (${unexpected.filter((id) => generated.filtered.has(id)).length} of filtered events)`);

  const letters = kcatRead(run.dlq, 'read_committed', true);
  const lettered = new Map<string, number>();
  const wrong: string[] = [];
  for (const letter of letters) {
    const h = letter.headers;
    const coordinates = `${h['sluice.source.partition']}/${h['sluice.source.offset']}`;
    const expected = failing.get(coordinates);
    if (!expected) wrong.push(`dead letter ${letter.offset} of ${coordinates}: not a failing input (${h['sluice.reason']})`);
    else if (h['sluice.reason'] !== expected.reason) wrong.push(`dead letter ${letter.offset} of ${coordinates}: reason ${h['sluice.reason']}, expected ${expected.reason}`);
    lettered.set(coordinates, (lettered.get(coordinates) ?? 0) + 1);
  }
  const notLettered = [...failing.keys()].filter((c) => !lettered.has(c));
  const letteredTwice = [...lettered].filter(([, n]) => n > 1).map(([c, n]) => `${c} x${n}`);
  const letteredTwiceAt = [...lettered].filter(([, n]) => n > 1).map(([c]) => c);
  if (wrong.length > 0) problems.push(`${first(wrong, 5)} wrong dead letters`);
  if (notLettered.length > 0) problems.push(`${first(notLettered)} failing inputs without a dead letter`);
  if (letteredTwice.length > 0) problems.push(`${first(letteredTwice, 5)} failing inputs dead-lettered more than once (${ranges(letteredTwiceAt)})`);

  // read_uncommitted: everything committed, plus what aborted transactions left
  const rawOutputs = kcatRead(run.output, 'read_uncommitted', false);
  const rawCounts = eventIds(rawOutputs);
  const lost = [...counts].filter(([id, n]) => (rawCounts.get(id) ?? 0) < n).map(([id]) => id);
  if (lost.length > 0) problems.push(`${first(lost)} committed outputs not in the read_uncommitted view`);
  const rawLetters = kcatRead(run.dlq, 'read_uncommitted', false);

  const figures: Figures = {
    outputs: { committed: outputs.length, uncommitted: rawOutputs.length },
    letters: { committed: letters.length, uncommitted: rawLetters.length },
  };
  console.log(
    `  ${run.name}, ${elapsed(run)}: ${generated.lines.length} inputs (${generated.written.length} to write, ${generated.filtered.size} filtered, ${failing.size} failing); ` +
      `read_committed: ${outputs.length} outputs (${counts.size} distinct), ${letters.length} dead letters (${lettered.size} distinct); ` +
      `read_uncommitted: ${rawOutputs.length} outputs (${rawOutputs.length - outputs.length} aborted), ${rawLetters.length} dead letters (${rawLetters.length - letters.length} aborted)`,
  );
  assert.ok(problems.length === 0, `${run.name}: not exactly once:\n  ${problems.join('\n  ')}\n${explainAll(run)}`);
  assert.is(outputs.length, generated.written.length);
  assert.is(letters.length, failing.size);
  return figures;
}

/** The summary lines of the run's processors that ended normally. */
function summaries(run: Run): string {
  return run.processors
    .filter((p) => p.exit?.code === 0)
    .map((p) => `${p.name}: ${p.stdout.split('\n')[0]}`)
    .join('; ');
}

// ------------------------------------------------------------------------------------ the suite

const eo = suite('kafka exactly-once: outputs, dead letters and offsets in one transaction per batch');

// uvu does not report an error of a `before` hook: it is kept, and every test fails with it
let setupError: unknown;

eo.before(async () => {
  try {
    requireEnvironment();
    ensureBuilt();
    state.dir = mkdtempSync(join(tmpdir(), 'sluice-eo-'));
    const kafka = new kafkajs.Kafka({ brokers: brokerList, clientId: unique('observer'), logLevel: kafkajs.logLevel.NOTHING });
    state.admin = kafka.admin();
    await state.admin.connect();
  } catch (error) {
    setupError = error;
  }
});

eo.after(async () => {
  for (const p of state.processors) if (!p.exit) await p.stop('SIGKILL');
  for (const child of state.producers) if (child.exitCode === null) child.kill('SIGKILL');
  if (state.admin) {
    if (state.topics.length > 0) await state.admin.deleteTopics({ topics: state.topics }).catch(() => undefined);
    await state.admin.disconnect().catch(() => undefined);
  }
  for (const wire of wires.values()) wire.close();
  if (state.failed) console.log(`  exactly-once: a test failed; its processors' logs are kept in ${state.dir}`);
  else if (state.dir) rmSync(state.dir, { recursive: true, force: true });
});

/** A test whose failure keeps the temp dir. */
function test(name: string, body: () => Promise<void>): void {
  eo(name, async () => {
    if (setupError) throw setupError;
    try {
      await body();
    } catch (error) {
      state.failed = true;
      throw error;
    }
  });
}

test('end to end: 20k events on 4 partitions, every output and dead letter exactly once (read_committed)', async () => {
  const run = newRun('e2e', 20_000);
  const [file] = inputFiles(run, 1);
  sluice(produceArgs(run, file!));
  const processor = startProcessor(run);
  await waitUntilDone(run, [processor], 90_000);
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}`);
  verifyExactlyOnce(run);
});

test('crash: 100k events, the processor SIGKILLed 3 times at random moments and restarted, every output and dead letter exactly once', async () => {
  const MESSAGES = 100_000;
  const KILLS = 3;
  const run = newRun('crash', MESSAGES);
  const files = inputFiles(run, 4);
  // the first part before the processor starts, the middle ones while it runs, the last after the
  // last kill: a fast processor cannot finish the input before it is killed
  sluice(produceArgs(run, files[0]!));
  let processor = startProcessor(run);
  let produceError: unknown;
  const producing = produceInBackground(run, files.slice(1, -1)).catch((error: unknown) => void (produceError = error));
  const admin = state.admin!;
  const committedTotal = async () => [...(await inputProgress(admin, run.group, run.input)).committed.values()].reduce((a, b) => a + b, 0);
  // kill at random fractions of the input committed, then a random delay
  const fractions = Array.from({ length: KILLS }, (_, i) => 0.1 + (i + Math.random()) * (0.6 / KILLS));
  console.log(`  ${run.name}: kills at ${fractions.map((f) => `${Math.round(f * 100)} %`).join(', ')} of ${MESSAGES} inputs committed`);
  for (const fraction of fractions) {
    await waitFor(
      `${Math.round(fraction * 100)} % of the input committed (${processor.name})`,
      async () => {
        if (produceError) throw produceError;
        if (processor.exit) throw new Error(`${processor.name} exited`);
        return (await committedTotal()) >= fraction * MESSAGES;
      },
      90_000,
      50,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${explainAll(run)}`);
    });
    await sleep(Math.random() * 500);
    const exit = await processor.stop('SIGKILL');
    assert.equal(exit, { code: null, signal: 'SIGKILL' }, `${processor.name} was still running when killed:\n${processor.explain()}`);
    const at = await committedTotal();
    const raw = (await endOffsets(admin, run.output)) + (await endOffsets(admin, run.dlq));
    console.log(`  ${run.name}, ${elapsed(run)}: SIGKILL ${processor.name} with ${at} inputs committed (${raw} output + dead-letter offsets, markers and aborted records included)`);
    assert.ok(at < MESSAGES, 'killed before the end of the run');
    processor = startProcessor(run);
  }
  await producing;
  if (produceError) throw produceError;
  sluice(produceArgs(run, files.at(-1)!));
  await waitUntilDone(run, [processor], 120_000);
  const exit = await processor.stop('SIGTERM');
  assert.equal(exit, { code: 0, signal: null }, processor.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}`);
  verifyExactlyOnce(run);
});

// ------------------------------------------------------------------------------------ transactions on the broker

/**
 * Just enough of Kafka's wire protocol for DescribeTransactions v0 (KIP-664; kafkajs has no admin
 * call for it): a transactional id's state (Ongoing, CompleteCommit, …), producer id and epoch as
 * its coordinator has them — in a millisecond, so that a processor can be frozen and asked about
 * again and again until it is caught with a transaction open.
 */
class KafkaWire {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #pending = new Map<number, (body: Buffer) => void>();
  #correlation = 0;
  readonly #ready: Promise<void>;

  constructor(broker: string) {
    const colon = broker.lastIndexOf(':');
    this.#socket = connect({ host: broker.slice(0, colon), port: Number(broker.slice(colon + 1)) });
    this.#ready = new Promise((resolve, reject) => {
      this.#socket.once('connect', resolve);
      this.#socket.once('error', reject);
    });
    this.#socket.on('error', () => undefined);
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4 && this.#buffer.length >= 4 + this.#buffer.readInt32BE(0)) {
        const frame = this.#buffer.subarray(4, 4 + this.#buffer.readInt32BE(0));
        this.#buffer = this.#buffer.subarray(4 + frame.length);
        const id = frame.readInt32BE(0);
        this.#pending.get(id)?.(frame.subarray(4));
        this.#pending.delete(id);
      }
    });
  }

  /** One request (header v2, for flexible versions); resolves with the response after its correlation id. */
  async request(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    await this.#ready;
    const id = ++this.#correlation;
    const client = Buffer.from('sluice-eo-test');
    const header = Buffer.alloc(10);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(id, 4);
    header.writeInt16BE(client.length, 8);
    const message = Buffer.concat([header, client, Buffer.from([0]), body]); // no tagged fields
    const size = Buffer.alloc(4);
    size.writeInt32BE(message.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to request ${apiKey} v${version} in 10 s`)), 10_000);
      this.#pending.set(id, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      this.#socket.write(Buffer.concat([size, message]));
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

const uvarint = (n: number) => {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
};

/** Reads a flexible-version response: compact strings and arrays, tagged fields. */
class WireReader {
  at = 0;
  constructor(readonly bytes: Buffer) {}
  int16(): number {
    this.at += 2;
    return this.bytes.readInt16BE(this.at - 2);
  }
  int32(): number {
    this.at += 4;
    return this.bytes.readInt32BE(this.at - 4);
  }
  int64(): bigint {
    this.at += 8;
    return this.bytes.readBigInt64BE(this.at - 8);
  }
  uvarint(): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.bytes[this.at++]!;
      n |= (byte & 0x7f) << shift;
      if (byte < 0x80) return n;
    }
  }
  string(): string {
    const n = this.uvarint() - 1;
    this.at += n;
    return this.bytes.subarray(this.at - n, this.at).toString('utf8');
  }
  array<T>(item: () => T): T[] {
    return Array.from({ length: Math.max(this.uvarint() - 1, 0) }, item);
  }
  tags(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.at += this.uvarint();
    }
  }
}

interface TransactionState {
  /** 0, or e.g. 105 TRANSACTIONAL_ID_NOT_FOUND */
  error: number;
  id: string;
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, … */
  state: string;
  /** When the current (or last) transaction began, ms since the epoch. */
  startMs: number;
  producerId: string;
  epoch: number;
  /** The transaction's topic-partitions. */
  partitions: string[];
}

const wires = new Map<string, KafkaWire>();

/** The coordinator's view of transactional ids (the brokers asked in turn until one is their coordinator). */
async function describeTransactions(ids: readonly string[]): Promise<Map<string, TransactionState>> {
  const found = new Map<string, TransactionState>();
  for (const broker of brokerList) {
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length === 0) break;
    let wire = wires.get(broker);
    if (!wire) wires.set(broker, (wire = new KafkaWire(broker)));
    const body = Buffer.concat([uvarint(missing.length + 1), ...missing.map((id) => Buffer.concat([uvarint(Buffer.byteLength(id) + 1), Buffer.from(id)])), Buffer.from([0])]);
    const r = new WireReader(await wire.request(65, 0, body));
    r.tags(); // response header v1
    r.int32(); // throttle time
    const states = r.array(() => {
      const [error, id, state] = [r.int16(), r.string(), r.string()];
      r.int32(); // transaction timeout
      const t: TransactionState = { error, id, state, startMs: Number(r.int64()), producerId: r.int64().toString(), epoch: r.int16(), partitions: [] };
      t.partitions = r
        .array(() => {
          const topic = r.string();
          const partitions = r.array(() => r.int32());
          r.tags();
          return partitions.map((p) => `${topic}-${p}`);
        })
        .flat();
      r.tags();
      return t;
    });
    for (const t of states) if (t.error !== 16) found.set(t.id, t); // 16: NOT_COORDINATOR
  }
  for (const id of ids) if (!found.has(id)) throw new Error(`no coordinator among ${BROKERS} describes transactional id ${id}`);
  return found;
}

const describeOne = async (id: string) => (await describeTransactions([id])).get(id)!;

const showTransaction = (t: TransactionState) =>
  `${t.id}: ${t.state} (producer ${t.producerId}, epoch ${t.epoch}, begun ${new Date(t.startMs).toISOString()}, partitions ${t.partitions.join(',') || '-'})`;

const showOffsets = (offsets: Map<number, number>) => [...offsets].map(([p, o]) => `${p}: ${o}`).join(', ');

interface Pair {
  run: Run;
  victim: Processor;
  survivor: Processor;
  /** Throws when a processor exited that should not have. */
  check: () => void;
  /** Rethrows with the processors' output. */
  fail: (error: unknown) => never;
  /** The victim's transaction the broker shows Ongoing while the victim is frozen (SIGSTOP). */
  open: TransactionState;
  /**
   * The input partitions the open transaction may commit offsets of (kafkajs: the one of its
   * transactional id; platformatic, one transactional id per processor: all the victim's), and
   * their committed offsets when the victim was frozen.
   */
  partitions: number[];
  committedAtFreeze: Map<number, number>;
  /** From now on the victim is expected to exit. */
  gone: () => void;
}

/**
 * A run on `messages` events, produced before its first processor (the victim) starts; `check`
 * throws once a processor exited, the victim only until `gone` is called.
 */
function runWithVictim(name: string, messages: number, lines: readonly string[] = []) {
  const run = newRun(name, messages, lines);
  const [file] = inputFiles(run, 1);
  sluice(produceArgs(run, file!));
  const victim = startProcessor(run);
  let gone = false;
  const check = () => {
    for (const p of run.processors) if (p.exit && !(p === victim && gone)) throw new Error(`${p.name} exited`);
  };
  const fail = (error: unknown): never => {
    throw new Error(`${(error as Error).message}\n${explainAll(run)}`);
  };
  return { run, victim, check, fail, gone: () => void (gone = true) };
}

/**
 * Freezes `victim` (SIGSTOP) for a few ms at random moments, asking the broker about `ids` each
 * time, until one of them is still Ongoing after 100 ms frozen; returns with the victim frozen.
 */
async function freezeWithTransactionOpen(run: Run, victim: Processor, ids: readonly string[], check: () => void, backlog: () => Promise<number>) {
  let open: TransactionState | undefined;
  let attempts = 0;
  for (const deadline = Date.now() + 60_000; !open && Date.now() < deadline; ) {
    attempts++;
    check();
    victim.signal('SIGSTOP');
    await sleep(2);
    const ongoing = [...(await describeTransactions(ids)).values()].find((t) => t.state === 'Ongoing');
    if (ongoing) {
      await sleep(100);
      const again = await describeOne(ongoing.id);
      if (again.state === 'Ongoing' && again.epoch === ongoing.epoch && again.startMs === ongoing.startMs) open = again;
    }
    if (!open) {
      victim.signal('SIGCONT');
      await sleep(10 + Math.random() * 40);
      if (attempts % 20 === 0 && (await backlog()) === 0) break;
    }
  }
  assert.ok(open, `no transaction of ${victim.name} (${ids.join(', ')}) seen open in ${attempts} attempts before its input ran out or 60 s passed\n${explainAll(run)}`);
  return { open, attempts };
}

/**
 * Two processors in one group on 100k events produced first (both busy throughout): the first
 * (the victim) alone with all 4 partitions, then the second (the survivor) joins — a rebalance
 * during the victim's transactions — until each has 2; then the victim is frozen (SIGSTOP) for a
 * few ms at random moments until the broker shows one of its transactional ids Ongoing (else it is
 * thawed, and again). Returns with the victim frozen, its transaction open.
 */
async function twoProcessorsOneFrozen(name: string): Promise<Pair> {
  const { run, victim, check, fail, gone } = runWithVictim(name, 100_000);
  const admin = state.admin!;
  const committed = async () => (await inputProgress(admin, run.group, run.input)).committed;
  await waitFor('the first processor assigned all partitions, some input committed', async () => {
    check();
    return victim.assigned()?.length === PARTITIONS && [...(await committed()).values()].some((o) => o > 0);
  }, 60_000, 20).catch(fail);
  const survivor = startProcessor(run);
  await waitFor('both processors assigned 2 partitions', () => {
    check();
    return victim.assigned()?.length === 2 && survivor.assigned()?.length === 2;
  }, 60_000, 20).catch(fail);
  const victimPartitions = victim.assigned()!;
  // kafkajs: one transactional id per input partition; platformatic: one per processor (KIP-447)
  const victimIds = new Map<string, number[]>(
    KAFKA_CLIENT === 'platformatic' ? victim.transactionalIds().map((id) => [id, victimPartitions]) : victimPartitions.map((p) => [`${run.group}-${run.input}-${p}`, [p]]),
  );
  assert.ok(victimIds.size > 0, `${victim.name} logged no transactional producer\n${explainAll(run)}`);
  const backlog = async () => {
    const { ends, committed } = await inputProgress(admin, run.group, run.input);
    return victimPartitions.reduce((sum, p) => sum + ends.get(p)! - committed.get(p)!, 0);
  };
  console.log(
    `  ${run.name}, ${elapsed(run)}: rebalanced: ${victim.name} has ${victimPartitions.join(', ')} (${await backlog()} inputs not committed), ${survivor.name} has ${survivor.assigned()!.join(', ')}`,
  );
  const { open, attempts } = await freezeWithTransactionOpen(run, victim, [...victimIds.keys()], check, backlog);
  const partitions = victimIds.get(open.id)!;
  const frozenAt = await committed();
  const committedAtFreeze = new Map(partitions.map((p) => [p, frozenAt.get(p)!]));
  console.log(
    `  ${run.name}, ${elapsed(run)}: ${victim.name} frozen (attempt ${attempts}) with ${showTransaction(open)}; input partitions committed up to ${showOffsets(committedAtFreeze)}`,
  );
  return { run, victim, survivor, check, fail, open, partitions, committedAtFreeze, gone };
}

test('fencing / rebalance: one of two processors SIGKILLed with a transaction open, its transaction fenced or aborted, output exactly once', async () => {
  const { run, victim, survivor, check, fail, open, gone } = await twoProcessorsOneFrozen('fencing');
  gone();
  const exit = await victim.stop('SIGKILL');
  assert.equal(exit, { code: null, signal: 'SIGKILL' }, victim.explain());
  const killedAt = Date.now();
  console.log(`  ${run.name}, ${elapsed(run)}: SIGKILL ${victim.name}`);
  await waitFor('the survivor assigned all partitions', () => {
    check();
    return survivor.assigned()?.length === PARTITIONS;
  }, 60_000).catch(fail);
  await waitUntilDone(run, [survivor], 120_000);
  const stopped = await survivor.stop('SIGTERM');
  assert.equal(stopped, { code: 0, signal: null }, survivor.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}`);

  const after = await describeOne(open.id);
  console.log(`  ${run.name}: after the run ${showTransaction(after)}`);
  assert.ok(after.producerId !== open.producerId || after.epoch > open.epoch, `${open.id}: the victim's producer was fenced (epoch ${open.epoch} -> ${after.epoch})`);
  if (KAFKA_CLIENT === 'platformatic') {
    // the id was the victim's own (one per processor): nobody takes it over, the broker aborts its
    // transaction at the timeout, and the survivor read the offsets only once they were stable
    assert.is(after.state, 'CompleteAbort', `${open.id}: the victim's transaction aborted`);
  } else {
    // the survivor's producer took the id over: transactions committed since the kill
    assert.is(after.state, 'CompleteCommit', `${open.id}: the survivor committed with it`);
    assert.ok(after.startMs > killedAt, `${open.id}: a transaction begun after the kill`);
  }
  verifyExactlyOnce(run);
});

// Skipped with kafkajs: a known gap, open in issue 3. It passes alone but duplicates one batch per
// partition in most full-suite runs: the per-partition transactional producers of kafkajs (no
// KIP-447) do not yet fence a frozen-then-resumed owner reliably. With platformatic the group
// fences the zombie (its offsets carry its old generation, KIP-447): it runs.
(KAFKA_CLIENT === 'platformatic' ? test : eo.skip)('fencing: a processor frozen past its session timeout with a transaction open (a zombie) resumes once the survivor has its partitions; output exactly once', async () => {
  const { run, victim, survivor, fail, open, partitions, committedAtFreeze } = await twoProcessorsOneFrozen('zombie');
  // the group drops the frozen member after the session timeout and gives the survivor its
  // partitions; the zombie resumes then, its transaction still open (the broker's timeout is 20 s):
  // the survivor must have fenced its transactional id before reading where the partition stands
  await waitFor('the survivor assigned all partitions', () => survivor.assigned()?.length === PARTITIONS, 60_000, 5).catch(fail);
  const assignedAt = Date.now();
  victim.signal('SIGCONT');
  console.log(`  ${run.name}, ${elapsed(run)}: ${survivor.name} has all partitions; ${victim.name} thawed ${Date.now() - assignedAt} ms later`);
  await waitUntilDone(run, [victim, survivor], 120_000);
  const end = (await inputProgress(state.admin!, run.group, run.input)).committed;
  const committedAfter = new Map(partitions.map((p) => [p, end.get(p)!]));
  for (const p of [victim, survivor]) {
    const exit = await p.stop('SIGTERM');
    assert.equal(exit, { code: 0, signal: null }, p.explain());
  }
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}; input partitions committed when frozen ${showOffsets(committedAtFreeze)}, at the end ${showOffsets(committedAfter)}`);
  const aborted = (log: string) => log.split('\n').filter((l) => l.includes('transaction aborted')).length;
  console.log(`  ${run.name}: 'transaction aborted' lines: ${victim.name} ${aborted(readFileSync(victim.logFile, 'utf8'))}, ${survivor.name} ${aborted(readFileSync(survivor.logFile, 'utf8'))}; the frozen transaction: ${open.id}`);
  verifyExactlyOnce(run);
});

/** The log's time (ms since the epoch) of the first line with `msg`, or undefined. */
function loggedAt(p: Processor, msg: string): number | undefined {
  if (!existsSync(p.logFile)) return undefined;
  const line = readFileSync(p.logFile, 'utf8').split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  return line === undefined ? undefined : (JSON.parse(line) as { time: number }).time;
}

// Static membership: the session and the transaction timeouts are long here (30 s, 60 s), so a
// successor that had to wait for either could not pass
const STATIC_LINES = [
  'flows.campaign.source.instance-id = "sluice-0"',
  'flows.campaign.source.session-timeout-ms = 30000',
  'flows.campaign.source.transaction-timeout-ms = 60000',
];

(KAFKA_CLIENT === 'platformatic' ? test : eo.skip)('static membership: SIGKILLed with a transaction open and restarted with its instance-id, the successor has the partitions and the open transaction aborted within seconds (session timeout 30 s, transaction timeout 60 s); output exactly once', async () => {
  const { run, victim, check, fail, gone } = runWithVictim('static', 60_000, STATIC_LINES);
  const id = `${run.group}-sluice-0`;
  await waitFor('the processor assigned all partitions, some input committed', async () => {
    check();
    return victim.assigned()?.length === PARTITIONS && [...(await inputProgress(state.admin!, run.group, run.input)).committed.values()].some((o) => o > 0);
  }, 60_000, 20).catch(fail);
  assert.equal(victim.transactionalIds(), [id], `the transactional id is the group's and the instance's\n${explainAll(run)}`);
  const backlog = async () => {
    const { ends, committed } = await inputProgress(state.admin!, run.group, run.input);
    return [...ends].reduce((sum, [p, end]) => sum + end - committed.get(p)!, 0);
  };
  const { open } = await freezeWithTransactionOpen(run, victim, [id], check, backlog);
  gone();
  assert.equal(await victim.stop('SIGKILL'), { code: null, signal: 'SIGKILL' }, victim.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: SIGKILL ${victim.name} with ${showTransaction(open)}, ${await backlog()} inputs not committed`);
  const restartedAt = Date.now();
  const successor = startProcessor(run);
  await waitFor('the successor assigned all partitions', () => {
    check();
    return successor.assigned()?.length === PARTITIONS;
  }, 60_000, 20).catch(fail);
  const assignedIn = loggedAt(successor, 'partitions assigned')! - restartedAt;
  let settled: TransactionState | undefined;
  await waitFor('the open transaction settled', async () => {
    check();
    settled = await describeOne(id);
    return !/^(Ongoing|Prepare)/.test(settled.state) || settled.epoch > open.epoch;
  }, 60_000, 20).catch(fail);
  const settledIn = Date.now() - restartedAt;
  console.log(`  ${run.name}: successor assigned all partitions ${assignedIn} ms after its start; ${open.id} ${settledIn} ms after: ${showTransaction(settled!)}`);
  assert.equal(successor.transactionalIds(), [id], 'the successor registered the same transactional id');
  assert.is(settled!.producerId, open.producerId, 'same producer id: the transactional id was registered again');
  assert.ok(settled!.epoch > open.epoch, `the successor's registration bumped the epoch (${open.epoch} -> ${settled!.epoch})`);
  assert.ok(assignedIn < 15_000, `partitions back in ${assignedIn} ms, not after the 30 s session timeout`);
  assert.ok(settledIn < 15_000, `the open transaction settled in ${settledIn} ms, not at the 60 s transaction timeout`);
  await waitUntilDone(run, [successor], 120_000);
  assert.equal(await successor.stop('SIGTERM'), { code: 0, signal: null }, successor.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}`);
  verifyExactlyOnce(run);
});

(KAFKA_CLIENT === 'platformatic' ? test : eo.skip)('no instance-id: SIGKILLed with a transaction open and started again plainly, the successor keeps the generated instance id (state-dir) and aborts the open transaction within seconds (transaction timeout 60 s); output exactly once', async () => {
  const lines = [`flows.campaign.source.state-dir = "${join(state.dir, 'plain-restart-state')}"`, 'flows.campaign.source.transaction-timeout-ms = 60000'];
  const { run, victim, check, fail, gone } = runWithVictim('plain-restart', 60_000, lines);
  await waitFor('the processor assigned all partitions, some input committed', async () => {
    check();
    return victim.assigned()?.length === PARTITIONS && [...(await inputProgress(state.admin!, run.group, run.input)).committed.values()].some((o) => o > 0);
  }, 60_000, 20).catch(fail);
  const ids = victim.transactionalIds();
  assert.is(ids.length, 1, `one transactional id\n${explainAll(run)}`);
  const id = ids[0]!;
  const backlog = async () => {
    const { ends, committed } = await inputProgress(state.admin!, run.group, run.input);
    return [...ends].reduce((sum, [p, end]) => sum + end - committed.get(p)!, 0);
  };
  const { open } = await freezeWithTransactionOpen(run, victim, [id], check, backlog);
  gone();
  assert.equal(await victim.stop('SIGKILL'), { code: null, signal: 'SIGKILL' }, victim.explain());
  const restartedAt = Date.now();
  const successor = startProcessor(run);
  let settled: TransactionState | undefined;
  await waitFor('the open transaction settled', async () => {
    check();
    settled = await describeOne(id);
    return !/^(Ongoing|Prepare)/.test(settled.state) || settled.epoch > open.epoch;
  }, 90_000, 20).catch(fail);
  const settledIn = Date.now() - restartedAt;
  const committedOutputs = async () => (await inputProgress(state.admin!, run.group, run.input)).committed;
  const before = await committedOutputs();
  await waitFor('the successor committed a batch', async () => {
    check();
    const now = await committedOutputs();
    return [...now].some(([p, o]) => o > before.get(p)!);
  }, 90_000, 20).catch(fail);
  const firstCommitIn = Date.now() - restartedAt;
  console.log(`  ${run.name}: ${open.id} settled ${settledIn} ms after the restart (${showTransaction(settled!)}); the successor's first commit ${firstCommitIn} ms after`);
  assert.equal(successor.transactionalIds(), [id], 'the successor registered the kept transactional id');
  assert.ok(settled!.epoch > open.epoch, `the successor's registration bumped the epoch (${open.epoch} -> ${settled!.epoch})`);
  assert.ok(settledIn < 15_000, `the open transaction settled in ${settledIn} ms, not at the 60 s transaction timeout`);
  await waitUntilDone(run, [successor], 120_000);
  assert.equal(await successor.stop('SIGTERM'), { code: 0, signal: null }, successor.explain());
  verifyExactlyOnce(run);
});

(KAFKA_CLIENT === 'platformatic' ? test : eo.skip)('static membership: a second live processor with the same instance-id fences the first, which stops with an error naming it (exit 70) instead of fencing back; output exactly once', async () => {
  const { run, victim: first, check, fail } = runWithVictim('twins', 60_000, STATIC_LINES);
  await waitFor('the first processor assigned all partitions, some input committed', async () => {
    check();
    return first.assigned()?.length === PARTITIONS && [...(await inputProgress(state.admin!, run.group, run.input)).committed.values()].some((o) => o > 0);
  }, 60_000, 20).catch(fail);
  const twin = startProcessor(run);
  const exit = await Promise.race([first.exited, sleep(60_000).then(() => undefined)]);
  assert.equal(exit, { code: 70, signal: null }, `the first processor stopped with an error\n${explainAll(run)}`);
  assert.match(first.stderr + readFileSync(first.logFile, 'utf8'), /instance-id sluice-0\)?: this one is fenced and stops/, `the error names the instance id\n${explainAll(run)}`);
  console.log(`  ${run.name}, ${elapsed(run)}: ${first.name} stopped: ${first.notable().filter((l) => l.includes('fenced')).at(0)?.slice(0, 300)}`);
  await waitUntilDone(run, [twin], 120_000);
  assert.ok(twin.exit === undefined, `${twin.name} runs on\n${explainAll(run)}`);
  assert.equal(await twin.stop('SIGTERM'), { code: 0, signal: null }, twin.explain());
  console.log(`  ${run.name}, ${elapsed(run)}: ${summaries(run)}`);
  verifyExactlyOnce(run);
});

test('configuration: sluice check rejects exactly-once with a file sink, with read-committed = false, and instance-id on kafkajs', async () => {
  const dir = join(state.dir, 'check');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, 'base.conf');
  writeFileSync(
    base,
    [
      `include "${QAL}"`,
      `kafka.brokers = "${BROKERS}"`,
      'flows.content.enabled = false',
      'flows.engagement.enabled = false',
      'flows.campaign.delivery = exactly-once',
      `flows.campaign.source.topic = "${unique('check-in')}"`,
      `flows.campaign.source.group-id = "${unique('check-group')}"`,
    ].join('\n') + '\n',
  );
  const check = (name: string, lines: string[]) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, [`include "${base}"`, ...lines].join('\n') + '\n');
    return sluiceResult(['check', '--config', file]);
  };
  // the overlay itself is fine: the rejections below are about delivery
  const ok = check('ok', []);
  assert.is(ok.status, 0, `exactly-once on kafka is accepted:\n${ok.stdout}\n${ok.stderr}`);

  const fileSink = check('file-sink', ['flows.campaign.sink = null', `flows.campaign.sink { kind = file, path = "${join(dir, 'out.ndjson')}" }`]);
  assert.is(fileSink.status, 2, `a file sink: exit 2\n${fileSink.stdout}\n${fileSink.stderr}`);
  assert.match(fileSink.stderr, 'flows.campaign.delivery', `a file sink: the message names flows.campaign.delivery\n${fileSink.stderr}`);
  assert.match(fileSink.stderr, /exactly-once/, fileSink.stderr);

  const fileLetters = check('file-dead-letter', ['flows.campaign.dead-letter = null', `flows.campaign.dead-letter { kind = file, path = "${join(dir, 'dlq.ndjson')}" }`]);
  assert.is(fileLetters.status, 2, `a file dead-letter sink: exit 2\n${fileLetters.stdout}\n${fileLetters.stderr}`);
  assert.match(fileLetters.stderr, 'flows.campaign.delivery', `a file dead-letter sink: the message names flows.campaign.delivery\n${fileLetters.stderr}`);

  const uncommitted = check('read-uncommitted', ['flows.campaign.source.read-committed = false']);
  assert.is(uncommitted.status, 2, `read-committed = false: exit 2\n${uncommitted.stdout}\n${uncommitted.stderr}`);
  assert.match(uncommitted.stderr, 'flows.campaign.source.read-committed', `read-committed = false: the message names the key\n${uncommitted.stderr}`);
  assert.match(uncommitted.stderr, /exactly-once/, uncommitted.stderr);

  const kafkajsStatic = check('static-kafkajs', ['flows.campaign.source.instance-id = "sluice-0"', 'flows.campaign.source.client = kafkajs']);
  assert.is(kafkajsStatic.status, 2, `instance-id on kafkajs: exit 2\n${kafkajsStatic.stdout}\n${kafkajsStatic.stderr}`);
  assert.match(kafkajsStatic.stderr, 'flows.campaign.source.instance-id', `instance-id on kafkajs: the message names the key\n${kafkajsStatic.stderr}`);
  const platformaticStatic = check('static-platformatic', ['flows.campaign.source.instance-id = "sluice-0"', 'flows.campaign.source.client = platformatic']);
  assert.is(platformaticStatic.status, 0, `instance-id on platformatic is accepted:\n${platformaticStatic.stdout}\n${platformaticStatic.stderr}`);
  console.log(`  check: ${fileSink.stderr.trim().split('\n').at(-1)} | ${uncommitted.stderr.trim().split('\n').at(-1)} | ${kafkajsStatic.stderr.trim().split('\n').at(-1)}`);
});

eo.run();
