// The memory transport of `sluice bench`: the input replayed in a loop (freshened where the flow
// keeps state) as a source, and sinks that count what the flow's encoders produced.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SluiceError } from '../errors.ts';
import { type FlowTopology, validateSettings } from '../pipeline/topology.ts';
import type { InputMessage, OutboundMessage, Sink, Source, SourceBatch } from '../component/types.ts';
import { JsValidator } from '../core/js-validator.ts';

/** The flow's NDJSON file source, if it reads one. */
export function ownInput(topology: FlowTopology): string | undefined {
  const source = topology.nodes.find((n) => n.role === 'source');
  return source?.kind === 'file' && typeof source.config.path === 'string' ? resolve(source.baseDir, source.config.path) : undefined;
}

export function readInput(file: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SluiceError('SLC_USAGE', `--input ${file}: cannot read: ${(cause as Error).message}`, { cause });
  }
  const encoder = new TextEncoder();
  const lines = text.split('\n').filter((line) => line.trim() !== '').map((line) => encoder.encode(line));
  if (lines.length === 0) throw new SluiceError('SLC_USAGE', `${file}: no messages (an NDJSON file, one message a line)`);
  return lines;
}

/**
 * What makes a replayed round new input to the flow's state rather than a replay of what it holds:
 * fresh digits in the keys of its dedupe stages, higher versions for its latest stages (the same
 * keys, so lookups by them still find what they found), event times of its aggregate stages moved
 * forward past the windows of the round before.
 */
export interface Freshening {
  /** Field names (the last step of a dotted path) whose string or integer values get fresh digits. */
  readonly keys: readonly string[];
  /**
   * A latest stage's version field, moved forward a round's span of integer versions each round;
   * a line whose version is not an integer gets fresh digits in the stage's key instead.
   */
  readonly versions: readonly { readonly key: string; readonly version: string }[];
  /** Field names of event times in epoch ms, moved forward a round's span each round. */
  readonly times: readonly string[];
}

const lastStep = (path: unknown): string[] => (typeof path === 'string' ? [path.split('.').at(-1)!] : Array.isArray(path) ? path.map((p) => String(p).split('.').at(-1)!) : []);

export function freshening(topology: FlowTopology): Freshening {
  const stages = topology.nodes.filter((n) => n.role === 'stage');
  return {
    keys: stages.filter((n) => n.kind === 'dedupe').flatMap((n) => lastStep(n.config.key)),
    versions: stages.filter((n) => n.kind === 'latest').flatMap((n) => lastStep(n.config.key).map((key) => ({ key, version: lastStep(n.config.version)[0]! }))),
    times: stages.filter((n) => n.kind === 'aggregate').flatMap((n) => lastStep(n.config.time)),
  };
}

export const freshensNothing = (f: Freshening): boolean => f.keys.length === 0 && f.versions.length === 0 && f.times.length === 0;

/** Added, digit by digit without carry, to a key's digits: a round's offset (distinct per round). */
const ROUND_STEP = 7_654_321;
const HOUR_MS = 3_600_000;

/** The digits of `value` shifted by the round's offset: same length, same characters elsewhere (a UUID stays one). */
function freshDigits(value: string, round: number, keepFirst: boolean): string {
  const offset = String(round * ROUND_STEP);
  let at = offset.length;
  let out = '';
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57 || (keepFirst && i === 0) || at === 0) out = value[i] + out;
    else out = String.fromCharCode(48 + ((c - 48 + offset.charCodeAt(--at) - 48) % 10)) + out;
  }
  return out;
}

const escaped = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `"name": <value>` in a line's text: group 1 the lead up to the value, the value's groups after it. */
const fieldPattern = (name: string, value: string) => new RegExp(`("${escaped(name)}"\\s*:\\s*)${value}`);
const STRING_VALUE = '"([^"\\\\]*)"';
const INTEGER_VALUE = '(-?[0-9]+)(?![0-9.eE])';

/** The integer values of a field over the lines' texts (the first occurrence in each line). */
function integersOf(texts: readonly (string | undefined)[], pattern: RegExp): number[] {
  const seen: number[] = [];
  for (const text of texts) {
    const found = text === undefined ? null : pattern.exec(text);
    if (found && Number.isSafeInteger(Number(found[2]))) seen.push(Number(found[2]));
  }
  return seen.sort((x, y) => x - y);
}

/**
 * Round `round` of the input, freshened: in each line's text, the first value of each dedupe key
 * gets fresh digits, each latest version moves forward `round` times the input's span of versions
 * plus one (every version of a round is above every version of the round before), and each event
 * time moves forward `round` spans (the span of the input's times, 1st to 99th percentile, plus an
 * hour, in whole hours: the windows of a round close before the next). A line is changed in place,
 * its other bytes as they were: lines invalid on purpose stay invalid, and a line that is not UTF-8
 * stays as it is. A key without digits repeats.
 */
export function freshRound(lines: readonly Uint8Array[], fresh: Freshening, round: number): Uint8Array[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const encoder = new TextEncoder();
  const texts = lines.map((line) => {
    try {
      return decoder.decode(line);
    } catch {
      return undefined;
    }
  });
  const keyPatterns = (key: string) => ({ asString: fieldPattern(key, STRING_VALUE), asNumber: fieldPattern(key, INTEGER_VALUE) });
  const freshKey = (text: string, { asString, asNumber }: ReturnType<typeof keyPatterns>): string => {
    if (asString.test(text)) return text.replace(asString, (_, lead: string, value: string) => `${lead}"${freshDigits(value, round, false)}"`);
    return text.replace(asNumber, (_, lead: string, value: string) => `${lead}${value.startsWith('-') ? '-' + freshDigits(value.slice(1), round, true) : freshDigits(value, round, true)}`);
  };
  const keys = fresh.keys.map(keyPatterns);
  const versions = fresh.versions.map(({ key, version }) => {
    const pattern = fieldPattern(version, INTEGER_VALUE);
    const seen = integersOf(texts, pattern);
    return { key: keyPatterns(key), pattern, shift: seen.length > 0 ? (seen.at(-1)! - seen[0]! + 1) * round : 0 };
  });
  const times = fresh.times.map((t) => fieldPattern(t, INTEGER_VALUE));
  let shift = 0;
  if (times.length > 0) {
    const seen = times.flatMap((pattern) => integersOf(texts, pattern)).sort((x, y) => x - y);
    // the span of the bulk of the times: a few far off (invalid on purpose, a clock far ahead) would move rounds by decades
    const span = seen.length > 0 ? seen[Math.floor(seen.length * 0.99)]! - seen[Math.floor(seen.length * 0.01)]! : 0;
    shift = (Math.ceil(span / HOUR_MS) + 1) * HOUR_MS * round;
  }
  return lines.map((line, i) => {
    const text = texts[i];
    if (text === undefined) return line;
    let changed = text;
    for (const key of keys) changed = freshKey(changed, key);
    for (const { key, pattern, shift: by } of versions) {
      let moved = false;
      changed = changed.replace(pattern, (whole, lead: string, value: string) => (Number.isSafeInteger(Number(value)) ? ((moved = true), `${lead}${Number(value) + by}`) : whole));
      if (!moved) changed = freshKey(changed, key);
    }
    for (const pattern of times) changed = changed.replace(pattern, (_, lead: string, value: string) => `${lead}${Number(value) + shift}`);
    return changed === text ? line : encoder.encode(changed);
  });
}

/**
 * A sink that counts and forgets (after the flow's encoder ran), with the injected work, if any:
 * a loop until the process has spent that much more CPU (not wall time, which a busy machine
 * would spend descheduled).
 */
export function countingSink(encoding: Sink['encoding'], injectDelayNs: number): Sink & { count: number } {
  const microsPerMessage = injectDelayNs / 1000;
  const sink = {
    encoding,
    count: 0,
    write: async (batch: readonly OutboundMessage[]) => {
      sink.count += batch.length;
      if (microsPerMessage > 0) {
        const from = process.cpuUsage();
        const target = microsPerMessage * batch.length;
        for (let spent = 0; spent < target; ) {
          const used = process.cpuUsage(from);
          spent = used.user + used.system;
        }
      }
    },
    close: async () => undefined,
  };
  return sink;
}

/** The replayed input as a source, and the moment its measured window opened. */
export class ReplaySource implements Source {
  readonly #lines: readonly Uint8Array[];
  /** The round being replayed with fresh dedupe keys (round 0 is the input itself). */
  #fresh: { round: number; lines: Uint8Array[] } | undefined;
  readonly #freshening: Freshening;
  readonly #batchSize: number;
  readonly #rate: number | undefined;
  readonly #warmupMs: number;
  readonly #measuredMs: number;
  readonly #onMeasuring: () => void;
  readonly #reference: Reference;
  #closed = false;
  /** Messages handed over before the measured window, and in all. */
  warmupMessages = 0;
  handedOver = 0;
  /** Messages of the batches the flow acknowledged (delivered). */
  #acknowledged = 0;
  /** Wakes the wait for the warm-up's batches to be delivered. */
  #onAcknowledged: (() => void) | undefined;

  constructor(
    lines: Uint8Array[],
    parts: { freshening: Freshening; batchSize: number; rate: number | undefined; warmupSeconds: number; seconds: number; reference: Reference; onMeasuring: () => void },
  ) {
    this.#lines = lines;
    this.#freshening = parts.freshening;
    this.#batchSize = parts.batchSize;
    this.#rate = parts.rate;
    this.#warmupMs = parts.warmupSeconds * 1000;
    this.#measuredMs = parts.seconds * 1000;
    this.#onMeasuring = parts.onMeasuring;
    this.#reference = parts.reference;
  }

  /** The i-th message of the replay (round by round through the input). */
  #valueAt(sequence: number): Uint8Array {
    const lines = this.#lines;
    const round = Math.floor(sequence / lines.length);
    if (round === 0 || freshensNothing(this.#freshening)) return lines[sequence % lines.length]!;
    // one round at a time, made when first needed (its cost is the harness's, before the hand-over)
    if (this.#fresh?.round !== round) this.#fresh = { round, lines: freshRound(lines, this.#freshening, round) };
    return this.#fresh.lines[sequence % lines.length]!;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SourceBatch> {
    const rate = this.#rate;
    const started = performance.now();
    const intervalMs = rate === undefined ? 0 : 1000 / rate;
    const warmupCount = rate === undefined ? 0 : Math.round((this.#warmupMs / 1000) * rate);
    const total = rate === undefined ? Number.POSITIVE_INFINITY : warmupCount + Math.round((this.#measuredMs / 1000) * rate);
    let measuring = false;
    let endsAt = Number.POSITIVE_INFINITY;
    for (let sequence = 0; !this.#closed && sequence < total; ) {
      // saturation warms up for its seconds and at least one pass over the input (caches filled)
      if (!measuring && (rate === undefined ? performance.now() - started >= this.#warmupMs && sequence >= this.#lines.length : sequence >= warmupCount)) {
        measuring = true;
        // saturation: the warm-up's batches in flight are delivered first, so that the window's
        // CPU is spent on the window's messages alone (open loop: few in flight at a rate it keeps up with)
        if (rate === undefined) {
          while (this.#acknowledged < sequence) await new Promise<void>((wake) => (this.#onAcknowledged = wake));
          this.#onAcknowledged = undefined;
        }
        this.warmupMessages = sequence;
        if (rate === undefined) endsAt = performance.now() + this.#measuredMs;
        this.#onMeasuring();
      }
      this.#reference.tick(performance.now());
      // read after the waits and the reference's slice: a saturation batch's latency starts here
      const now = performance.now();
      if (now >= endsAt) break;
      let count = this.#batchSize;
      if (rate !== undefined) {
        const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1) - sequence;
        if (due <= 0) {
          await new Promise((wake) => setTimeout(wake, Math.max(1, started + sequence * intervalMs - now)));
          continue;
        }
        count = Math.min(due, this.#batchSize);
      }
      // the measured window starts on a batch of its own
      if (rate !== undefined && !measuring) count = Math.min(count, warmupCount - sequence);
      const messages: InputMessage[] = new Array(count);
      for (let i = 0; i < count; i++, sequence++) {
        messages[i] = {
          value: this.#valueAt(sequence),
          key: null,
          headers: {},
          timestamp: undefined,
          origin: { kind: 'file', file: '(bench input)', line: (sequence % this.#lines.length) + 1 },
          // open loop: when it was due, not when the flow got round to taking it
          receivedAt: rate === undefined ? now : started + sequence * intervalMs,
        };
      }
      this.handedOver = sequence;
      yield {
        messages,
        done: async () => {
          this.#acknowledged += count;
          this.#onAcknowledged?.();
        },
      };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Messages per slice of the reference, and how often a slice runs (its share of the run: ~5 %). */
const REFERENCE_SLICE = 256;
const REFERENCE_EVERY_MS = 50;

/**
 * JSON.parse + ajv on the flow's rules over the same input, run in short slices between the
 * flow's batches: it meets the same neighbours on a shared machine as the flow does, and the
 * gate divides by it. Its CPU and time are taken out of the flow's.
 */
export class Reference {
  readonly name = 'JSON.parse + ajv';
  readonly #validator: JsValidator;
  readonly #slices: Uint8Array[][];
  #next = 0;
  #dueAt = 0;
  /** Totals, taken out of the flow's CPU and time. */
  cpuMicros = 0;
  wallMs = 0;
  /** Each slice's CPU and wall µs per message: their medians are the reference (a GC pause of the flow's garbage may land in any one slice). */
  readonly #cpuPerMessage: number[] = [];
  readonly #wallPerMessage: number[] = [];

  constructor(topology: FlowTopology, lines: readonly Uint8Array[]) {
    const settings = validateSettings(topology);
    this.#validator = new JsValidator(topology.rules, { maxDepth: settings['max-depth'], maxSize: settings['max-size'], assertFormats: true });
    const slices = Math.max(1, Math.ceil(lines.length / REFERENCE_SLICE));
    this.#slices = Array.from({ length: slices }, (_, s) => Array.from({ length: REFERENCE_SLICE }, (_, i) => lines[(s * REFERENCE_SLICE + i) % lines.length]!));
    // compiled and warmed before anything is measured
    for (let i = 0; i < 2 * slices; i++) this.slice();
    this.reset();
  }

  /** Runs a slice when one is due. */
  tick(now: number): void {
    if (now < this.#dueAt) return;
    this.#dueAt = now + REFERENCE_EVERY_MS;
    this.slice();
  }

  slice(): void {
    const messages = this.#slices[this.#next]!;
    this.#next = (this.#next + 1) % this.#slices.length;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let start = 0; start < messages.length; ) start += this.#validator.check(messages, start);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    this.wallMs += wallMs;
    this.cpuMicros += used.user + used.system;
    this.#cpuPerMessage.push((used.user + used.system) / messages.length);
    this.#wallPerMessage.push((wallMs * 1000) / messages.length);
  }

  reset(): void {
    this.cpuMicros = 0;
    this.wallMs = 0;
    this.#cpuPerMessage.length = 0;
    this.#wallPerMessage.length = 0;
  }

  /** Median CPU and wall µs per message of the slices since the last reset. */
  perMessage(): { cpu: number; wall: number } {
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;
    return { cpu: median(this.#cpuPerMessage), wall: median(this.#wallPerMessage) };
  }
}
