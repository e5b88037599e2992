// dedupe: drops a record whose key (one or more fields) was seen within `retention`. The first
// sighting of a key is remembered in a state store with its time; a later one within retention is
// filtered (or dead-lettered with E_DUPLICATE), an older one counts as new. The store is the
// record's input partition's (local mode: one per flow), remembered with the batch's delivery.
// Expired keys are purged by a pass over the store once per retention, PURGE_SLICE entries per
// record at most: a large store is never read in one go (no pause), and a key expired is gone
// within two retentions plus the records it takes the pass to go round the store.
import { z } from 'zod';
import { SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { jsonKeyBytes, type StoreCodec, type StoreScan, type StoreView, utf8Scratch } from '../component/state.ts';
import { fieldValue, isScalar } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { CONTINUE, FILTERED, type FlowRecord, type StageOutcome } from '../component/types.ts';

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const duration = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^[0-9]+ ?(ms|s|m|h|d)$/, 'a duration: a number with ms, s, m, h or d (e.g. 24h)')
    .transform((text) => Number(/^[0-9]+/.exec(text)![0]) * UNITS_MS[/(ms|s|m|h|d)$/.exec(text)![0] as keyof typeof UNITS_MS]),
]);

/** Entries of the store a record's purge step reads at most. */
export const PURGE_SLICE = 64;

/** A partition's purge: when its last pass began, and the pass under way (if any). */
interface Purge {
  startedAt: number;
  scan: StoreScan | undefined;
}

const config = z.strictObject({
  key: z.union([z.string(), z.array(z.string()).min(1)]).describe('The field (or fields) whose values make a record\'s key'),
  retention: duration.prefault('24h').describe('How long a key is remembered: ms, or a number with ms, s, m, h, d'),
  'on-duplicate': z.enum(['drop', 'dlq']).default('drop').describe('drop: count the duplicate as filtered; dlq: dead-letter it with reason E_DUPLICATE'),
  store: z.string().regex(/^[A-Za-z0-9._-]+$/).default('dedupe').describe('The store\'s name: its directory under the state dir (and, on Kafka, its changelog `<group>-<store>-changelog`)'),
  backend: z.enum(['lmdb', 'memory']).default('lmdb').describe('lmdb: on disk under the state dir, kept across runs; memory: forgotten when the flow stops'),
});

export const dedupeStage: StageSpec<typeof config> = {
  kind: 'dedupe',
  summary: 'Drops a record whose key was seen within the retention (a store per input partition, with its changelog on Kafka).',
  stateful: true,
  stores: (options) => [{ name: options.store, backend: options.backend, codec: dedupeCodec }],
  config,
  examples: [{ key: 'eventId', retention: '24h' }, { key: ['userId', 'campaignId'], retention: '10m', 'on-duplicate': 'dlq', backend: 'memory' }],
  create(options, context) {
    const fields = typeof options.key === 'string' ? [options.key] : options.key;
    for (const [i, field] of fields.entries()) {
      if (schemaAt(context.rules, field) === undefined) {
        const message = `field "${field}" is not defined by the flow's rules`;
        throw new SluiceError('SLC_MAPPING', message, { problems: [{ path: typeof options.key === 'string' ? 'key' : `key[${i}]`, message }] });
      }
    }
    const slots = fields.map((field) => context.fields.slot(field));
    const retention = options.retention;
    const store = context.store(options.store, options.backend);
    /** The key's UTF-8 bytes are written here (the store copies what it keeps). */
    const keyBytes = utf8Scratch();
    const seenAt = new Uint8Array(8);
    const seenAtView = new DataView(seenAt.buffer);
    /** Each partition's purge of expired keys. */
    const purges = new Map<number, Purge>();

    const keyFailure = (i: number, value: unknown): StageOutcome => ({
      kind: 'fail',
      code: 'E_DEDUPE_KEY',
      message: `dedupe key field "${fields[i]}" is ${value === undefined ? 'missing' : 'not a scalar'}`,
      deadLetter: true,
    });
    /**
     * A step of the partition's purge: a pass begins once per retention, and each step deletes the
     * expired keys among the next PURGE_SLICE entries (their tombstones go to the changelog with
     * the batch).
     */
    const purgeStep = (view: StoreView, now: number) => {
      let purge = purges.get(view.partition);
      if (purge === undefined) purges.set(view.partition, (purge = { startedAt: now, scan: view.scan() }));
      else if (purge.scan === undefined) {
        if (now - purge.startedAt < retention) return;
        purge.startedAt = now;
        purge.scan = view.scan();
      }
      const slice = purge.scan!.next(PURGE_SLICE);
      if (slice.length < PURGE_SLICE) purge.scan = undefined;
      for (const [key, value] of slice) {
        if (now - readTime(value) < retention) continue;
        const current = view.get(key); // a batch in flight may have seen it again
        if (current !== undefined && now - readTime(current) >= retention) view.delete(key);
      }
    };

    return {
      process(record: FlowRecord): StageOutcome {
        let key: string;
        if (slots.length === 1) {
          const value = fieldValue(record, slots[0]!);
          if (!isScalar(value)) return keyFailure(0, value);
          key = JSON.stringify(value);
        } else {
          const values: unknown[] = new Array(slots.length);
          for (let i = 0; i < slots.length; i++) {
            const value = fieldValue(record, slots[i]!);
            if (!isScalar(value)) return keyFailure(i, value);
            values[i] = value;
          }
          key = JSON.stringify(values);
        }
        const now = context.clock.now();
        const view = store.of(record);
        purgeStep(view, now);
        const bytes = keyBytes(key);
        const seen = view.get(bytes);
        if (seen !== undefined && now - readTime(seen) < retention) {
          return options['on-duplicate'] === 'dlq' ? { kind: 'fail', code: 'E_DUPLICATE', message: `duplicate of key ${key} seen within ${retention} ms`, deadLetter: true } : FILTERED;
        }
        seenAtView.setFloat64(0, now);
        view.put(bytes, seenAt);
        return CONTINUE;
      },
    };
  },
};

/** A query's view: the key as the stage writes it, the time it was first seen. */
const dedupeCodec: StoreCodec = {
  key: jsonKeyBytes,
  value: (bytes) => {
    const ms = readTime(bytes);
    return { firstSeen: new Date(ms).toISOString(), firstSeenMs: ms };
  },
};

/** The time (ms since the epoch) a key was first seen, as its value holds it. */
function readTime(value: Uint8Array): number {
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(0);
}
