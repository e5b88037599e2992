// The table contract: a keyed set of rows (JSON objects) that a lookup stage reads by key. A table
// is declared once at the top level of the configuration and materialized whole in every
// instance (global, as a Kafka Streams GlobalKTable): from a topic it keeps reading, from a file,
// or inline in a test. Rows live in memory: lookups are synchronous Map reads on the hot path.
import type { Logger } from 'pino';
import type { ComponentMetrics } from './metrics.ts';
import { parseJson } from '../core/json-text.ts';

/** A row as the table holds it: the parsed JSON object. */
export type TableRow = Readonly<Record<string, unknown>>;

/** What a lookup sees of a table. */
export interface TableRows {
  /** The row stored under `key`, or undefined. */
  get(key: string): TableRow | undefined;
  /** Rows held now. */
  readonly size: number;
}

export interface Table extends TableRows {
  /**
   * Loads the table; resolves once it holds every row up to the ends of its source as they were
   * when it started (a topic's end offsets, a file's last line), and keeps it current after that
   * until `close`. Called once; rejects with a SluiceError naming what it could not read.
   */
  open(): Promise<void>;
  close(): Promise<void>;
}

export interface TableContext {
  /** The table's name (its key under `tables`). */
  readonly table: string;
  /** Directory its relative paths are resolved against. */
  readonly baseDir: string;
  readonly logger: Logger;
  /** Readiness checks to add while the table loads. */
  readonly metrics: ComponentMetrics;
}

/** The rows of a table held in a Map: what every table kind fills. */
export class RowMap implements TableRows {
  readonly #rows = new Map<string, TableRow>();

  get(key: string): TableRow | undefined {
    return this.#rows.get(key);
  }

  get size(): number {
    return this.#rows.size;
  }

  /** A row for `key`, or null: the key is deleted (a tombstone). */
  put(key: string, row: TableRow | null): void {
    if (row === null) this.#rows.delete(key);
    else this.#rows.set(key, row);
  }
}

/** A JSON object parsed from a row's text, or undefined when the text is not one. */
export function parseRow(text: string): TableRow | undefined {
  try {
    const value: unknown = parseJson(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as TableRow) : undefined;
  } catch {
    return undefined;
  }
}
