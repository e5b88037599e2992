// inline table: rows given in the configuration itself, by key: what a test feeds a lookup with
// (the test driver and `sluice test` files put one in place of a configured table).
import { z } from 'zod';
import type { TableSpec } from '../../component/spec.ts';
import { RowMap } from '../../component/table.ts';

const config = z.strictObject({
  rows: z.record(z.string(), z.record(z.string(), z.unknown())).describe('Key -> row (an object of properties)'),
});

export const inlineTable: TableSpec<typeof config> = {
  kind: 'inline',
  summary: 'A table whose rows are given in the configuration, by key (tests).',
  config,
  examples: [{ rows: { 'plc-001': { surface: 'home', slot: 'hero' } } }],
  create(options) {
    const rows = new RowMap();
    for (const [key, row] of Object.entries(options.rows)) rows.put(key, row);
    return {
      get: (key) => rows.get(key),
      get size() {
        return rows.size;
      },
      open: async () => undefined,
      close: async () => undefined,
    };
  },
};
