/**
 * Every error Sluice raises carries one of these codes; `cause` keeps the underlying error and
 * `retriable` says whether trying the same thing again may succeed (it drives the retries).
 * The CLI exits 2 for SLC_CONFIG, SLC_USAGE, SLC_SCHEMA and SLC_MAPPING (the user's mistake), 70
 * for the others (a flow failed).
 */
export type SluiceErrorCode =
  | 'SLC_CONFIG' // a configuration file, key or value is wrong
  | 'SLC_SCHEMA' // a validation schema uses something the core does not support, is malformed, or a $ref of it does not resolve
  | 'SLC_MAPPING' // a map stage does not fit the flow's schema or the target record
  | 'SLC_CORE' // the WebAssembly core could not be loaded or misbehaved
  | 'SLC_IO' // a source or sink could not read or write
  | 'SLC_TOO_LARGE' // the broker refused a message as larger than its topic accepts (nothing of that request was written)
  | 'SLC_FENCED' // another producer registered the same transactional id: this one is done (its batch comes back)
  | 'SLC_HTTP' // a call to an HTTP service failed (`reason`: the stage failure its dead letter carries)
  | 'SLC_STORE_CORRUPT' // a state store's files are not a whole database (it is rebuilt or started empty)
  | 'SLC_STATE' // a state store's batch transaction was used out of order (failed, or in the wrong status)
  | 'SLC_USAGE'; // the command line is wrong

export interface ConfigProblem {
  /** The file the offending key comes from, when known. */
  file?: string;
  /** Dotted key path, e.g. `flows.content.stages[2].url`. */
  path: string;
  /** What was expected or what is wrong. */
  message: string;
}

export interface SluiceErrorOptions {
  cause?: unknown;
  /** For SLC_CONFIG and SLC_MAPPING: every problem found. */
  problems?: ConfigProblem[];
  /** Another attempt may succeed (default false). */
  retriable?: boolean;
  /** For SLC_HTTP: the stage failure the record's dead letter carries (a code of component/failures.ts). */
  reason?: string;
}

export class SluiceError extends Error {
  readonly code: SluiceErrorCode;
  /** For SLC_CONFIG and SLC_MAPPING: every problem found, not only the first. */
  readonly problems: readonly ConfigProblem[];
  /** Another attempt may succeed: a retry policy retries it, a batch failing with it comes back. */
  readonly retriable: boolean;
  /** For SLC_HTTP: the stage failure reason (a dead letter's `sluice.reason`, a code of component/failures.ts). */
  readonly reason: string | undefined;

  constructor(code: SluiceErrorCode, message: string, options?: SluiceErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.problems = options?.problems ?? [];
    this.retriable = options?.retriable ?? false;
    this.reason = options?.reason;
  }
}

/** `error` is a SluiceError with `code`. */
export const isSluiceError = (error: unknown, code: SluiceErrorCode): error is SluiceError => error instanceof SluiceError && error.code === code;

/** `a.b[2].c` from a path of keys and indexes. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      const plain = /^[A-Za-z_][\w-]*$/.test(key);
      out += plain ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(root)' : out;
}
