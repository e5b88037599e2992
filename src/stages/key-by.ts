// key-by: re-keys a record by one field, as Kafka Streams' selectKey/groupBy does. Later stages
// and a sink without `key-field` see the new key. The new key is the field's value as text: a
// string's UTF-8 (a view into the message when it has no escapes), a number's or boolean's JSON
// text. A record without the field (or with a null, object or array there) is filtered, or
// dead-lettered with E_KEY_BY. On Kafka, a stateful stage after a key-by makes the flow hop
// through a repartition topic (pipeline/topology.ts), so that the stage sees every record of a
// key on one partition.
import { z } from 'zod';
import { SluiceError } from '../errors.ts';
import type { StageSpec } from '../component/spec.ts';
import { fieldBytes, fieldValue } from '../component/fields.ts';
import { schemaAt } from '../component/rules.ts';
import { CONTINUE, FILTERED, type FlowRecord, type StageOutcome } from '../component/types.ts';

const config = z.strictObject({
  field: z.string().describe('The field whose value becomes the record\'s key: `itemId`, `item.id` or a JSON Pointer'),
  'on-missing': z.enum(['drop', 'dlq']).default('drop').describe('A record without the field (or with null, an object or an array there) — drop: count it as filtered; dlq: dead-letter it with reason E_KEY_BY'),
});

const encoder = new TextEncoder();

export const keyByStage: StageSpec<typeof config> = {
  kind: 'key-by',
  summary: 'Re-keys records by a field\'s value; on Kafka a later stateful stage reads them through a repartition topic.',
  rekeys: true,
  config,
  examples: [{ field: 'itemId' }, { field: 'author.id', 'on-missing': 'dlq' }],
  create(options, context) {
    if (schemaAt(context.rules, options.field) === undefined) {
      const message = `field "${options.field}" is not defined by the flow's rules`;
      throw new SluiceError('SLC_MAPPING', message, { problems: [{ path: 'field', message }] });
    }
    const slot = context.fields.slot(options.field);
    const missing: StageOutcome =
      options['on-missing'] === 'dlq'
        ? Object.freeze({ kind: 'fail', code: 'E_KEY_BY', message: `key-by field "${options.field}" is missing or not a scalar (string, number, boolean)`, deadLetter: true })
        : FILTERED;
    return {
      process(record: FlowRecord): StageOutcome {
        const value = fieldValue(record, slot);
        if (typeof value === 'string') record.key = fieldBytes(record, slot)!;
        else if (typeof value === 'number' || typeof value === 'boolean') record.key = encoder.encode(String(value));
        else return missing;
        return CONTINUE;
      },
    };
  },
};
