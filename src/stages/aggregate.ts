// aggregate: counts, sums, mins and maxes of records per key per time window (tumbling or
// hopping), as Kafka Streams' groupByKey -> windowedBy -> aggregate -> suppress(untilWindowCloses).
// A record's key is its group (a key-by stage sets it); its event time comes from a field. Each
// input partition has its stream time (the highest event time seen); a window closes once stream
// time reaches its end + grace, and is then emitted once, as a typed output record, and deleted
// from the store. A record whose every window has closed is late: dropped or dead-lettered.
// The store holds each open window (key: 0x01, start as 8 bytes big-endian, group key; value: a
// float64 per aggregation) and the stream time (key 0x00), so a restart goes on where it stopped.
import { create, type DescField, type Message, ScalarType } from '@bufbuild/protobuf';
import { z } from 'zod';
import { type ConfigProblem, SluiceError } from '../errors.ts';
import { duration, positiveDuration } from '../component/duration.ts';
import type { StageContext, StageSpec } from '../component/spec.ts';
import type { BatchState, StoreCodec, StoreView } from '../component/state.ts';
import { fieldValue, latin1 } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { ABSORBED, type Emit, type EmittedRecord, FILTERED, type FlowRecord, type JsonValue, type StageOutcome } from '../component/types.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const aggregation = z
  .strictObject({
    op: z.enum(['count', 'sum', 'min', 'max']).describe('count: records; sum, min, max: of `field`'),
    field: z.string().optional().describe('The numeric field summed or compared (not for count)'),
    where: z.record(z.string(), scalar).optional().describe('Only records whose fields equal these values (field -> value)'),
  })
  .refine((a) => (a.op === 'count') === (a.field === undefined), { message: 'count takes no field; sum, min and max need one' });

/** What an output field may come from besides an aggregation. */
const KEY = 'key';
const WINDOW_START = 'window.start';
const WINDOW_END = 'window.end';

const config = z
  .strictObject({
    time: z.string().describe('The field with the event time: epoch milliseconds or an RFC 3339 date-time'),
    window: z
      .strictObject({
        size: positiveDuration.describe('How long a window lasts'),
        advance: positiveDuration.optional().describe('Hopping windows: how far apart windows start (default: size, tumbling windows)'),
        grace: duration.prefault('0ms').describe('How long after its end a window still takes out-of-order records'),
      })
      .refine((w) => w.advance === undefined || w.advance <= w.size, { message: 'advance must not exceed size' }),
    aggregations: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/).refine((name) => name !== KEY, 'key names the group key'), aggregation)
      .refine((a) => Object.keys(a).length > 0, 'at least one aggregation')
      .describe('Name -> aggregation'),
    output: z.strictObject({
      target: z.string().describe('Full name of the protobuf message to build, e.g. sluice.recommender.v1.ItemEngagement'),
      fields: z.record(z.string(), z.string()).describe('Target field name -> an aggregation\'s name, `key` (the group key as text), `window.start` or `window.end` (epoch ms)'),
    }),
    emit: z.enum(['on-close', 'on-update']).default('on-close').describe('on-close: once per window, when it closes; on-update: a window updated by a batch, at the end of the batch'),
    'on-late': z.enum(['drop', 'dlq']).default('drop').describe('A record whose windows closed: drop (counted as filtered) or dead-letter with reason E_LATE'),
    'max-ahead': positiveDuration.optional().describe('A record whose event time is further than this ahead of the wall clock fails with E_EVENT_TIME instead of moving stream time (one producer clock far ahead would close every window)'),
    'close-idle-after': positiveDuration.optional().describe("A partition whose stream time has not moved for this long on the wall clock closes what would be closed at the clock's time"),
    store: z.string().regex(/^[A-Za-z0-9._-]+$/).default('aggregate').describe('The store\'s name: its directory under the state dir (and, on Kafka, its changelog `<group>-<store>-changelog`)'),
    backend: z.enum(['lmdb', 'memory']).default('lmdb').describe('lmdb: on disk under the state dir, kept across runs; memory: forgotten when the flow stops'),
  });

type AggregateConfig = z.output<typeof config>;

/** Store keys: the partition's stream time, and the windows (tag, start, group key). */
const STREAM_TIME_KEY = new Uint8Array([0]);
const WINDOW_TAG = 1;
const WINDOW_KEY_LEAD = 9;
const TWO_32 = 2 ** 32;

interface OpenWindow {
  /** Its store key (a copy, kept). */
  readonly key: Uint8Array;
  readonly start: number;
  readonly groupKey: Uint8Array;
}

/** One input partition's windows as the stage knows them. */
interface PartitionWindows {
  /** The highest event time seen (or the clock's, once idle). */
  streamTime: number;
  /** The stream time as the store holds it in the current batch's view. */
  storedTime: number;
  /** Clock time when stream time last moved (close-idle-after). */
  movedAt: number;
  /** The view of the batch being processed. */
  view: StoreView | undefined;
  /** Every window in the store, by its key as latin1. */
  readonly open: Map<string, OpenWindow>;
  /** The earliest end + grace among the open windows. */
  nextClose: number;
  /** emit = on-update: the windows the current batch updated. */
  readonly updated: Set<string>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an event time value, or NaN. */
function eventTime(value: JsonValue | undefined): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : Number.NaN;
  if (typeof value === 'string' && RFC3339.test(value)) return Date.parse(value);
  return Number.NaN;
}

const keyText = new TextDecoder();

/** A window's aggregates as stored: a float64 per aggregation, in config order. */
function readValues(stored: Uint8Array, into: Uint8Array): void {
  if (stored.byteLength === into.byteLength) into.set(stored); // no subarray view per record
  else for (let i = 0; i < into.byteLength; i++) into[i] = stored[i] ?? 0;
}

/** The windows of a group key in a store's entries, with start in [from, to) (interactive queries): plain JSON. */
export function windowsOf(entries: Iterable<readonly [Uint8Array, Uint8Array]>, groupKey: Uint8Array, from: number, to: number, names: readonly string[], sizeMs: number): Record<string, number>[] {
  const found: Record<string, number>[] = [];
  const values = new Float64Array(names.length);
  const bytes = new Uint8Array(values.buffer);
  for (const [key, value] of entries) {
    if (key[0] !== WINDOW_TAG || key.byteLength - WINDOW_KEY_LEAD !== groupKey.byteLength) continue;
    if (!groupKey.every((b, i) => key[WINDOW_KEY_LEAD + i] === b)) continue;
    const start = windowStartOf(key);
    if (start < from || start >= to) continue;
    readValues(value, bytes);
    const window: Record<string, number> = { windowStart: start, windowEnd: start + sizeMs };
    names.forEach((name, i) => (window[name] = values[i]!));
    found.push(window);
  }
  return found;
}

/**
 * How the aggregate's store reads for interactive queries (the shape of the ops route's store
 * codec): a key is the group key's text; a window's value is its aggregations by name; `windows`
 * lists the key's windows starting in [from, to).
 */
export function aggregateStoreCodec(options: AggregateConfig): StoreCodec {
  const names = Object.keys(options.aggregations);
  const encoder = new TextEncoder();
  return {
    key: (text: string): Uint8Array => encoder.encode(text),
    value(bytes: Uint8Array) {
      const values = new Float64Array(names.length);
      readValues(bytes, new Uint8Array(values.buffer));
      return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
    },
    windows: (store, key, from, to) =>
      windowsOf(store.entries(), encoder.encode(key), from, to, names, options.window.size),
  };
}

function windowStartOf(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(1) * TWO_32 + view.getUint32(5);
}

type OutputSetter = (message: Record<string, unknown>, window: OpenWindow, values: Float64Array) => void;

const INTEGER_TYPES = new Set([ScalarType.INT32, ScalarType.UINT32, ScalarType.SINT32, ScalarType.FIXED32, ScalarType.SFIXED32]);
const INT64_TYPES = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);
const FLOAT_TYPES = new Set([ScalarType.DOUBLE, ScalarType.FLOAT]);

/** How a target field is set from a closed window, or why it cannot be. */
function outputSetter(field: DescField, from: string, options: AggregateConfig): OutputSetter | string {
  const name = field.localName;
  if (field.fieldKind !== 'scalar') return `${field.fieldKind} fields are not supported by aggregate`;
  const type = field.scalar;
  const typeName = ScalarType[type].toLowerCase();
  if (from === KEY) {
    if (type === ScalarType.STRING) return (message, window) => void (message[name] = keyText.decode(window.groupKey));
    if (type === ScalarType.BYTES) return (message, window) => void (message[name] = window.groupKey);
    return `the key is text: it does not fit ${typeName}`;
  }
  if (from === WINDOW_START || from === WINDOW_END) {
    const offset = from === WINDOW_END ? options.window.size : 0;
    if (INT64_TYPES.has(type)) return (message, window) => void (message[name] = BigInt(window.start + offset));
    if (FLOAT_TYPES.has(type)) return (message, window) => void (message[name] = window.start + offset);
    return `epoch milliseconds do not fit ${typeName} (int64 or double)`;
  }
  const names = Object.keys(options.aggregations);
  const at = names.indexOf(from);
  if (at < 0) return `"${from}" is neither an aggregation (${names.join(', ')}) nor key, window.start or window.end`;
  const op = options.aggregations[from]!.op;
  if (FLOAT_TYPES.has(type)) {
    // min and max of no record (every record failed `where`): the field stays unset
    return (message, _window, values) => void (Number.isFinite(values[at]!) && (message[name] = values[at]!));
  }
  if (op !== 'count') return `a ${op} is a number: it fits double or float, not ${typeName}`;
  if (INT64_TYPES.has(type)) return (message, _window, values) => void (message[name] = BigInt(values[at]!));
  if (INTEGER_TYPES.has(type)) return (message, _window, values) => void (message[name] = values[at]!);
  return `a count does not fit ${typeName}`;
}

export const aggregateStage: StageSpec<typeof config> = {
  kind: 'aggregate',
  summary: 'Aggregates records per key per time window (tumbling or hopping, with grace) and emits each window once, when it closes (a store per input partition, with its changelog on Kafka).',
  stateful: true,
  emits: true,
  stores: (options) => [{ name: options.store, backend: options.backend, codec: aggregateStoreCodec(options), keyedByRecord: true }],
  outputType: (options) => options.output.target,
  config,
  examples: [
    {
      time: 'occurredAt',
      window: { size: '1m', grace: '10s' },
      aggregations: { impressions: { op: 'count', where: { type: 'impression' } }, conversion_value: { op: 'sum', field: 'value', where: { type: 'conversion' } } },
      output: { target: 'sluice.recommender.v1.ItemEngagement', fields: { item_id: 'key', window_start: 'window.start', window_end: 'window.end', impressions: 'impressions', conversion_value: 'conversion_value' } },
    },
    {
      time: 'occurredAt',
      window: { size: '5m', advance: '1m' },
      aggregations: { events: { op: 'count' } },
      output: { target: 'sluice.recommender.v1.ItemEngagement', fields: { item_id: 'key', window_start: 'window.start', impressions: 'events' } },
      emit: 'on-update',
      'on-late': 'dlq',
      backend: 'memory',
    },
  ],
  create: (options, context) => createAggregate(options, context),
};

function createAggregate(options: AggregateConfig, context: StageContext) {
  const problems: ConfigProblem[] = [];
  const defined = (field: string, path: string) => {
    if (schemaAt(context.rules, field) !== undefined) return true;
    problems.push({ path, message: `field "${field}" is not defined by the flow's rules` });
    return false;
  };
  defined(options.time, 'time');
  const names = Object.keys(options.aggregations);
  for (const [name, a] of Object.entries(options.aggregations)) {
    if (a.field !== undefined) defined(a.field, `aggregations.${name}.field`);
    for (const field of Object.keys(a.where ?? {})) defined(field, `aggregations.${name}.where.${field}`);
  }
  const type = context.recordTypes.getMessage(options.output.target);
  const setters: OutputSetter[] = [];
  if (!type) problems.push({ path: 'output.target', message: `unknown record type "${options.output.target}"` });
  else {
    for (const [target, from] of Object.entries(options.output.fields)) {
      const field = type.fields.find((f) => f.name === target);
      const setter = field ? outputSetter(field, from, options) : `${options.output.target} has no field "${target}" (fields: ${type.fields.map((f) => f.name).join(', ')})`;
      if (typeof setter === 'string') problems.push({ path: `output.fields.${target}`, message: setter });
      else setters.push(setter);
    }
  }
  if (problems.length > 0) throw new SluiceError('SLC_MAPPING', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });

  const { size, grace } = options.window;
  const advance = options.window.advance ?? size;
  const closeIdleAfter = options['close-idle-after'];
  const maxAhead = options['max-ahead'];
  const onUpdate = options.emit === 'on-update';
  const store = context.store(options.store, options.backend);
  const clock = context.clock;
  const timeSlot = context.fields.slot(options.time);

  // every field read once per record, into `read` by slot index
  const slots: number[] = [];
  const slotIndex = (field: string) => {
    const slot = context.fields.slot(field);
    const at = slots.indexOf(slot);
    return at >= 0 ? at : slots.push(slot) - 1;
  };
  const compiled = Object.values(options.aggregations).map((a) => ({
    op: a.op,
    field: a.field === undefined ? -1 : slotIndex(a.field),
    where: Object.entries(a.where ?? {}).map(([field, value]) => [slotIndex(field), value] as const),
  }));
  const read: (JsonValue | undefined)[] = new Array(slots.length);
  /** Each aggregation's contribution of the record being processed (NaN: none). */
  const contributions = new Float64Array(names.length);
  const values = new Float64Array(names.length);
  const valueBytes = new Uint8Array(values.buffer);
  const initial = new Float64Array(compiled.map((a) => (a.op === 'min' ? Infinity : a.op === 'max' ? -Infinity : 0)));
  const timeBytes = new Float64Array(1);
  const timeView = new Uint8Array(timeBytes.buffer);
  let keyScratch = new Uint8Array(256);
  let keyScratchView = new DataView(keyScratch.buffer);

  const partitions = new Map<number, PartitionWindows>();

  const windowKey = (start: number, groupKey: Uint8Array): Uint8Array => {
    const length = WINDOW_KEY_LEAD + groupKey.byteLength;
    if (length > keyScratch.byteLength) {
      keyScratch = new Uint8Array(length * 2);
      keyScratchView = new DataView(keyScratch.buffer);
    }
    keyScratch[0] = WINDOW_TAG;
    keyScratchView.setUint32(1, Math.floor(start / TWO_32));
    keyScratchView.setUint32(5, start >>> 0);
    keyScratch.set(groupKey, WINDOW_KEY_LEAD);
    return keyScratch.subarray(0, length);
  };

  const storedTime = (view: StoreView): number => {
    const stored = view.get(STREAM_TIME_KEY);
    if (stored === undefined) return -Infinity;
    timeView.set(stored.subarray(0, 8));
    return timeBytes[0]!;
  };

  /** A batch's first touch of a partition: what the store holds decides, when the stage's own picture is not that (a restart, an aborted batch). */
  const enter = (view: StoreView): PartitionWindows => {
    let p = partitions.get(view.partition);
    if (p === undefined) {
      p = { streamTime: Number.NaN, storedTime: -Infinity, movedAt: clock.now(), view: undefined, open: new Map(), nextClose: Infinity, updated: new Set() };
      partitions.set(view.partition, p);
    }
    if (p.view === view) return p;
    p.view = view;
    p.updated.clear();
    p.storedTime = storedTime(view);
    if (p.storedTime !== p.streamTime) {
      p.streamTime = p.storedTime;
      p.open.clear();
      for (const [key] of view.entries()) {
        if (key[0] !== WINDOW_TAG) continue;
        const kept = new Uint8Array(key);
        p.open.set(latin1(kept, 0, kept.byteLength), { key: kept, start: windowStartOf(kept), groupKey: kept.subarray(WINDOW_KEY_LEAD) });
      }
      p.nextClose = Infinity;
      for (const w of p.open.values()) p.nextClose = Math.min(p.nextClose, w.start + size + grace);
    }
    return p;
  };

  const result = (window: OpenWindow, stored: Uint8Array): EmittedRecord => {
    readValues(stored, valueBytes);
    const message = create(type!) as Message & Record<string, unknown>;
    for (const set of setters) set(message, window, values);
    return { key: window.groupKey, output: message, timestamp: String(window.start + size) };
  };

  /** Emits (on-close) and deletes the windows closed at `through`, in start then key order. */
  const close = (p: PartitionWindows, view: StoreView, through: number, emit: Emit) => {
    const closed: [string, OpenWindow][] = [];
    let nextClose = Infinity;
    for (const entry of p.open) {
      const closesAt = entry[1].start + size + grace;
      if (closesAt <= through) closed.push(entry);
      else nextClose = Math.min(nextClose, closesAt);
    }
    p.nextClose = nextClose;
    closed.sort(([a, wa], [b, wb]) => wa.start - wb.start || (a < b ? -1 : a > b ? 1 : 0));
    for (const [id, window] of closed) {
      const stored = view.get(window.key);
      if (stored !== undefined && !onUpdate) emit(result(window, stored));
      view.delete(window.key);
      p.open.delete(id);
    }
  };

  const failure = (code: 'E_EVENT_TIME' | 'E_AGGREGATE_KEY' | 'E_AGGREGATE_FIELD' | 'E_LATE', message: string): StageOutcome => ({ kind: 'fail', code, message, deadLetter: true });

  return {
    process(record: FlowRecord): StageOutcome {
      const groupKey = record.key;
      if (groupKey === null) return failure('E_AGGREGATE_KEY', 'the record has no key to group by (a key-by stage before the aggregate sets it)');
      const time = eventTime(fieldValue(record, timeSlot));
      if (Number.isNaN(time)) return failure('E_EVENT_TIME', `event time field "${options.time}" is missing or neither epoch milliseconds nor an RFC 3339 date-time`);
      if (maxAhead !== undefined && time - clock.now() > maxAhead) return failure('E_EVENT_TIME', `event time ${time} is more than ${maxAhead} ms ahead of the clock`);
      for (let i = 0; i < slots.length; i++) read[i] = fieldValue(record, slots[i]!);
      for (let i = 0; i < compiled.length; i++) {
        const a = compiled[i]!;
        let matches = true;
        for (const [at, value] of a.where) if (read[at] !== value) matches = false;
        if (!matches) contributions[i] = Number.NaN;
        else if (a.field < 0) contributions[i] = 1;
        else {
          const value = read[a.field];
          if (typeof value !== 'number') return failure('E_AGGREGATE_FIELD', `aggregation ${names[i]}: field "${options.aggregations[names[i]!]!.field}" is ${value === undefined ? 'missing' : 'not a number'}`);
          contributions[i] = value;
        }
      }
      const p = enter(store.of(record));
      const view = p.view!;
      if (!(time <= p.streamTime)) {
        p.streamTime = time;
        p.movedAt = clock.now();
      }
      let counted = false;
      // the windows holding `time` start at multiples of `advance` in (time - size, time]
      for (let start = time - (((time % advance) + advance) % advance); start > time - size; start -= advance) {
        if (start + size + grace <= p.streamTime) continue; // closed
        counted = true;
        const key = windowKey(start, groupKey);
        const stored = view.get(key);
        if (stored === undefined) {
          values.set(initial);
          const kept = new Uint8Array(key);
          p.open.set(latin1(kept, 0, kept.byteLength), { key: kept, start, groupKey: kept.subarray(WINDOW_KEY_LEAD) });
          p.nextClose = Math.min(p.nextClose, start + size + grace);
        } else readValues(stored, valueBytes);
        for (let i = 0; i < compiled.length; i++) {
          const c = contributions[i]!;
          if (Number.isNaN(c)) continue;
          const op = compiled[i]!.op;
          if (op === 'count' || op === 'sum') values[i]! += c;
          else if (op === 'min') values[i] = Math.min(values[i]!, c);
          else values[i] = Math.max(values[i]!, c);
        }
        view.put(key, valueBytes);
        if (onUpdate) p.updated.add(latin1(key, 0, key.byteLength));
      }
      if (counted) return ABSORBED;
      return options['on-late'] === 'dlq' ? failure('E_LATE', `event time ${time}: its windows closed (stream time ${p.streamTime}, grace ${grace} ms)`) : FILTERED;
    },
    emitting: {
      afterBatch(state: BatchState, emit: Emit): void {
        const p = enter(store.of({ state }));
        const view = p.view!;
        if (closeIdleAfter !== undefined) {
          const now = clock.now();
          if (now - p.movedAt >= closeIdleAfter && !(now <= p.streamTime)) {
            p.streamTime = now;
            p.movedAt = now;
          }
        }
        if (onUpdate) {
          for (const id of p.updated) {
            const window = p.open.get(id)!;
            const stored = view.get(window.key);
            if (stored !== undefined) emit(result(window, stored));
          }
          p.updated.clear();
        }
        if (p.streamTime >= p.nextClose) close(p, view, p.streamTime, emit);
        if (p.streamTime !== p.storedTime) {
          timeBytes[0] = p.streamTime;
          view.put(STREAM_TIME_KEY, timeView);
          p.storedTime = p.streamTime;
        }
      },
      flush(state: BatchState, emit: Emit): void {
        const p = enter(store.of({ state }));
        close(p, p.view!, Infinity, emit);
      },
    },
  };
}
