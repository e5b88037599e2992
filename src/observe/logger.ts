// Structured logs (pino): JSON lines to stderr, stdout or a file; `log.format = pretty` for a
// person at a terminal. Secrets are redacted in every line. Stable field names: flow, stage,
// topic, partition, offset (a Kafka offset, as a string), reason (an E_* code).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { holdsSecret, redactSecrets, redactUrlPasswords } from '../config/secrets.ts';
import type { RootConfig } from '../config/schema.ts';

type LogSettings = Pick<RootConfig['log'], 'level' | 'destination'> & Partial<Pick<RootConfig['log'], 'format'>>;

/** `baseDir` resolves a relative log file, like every other path in the configuration. */
export function createLogger(settings: LogSettings, baseDir = process.cwd()): Logger {
  const { destination, level, format = 'json' } = settings;
  let fd: number | string;
  if (destination === 'stderr') fd = 2;
  else if (destination === 'stdout') fd = 1;
  else {
    fd = resolve(baseDir, destination);
    mkdirSync(dirname(fd), { recursive: true });
  }
  // secrets by key name at any depth, the rule `sluice check --print` follows; pino's own `redact`
  // needs a path per shape, and its wildcards cost several times a failure line's own work
  const redact = (fields: Record<string, unknown>) => (holdsSecret(fields) ? redactSecrets(fields) : fields);
  const options: LoggerOptions = {
    level,
    base: { service: 'sluice' },
    formatters: { log: redact },
    // a message text may quote a URL (an error naming the address it failed on): its password goes
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactUrlPasswords(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  if (format === 'pretty') {
    const colorize = typeof fd === 'number' && (fd === 1 ? process.stdout : process.stderr).isTTY === true;
    // loaded only for a person's terminal: JSON lines never need it
    const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pinoPretty({ destination: fd, colorize, sync: false, mkdir: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino(options, pino.destination({ dest: fd, sync: false, mkdir: true }));
}
