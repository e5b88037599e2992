// The tables of a process, built from the table nodes of the topologies (registry.tables) and
// shared by every flow reading one: a table is loaded when the first flow holding it starts and
// closed when the last one releases it. A flow rebuilt by a hot reload holds the table before its
// predecessor releases it, so a table whose settings did not change is kept, not read again.
import type { Logger } from 'pino';
import { stringify } from 'safe-stable-stringify';
import type { ComponentMetrics } from '../component/metrics.ts';
import type { Table } from '../component/table.ts';
import * as registry from './registry.ts';
import type { TopologyNode } from './topology.ts';

interface Entry {
  readonly key: string;
  readonly table: Table;
  holders: number;
  opened?: Promise<void>;
}

/** What a flow holds of the tables: loads them before its first batch, lets go of them when it ends. */
export interface FlowTables {
  open(): Promise<void>;
  release(): Promise<void>;
}

export class TableSet {
  readonly #logger: Logger;
  /** By name and settings: a table changed by a reload is another entry until the old one is released. */
  readonly #entries = new Map<string, Entry>();
  readonly #byTable = new Map<Table, Entry>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The table of a topology's table node, built (no I/O) the first time; held until `release`. */
  hold(node: TopologyNode, metrics: ComponentMetrics): Table {
    const key = stringify({ name: node.name, kind: node.kind, config: node.config, baseDir: node.baseDir }) as string;
    let entry = this.#entries.get(key);
    if (!entry) {
      const name = node.name.slice(node.name.indexOf('.') + 1);
      entry = { key, table: registry.tables[node.kind]!.create(node.config, { table: name, baseDir: node.baseDir, logger: this.#logger, metrics }), holders: 0 };
      this.#entries.set(key, entry);
      this.#byTable.set(entry.table, entry);
    }
    entry.holders++;
    return entry.table;
  }

  /** Loads a held table (once, whoever asks first); resolves once it caught up. */
  open(table: Table): Promise<void> {
    const entry = this.#byTable.get(table)!;
    return (entry.opened ??= table.open());
  }

  /** Lets go of a held table: the last holder closes it. */
  async release(table: Table): Promise<void> {
    const entry = this.#byTable.get(table);
    if (!entry || --entry.holders > 0) return;
    this.#entries.delete(entry.key);
    this.#byTable.delete(table);
    await table.close();
  }

  /** A flow's share of the tables it holds: `release` lets go of them once. */
  forFlow(tables: readonly Table[]): FlowTables {
    let released = false;
    return {
      open: async () => void (await Promise.all(tables.map((t) => this.open(t)))),
      release: async () => {
        if (released) return;
        released = true;
        await Promise.all(tables.map((t) => this.release(t)));
      },
    };
  }
}
