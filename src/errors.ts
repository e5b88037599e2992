/** Every error Sluice raises carries one of these codes; `cause` keeps the underlying error. */
export type SluiceErrorCode =
  | 'SLC_CONFIG' // a configuration file, key or value is wrong
  | 'SLC_SCHEMA' // a validation schema uses something the core does not support, or is malformed
  | 'SLC_MAPPING' // a map stage does not fit the flow's schema or the target record
  | 'SLC_CORE' // the WebAssembly core could not be loaded or misbehaved
  | 'SLC_IO' // a source or sink could not read or write
  | 'SLC_USAGE'; // the command line is wrong

export interface ConfigProblem {
  /** The file the offending key comes from, when known. */
  file?: string;
  /** Dotted key path, e.g. `flows.content.stages[2].url`. */
  path: string;
  /** What was expected or what is wrong. */
  message: string;
}

export class SluiceError extends Error {
  readonly code: SluiceErrorCode;
  /** For SLC_CONFIG and SLC_MAPPING: every problem found, not only the first. */
  readonly problems: readonly ConfigProblem[];

  constructor(code: SluiceErrorCode, message: string, options?: { cause?: unknown; problems?: ConfigProblem[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.problems = options?.problems ?? [];
  }
}

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
