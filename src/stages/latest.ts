// latest: per key field, keeps the highest value of a version field seen so far; a record whose
// version is not higher than the stored one is stale and dropped (or dead-lettered with E_STALE).
// Versions are numbers, or strings compared by code unit; a key's versions must keep one type.
// The store is the record's input partition's (local mode: one per flow), remembered with the
// batch's delivery, like dedupe's.
import { z } from 'zod';
import { SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldValue, isScalar } from '../component/fields.ts';
import { jsonKeyBytes, type StoreCodec, utf8Scratch } from '../component/state.ts';
import { schemaAt } from '../component/rules.ts';
import { CONTINUE, FILTERED, type FlowRecord, type StageOutcome } from '../component/types.ts';

const config = z.strictObject({
  key: z.string().describe('The field whose value identifies the entity (e.g. id)'),
  version: z.string().describe('The field whose value orders its versions (a number, or a string compared by code unit)'),
  'on-stale': z.enum(['drop', 'dlq']).default('drop').describe('drop: count the stale record as filtered; dlq: dead-letter it with reason E_STALE'),
  store: z.string().regex(/^[A-Za-z0-9._-]+$/).default('latest').describe('The store\'s name: its directory under the state dir (and, on Kafka, its changelog `<group>-<store>-changelog`)'),
  backend: z.enum(['lmdb', 'memory']).default('lmdb').describe('lmdb: on disk under the state dir, kept across runs; memory: forgotten when the flow stops'),
});

/** A stored version: a tag byte, then a float64 (number) or the UTF-8 of the string. */
const NUMBER = 0;
const STRING = 1;

/** A query's view: the key as the stage writes it, the highest version stored. */
const latestCodec: StoreCodec = {
  key: jsonKeyBytes,
  value: (bytes) => ({
    version: bytes[0] === NUMBER ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(1) : new TextDecoder().decode(bytes.subarray(1)),
  }),
};

export const latestStage: StageSpec<typeof config> = {
  kind: 'latest',
  summary: 'Keeps the highest version per key: a record whose version is not higher than the stored one is stale (a store per input partition, with its changelog on Kafka).',
  stateful: true,
  stores: (options) => [{ name: options.store, backend: options.backend, codec: latestCodec }],
  config,
  examples: [{ key: 'id', version: 'version' }, { key: 'itemId', version: 'updatedAt', 'on-stale': 'dlq', backend: 'memory' }],
  create(options, context) {
    for (const name of ['key', 'version'] as const) {
      if (schemaAt(context.rules, options[name]) === undefined) {
        const message = `field "${options[name]}" is not defined by the flow's rules`;
        throw new SluiceError('SLC_MAPPING', message, { problems: [{ path: name, message }] });
      }
    }
    const keySlot = context.fields.slot(options.key);
    const versionSlot = context.fields.slot(options.version);
    const store = context.store(options.store, options.backend);
    const decoder = new TextDecoder();
    const keyBytes = utf8Scratch();
    const stringValue = utf8Scratch();
    const numberValue = new Uint8Array(9);
    const numberView = new DataView(numberValue.buffer);

    const failure = (code: 'E_LATEST_KEY' | 'E_LATEST_VERSION', message: string): StageOutcome => ({ kind: 'fail', code, message, deadLetter: true });

    return {
      process(record: FlowRecord): StageOutcome {
        const key = fieldValue(record, keySlot);
        if (!isScalar(key)) {
          return failure('E_LATEST_KEY', `latest key field "${options.key}" is ${key === undefined ? 'missing' : 'not a scalar'}`);
        }
        const version = fieldValue(record, versionSlot);
        if (!(typeof version === 'string' || (typeof version === 'number' && Number.isFinite(version)))) {
          return failure('E_LATEST_VERSION', `latest version field "${options.version}" is ${version === undefined ? 'missing' : 'neither a number nor a string'}`);
        }
        const view = store.of(record);
        const id = keyBytes(JSON.stringify(key));
        const stored = view.get(id);
        if (stored !== undefined) {
          const storedIsNumber = stored[0] === NUMBER;
          if (storedIsNumber !== (typeof version === 'number')) {
            return failure('E_LATEST_VERSION', `latest version field "${options.version}" is a ${typeof version}, the stored version of key ${JSON.stringify(key)} is not`);
          }
          const newer = storedIsNumber
            ? (version as number) > new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getFloat64(1)
            : (version as string) > decoder.decode(stored.subarray(1));
          if (!newer) {
            return options['on-stale'] === 'dlq'
              ? { kind: 'fail', code: 'E_STALE', message: `version ${JSON.stringify(version)} of key ${JSON.stringify(key)} is not higher than the stored one`, deadLetter: true }
              : FILTERED;
          }
        }
        if (typeof version === 'number') {
          numberValue[0] = NUMBER;
          numberView.setFloat64(1, version);
          view.put(id, numberValue);
        } else {
          const value = stringValue(version, 1);
          value[0] = STRING;
          view.put(id, value);
        }
        return CONTINUE;
      },
    };
  },
};
