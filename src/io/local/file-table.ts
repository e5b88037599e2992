// file table: a table read from an NDJSON file in local mode, one row a line, each holding its key
// in the `key` property. Lines apply in order as a topic's records would: a later row replaces an
// earlier one of the same key, and a row whose `deleted-field` is true deletes the key (a tombstone).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SluiceError } from '../../errors.ts';
import type { TableSpec } from '../../component/spec.ts';
import { parseRow, RowMap } from '../../component/table.ts';

const config = z.strictObject({
  path: z.string().min(1).describe('The NDJSON file, one JSON object a line (relative to the configuration file)'),
  key: z.string().min(1).describe('The property of a row that holds its key'),
  'deleted-field': z.string().min(1).default('_deleted').describe('A row whose property of this name is true deletes its key (a tombstone)'),
});

export const fileTable: TableSpec<typeof config> = {
  kind: 'file',
  summary: 'A table read from an NDJSON file (local mode): later rows replace earlier ones, a row marked deleted removes its key.',
  config,
  examples: [{ path: '../samples/placements.ndjson', key: 'placementId' }],
  create(options, context) {
    const file = resolve(context.baseDir, options.path);
    const rows = new RowMap();
    return {
      get: (key) => rows.get(key),
      get size() {
        return rows.size;
      },
      async open() {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (cause) {
          throw new SluiceError('SLC_IO', `table ${context.table}: cannot read ${file}: ${(cause as Error).message}`, { cause });
        }
        text.split('\n').forEach((line, index) => {
          if (line.trim() === '') return;
          const row = parseRow(line);
          const key = row?.[options.key];
          if (row === undefined || key === undefined || key === null || typeof key === 'object') {
            throw new SluiceError('SLC_IO', `table ${context.table}: ${file}:${index + 1}: not a JSON object with a scalar "${options.key}"`);
          }
          rows.put(String(key), row[options['deleted-field']] === true ? null : row);
        });
        context.logger.info({ table: context.table, file, rows: rows.size }, 'table loaded');
      },
      close: async () => undefined,
    };
  },
};
