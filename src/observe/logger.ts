// Structured logs (pino): JSON lines to stderr, stdout or a file.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { RootConfig } from '../config/schema.ts';

/** `baseDir` resolves a relative log file, like every other path in the configuration. */
export function createLogger(settings: Pick<RootConfig['log'], 'level' | 'destination'>, baseDir = process.cwd()): Logger {
  const { destination, level } = settings;
  let fd: number | string;
  if (destination === 'stderr') fd = 2;
  else if (destination === 'stdout') fd = 1;
  else {
    fd = resolve(baseDir, destination);
    mkdirSync(dirname(fd), { recursive: true });
  }
  return pino({ level, base: { service: 'sluice' } }, pino.destination({ dest: fd, sync: false, mkdir: true }));
}
