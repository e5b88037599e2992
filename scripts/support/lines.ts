// Reading NDJSON files, as the file source does (tests and benchmarks).
import { readFileSync } from 'node:fs';

/**
 * Lines of a file as raw bytes, as the file source reads them: split on the bytes, not a decoded
 * string (the samples hold invalid UTF-8 on purpose), a trailing CR dropped.
 */
export function rawLines(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
    out.push(bytes.subarray(start, i));
    start = i + 1;
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out.map((b) => (b[b.length - 1] === 13 ? b.subarray(0, -1) : b));
}
